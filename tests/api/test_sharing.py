"""What another agency's record shows in a candidate's explanation (api/sharing.py).

The engine's ``family`` comparison reads shared fields (parents' names) and
never-shared ones (telephone numbers) at once; its row must show the first and
never the second.
"""

from __future__ import annotations

from kinlink.api.sharing import COMPARISON_FIELDS, VALUE_FIELDS, shared_fields, shared_values
from kinlink.matching.comparisons import build_comparisons

from .conftest import Env

FAMILY_VALUES = {
    "mother_tokens": ["amina"],
    "mother_keys": ["AMN"],
    "father_tokens": ["hassan"],
    "phones": ["612345678"],
    "sep_date": "2024-03-01",
    "lineage": ["hassan"],
}


def test_every_engine_comparison_and_value_is_mapped() -> None:
    for comparison in build_comparisons():
        spec = comparison.get_comparison("duckdb")
        assert spec.output_column_name in COMPARISON_FIELDS, spec.output_column_name
        for column in spec._input_columns_used_by_case_statement:
            assert column.input_name in VALUE_FIELDS, (spec.output_column_name, column.input_name)


def test_family_values_follow_the_sharing_rules() -> None:
    default = shared_values("family", FAMILY_VALUES, shared_fields(None))
    assert "phones" not in default
    assert default["mother_tokens"] == ["amina"] and default["sep_date"] == "2024-03-01"
    assert shared_values("family", FAMILY_VALUES, None) == FAMILY_VALUES  # own record
    # an agency sharing telephone numbers still never shares them (NEVER_SHARED)
    assert "phones" not in shared_values("family", FAMILY_VALUES, shared_fields(["telephone"]))
    # an agency sharing only names: no parents, no separation date
    names_only = shared_values("family", FAMILY_VALUES, shared_fields(["name", "mother_name"]))
    assert "mother_tokens" not in names_only and "sep_date" not in names_only
    # an unmapped engine column is hidden, not leaked
    assert shared_values("family", {"new_column": 1}, shared_fields(None)) == {}


def test_family_row_is_shown_without_the_other_agencys_phone(env: Env) -> None:
    with env.store.session() as session:
        from sqlalchemy import select

        from kinlink.store.schema import StoredRecord

        phone = session.scalar(
            select(StoredRecord).where(
                StoredRecord.agency == "A", StoredRecord.record_id == "A-C000"
            )
        ).data["telephone"]
    r = env.client.get("/api/v1/records/B-T000/candidates", headers=env.auth("cw_b"))
    top = next(c for c in r.json()["items"] if c["other"]["record_id"] == "A-C000")
    family = next(e for e in top["explanation"] if e["comparison"] == "family")
    assert family["values_other"].get("mother_tokens")  # the shared part is shown
    assert "phones" not in family["values_other"]
    assert phone[-7:] not in r.text
    # the own agency's view of its own record keeps everything
    r = env.client.get("/api/v1/records/A-C000/candidates", headers=env.auth("cw_a"))
    top = next(c for c in r.json()["items"] if c["other"]["record_id"] == "B-T000")
    family = next(e for e in top["explanation"] if e["comparison"] == "family")
    assert "phones" in family["values_this"]
