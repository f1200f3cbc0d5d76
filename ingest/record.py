"""Record format v1 as a pydantic model: the one definition of a valid record.

Files, the API and the synthetic generator all meet here, so "valid" means
one thing everywhere. Values are parsed by :mod:`kinlink.ingest.values`;
the model only wires them to columns and fixes their types.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

from kinlink.ingest import values
from kinlink.ingest.columns import RECORD_COLUMNS

Text = str | None

_DATE_FIELDS = ("registration_date", "date_of_birth", "date_of_separation")
_BOOL_FIELDS = ("estimated", "consent_for_tracing")


def _date(value: Any, order: values.DateOrder) -> str:
    return values.parse_date(value, order)


def _bool(value: Any, _order: values.DateOrder) -> bool:
    return value if isinstance(value, bool) else values.parse_bool(str(value))


def _sex(value: Any, _order: values.DateOrder) -> str | None:
    return values.parse_sex(str(value))


def _record_type(value: Any, _order: values.DateOrder) -> Any:
    return values.parse_record_type(value) if isinstance(value, str) else value


def _text(value: Any, _order: values.DateOrder) -> str | None:
    return values.clean_text(value)


_Parser = Callable[[Any, values.DateOrder], Any]


class RecordV1(BaseModel):
    """One child: a registered ``case`` or the child sought by a ``tracing_request``.

    For a tracing request the child's fields (names, sex, date of birth, age)
    describe the child being sought; ``inquirer_*`` describe the person asking.
    See docs/record-format.md for every column.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)

    record_id: str = Field(description="Unique within a file (and within an agency in the store).")
    record_type: Literal["case", "tracing_request"]
    agency: Text = None
    registration_date: str | None = Field(None, description="YYYY-MM-DD, YYYY-MM or YYYY")
    name: Text = Field(None, description="Full name as written, any script, any order")
    name_first: Text = None
    name_middle: Text = None
    name_last: Text = None
    name_nickname: Text = None
    name_other: Text = Field(None, description="Other names; ';' separates several")
    sex: Literal["male", "female", "other"] | None = None
    date_of_birth: str | None = Field(None, description="YYYY-MM-DD, YYYY-MM or YYYY")
    age: float | None = Field(None, description="Years at registration_date, maybe estimated")
    estimated: bool | None = Field(None, description="True when age/date of birth is a guess")
    nationality: Text = None
    ethnicity: Text = None
    language: Text = None
    location_origin: Text = None
    location_separation: Text = None
    location_current: Text = None
    date_of_separation: str | None = Field(None, description="YYYY-MM-DD, YYYY-MM or YYYY")
    mother_name: Text = None
    father_name: Text = None
    caregiver_name: Text = None
    inquirer_name: Text = None
    inquirer_relation: Text = None
    inquirer_telephone: Text = None
    telephone: Text = None
    unhcr_individual_no: Text = None
    icrc_ref_no: Text = None
    national_id_no: Text = None
    inquiry_id: Text = None
    consent_for_tracing: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, data: Any, info: ValidationInfo) -> Any:
        # One pass over the row's values, not one validator call per field:
        # a 100,000-row file has two million cells and this is its hot loop.
        # Every problem is reported against its own column, all at once.
        if not isinstance(data, dict):
            return data
        order = (info.context or {}).get("date_order", "dmy")
        parsed: dict[str, Any] = {}
        problems: list[InitErrorDetails] = []
        marked_estimate = False
        for column, value in data.items():
            parser = _PARSERS.get(column)
            if parser is None:  # unknown column: left for extra="forbid" to report
                parsed[column] = value
                continue
            if value is None or value == "":
                continue
            try:
                if column == "age" and not isinstance(value, int | float):
                    result, marked_estimate = values.parse_age(value)
                elif column == "age":
                    result = values.parse_age(value)[0]
                else:
                    result = parser(value, order)
            except values.ValueProblem as problem:
                problems.append(
                    InitErrorDetails(
                        type=PydanticCustomError("value_error", str(problem)),
                        loc=(column,),
                        input=value,
                    )
                )
                continue
            if result is not None:
                parsed[column] = result
        if problems:
            raise ValidationError.from_exception_data(cls.__name__, problems)
        # "~7" or "7?" is the caseworker writing "about seven": keep that as
        # estimated=true unless the row says otherwise explicitly.
        if marked_estimate and "estimated" not in parsed:
            parsed["estimated"] = True
        return parsed

    def to_row(self) -> dict[str, Any]:
        """The record as a plain dict of present values, for storage and JSON.

        Every field holds ``str``, ``float``, ``bool`` or ``None`` (the parsers
        make sure of it), so the present values of ``__dict__`` are already
        what ``model_dump(mode="json", exclude_none=True)`` returns; reading
        them directly skips the serializer, which a 100,000-row load calls
        once per record.
        """
        return {key: value for key, value in self.__dict__.items() if value is not None}


