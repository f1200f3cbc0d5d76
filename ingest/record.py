"""Record format v1 as a pydantic model: the one definition of a valid record.

Files, the API and the synthetic generator all meet here, so "valid" means
one thing everywhere. Values are parsed by :mod:`kinlink.ingest.values`;
the model only wires them to columns and fixes their types.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from kinlink.ingest import values
from kinlink.ingest.columns import RECORD_COLUMNS


def _text(value: Any) -> str | None:
    try:
        return values.clean_text(value)
    except values.ValueProblem as problem:
        raise ValueError(str(problem)) from None


Text = Annotated[str | None, BeforeValidator(_text)]

_DATE_FIELDS = ("registration_date", "date_of_birth", "date_of_separation")


class RecordV1(BaseModel):
    """One child: a registered ``case`` or the child sought by a ``tracing_request``.

    For a tracing request the child's fields (names, sex, date of birth, age)
    describe the child being sought; ``inquirer_*`` describe the person asking.
    See docs/record-format.md for every column.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)

    record_id: Annotated[str, BeforeValidator(_text)] = Field(
        description="Unique within a file (and within an agency in the store)."
    )
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
    def _age_marks_estimate(cls, data: Any) -> Any:
        # "~7" or "7?" is the caseworker writing "about seven": keep that as
        # estimated=true unless the row says otherwise explicitly.
        if not isinstance(data, dict):
            return data
        raw = data.get("age")
        if raw is None or raw == "" or isinstance(raw, int | float):
            return data
        try:
            years, marked = values.parse_age(raw)
        except values.ValueProblem:
            return data  # the field validator reports it against the right column
        data = dict(data)
        data["age"] = years
        if marked and data.get("estimated") in (None, ""):
            data["estimated"] = True
        return data

    @field_validator("record_type", mode="before")
    @classmethod
    def _record_type(cls, value: Any) -> Any:
        if isinstance(value, str):
            return _wrap(values.parse_record_type, value)
        return value

    @field_validator(*_DATE_FIELDS, mode="before")
    @classmethod
    def _dates(cls, value: Any, info: ValidationInfo) -> str | None:
        if value is None or value == "":
            return None
        order = (info.context or {}).get("date_order", "dmy")
        return _wrap(values.parse_date, value, order)

    @field_validator("sex", mode="before")
    @classmethod
    def _sex(cls, value: Any) -> Any:
        if value is None or value == "":
            return None
        return _wrap(values.parse_sex, str(value))

    @field_validator("age", mode="before")
    @classmethod
    def _age(cls, value: Any) -> float | None:
        if value is None or value == "":
            return None
        return _wrap(values.parse_age, value)[0]

    @field_validator("estimated", "consent_for_tracing", mode="before")
    @classmethod
    def _bools(cls, value: Any) -> bool | None:
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return value
        return _wrap(values.parse_bool, str(value))

    def to_row(self) -> dict[str, Any]:
        """The record as a plain dict of present values, for storage and JSON."""
        return self.model_dump(mode="json", exclude_none=True)


def _wrap(parser: Any, *args: Any) -> Any:
    # pydantic reports ValueError text as the error message; ValueProblem
    # already carries a user-facing sentence.
    try:
        return parser(*args)
    except values.ValueProblem as problem:
        raise ValueError(str(problem)) from None


assert tuple(RecordV1.model_fields) == RECORD_COLUMNS, "model and column list disagree"
