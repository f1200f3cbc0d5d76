"""``kinlink train``: (re)build the linkage model from a records file."""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from kinlink.cli import app, exitcodes
from kinlink.cli._common import EngineOption, ProgressOption, fail, open_engine, show_progress
from kinlink.cli.cmd_link import note, read_frame, read_parquet_frame, spark_records

#: Columns naming the entity a labelled record belongs to: reviewers' clusters, or the
#: child of a synthetic ``truth.csv`` (``record_id,child_id,culture``).
LABEL_COLUMNS = ("cluster_id", "child_id")
#: How many offending record ids an error message lists.
_SHOWN_IDS = 5


@dataclass(frozen=True)
class Labels:
    """Reviewers' (or ground-truth) labels: record_id -> the entity it belongs to."""

    entity: pd.Series
    source: Path
    sha256: str
    column: str

    @property
    def pairs(self) -> int:
        """Labelled pairs of records of the same entity: what m is counted on."""
        sizes = self.entity.value_counts()
        return int((sizes * (sizes - 1) // 2).sum())

    def metadata(self, n_records: int) -> dict[str, object]:
        """Provenance for the model file: which labels its m-probabilities came from."""
        return {
            "file": self.source.name,
            "sha256": self.sha256,
            "column": self.column,
            "labelled_records": len(self.entity),
            "unlabelled_records": n_records - len(self.entity),
            "entities": int(self.entity.nunique()),
            "pairs": self.pairs,
        }


def _first(ids: Iterable[object]) -> str:
    shown = [str(i) for i in ids][:_SHOWN_IDS]
    return ", ".join(shown)


def read_labels(path: Path, record_ids: pd.Series) -> Labels:
    """The labels file as record_id -> entity, checked against the records being trained on.

    A CSV with ``record_id`` and ``cluster_id`` (or ``child_id``, so a synthetic
    ``truth.csv`` is accepted as it is; other columns are ignored). A record may be
    left unlabelled (no row, or an empty id): it still informs u and the prior, and
    simply contributes no labelled pair. Exits 3 when the file cannot be used at all,
    4 when some rows contradict the records (ids not among them, one record in two
    clusters), listing the first few.
    """
    if not path.is_file():
        raise fail(f"{path}: no such labels file", exitcodes.BAD_FILE)
    raw = path.read_bytes()
    try:
        table = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False, encoding="utf-8")
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise fail(
            f"{path}: not a readable CSV file of labels ({err})", exitcodes.BAD_FILE
        ) from None
    table.columns = [str(c).strip() for c in table.columns]
    present = [c for c in LABEL_COLUMNS if c in table.columns]
    if "record_id" not in table.columns or len(present) != 1:
        wanted = " or ".join(f"record_id,{c}" for c in LABEL_COLUMNS)
        found = ",".join(table.columns) or "none"
        problem = "has both cluster_id and child_id" if len(present) > 1 else "lacks columns"
        raise fail(
            f"{path}: {problem}: labels need the columns {wanted} (found: {found})",
            exitcodes.BAD_FILE,
        )
    column = present[0]
    ids = table["record_id"].str.strip()
    entity = table[column].str.strip()
    labelled = (ids != "") & (entity != "")
    frame = pd.DataFrame({"record_id": ids[labelled], "entity": entity[labelled]})
    frame = frame.drop_duplicates()

    unknown = frame.loc[~frame["record_id"].isin(set(record_ids)), "record_id"].unique()
    if len(unknown):
        raise fail(
            f"{path}: {len(unknown)} record id(s) are not in the records trained on "
            f"(or were skipped as invalid), e.g. {_first(unknown)}",
            exitcodes.INVALID_ROWS,
        )
    twice = frame.loc[frame["record_id"].duplicated(), "record_id"].unique()
    if len(twice):
        raise fail(
            f"{path}: {len(twice)} record id(s) are labelled with more than one {column}, "
            f"e.g. {_first(twice)}",
            exitcodes.INVALID_ROWS,
        )
    labels = Labels(
        entity=pd.Series(frame["entity"].to_numpy(), index=frame["record_id"].to_numpy()),
        source=path,
        sha256=hashlib.sha256(raw).hexdigest(),
        column=column,
    )
    if labels.pairs == 0:
        raise fail(
            f"{path}: no two records share a {column}, so there is no labelled pair to "
            "count m-probabilities on",
            exitcodes.BAD_FILE,
        )
    return labels


@app.command("train")
def train(
    records: Annotated[
        Path, typer.Option(help="Records file (CSV, XLSX, JSONL or Parquet, format v1).")
    ],
    out: Annotated[Path, typer.Option(help="Where to write the model JSON.")],
    seed: Annotated[int, typer.Option(help="Seed for u sampling (reproducible models).")] = 42,
    labels: Annotated[
        Path | None,
        typer.Option(
            help="CSV of record_id,cluster_id (or record_id,child_id, e.g. a synthetic "
            "truth.csv): m-probabilities are counted on its labelled pairs instead of EM."
        ),
    ] = None,
    on_error: Annotated[str, typer.Option(help="abort | skip invalid rows.")] = "abort",
    engine: EngineOption = None,
    show: ProgressOption = None,
) -> None:
    """Train the Fellegi-Sunter model (u by sampling; m shipped, by EM or from --labels); save JSON.

    The JSON holds Splink settings plus kinlink metadata: version, training date, the
    fingerprint of the records it was trained on and, with --labels, which labels file
    the m-probabilities were counted on (m_source "labels").
    """
    from kinlink.matching import data_fingerprint, prepare_records, save_model, train_model
    from kinlink.matching.default_model import m_source_auto

    started = time.monotonic()
    backend = open_engine(engine)
    if backend.backend == "spark":
        if labels is not None:
            # train_model counts labelled pairs on a pandas table only.
            raise fail("--labels needs --engine duckdb", exitcodes.USAGE)
        from kinlink.matching.spark.pipeline import prepared_table

        prepared = prepared_table(backend, spark_records(backend, records, on_error, show))
        model = train_model(prepared, engine=backend, seed=seed, m_from=m_source_auto(prepared))
        n = model.metadata.get("n_records")
    else:
        if records.suffix.lower() == ".parquet":
            frame = read_parquet_frame(records)
        else:
            frame = read_frame(records, on_error, show)
        given = read_labels(labels, frame["record_id"]) if labels is not None else None
        prepared = prepare_records(frame, progress=show_progress(show))
        model = train_model(
            prepared,
            engine=backend,
            fingerprint=data_fingerprint(frame),
            seed=seed,
            labels=given.entity if given is not None else None,
            m_from=m_source_auto(prepared) if given is None else None,
        )
        n = len(frame)
        if given is not None:
            model.metadata["labels"] = given.metadata(n)
            note(
                f"m-probabilities counted on {given.pairs} labelled pairs "
                f"({len(given.entity)} labelled records) from {given.source}"
            )
    save_model(model, out)
    note(
        f"model trained on {n} records ({model.fingerprint}) on {backend.backend}, written "
        f"to {out} in {time.monotonic() - started:.1f}s"
    )
