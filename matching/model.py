"""The kinlink model: Splink settings JSON plus kinlink metadata; train, save, load.

A model file is plain JSON::

    {"kinlink": {"model_format": 1, "kinlink_version": ..., "data_fingerprint": ...,
                 "trained_at": ..., "n_records": ..., "max_block_size": ...,
                 "blocking_rules": [...]},
     "splink_settings": {...}}

so it can be read by Splink alone (``Linker(df, model["splink_settings"])``) and
audited by a person. The fingerprint names the data it was trained on, so a report can
say which model scored which data, and ``kinlink link`` can warn when a model is reused
on data it has never seen (normal) versus silently retrained.

Training (Fellegi-Sunter, as the issue asks): u by random sampling, the prior from
deterministic rules, m by EM over several blocking rules so each comparison is
estimated from pairs not blocked on it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

import kinlink
from kinlink.blocking.rules import DEFAULT_RULES, MAX_BLOCK_SIZE
from kinlink.matching.comparisons import DISPLAY_ONLY, build_comparisons
from kinlink.matching.engine import Engine

MODEL_FORMAT = 1

logger = logging.getLogger(__name__)

#: Columns of the prepared table that the Splink model reads (block_keys is not one).
MODEL_INPUT_EXCLUDE = ("block_keys",)

#: Deterministic rules for the prior: pairs these admit are almost surely the same
#: child. Their recall among true pairs is assumed to be ``PRIOR_RULES_RECALL``.
PRIOR_RULES = (
    "l.name_sorted = r.name_sorted and l.dob = r.dob",
    "l.name_sorted = r.name_sorted and l.by_lo = r.by_lo and l.by_hi = r.by_hi"
    " and l.mother_tokens = r.mother_tokens",
)
PRIOR_RULES_RECALL = 0.6

#: EM blocking rules: each leaves some comparisons free to be estimated. Only
#: *child*-level agreements qualify: a rule on family attributes (parents' names,
#: place and age) admits mostly siblings, and EM then learns "same family" instead of
#: "same child" (measured: name m-probabilities collapsed on the synthetic data).
#: Session 1 blocks on the child's full name (given name *and* the rest): siblings never
#: share their given name, so it estimates birth, sex, relatives and places. Session 2
#: blocks on the exact date of birth and sex (only same-sex twins are relatives there),
#: so it estimates both name comparisons.
EM_RULES = (
    "l.given_first = r.given_first and l.rest_sorted = r.rest_sorted",
    "l.dob = r.dob and coalesce(l.sex, '') = coalesce(r.sex, '')",
)


@dataclass
class KinlinkModel:
    """A trained model: Splink settings (the numbers) and kinlink metadata (provenance)."""

    splink_settings: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"kinlink": self.metadata, "splink_settings": self.splink_settings}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KinlinkModel:
        if "splink_settings" not in data:
            raise ValueError("not a kinlink model file (no 'splink_settings')")
        meta = data.get("kinlink", {})
        fmt = meta.get("model_format", MODEL_FORMAT)
        if fmt > MODEL_FORMAT:
            raise ValueError(f"model format {fmt} is newer than this kinlink ({MODEL_FORMAT})")
        return cls(splink_settings=data["splink_settings"], metadata=meta)

    def max_gammas(self) -> dict[str, int]:
        """Each comparison's highest agreement level (gamma), for colouring explanations."""
        out = {}
        for comparison in self.splink_settings.get("comparisons", []):
            levels = [
                lv for lv in comparison.get("comparison_levels", []) if not lv.get("is_null_level")
            ]
            out[comparison.get("output_column_name", "")] = len(levels) - 1
        return out

    def settings_for(self, dialect: str) -> dict[str, Any]:
        """The Splink settings with comparison SQL in ``dialect``; the numbers unchanged.

        A model's parameters (m, u, prior, term-frequency columns) are data; its SQL is
        a rendering of kinlink's comparisons for one backend. So a model trained on
        DuckDB scores on Spark (and back) by re-rendering the SQL from the same
        comparison definitions, level by level, refusing if they no longer line up.
        On its own dialect a comparison kinlink does not define keeps its stored SQL.
        """
        same_dialect = self.splink_settings.get("sql_dialect", "duckdb") == dialect
        target = {c["output_column_name"]: c for c in base_settings(dialect)["comparisons"]}
        out = copy.deepcopy(self.splink_settings)
        out["sql_dialect"] = dialect
        for comparison in out.get("comparisons", []):
            name = comparison.get("output_column_name")
            levels = comparison.get("comparison_levels", [])
            rendered = target.get(name, {}).get("comparison_levels", [])
            labels = [lv.get("label_for_charts") for lv in levels]
            if labels != [lv.get("label_for_charts") for lv in rendered]:
                if same_dialect:
                    continue  # not one of kinlink's comparisons: its stored SQL stands
                raise ValueError(
                    f"the model's comparison {name!r} does not match this kinlink's; "
                    "retrain it with `kinlink train`"
                )
            # Re-rendered on the same dialect too: a model saved by an earlier kinlink
            # then scores with the current (faster, equivalent) SQL for its levels.
            for level, new in zip(levels, rendered, strict=True):
                level["sql_condition"] = new["sql_condition"]
        return out

    @property
    def fingerprint(self) -> str | None:
        return self.metadata.get("data_fingerprint")


