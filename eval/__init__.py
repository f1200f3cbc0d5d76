"""Evaluation: how good is kinlink, on data like ours, against what we use today?

``kinlink eval`` (``kinlink/cli/cmd_eval.py``) is the front door; the pieces:

* :mod:`kinlink.eval.metrics` - pure metric functions (recall@k, pairwise and B-cubed
  P/R/F1, PR curves, pair completeness);
* :mod:`kinlink.eval.datasets` - synthetic data set directories and FEBRL3/4 in record
  format v1, with ground truth;
* :mod:`kinlink.eval.methods` - the interface every matcher is measured through;
  :mod:`kinlink.eval.kinlink_method` adapts kinlink's engine to it;
* :mod:`kinlink.eval.baselines` - exact name match, Primero-like, Splink tutorial;
* :mod:`kinlink.eval.harness` - runs methods on data sets and scores them;
* :mod:`kinlink.eval.report` - Markdown, JSON and PNG output.
"""

from kinlink.eval.datasets import EvalDataset, load_dataset
from kinlink.eval.harness import evaluate, failures
from kinlink.eval.kinlink_method import KinlinkMethod, all_methods
from kinlink.eval.methods import Method
from kinlink.eval.report import load_report, render_markdown, write_report

__all__ = [
    "EvalDataset",
    "KinlinkMethod",
    "Method",
    "all_methods",
    "evaluate",
    "failures",
    "load_dataset",
    "load_report",
    "render_markdown",
    "write_report",
]