_PARSERS: dict[str, _Parser] = {column: _text for column in RECORD_COLUMNS}
_PARSERS.update({column: _date for column in _DATE_FIELDS})
_PARSERS.update({column: _bool for column in _BOOL_FIELDS})
_PARSERS.update({"sex": _sex, "record_type": _record_type, "age": _text})

assert tuple(RecordV1.model_fields) == RECORD_COLUMNS, "model and column list disagree"


# --- The fast path for files --------------------------------------------------
#
# ``RecordV1.model_validate`` costs about 25 µs a row, most of it pydantic
# re-checking values the before-validator has just produced in their final
# types. For rows from files, :func:`construct_valid` runs the same parsers on
# the same values, checks what pydantic would check (required fields, record
# type, no unknown column), and builds the instance directly. Anything it is
# not sure of (a value problem, a missing field, an unknown column) returns
# ``None`` and the caller validates that row the slow way, so every error
# message still comes from the one definition above.

#: Columns whose values repeat across a file: dates, categories, places. Their
#: parsed values are cached per raw text. Names, phone numbers and ids are
#: mostly unique, so caching them would only cost memory.
_CACHED_COLUMNS = frozenset(
    (
        "record_type",
        "agency",
        "registration_date",
        "sex",
        "date_of_birth",
        "age",
        "estimated",
        "nationality",
        "ethnicity",
        "language",
        "location_origin",
        "location_separation",
        "location_current",
        "date_of_separation",
        "inquirer_relation",
        "consent_for_tracing",
    )
)
#: Entries per column cache before it is emptied; bounds memory on files
#: whose "categories" turn out not to repeat.
_CACHE_LIMIT = 50_000
_MISS = object()
#: What :func:`_parse_miss` returns for a value that does not parse.
_INVALID = object()


def _parse_miss(function: Callable[[Any], Any], cache: dict[Any, Any] | None, value: Any) -> Any:
    """Parse a value the cache lacks and remember the result; ``_INVALID`` if it fails.

    Only successes are cached (see :func:`construct_valid`); the cache is emptied
    when full rather than evicted entry by entry, which is cheaper and enough for
    columns whose values repeat.
    """
    try:
        result = function(value)
    except values.ValueProblem:
        return _INVALID
    if cache is not None:
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[value] = result
    return result


_RECORD_TYPES = ("case", "tracing_request")
_Step = tuple[Callable[[Any], Any], dict[Any, Any] | None]
_STEPS: dict[str, dict[str, _Step]] = {}


def _age_cell(value: Any) -> tuple[float, bool]:
    # As in RecordV1._parse: a number cell is never "marked" as estimated.
    if isinstance(value, int | float):
        return values.parse_age(value)[0], False
    return values.parse_age(value)


def _with_order(parser: _Parser, order: values.DateOrder, value: Any) -> Any:
    return parser(value, order)


