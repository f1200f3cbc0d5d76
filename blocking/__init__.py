"""Blocking: which pairs of records are worth scoring at all.

Rules are data (:mod:`kinlink.blocking.rules`); candidate generation is one SQL pass
(:mod:`kinlink.blocking.candidates`); pair completeness is measured by
:mod:`kinlink.blocking.completeness`. See ``blocking/README.md`` for the numbers.
"""

from kinlink.blocking.candidates import candidate_pairs
from kinlink.blocking.rules import DEFAULT_RULES, MAX_BLOCK_SIZE, BlockingRule, block_keys

__all__ = ["DEFAULT_RULES", "MAX_BLOCK_SIZE", "BlockingRule", "block_keys", "candidate_pairs"]
