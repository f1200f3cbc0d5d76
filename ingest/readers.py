"""Readers for the files agencies actually have: CSV, XLSX and JSON Lines.

A reader's only job is to turn a file into a header and raw rows that carry
the line number a person would see when opening the file. Whole-file problems
(binary content, wrong encoding, empty) raise :class:`FileProblem` once;
per-row problems are left to validation so that one bad row does not hide the
others.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

#: File name endings and the reader each one selects.
FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls


class FileProblem(Exception):
    """The file as a whole cannot be read. The message says what to do about it."""


class RawRow(NamedTuple):
    """One row as found in the file, before mapping and validation.

    A named tuple (not a frozen dataclass): it is built once per row, and a
    tuple is both cheaper to build and unpacks straight into
    ``(line, values, problem)`` where validation consumes it.
    """

    line: int
    values: dict[str, Any]
    #: Set by the reader when the row itself is malformed (e.g. bad JSON).
    problem: str | None = None


@dataclass
class RawTable:
    """What a reader found: the header and an iterator over rows."""

    format: str
    header: list[str]
    rows: Iterator[RawRow]


def detect_format(path: Path) -> str:
    """The reader for a path, from its ending; a clear error for anything else."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(FORMATS))
        raise FileProblem(f"{path.name}: unsupported file type {path.suffix!r}; use one of {known}")
    return fmt


def open_table(path: Path, encoding: str = "utf-8") -> RawTable:
    """Open any supported file; checks that it is what its name claims first."""
    if not path.exists():
        raise FileProblem(f"{path}: no such file")
    if path.is_dir():
        raise FileProblem(f"{path}: is a folder, not a file")
    fmt = detect_format(path)
    with path.open("rb") as handle:
        head = handle.read(8192)
    if not head:
        raise FileProblem(f"{path.name}: the file is empty")
    if fmt == "xlsx":
        if not head.startswith(_ZIP_MAGIC):
            raise FileProblem(f"{path.name}: not an Excel workbook (.xlsx) despite its name")
        return _read_xlsx(path)
    if head.startswith(_ZIP_MAGIC):
        raise FileProblem(
            f"{path.name}: this is an Excel workbook or another zip file, not text; "
            "save it with the .xlsx ending or export it as CSV UTF-8"
        )
    if head.startswith(_OLE_MAGIC):
        raise FileProblem(
            f"{path.name}: this is an old Excel .xls workbook; save it as .xlsx or CSV UTF-8"
        )
    if b"\x00" in head:
        raise FileProblem(
            f"{path.name}: the file contains binary data (NUL bytes); "
            "it is not a text file (if it is UTF-16 text, save it as CSV UTF-8)"
        )
    text = _decode(path, encoding)
    if not text.strip():
        raise FileProblem(f"{path.name}: the file has no content")
    if fmt == "jsonl":
        return _read_jsonl(text)
    return _read_csv(path, text)


def _decode(path: Path, encoding: str) -> str:
    raw = path.read_bytes()
    codec = "utf-8-sig" if encoding.lower().replace("_", "-") in {"utf-8", "utf8"} else encoding
    try:
        return raw.decode(codec)
    except LookupError:
        raise FileProblem(f"unknown encoding {encoding!r}") from None
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise FileProblem(
            f"{path.name}: not valid {encoding} text (first bad byte on line {line}); "
            "save the file as 'CSV UTF-8' or give its encoding with --encoding (e.g. cp1252)"
        ) from None


def _read_csv(path: Path, text: str) -> RawTable:
    end = text.find("\n")
    first_line = text if end < 0 else text[:end]
    if path.suffix.lower() == ".tsv":
        delimiter = "\t"
    else:
        # Excel in French, Spanish or Portuguese locales writes ';' because ','
        # is their decimal mark; the header line tells which was used.
        counts = {d: first_line.count(d) for d in (",", ";", "\t")}
        delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    lines = _quote_free_lines(text)
    if lines is not None:
        return _read_quote_free(path, lines, delimiter)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except csv.Error as err:
        raise FileProblem(f"{path.name}: the header line cannot be read as CSV: {err}") from None
    header = [h.strip() for h in header]
    if not any(header):
        raise FileProblem(f"{path.name}: the first line (the header) is empty")

    def rows() -> Iterator[RawRow]:
        start = reader.line_num + 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as err:
                yield RawRow(start, {}, f"malformed CSV: {err}")
                start = reader.line_num + 1
                continue
            line, start = start, reader.line_num + 1
            row = _csv_row(line, cells, header)
            if row is not None:
                yield row

    return RawTable("csv", header, rows())


