"""kinlink itself, seen through the harness's :class:`~kinlink.eval.methods.Method` interface.

The engine (``kinlink.matching``) is imported only when the method runs, so the
harness works, and says so plainly, on a checkout where the engine is missing or
broken: the ``kinlink`` row of the report then reads "unavailable: <reason>" instead
of the whole evaluation failing. There is deliberately no stand-in: a report must
never show figures for a kinlink that does not exist.

Engine contract relied on (issue 3):

* ``link_records(frame, model=None)`` -> ``tracing_request_id, case_id,
  match_probability, match_weight, rank``
* ``dedupe_records(frame, threshold=None)`` -> ``(pairs[record_id_l, record_id_r,
  match_probability, match_weight], clusters[record_id, cluster_id])``
* ``candidate_pairs(frame, link_type)`` -> ``record_id_l, record_id_r, ...``, looked
  up in ``kinlink.matching`` then ``kinlink.blocking``; called with ``"link"`` /
  ``"dedupe"``.
* The linkage decision threshold on ``match_probability``: the first of
  ``LINK_THRESHOLD``, ``DEFAULT_LINK_THRESHOLD``, ``DEFAULT_THRESHOLD``,
  ``MATCH_THRESHOLD`` that ``kinlink.matching`` exports, else 0.5 (the report says
  which). Duplicates need no threshold here: ``dedupe_records`` clusters at its own.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from kinlink.eval.methods import add_rank, canonical_pairs, empty_links

#: A linkage-specific threshold wins over the general (duplicates) one.
_THRESHOLD_NAMES = (
    "LINK_THRESHOLD",
    "DEFAULT_LINK_THRESHOLD",
    "DEFAULT_THRESHOLD",
    "MATCH_THRESHOLD",
)
_FALLBACK_THRESHOLD = 0.5


def _engine_function(
    name: str, modules: tuple[str, ...] = ("kinlink.matching",)
) -> Callable[..., Any]:
    errors = []
    for module_name in modules:
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:  # an engine that fails to import is "unavailable", not a crash
            errors.append(f"import {module_name} failed: {type(exc).__name__}: {exc}")
            continue
        function = getattr(module, name, None)
        if callable(function):
            return function
        errors.append(f"{module_name} has no {name}()")
    raise LookupError("; ".join(errors))


class KinlinkMethod:
    """kinlink's engine: ``link_records`` / ``dedupe_records`` / ``candidate_pairs``."""

    name = "kinlink"
    label = "kinlink"
    score_kind = "kinlink match probability"

    def __init__(self, model: object | None = None) -> None:
        self.model = model

    @property
    def link_threshold(self) -> float:
        """kinlink's own decision threshold (see module docstring for where it comes from)."""
        return self._threshold()[0]

    @property
    def decision_rule(self) -> str:
        """Human-readable decision rule for the report."""
        value, source = self._threshold()
        return f"match probability >= {value:g} ({source})"

    def _threshold(self) -> tuple[float, str]:
        try:
            matching = importlib.import_module("kinlink.matching")
        except Exception:
            return _FALLBACK_THRESHOLD, "assumed: kinlink.matching not importable"
        for attr in _THRESHOLD_NAMES:
            value = getattr(matching, attr, None)
            if isinstance(value, int | float):
                return float(value), f"kinlink.matching.{attr}"
        return _FALLBACK_THRESHOLD, "assumed: kinlink.matching exports no threshold"

    def unavailable_reason(self) -> str | None:
        """Why the engine cannot run, or ``None``."""
        missing = []
        for name in ("link_records", "dedupe_records"):
            try:
                _engine_function(name)
            except LookupError as exc:
                missing.append(str(exc))
        if missing:
            return "; ".join(dict.fromkeys(missing))
        return None

    def link(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``kinlink.matching.link_records``, with ``match_probability`` as the score."""
        link_records = _engine_function("link_records")
        out = link_records(frame, model=self.model)
        if out is None or len(out) == 0:
            return empty_links()
        links = pd.DataFrame(
            {
                "tracing_request_id": out["tracing_request_id"].astype(str),
                "case_id": out["case_id"].astype(str),
                "score": out["match_probability"].astype(float),
                "match_weight": out["match_weight"].astype(float)
                if "match_weight" in out
                else np.nan,
            }
        )
        if "rank" in out:
            links["rank"] = out["rank"].astype(int).to_numpy()
            return links
        return add_rank(links)

    def dedupe(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """``kinlink.matching.dedupe_records`` at its own default threshold."""
        dedupe_records = _engine_function("dedupe_records")
        pairs, clusters = dedupe_records(frame)
        pairs = canonical_pairs(
            pd.DataFrame(
                {
                    "record_id_l": pairs["record_id_l"].astype(str),
                    "record_id_r": pairs["record_id_r"].astype(str),
                    "score": pairs["match_probability"].astype(float),
                    "match_weight": pairs["match_weight"].astype(float)
                    if "match_weight" in pairs
                    else np.nan,
                }
            )
        )
        clusters = pd.DataFrame(
            {
                "record_id": clusters["record_id"].astype(str),
                "cluster_id": clusters["cluster_id"].astype(str),
            }
        )
        return pairs, clusters

    def candidate_pairs(self, frame: pd.DataFrame, task: str) -> pd.DataFrame | None:
        """kinlink's blocking output, or ``None`` if the engine exports no ``candidate_pairs``."""
        try:
            function = _engine_function("candidate_pairs", ("kinlink.matching", "kinlink.blocking"))
        except LookupError:
            return None
        pairs = function(frame, task)
        return pd.DataFrame(
            {
                "record_id_l": pairs["record_id_l"].astype(str),
                "record_id_r": pairs["record_id_r"].astype(str),
            }
        )


def all_methods() -> list[Any]:
    """kinlink first, then the baselines, in the order reports show them."""
    from kinlink.eval.baselines import ExactNameMethod, PrimeroMethod, SplinkTutorialMethod

    return [KinlinkMethod(), ExactNameMethod(), PrimeroMethod(), SplinkTutorialMethod()]
