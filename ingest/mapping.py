"""Column mappings: load an export whose headers differ, without editing it.

A mapping file (YAML or JSON) says which source column is which record
format v1 column, which values to translate, what to set when the file has no
such column, and which columns to ignore. Field offices keep one mapping per
export (a KoBo form, Primero's CSV export, their own spreadsheet) next to the
exports themselves; examples ship in ``ingest/mappings/``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kinlink.ingest.columns import RECORD_COLUMNS, REQUIRED_COLUMNS
from kinlink.ingest.readers import FileProblem

_KNOWN = frozenset(RECORD_COLUMNS)


class Mapping(BaseModel):
    """How a file's columns become record format v1 columns."""

    model_config = ConfigDict(extra="forbid")

    #: source header -> v1 column (source headers compared case- and space-insensitively)
    columns: dict[str, str] = Field(default_factory=dict)
    #: v1 column -> value used when the file has no value for it
    constants: dict[str, str] = Field(default_factory=dict)
    #: v1 column -> {source value: v1 value}; values compared case-insensitively
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    #: source headers to drop on purpose
    ignore: list[str] = Field(default_factory=list)
    #: drop every column that is neither mapped nor a v1 column (e.g. KoBo metadata)
    ignore_unmapped: bool = False
    #: how dates like 07/03/2015 are read: day first (dmy) or month first (mdy)
    date_order: Literal["dmy", "mdy"] = "dmy"

    @model_validator(mode="before")
    @classmethod
    def _scalars_as_text(cls, data: Any) -> Any:
        # YAML reads `1: male` and `consent: yes` as numbers and booleans;
        # in a mapping they are always cell text.
        if isinstance(data, dict):
            data = dict(data)
            if isinstance(data.get("constants"), dict):
                data["constants"] = {k: _scalar(v) for k, v in data["constants"].items()}
            if isinstance(data.get("values"), dict):
                data["values"] = {
                    col: {_scalar(k): _scalar(v) for k, v in table.items()}
                    if isinstance(table, dict)
                    else table
                    for col, table in data["values"].items()
                }
        return data

    @field_validator("columns")
    @classmethod
    def _targets_exist(cls, columns: dict[str, str]) -> dict[str, str]:
        unknown = sorted({t for t in columns.values() if t not in _KNOWN})
        if unknown:
            raise ValueError(f"maps to columns that record format v1 does not have: {unknown}")
        return columns

    @field_validator("constants", "values")
    @classmethod
    def _keys_exist(cls, data: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(k for k in data if k not in _KNOWN)
        if unknown:
            raise ValueError(f"names columns that record format v1 does not have: {unknown}")
        return data


IDENTITY = Mapping()


def _scalar(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def load_mapping(path: Path) -> Mapping:
    """Read a mapping file; any problem is one clear :class:`FileProblem`."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise FileProblem(f"mapping {path}: no such file") from None
    except UnicodeDecodeError:
        raise FileProblem(f"mapping {path}: not UTF-8 text") from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as err:
        raise FileProblem(f"mapping {path}: cannot be parsed: {err}") from None
    if not isinstance(data, dict):
        raise FileProblem(f"mapping {path}: must be a mapping of keys (columns, constants, ...)")
    data.pop("format", None)
    try:
        return Mapping.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'mapping'}: {e['msg']}" for e in err.errors()
        )
        raise FileProblem(f"mapping {path}: {problems}") from None


def _key(header: str) -> str:
    return " ".join(header.strip().lower().split())


class ColumnPlan:
    """The mapping applied to one file's header: which source column feeds which v1 column."""

    def __init__(self, header: list[str], mapping: Mapping) -> None:
        self.mapping = mapping
        by_key = {_key(src): dst for src, dst in mapping.columns.items()}
        ignored = {_key(h) for h in mapping.ignore}
        self.sources: dict[str, str] = {}  # source header -> v1 column
        unknown: list[str] = []
        for column in header:
            if not column:
                continue
            key = _key(column)
            target = by_key.get(key)
            if target is None and key.replace(" ", "_") in _KNOWN:
                target = key.replace(" ", "_")
            if target is not None:
                if target in self.sources.values():
                    raise FileProblem(
                        f"two columns both map to {target!r}; keep one in the mapping"
                    )
                self.sources[column] = target
            elif key not in ignored and not mapping.ignore_unmapped:
                unknown.append(column)
        if unknown:
            raise FileProblem(
                f"columns not in record format v1: {unknown}. Map them with a mapping file "
                "(--mapping), or list them under 'ignore' there to drop them on purpose"
            )
        present = set(self.sources.values()) | set(mapping.constants)
        missing = [c for c in REQUIRED_COLUMNS if c not in present]
        if missing:
            raise FileProblem(
                f"required columns missing: {missing} (found: {[h for h in header if h]})"
            )
        value_maps = {
            col: {str(k).strip().lower(): v for k, v in table.items()}
            for col, table in mapping.values.items()
        }
        self._plain = [(s, t) for s, t in self.sources.items() if t not in value_maps]
        self._translated = [
            (s, t, value_maps[t]) for s, t in self.sources.items() if t in value_maps
        ]

    @property
    def renames_only(self) -> bool:
        """True when the plan only renames columns: no value tables, no constants.

        Such a plan lets validation read the raw row directly
        (:func:`kinlink.ingest.record.construct_mapped`) instead of building
        the mapped row first.
        """
        return not self._translated and not self.mapping.constants

    @property
    def renames(self) -> list[tuple[str, str]]:
        """(source header, v1 column) for every column passed through as it is."""
        return self._plain

    def apply(self, raw: dict[str, Any]) -> dict[str, Any]:
        """One raw row as a dict of v1 columns (values still raw); empty cells are dropped."""
        # One comprehension rather than a loop of statements: this runs once
        # per row of every file, and a 100,000-row file has two million cells.
        row: dict[str, Any] = {
            target: value
            for source, target in self._plain
            if (value := raw.get(source)) is not None
            and value != ""
            and not (isinstance(value, str) and value.isspace())
        }
        for source, target, table in self._translated:
            value = raw.get(source)
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            if isinstance(value, str | int | float):
                value = table.get(str(value).strip().lower(), value)
            row[target] = value
        for column, constant in self.mapping.constants.items():
            row.setdefault(column, constant)
        return row
