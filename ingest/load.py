"""From a file on disk to validated records, with every bad row accounted for.

This is the single path by which files enter kinlink (the CLI's ``ingest``,
``link`` and ``dedupe`` and the API's bulk upload all call
:func:`read_records`), so a file is judged the same way everywhere.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import ValidationError

from kinlink.ingest.columns import RECORD_COLUMNS
from kinlink.ingest.mapping import IDENTITY, ColumnPlan, Mapping
from kinlink.ingest.readers import open_table
from kinlink.ingest.record import RecordV1, RenamedRows, construct_valid

OnError = Literal["abort", "skip"]


@dataclass(frozen=True, slots=True)
class RowError:
    """Why one row was rejected, in terms of what the user sees in the file."""

    line: int
    column: str | None
    reason: str
    value: str | None = None

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        shown = f" (value: {self.value!r})" if self.value is not None else ""
        return f"{where}: {self.reason}{shown}"


@dataclass
class ReadResult:
    """Valid records (with the line each came from) and the rows that were rejected."""

    path: Path | None
    format: str
    sha256: str
    records: list[RecordV1] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def rows_seen(self) -> int:
        return len(self.records) + len({e.line for e in self.errors})

    @property
    def rejected_lines(self) -> int:
        return len({e.line for e in self.errors})

    def to_frame(self) -> pd.DataFrame:
        """Records as a DataFrame of the v1 columns, all text, ``None`` for missing."""
        return records_frame(self.records)


class InvalidRows(Exception):
    """Raised under ``on_error="abort"`` when any row is invalid; carries the full result."""

    def __init__(self, result: ReadResult) -> None:
        self.result = result
        super().__init__(
            f"{len(result.errors)} problem(s) in {result.rejected_lines} row(s); nothing was loaded"
        )


def read_records(
    path: Path | str,
    *,
    mapping: Mapping | None = None,
    agency: str | None = None,
    encoding: str = "utf-8",
    on_error: OnError = "abort",
    progress: Callable[[int], None] | None = None,
) -> ReadResult:
    """Read and validate a CSV, XLSX or JSON Lines file of record format v1.

    ``agency`` fills the agency of rows that do not name one (the agency
    that supplied the file). With ``on_error="abort"`` (the default) any
    invalid row raises :class:`InvalidRows` listing every problem; with
    ``"skip"`` the valid rows are returned and the rejected ones listed in
    ``errors``. A file that cannot be read at all raises ``FileProblem``.

    Examples:
        >>> result = read_records("datasets/synthetic/sample/records.csv")  # doctest: +SKIP
        >>> frame = result.to_frame()  # doctest: +SKIP
    """
    path = Path(path)
    table = open_table(path, encoding=encoding)
    plan = ColumnPlan(table.header, mapping or IDENTITY)
    result = ReadResult(path=path, format=table.format, sha256=_sha256(path))
    with cyclic_gc_paused():
        validate_rows(
            table.rows,  # RawRow is a (line, values, problem) tuple
            plan=plan,
            agency=agency,
            result=result,
            progress=progress,
        )
    if result.errors and on_error == "abort":
        raise InvalidRows(result)
    return result


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a bulk load builds its records.

    A 100,000-row load keeps hundreds of thousands of new objects alive, so
    the collector's full passes (which walk every live object) ran several
    times per load and cost about a tenth of it, to find nothing: records,
    their values and the rows built for storage hold no reference cycles, and
    reference counting frees them as before. The collector is restored on the
    way out (only if it was on, so nesting and other users are respected).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def validate_rows(
    rows: Iterable[tuple[int, dict[str, Any], str | None]],
    *,
    plan: ColumnPlan,
    agency: str | None,
    result: ReadResult,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Validate raw rows into ``result``; also checks record_id is unique in the file."""
    order = plan.mapping.date_order
    renamed = RenamedRows(plan.renames, order) if plan.renames_only else None
    context = {"date_order": order}
    first_line: dict[str, int] = {}
    for count, (line, raw, problem) in enumerate(rows, start=1):
        if progress is not None and count % 1000 == 0:
            progress(1000)
        if problem is not None:
            result.errors.append(RowError(line, None, problem))
            continue
        # Valid rows (nearly all of them) skip pydantic; a row the fast path is
        # unsure of is validated in full, so its errors read exactly as before.
        if renamed is not None:
            record = renamed.construct(raw, agency)
        else:
            record = construct_valid(_mapped(plan, raw, agency), order)
        if record is None:
            row = _mapped(plan, raw, agency)
            try:
                record = RecordV1.model_validate(row, context=context)
            except ValidationError as err:
                result.errors.extend(_row_errors(line, row, err))
                continue
        earlier = first_line.setdefault(record.record_id, line)
        if earlier != line:
            result.errors.append(
                RowError(
                    line,
                    "record_id",
                    f"record_id is already used on line {earlier}",
                    record.record_id,
                )
            )
            continue
        result.records.append(record)
        result.lines.append(line)


def _mapped(plan: ColumnPlan, raw: dict[str, Any], agency: str | None) -> dict[str, Any]:
    """The row as v1 columns, with the load's agency for rows that name none."""
    row = plan.apply(raw)
    if agency and not row.get("agency"):
        row["agency"] = agency
    return row


def _row_errors(line: int, row: dict[str, Any], err: ValidationError) -> list[RowError]:
    """Pydantic's errors for one row, worded for the person fixing the file."""
    errors: list[RowError] = []
    for issue in err.errors():
        column = str(issue["loc"][0]) if issue["loc"] else None
        value = row.get(column) if column else None
        reason = issue["msg"].removeprefix("Value error, ")
        if issue["type"] == "missing":
            reason = "required value is missing"
        elif issue["type"] == "literal_error" and column == "sex":
            reason = "sex must be male, female or other (or empty)"
        errors.append(RowError(line, column, reason, None if value is None else str(value)[:80]))
    return errors


def records_frame(records: Iterable[RecordV1]) -> pd.DataFrame:
    """The engine's input: v1 columns as text (``None`` for missing).

    Numbers and booleans are written the way record format v1 writes them
    ("7", "7.5", "true") so that a frame built from a file and one built from
    the store are the same frame.
    """
    rows = [text_row(record.model_dump(exclude_none=True)) for record in records]
    frame = pd.DataFrame.from_records(rows, columns=list(RECORD_COLUMNS))
    return frame.astype(object).where(frame.notna(), None)


def text_row(data: dict[str, Any]) -> dict[str, str | None]:
    """A record's values (as stored or dumped) as v1 text, every column present.

    The one conversion from typed values back to the format's text, shared by
    the file path, the review API and the sweep so the engine sees the same row
    whichever door a record came in by.
    """
    return {
        column: None if (value := data.get(column)) is None else _as_text(value)
        for column in RECORD_COLUMNS
    }


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    return str(value)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
