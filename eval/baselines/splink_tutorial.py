"""A plain Splink model, set up the way Splink's own tutorials do.

This answers "what does kinlink add over using Splink directly?". It follows the
Splink 4/5 tutorial (``demos/tutorials``, fake_1000 / FEBRL4 examples) step by step,
mapping the tutorial's columns to record format v1:

=====================  ===================================  ==========================
tutorial column        record format v1                      comparison
=====================  ===================================  ==========================
first_name             ``name_first`` (else 1st token of     ``NameComparison``
                       ``name``)
surname                ``name_last`` (else last token of     ``NameComparison``
                       ``name``)
dob                    ``date_of_birth`` (full ISO dates;    ``DateOfBirthComparison``
                       partial dates become null)
city                   ``location_origin``                   ``ExactMatch`` + term
                                                             frequency adjustments
=====================  ===================================  ==========================

Training as in the tutorial: ``estimate_probability_two_random_records_match`` from
exact first name + surname (recall 0.7), ``estimate_u_using_random_sampling``
(1e6 pairs), EM blocked on first name + surname, then on date of birth.
Prediction blocking: first name + city, or surname (the tutorial's rules), plus
date of birth + first name; decision threshold 0.95 (the tutorial's clustering
threshold). No name normalisation beyond lower-casing, no phonetics, no
transliteration, no handling of name order: that is what kinlink adds.
"""

from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd

from kinlink.eval.baselines._text import normalise
from kinlink.eval.methods import add_rank, empty_links, split_link_frame

DECISION_THRESHOLD = 0.95
#: Pairs below this probability are not returned by predict (keeps output small; the
#: precision-recall curve starts here).
PREDICT_THRESHOLD = 0.001
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_JOIN_KEY_PREFIX = r"^input_\d+-__-"


def _prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """The four tutorial columns, lower-cased, derived from ``name`` when parts are missing."""
    out = pd.DataFrame({"record_id": frame["record_id"].astype(str)})
    names = frame["name"].map(normalise)
    tokens = names.map(lambda n: n.split(" ") if n else [])
    first = frame["name_first"].map(normalise)
    last = frame["name_last"].map(normalise)
    out["first_name"] = first.where(first.notna(), tokens.map(lambda t: t[0] if t else None))
    out["surname"] = last.where(last.notna(), tokens.map(lambda t: t[-1] if len(t) > 1 else None))
    dob = frame["date_of_birth"].astype(object)
    out["dob"] = dob.where(dob.map(lambda v: isinstance(v, str) and bool(_ISO_DATE.match(v))))
    out["city"] = frame["location_origin"].map(normalise)
    return out.astype(object).where(out.notna(), None)


def _settings(link_type: str) -> object:
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type=link_type,
        unique_id_column_name="record_id",
        blocking_rules_to_generate_predictions=[
            block_on("first_name", "city"),
            block_on("surname"),
            block_on("first_name", "dob"),
        ],
        comparisons=[
            cl.NameComparison("first_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.ExactMatch("city").configure(term_frequency_adjustments=True),
        ],
        retain_intermediate_calculation_columns=False,
    )


class SplinkTutorialMethod:
    """Splink 5 with the tutorial's settings, trained unsupervised on the data it scores."""

    name = "splink_tutorial"
    label = "Splink (tutorial)"
    score_kind = "Splink match probability"
    link_threshold = DECISION_THRESHOLD
    decision_rule = f"match probability >= {DECISION_THRESHOLD} (the tutorial's threshold)"

    def __init__(self, seed: int = 1) -> None:
        self.seed = seed

    def unavailable_reason(self) -> str | None:
        """Needs splink and duckdb."""
        try:
            import duckdb  # noqa: F401
            import splink  # noqa: F401
        except ImportError as exc:
            return f"splink is not installed: {exc}"
        return None

    def _linker(self, tables: list[pd.DataFrame], link_type: str) -> object:
        from splink import DuckDBAPI, Linker, block_on

        db_api = DuckDBAPI()
        registered = [
            db_api.register(t, dataset_display_name=f"input_{i}") for i, t in enumerate(tables)
        ]
        linker = Linker(
            registered if len(registered) > 1 else registered[0],
            _settings(link_type),
            log_level=logging.ERROR,
        )
        linker.training.estimate_probability_two_random_records_match(
            [block_on("first_name", "surname")], recall=0.7
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=self.seed)
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on("first_name", "surname")
        )
        linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
        return linker

    def _predict(self, tables: list[pd.DataFrame], link_type: str) -> pd.DataFrame:
        linker = self._linker(tables, link_type)
        predictions = linker.inference.predict(threshold_match_probability=PREDICT_THRESHOLD)
        return predictions.as_pandas_dataframe()

    def link(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``link_only`` between tracing requests and cases."""
        requests, cases = split_link_frame(frame)
        if requests.empty or cases.empty:
            return empty_links()
        pred = self._predict([_prepare(requests), _prepare(cases)], "link_only")
        if pred.empty:
            return empty_links()
        # input_0 = tracing requests; orient every pair request -> case
        left_is_request = pred["source_dataset_l"].astype(str) == "input_0"
        links = pd.DataFrame(
            {
                "tracing_request_id": np.where(
                    left_is_request, pred["record_id_l"], pred["record_id_r"]
                ),
                "case_id": np.where(left_is_request, pred["record_id_r"], pred["record_id_l"]),
                "score": pred["match_probability"].astype(float),
                "match_weight": pred["match_weight"].astype(float),
            }
        )
        return add_rank(links)

    def dedupe(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """``dedupe_only`` over cases; clusters = connected components at the decision threshold."""
        from kinlink.eval.methods import canonical_pairs, connected_components

        pred = self._predict([_prepare(frame)], "dedupe_only")
        pairs = canonical_pairs(
            pd.DataFrame(
                {
                    "record_id_l": pred["record_id_l"].astype(str),
                    "record_id_r": pred["record_id_r"].astype(str),
                    "score": pred["match_probability"].astype(float),
                    "match_weight": pred["match_weight"].astype(float),
                }
            )
        )
        decided = pairs[pairs["score"] >= DECISION_THRESHOLD]
        clusters = connected_components(
            zip(decided["record_id_l"], decided["record_id_r"], strict=True),
            frame["record_id"].astype(str),
        )
        return pairs, clusters

    def candidate_pairs(self, frame: pd.DataFrame, task: str) -> pd.DataFrame | None:
        """Pairs the tutorial's prediction blocking rules generate (no model needed)."""
        from splink import DuckDBAPI, Linker

        db_api = DuckDBAPI()
        if task == "link":
            requests, cases = split_link_frame(frame)
            tables = [
                db_api.register(_prepare(requests), dataset_display_name="input_0"),
                db_api.register(_prepare(cases), dataset_display_name="input_1"),
            ]
            linker = Linker(tables, _settings("link_only"), log_level=logging.ERROR)
        else:
            table = db_api.register(_prepare(frame), dataset_display_name="input_0")
            linker = Linker(table, _settings("dedupe_only"), log_level=logging.ERROR)
        blocked = linker.inference.compute_blocked_pairs_for_predict().as_pandas_dataframe()

        # Splink 5 returns join keys "<source dataset>-__-<unique id>" (or the bare id)
        def strip(keys: pd.Series) -> pd.Series:
            return keys.astype(str).str.replace(_JOIN_KEY_PREFIX, "", regex=True)

        return pd.DataFrame(
            {
                "record_id_l": strip(blocked["join_key_l"]),
                "record_id_r": strip(blocked["join_key_r"]),
            }
        )
