"""Baselines kinlink is measured against: what agencies use today, re-implemented.

* :class:`ExactNameMethod`: records match when their names are identical after trivial
  normalisation (case, Unicode form, spacing), the floor any tool must beat.
* :class:`PrimeroMethod`: Primero's Solr matching (boosted OR query over name tokens
  and Double Metaphone codes, top 20, scores divided by the top score).
* :class:`SplinkTutorialMethod`: a plain Splink model set up the way Splink's own
  tutorials do, i.e. what a competent analyst gets without kinlink's work.

None of them imports kinlink's own normalisation or phonetics on purpose: a baseline
that shared kinlink's code would share its mistakes.
"""

from kinlink.eval.baselines.exact import ExactNameMethod
from kinlink.eval.baselines.primero import PrimeroMethod
from kinlink.eval.baselines.splink_tutorial import SplinkTutorialMethod

__all__ = ["ExactNameMethod", "PrimeroMethod", "SplinkTutorialMethod"]
