"""Record format v1 as a pydantic model: the one definition of a valid record.

Files, the API and the synthetic generator all meet here, so "valid" means
one thing everywhere. Values are parsed by :mod:`kinlink.ingest.values`;
the model only wires them to columns and fixes their types.
"""

from __future__ import annotations

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
        """The record as a plain dict of present values, for storage and JSON."""
        return self.model_dump(mode="json", exclude_none=True)


_PARSERS: dict[str, _Parser] = {column: _text for column in RECORD_COLUMNS}
_PARSERS.update({column: _date for column in _DATE_FIELDS})
_PARSERS.update({column: _bool for column in _BOOL_FIELDS})
_PARSERS.update({"sex": _sex, "record_type": _record_type, "age": _text})

assert tuple(RecordV1.model_fields) == RECORD_COLUMNS, "model and column list disagree"