def _steps(order: values.DateOrder) -> dict[str, _Step]:
    """Per column: its one-argument parser and its cache (``None``: not cached)."""
    steps = _STEPS.get(order)
    if steps is None:
        steps = {}
        for column, parser in _PARSERS.items():
            if column == "age":
                function: Callable[[Any], Any] = _age_cell
            elif parser is _text:
                function = values.clean_text  # what _text calls, one call fewer
            else:
                function = functools.partial(_with_order, parser, order)
            cached = column in _CACHED_COLUMNS
            # RenamedRows.construct relies on this: uncached columns are text.
            assert cached or function is values.clean_text, column
            steps[column] = (function, {} if cached else None)
        _STEPS[order] = steps
    return steps


def construct_valid(row: dict[str, Any], order: values.DateOrder = "dmy") -> RecordV1 | None:
    """The record for ``row`` when it is valid, built without pydantic; else ``None``.

    Gives exactly what ``RecordV1.model_validate(row, context={"date_order":
    order})`` gives for a valid row (tests compare the two on arbitrary
    Unicode rows). Only successful parses are cached: a value that parsed
    stays valid (a date cannot move into the future), while failures are
    left for the slow path to explain.
    """
    steps = _STEPS.get(order) or _steps(order)
    parsed: dict[str, Any] = {}
    for column, value in row.items():
        step = steps.get(column)
        if step is None:
            return None  # unknown column: the slow path reports it
        if value is None or value == "":
            continue
        function, cache = step
        if value.__class__ is not str:
            cache = None
        result = _MISS if cache is None else cache.get(value, _MISS)
        if result is _MISS:
            result = _parse_miss(function, cache, value)
            if result is _INVALID:
                return None
        if result is not None:
            parsed[column] = result
    return _finish(parsed)


_Cell = tuple[str, str, Callable[[Any], Any], dict[Any, Any] | None]


class RenamedRows:
    """A renaming plan compiled for :meth:`construct`: per source column, its parser and cache.

    Compiled once per file so the per-row loop does no lookups by column name.
    """

    __slots__ = ("_agency_source", "_agency_step", "_cells")

    def __init__(self, renames: list[tuple[str, str]], order: values.DateOrder = "dmy") -> None:
        steps = _STEPS.get(order) or _steps(order)
        self._cells: tuple[_Cell, ...] = tuple(
            (source, column, *steps[column]) for source, column in renames if column != "agency"
        )
        self._agency_source = next((s for s, c in renames if c == "agency"), None)
        self._agency_step = steps["agency"]

    def construct(self, raw: dict[str, Any], agency: str | None) -> RecordV1 | None:
        """:func:`construct_valid` of ``raw`` renamed, in one pass; ``None`` if not valid.

        Equals ``construct_valid(row, order)`` where ``row`` is what a column
        plan that only renames (``ColumnPlan.renames_only``) makes of ``raw``,
        with ``agency`` filled in when the row has none, as ``validate_rows``
        does. Building that intermediate row costs as much as parsing it, so
        this reads ``raw`` directly.
        """
        parsed: dict[str, Any] = {}
        for source, column, function, cache in self._cells:
            value = raw.get(source)
            # Empty and whitespace-only cells are missing (as in ColumnPlan.apply).
            # Whitespace is only looked for where it matters: a cached value
            # was checked before it was cached, and an uncached column is text,
            # which clean_text turns to None when it is only whitespace.
            if value.__class__ is str:
                if not value:
                    continue
                result = _MISS if cache is None else cache.get(value, _MISS)
                if result is _MISS:
                    if cache is not None and value.isspace():
                        continue
                    result = _parse_miss(function, cache, value)
                    if result is _INVALID:
                        return None
            elif value is None or value == "" or (isinstance(value, str) and value.isspace()):
                continue
            else:
                result = _parse_miss(function, None, value)
                if result is _INVALID:
                    return None
            if result is not None:
                parsed[column] = result
        given: Any = None
        if self._agency_source is not None:
            given = raw.get(self._agency_source)
            if given is None or given == "" or (isinstance(given, str) and given.isspace()):
                given = None
        if agency and not given:
            given = agency  # the load's agency, for rows that name none
        if given is not None and given != "":
            function, cache = self._agency_step
            if given.__class__ is not str:
                cache = None
            result = _MISS if cache is None else cache.get(given, _MISS)
            if result is _MISS:
                result = _parse_miss(function, cache, given)
                if result is _INVALID:
                    return None
            if result is not None:
                parsed["agency"] = result
        return _finish(parsed)