def save_model(model: KinlinkModel, path: str | Path) -> None:
    """Write the model JSON (UTF-8, indented so diffs between models are readable)."""
    Path(path).write_text(json.dumps(model.to_json(), indent=2, default=str), encoding="utf-8")


def load_model(path: str | Path) -> KinlinkModel:
    return KinlinkModel.from_json(json.loads(Path(path).read_text(encoding="utf-8")))


def data_fingerprint(frame: pd.DataFrame) -> str:
    """A short, order-independent hash of the records' content.

    Order-independent so that re-exporting the same records in another order gives the
    same fingerprint; content-based so any edited field changes it.
    """
    hashed = pd.util.hash_pandas_object(frame.astype("string"), index=False)
    digest = hashlib.sha256()
    digest.update(str(len(frame)).encode())
    digest.update(",".join(map(str, frame.columns)).encode())
    digest.update(hashed.sort_values().to_numpy().tobytes())
    return "sha256:" + digest.hexdigest()[:32]


def model_input(prepared: Any) -> Any:
    """The prepared columns the Splink model reads (a pandas or a Spark frame)."""
    drop = [c for c in MODEL_INPUT_EXCLUDE if c in prepared.columns]
    if isinstance(prepared, pd.DataFrame):
        return prepared.drop(columns=drop)
    return prepared.drop(*drop)


def base_settings(dialect: str = "duckdb") -> dict[str, Any]:
    """Untrained Splink settings for kinlink's comparisons, as a dict (settings as data)."""
    from splink import SettingsCreator

    creator = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=build_comparisons(dialect),
        blocking_rules_to_generate_predictions=["l.name_sorted = r.name_sorted"],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        additional_columns_to_retain=["record_type"],
    )
    return creator.get_settings(dialect).as_dict()


def _quiet_splink() -> None:
    logging.getLogger("splink").setLevel(logging.WARNING)


