"""Record format v1: the column names, in their canonical order.

Names follow Primero's field names where Primero has one, so an agency's
Primero export maps with few or no changes. See docs/record-format.md.
"""

from __future__ import annotations

FORMAT_VERSION = "1"

#: Every column of record format v1, in canonical order. Only the first two are required.
RECORD_COLUMNS: tuple[str, ...] = (
    "record_id",
    "record_type",
    "agency",
    "registration_date",
    "name",
    "name_first",
    "name_middle",
    "name_last",
    "name_nickname",
    "name_other",
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
    "mother_name",
    "father_name",
    "caregiver_name",
    "inquirer_name",
    "inquirer_relation",
    "inquirer_telephone",
    "telephone",
    "unhcr_individual_no",
    "icrc_ref_no",
    "national_id_no",
    "inquiry_id",
    "consent_for_tracing",
)

REQUIRED_COLUMNS: tuple[str, ...] = ("record_id", "record_type")

RECORD_TYPES: tuple[str, ...] = ("case", "tracing_request")
