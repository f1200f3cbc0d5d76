"""The report's per-agency counts: each pair counts once for each agency holding one
of its records, each clustered record once for its agency; records of no agency are
``(none)``. Held to the plain per-pair loop it replaced, on hypothesis-drawn pairs."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from kinlink.matching.sweep.report import by_agency

pks = st.integers(0, 30)
agencies = st.dictionaries(pks, st.sampled_from(["A", "B", "", "Ä-NGO"]), max_size=25)


def _reference(new_records, new_pending, members, agency):
    out: dict[str, Counter[str]] = {}

    def row(code):
        return out.setdefault(code or "(none)", Counter())

    for code, record_type in new_records:
        row(code)[f"new_{record_type}s"] += 1
    for lo, hi in new_pending:
        for code in {agency.get(lo, ""), agency.get(hi, "")}:
            row(code)["new_pending_pairs"] += 1
    for pk in members:
        row(agency.get(pk, ""))["records_in_clusters"] += 1
    return {code: dict(sorted(c.items())) for code, c in sorted(out.items())}


@settings(max_examples=200, deadline=None)
@given(
    agency=agencies,
    new_records=st.lists(
        st.tuples(st.sampled_from(["A", "B", ""]), st.sampled_from(["case", "tracing_request"])),
        max_size=10,
    ),
    pairs=st.lists(st.tuples(pks, pks), max_size=40),
    members=st.lists(pks, max_size=20),
)
def test_counts_are_the_per_pair_loops(agency, new_records, pairs, members):
    assert by_agency(new_records, pairs, members, agency) == _reference(
        new_records, pairs, members, agency
    )


def test_a_pair_within_one_agency_counts_once():
    report = by_agency([], [(1, 2), (1, 3)], [1, 2], {1: "A", 2: "A", 3: "B"})
    assert report == {
        "A": {"new_pending_pairs": 2, "records_in_clusters": 2},
        "B": {"new_pending_pairs": 1},
    }