def train_model(
    prepared: pd.DataFrame,
    *,
    engine: Engine | None = None,
    fingerprint: str | None = None,
    seed: int = 42,
    max_u_pairs: float = 2e6,
    max_em_pairs: float = 5e5,
    labels: pd.Series | None = None,
    m_from: KinlinkModel | None = None,
) -> KinlinkModel:
    """Train a model on a prepared table (see :func:`kinlink.matching.prepare_records`).

    The prior and the u-probabilities always come from ``prepared`` itself. The
    m-probabilities come from, in this order of precedence:

    * ``labels`` (record_id -> entity id, e.g. reviewers' confirmed matches or a
      synthetic set's truth): counted on the labelled pairs (supervised);
    * ``m_from``: copied from another model (e.g. kinlink's default model, whose m
      were learned on a synthetic training set; see docs/matching.md);
    * otherwise EM over ``EM_RULES`` (unsupervised).
    """
    from splink import Linker

    _quiet_splink()
    engine = engine or Engine()
    settings = base_settings(engine.dialect)
    table = model_input(prepared)
    if labels is not None:
        if not isinstance(prepared, pd.DataFrame):
            raise ValueError("labels are supported on a pandas prepared table only")
        table = table.assign(_kinlink_label=prepared["record_id"].map(labels).astype("string"))
    sdf = engine.register(table, "kinlink_train")
    engine.new_linker_scope()
    linker = Linker(sdf, settings, log_level=logging.WARNING)
    n = len(prepared) if isinstance(prepared, pd.DataFrame) else prepared.count()

    try:
        linker.training.estimate_probability_two_random_records_match(
            list(PRIOR_RULES), recall=PRIOR_RULES_RECALL
        )
    except Exception as exc:  # no pair passes the rules (tiny or sparse data)
        logger.warning("prior from deterministic rules failed (%s); using 1/n", exc)
        linker._settings_obj._probability_two_random_records_match = 1.0 / max(n, 2)
    prior = linker._settings_obj._probability_two_random_records_match
    if not (prior and 0.0 < prior < 1.0):
        logger.warning("no deterministic matches: prior set to 1/n")
        linker._settings_obj._probability_two_random_records_match = 1.0 / max(n, 2)

    linker.training.estimate_u_using_random_sampling(max_pairs=max_u_pairs, seed=seed)

    sessions = 0
    m_source = "em"
    if labels is not None:
        linker.training.estimate_m_from_label_column("_kinlink_label")
        m_source = "labels"
    elif m_from is not None:
        m_source = "copied:" + str(m_from.metadata.get("m_source", "model"))
    rules = EM_RULES if m_source == "em" else ()
    for rule in rules:
        # A session that fails part-way (e.g. no pairs for this rule in this data)
        # can leave Splink's settings without the comparisons it had set aside, so
        # each session runs against a snapshot that is restored on failure.
        snapshot = copy.deepcopy(linker._settings_obj)
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule,
                estimate_without_term_frequencies=True,
                max_pairs=max_em_pairs,
            )
            sessions += 1
        except Exception as exc:
            logger.info("EM session on %r skipped: %s", rule, exc)
            linker._settings_obj = snapshot
    if sessions == 0 and m_source == "em":
        logger.warning("no EM session succeeded: m probabilities are Splink defaults")

    trained = linker.misc.save_model_to_json()
    if m_from is not None and labels is None:
        copy_m_probabilities(m_from.splink_settings, trained)
    _clamp(trained)
    _display_only(trained)
    meta = {
        "model_format": MODEL_FORMAT,
        "kinlink_version": kinlink.__version__,
        "splink_version": _splink_version(),
        "data_fingerprint": fingerprint,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "n_records": n,
        "em_sessions": sessions,
        "m_source": m_source,
        "max_block_size": MAX_BLOCK_SIZE,
        "blocking_rules": [{"code": r.code, "name": r.name} for r in DEFAULT_RULES],
    }
    return KinlinkModel(splink_settings=trained, metadata=meta)


def copy_m_probabilities(source: dict[str, Any], target: dict[str, Any]) -> int:
    """Copy m-probabilities level by level where comparison and level labels agree.

    Returns how many levels were copied; levels the source does not know keep theirs.
    """
    known = {
        (c.get("output_column_name"), lv.get("label_for_charts")): lv.get("m_probability")
        for c in source.get("comparisons", [])
        for lv in c.get("comparison_levels", [])
        if not lv.get("is_null_level")
    }
    copied = 0
    for c in target.get("comparisons", []):
        for lv in c.get("comparison_levels", []):
            key = (c.get("output_column_name"), lv.get("label_for_charts"))
            if not lv.get("is_null_level") and known.get(key) is not None:
                lv["m_probability"] = known[key]
                copied += 1
    return copied


def _clamp(settings: dict[str, Any]) -> None:
    """Keep every m and u strictly inside (0, 1).

    A level never seen in training gets m or u of 0 or None, which would make a single
    comparison veto (or certify) a pair; a floor keeps the model humble there.
    """
    floor = 1e-6
    for comparison in settings.get("comparisons", []):
        for level in comparison.get("comparison_levels", []):
            if level.get("is_null_level"):
                continue
            for key in ("m_probability", "u_probability"):
                value = level.get(key)
                if value is None or (isinstance(value, float) and math.isnan(value)):
                    level[key] = floor
                else:
                    level[key] = min(max(float(value), floor), 1 - floor)


def _display_only(settings: dict[str, Any]) -> None:
    """m = u on the ``DISPLAY_ONLY`` comparisons: shown in explanations, zero weight.

    Their evidence is counted once by the ``family`` comparison; counting it again
    per detail is what made siblings look like the same child.
    """
    for comparison in settings.get("comparisons", []):
        if comparison.get("output_column_name") not in DISPLAY_ONLY:
            continue
        for level in comparison.get("comparison_levels", []):
            if not level.get("is_null_level") and level.get("u_probability") is not None:
                level["m_probability"] = level["u_probability"]


def _splink_version() -> str:
    import splink

    return splink.__version__