def construct_mapped(
    raw: dict[str, Any],
    renames: list[tuple[str, str]],
    agency: str | None,
    order: values.DateOrder = "dmy",
) -> RecordV1 | None:
    """``RenamedRows(renames, order).construct(raw, agency)``, for a single row."""
    return RenamedRows(renames, order).construct(raw, agency)


def _finish(parsed: dict[str, Any]) -> RecordV1 | None:
    age = parsed.get("age")
    if age is not None:
        parsed["age"] = age[0]
        # "~7" or "7?": estimated unless the row says otherwise (as in _parse).
        if age[1] and "estimated" not in parsed:
            parsed["estimated"] = True
    if "record_id" not in parsed or parsed.get("record_type") not in _RECORD_TYPES:
        return None
    return _construct(parsed)


_ABSENT: dict[str, Any] = dict.fromkeys(RECORD_COLUMNS)


#: One fields-set per combination of filled columns (rows of a file share a
#: handful); bounded like the value caches.
_FIELD_SETS: dict[tuple[str, ...], set[str]] = {}


def _fields_set(parsed: dict[str, Any]) -> set[str]:
    # A 20-name set is 2 KB, the largest part of a record in memory; rows with
    # the same filled columns share one. Safe because RecordV1 is frozen:
    # pydantic adds to this set only on attribute assignment, which a frozen
    # model refuses, and model_copy gives the copy a set of its own.
    key = tuple(parsed)
    shared = _FIELD_SETS.get(key)
    if shared is None:
        if len(_FIELD_SETS) >= _CACHE_LIMIT:
            _FIELD_SETS.clear()
        shared = _FIELD_SETS[key] = set(key)
    return shared


def _build_fast(parsed: dict[str, Any]) -> RecordV1:
    # What model_validate leaves on an instance: every field in declaration
    # order (None when absent), the set of fields given, no extra, no private.
    # model_construct does the same generically but takes 15 µs a row.
    fields = _ABSENT.copy()
    fields.update(parsed)
    record = _new(RecordV1)
    _set(record, "__dict__", fields)
    _set(record, "__pydantic_fields_set__", _fields_set(parsed))
    _set(record, "__pydantic_extra__", None)
    _set(record, "__pydantic_private__", None)
    return record


def _build_generic(parsed: dict[str, Any]) -> RecordV1:
    return RecordV1.model_construct(_fields_set=set(parsed), **parsed)


def _same_instance(a: RecordV1, b: RecordV1) -> bool:
    return (
        a == b
        and list(a.__dict__) == list(b.__dict__)
        and a.model_fields_set == b.model_fields_set
        and a.__pydantic_extra__ == b.__pydantic_extra__
        and a.__pydantic_private__ == b.__pydantic_private__
    )


def _pick_constructor() -> Callable[[dict[str, Any]], RecordV1]:
    # The direct build relies on how pydantic 2 lays out an instance; check it
    # against model_validate once at import and fall back to model_construct
    # if a pydantic release ever lays it out differently.
    probe = {"record_id": "probe", "record_type": "case", "age": 7.0, "estimated": True}
    reference = RecordV1.model_validate(probe)
    try:
        fast = _build_fast(probe)
    except (AttributeError, TypeError):
        return _build_generic
    return _build_fast if _same_instance(fast, reference) else _build_generic


_new = object.__new__
_set = object.__setattr__
_construct = _pick_constructor()