def _csv_row(line: int, cells: list[str], header: list[str]) -> RawRow | None:
    """The row for one line's cells; ``None`` for a blank line (layout, not a record)."""
    # A row whose first cell has text is not blank: the common case skips
    # looking at every cell.
    if not cells or (not cells[0].strip() and all(not c.strip() for c in cells)):
        return None
    width = len(header)
    if len(cells) > width and any(c.strip() for c in cells[width:]):
        return RawRow(line, {}, f"row has {len(cells)} cells but the header has {width} columns")
    return RawRow(line, dict(zip(header, cells, strict=False)))


def _quote_free_lines(text: str) -> list[str] | None:
    """The file's lines when plain splitting reads it exactly as :mod:`csv` would, else ``None``.

    Without a quote character a CSV record is one line and its cells are the
    line split at the delimiter: the csv module has nothing else to do (no
    quoted delimiters or line breaks, no quoting errors), so splitting gives
    the same cells and the same line numbers at a fraction of the cost. Lines
    end where the csv module's input (``newline=""``) ends them: at ``\r\n``,
    ``\r`` or ``\n``. Files with a NUL or a cell longer than the csv
    module's field limit keep the csv module, which reports those.
    """
    if '"' in text or "\x00" in text:
        return None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines and not lines[-1]:
        lines.pop()  # the last line's ending does not start another line
    if max(map(len, lines), default=0) > csv.field_size_limit():
        return None
    return lines


def _read_quote_free(path: Path, lines: list[str], delimiter: str) -> RawTable:
    header = [h.strip() for h in lines[0].split(delimiter)] if lines else []
    if not any(header):
        raise FileProblem(f"{path.name}: the first line (the header) is empty")

    def rows() -> Iterator[RawRow]:
        for number in range(1, len(lines)):
            row = _csv_row(number + 1, lines[number].split(delimiter), header)
            if row is not None:
                yield row

    return RawTable("csv", header, rows())


def _read_jsonl(text: str) -> RawTable:
    # JSON Lines separates records by "\n" only; str.splitlines() would also
    # split inside values at U+0085, U+2028 and other Unicode line breaks.
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    header: list[str] = []
    seen: set[str] = set()
    parsed: list[RawRow] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            parsed.append(RawRow(number, {}, f"not valid JSON: {err.msg} (column {err.colno})"))
            continue
        if not isinstance(obj, dict):
            parsed.append(RawRow(number, {}, "each line must be a JSON object ({...})"))
            continue
        for key in obj:
            if key not in seen:
                seen.add(key)
                header.append(key)
        parsed.append(RawRow(number, {k: _json_cell(v) for k, v in obj.items()}))
    return RawTable("jsonl", header, iter(parsed))


def _json_cell(value: Any) -> Any:
    if isinstance(value, list | dict):
        # A list of other names is the one structured value the format knows.
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return ";".join(value)
        return json.dumps(value, ensure_ascii=False)
    return value


def _read_xlsx(path: Path) -> RawTable:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheet = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception as err:  # calamine raises its own error types per failure
        raise FileProblem(f"{path.name}: the workbook cannot be read: {err}") from None
    if not sheet:
        raise FileProblem(f"{path.name}: the first sheet is empty")
    header = [_xlsx_cell(c) or "" for c in sheet[0]]
    header = [str(h).strip() for h in header]
    if not any(header):
        raise FileProblem(f"{path.name}: the first row of the first sheet (the header) is empty")

    def rows() -> Iterator[RawRow]:
        for index, cells in enumerate(sheet[1:], start=2):
            values = [_xlsx_cell(c) for c in cells]
            if all(v is None or v == "" for v in values):
                continue
            extra = values[len(header) :]
            if any(v not in (None, "") for v in extra):
                yield RawRow(index, {}, f"row has values beyond the {len(header)} header columns")
                continue
            yield RawRow(index, dict(zip(header, values, strict=False)))

    return RawTable("xlsx", header, rows())


def _xlsx_cell(value: Any) -> Any:
    # Spreadsheets store phone numbers and ids typed as digits as floats;
    # "252612345678.0" would never match "252612345678".
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date | dt.time | bool):
        return value
    if value is None:
        return None
    return str(value)
