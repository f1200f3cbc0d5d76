"""The in-process real-time scorer gives exactly what the model's Splink SQL gives.

``MatchIndex`` scores candidates in-process by default (each comparison level's
``py=`` predicate, next to its SQL in ``kinlink.matching.comparisons``); the SQL scorer
(``scorer="sql"``) is the reference. These tests score many pairs both ways and require,
pair by pair: the same gamma for every comparison, match weight and probability equal
to 1e-9, and the same explanation (``Explainer.contributions``: level, weights, values).

Pairs come from the committed synthetic sample (each query against its candidates and
against unrelated records), from hypothesis-generated records of arbitrary Unicode run
through prepare, and from prepared rows drawn directly (empty and NULL lists, repeated
and non-ASCII tokens, edit similarity at the 0.8 boundary), which pin the semantics of
each primitive beyond what prepare produces today.

The model's m/u values are random (seeded) rather than trained: every level of every
comparison then carries its own non-zero weight, so a wrong level shows in the match
weight too (a trained model gives the display-only comparisons zero weight).
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kinlink.ingest.columns import RECORD_COLUMNS
from kinlink.matching.inprocess import InProcessScorer, Scores, StoredColumns, explain_row
from kinlink.matching.model import KinlinkModel, base_settings
from kinlink.matching.prepare import prepare_row
from kinlink.matching.realtime import MatchIndex, match_record

SAMPLE = Path(__file__).parents[2] / "datasets" / "synthetic" / "sample" / "records.csv"


def _random_model(seed: int) -> KinlinkModel:
    """kinlink's comparisons with random m/u on every level and a plausible prior."""
    rng = np.random.default_rng(seed)
    settings = base_settings("duckdb")
    settings["probability_two_random_records_match"] = 1e-4
    for comparison in settings["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            level["m_probability"] = float(rng.uniform(0.001, 0.9))
            level["u_probability"] = float(rng.uniform(0.0005, 0.5))
    return KinlinkModel(splink_settings=settings, metadata={})


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def index(sample: pd.DataFrame) -> MatchIndex:
    """Every sample record stored; both scorers built."""
    idx = MatchIndex(sample, _random_model(7))
    idx._compile()
    return idx


def _sql_rows(index: MatchIndex, left: pa.Table, right: pa.Table) -> dict[tuple[str, str], dict]:
    """The model's SQL over every (left, right) pair, by (record_id_l, record_id_r)."""
    frame = index.run_sql(left, right)
    assert len(frame) == left.num_rows * right.num_rows
    return {(r["record_id_l"], r["record_id_r"]): r for r in frame.to_dict("records")}


def _assert_same(
    index: MatchIndex,
    scores: Scores,
    left: dict[str, Any],
    right_rows: list[dict[str, Any]],
    sql: dict[tuple[str, str], dict],
    explain_every: int = 1,
) -> int:
    """Pair by pair: gammas, weights, probabilities and explanations agree."""
    checked = 0
    for i, right in enumerate(right_rows):
        row = sql[(left["record_id"], right["record_id"])]
        where = f"{left['record_id']} vs {right['record_id']}"
        for name, gamma in scores.gamma.items():
            assert int(gamma[i]) == int(row[f"gamma_{name}"]), f"{name}: {where}"
            assert math.isclose(scores.mw[name][i], row[f"mw_{name}"], abs_tol=1e-9), name
        for name, adj in scores.tf_adj.items():
            assert math.isclose(adj[i], row[f"mw_tf_adj_{name}"], abs_tol=1e-9), f"tf {name}"
        assert math.isclose(scores.match_weight[i], row["match_weight"], abs_tol=1e-9), where
        assert math.isclose(
            scores.match_probability[i], row["match_probability"], rel_tol=1e-9, abs_tol=1e-12
        ), where
        if i % explain_every == 0:
            mine = index.explainer.contributions(
                explain_row(scores, i, left, right, index._columns)
            )
            theirs = index.explainer.contributions(row)
            for a, b in zip(mine, theirs, strict=True):
                assert (a.comparison, a.level, a.gamma) == (b.comparison, b.level, b.gamma)
                assert (a.values_l, a.values_r) == (b.values_l, b.values_r), f"{a.comparison}"
                assert math.isclose(a.match_weight, b.match_weight, abs_tol=1e-9)
                assert math.isclose(a.tf_adjustment, b.tf_adjustment, abs_tol=1e-9)
        checked += 1
    return checked


def _score_all(
    index: MatchIndex, lefts: list[dict[str, Any]], right: pa.Table, scorer: InProcessScorer
) -> int:
    """Every left against every row of ``right`` (scored by ``scorer``), both ways."""
    left_table = pa.Table.from_pylist(
        [{c: p.get(c) for c in right.column_names} for p in lefts], schema=right.schema
    )
    sql = _sql_rows(index, left_table, right)
    right_rows = right.to_pylist()
    rows = np.arange(right.num_rows)
    checked = 0
    for left in left_table.to_pylist():
        scores = scorer.score(left, rows)
        checked += _assert_same(index, scores, left, right_rows, sql)
    return checked


def test_sample_pairs_score_identically(index: MatchIndex, sample: pd.DataFrame) -> None:
    """80 sample records against their candidates and against unrelated records."""
    rng = np.random.default_rng(3)
    queries = rng.choice(len(index.prepared), 80, replace=False)
    scorer = index._in_process
    assert scorer is not None
    checked = 0
    levels_seen: dict[str, set[int]] = {}
    for batch in np.array_split(queries, 2):
        lefts, rows = [], [rng.choice(len(index.prepared), 150, replace=False)]
        for q in batch:
            keys = {"block_keys": index.prepared["block_keys"].iloc[int(q)]}
            left = index._arrow.slice(int(q), 1).to_pylist()[0]
            lefts.append(left)
            rows.append(index.candidate_rows({**left, **keys}))
        right = index._arrow.take(pa.array(np.unique(np.concatenate(rows))))
        left_table = pa.Table.from_pylist(
            [{c: p.get(c) for c in right.column_names} for p in lefts], schema=right.schema
        )
        sql = _sql_rows(index, left_table, right)
        right_rows = right.to_pylist()
        stored_rows = np.unique(np.concatenate(rows))
        for left in left_table.to_pylist():
            scores = scorer.score(left, stored_rows)
            for name, gamma in scores.gamma.items():
                levels_seen.setdefault(name, set()).update(gamma.tolist())
            checked += _assert_same(index, scores, left, right_rows, sql, explain_every=7)
    assert checked > 20_000
    # the sample exercises most levels (not a parity condition: a guard on coverage)
    n_levels = sum(len(v) for v in levels_seen.values())
    assert n_levels >= 60, levels_seen


def _assert_same_candidates(fast: list, slow: list) -> None:
    """Same ranked candidates, weights (1e-9) and explanations from both scorers."""
    assert [(c.record_id, c.rank, c.record_type) for c in fast] == [
        (c.record_id, c.rank, c.record_type) for c in slow
    ]
    for a, b in zip(fast, slow, strict=True):
        assert math.isclose(a.match_weight, b.match_weight, abs_tol=1e-9)
        assert math.isclose(a.match_probability, b.match_probability, abs_tol=1e-9)
        assert len(a.explanation) == len(b.explanation)
        for x, y in zip(a.explanation, b.explanation, strict=True):
            assert (x.comparison, x.level, x.gamma) == (y.comparison, y.level, y.gamma)
            assert (x.values_l, x.values_r) == (y.values_l, y.values_r)
            assert math.isclose(x.match_weight, y.match_weight, abs_tol=1e-9)
            assert math.isclose(x.tf_adjustment, y.tf_adjustment, abs_tol=1e-9)


def test_match_record_same_candidates_and_explanations(
    index: MatchIndex, sample: pd.DataFrame
) -> None:
    """The public path: same ranked candidates, weights and explanations either way."""
    for record in sample.sample(12, random_state=5).to_dict("records"):
        fast = match_record(record, index, top_k=15, scorer="python")
        slow = match_record(record, index, top_k=15, scorer="sql")
        assert fast
        _assert_same_candidates(fast, slow)


# -- hypothesis: arbitrary records through prepare ---------------------------------------

#: Small pools so generated records agree with each other often (levels get exercised),
#: mixed with arbitrary Unicode text.
_NAMES = ["Amina", "Amine", "Mohamed", "Muhammad", "محمد", "Олександр", "Aleksandr", "Hiwot"]
_NAMES += ["Tesfaye", "KAMBALE", "Sarah", "Abdi", "Cabdi", "Xuseen", "Hassan", "José", "李"]
_PLACES = ["Zalingei", "Adré", "camp 3", "Goma", "Kharkiv", "Dadaab"]
_DATES = st.dates(
    min_value=pd.Timestamp("1990-01-01").date(), max_value=pd.Timestamp("2030-12-31").date()
)
_TEXT = st.text(max_size=25)


def _name() -> st.SearchStrategy[str]:
    pooled = st.lists(st.sampled_from(_NAMES), min_size=1, max_size=4).map(" ".join)
    return st.one_of(pooled, _TEXT, st.just(""))


def _date() -> st.SearchStrategy[str]:
    return st.one_of(
        _DATES.map(lambda d: d.isoformat()),
        _DATES.map(lambda d: f"{d.year:04d}"),
        _DATES.map(lambda d: f"{d.year:04d}-{d.month:02d}"),
        _DATES.map(lambda d: f"{d.day}/{d.month}/{d.year}"),
        st.sampled_from(["2015-03-04", "2015-04-03", "2015-03-05", "2015-01-01"]),
        st.just(""),
        _TEXT,
    )


@st.composite
def _records(draw: Any) -> list[dict[str, Any]]:
    n = draw(st.integers(min_value=2, max_value=9))
    out = []
    for i in range(n):
        record = {c: "" for c in RECORD_COLUMNS}
        record.update(
            record_id=f"h{i}",
            record_type=draw(st.sampled_from(["case", "tracing_request"])),
            agency=draw(st.sampled_from(["A", "B"])),
            name=draw(_name()),
            name_first=draw(st.one_of(st.just(""), st.sampled_from(_NAMES), _TEXT)),
            name_other=draw(st.one_of(st.just(""), _name())),
            sex=draw(st.sampled_from(["", "m", "f", "male", "female", "x"])),
            date_of_birth=draw(_date()),
            age=draw(st.sampled_from(["", "3", "7", "12", "15", "nan"])),
            estimated=draw(st.sampled_from(["", "true", "false"])),
            registration_date=draw(_date()),
            date_of_separation=draw(_DATES.map(lambda d: d.isoformat()) | st.just("")),
            mother_name=draw(_name()),
            father_name=draw(_name()),
            caregiver_name=draw(st.one_of(st.just(""), _name())),
            inquirer_name=draw(st.one_of(st.just(""), _name())),
            inquirer_relation=draw(st.sampled_from(["", "mother", "father", "aunt", "brother"])),
            location_origin=draw(st.one_of(st.sampled_from(_PLACES), _TEXT)),
            location_current=draw(st.one_of(st.sampled_from(_PLACES), st.just(""))),
            telephone=draw(st.sampled_from(["", "+256 772 123456", "0772123456", "12"])),
            unhcr_individual_no=draw(st.sampled_from(["", "123-45", "12345", "999"])),
            nationality=draw(st.sampled_from(["", "Somali", "SOM", "Sudanese", "Stateless"])),
        )
        out.append({k: v for k, v in record.items() if k in RECORD_COLUMNS})
    return out


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(records=_records())
def test_arbitrary_records_through_prepare_score_identically(
    index: MatchIndex, records: list[dict[str, Any]]
) -> None:
    prepared = [prepare_row(r) for r in records]
    right = pa.Table.from_pylist(
        [{c: p.get(c) for c in index._arrow.column_names} for p in prepared],
        schema=index._arrow.schema,
    )
    assert index._in_process is not None
    scorer = InProcessScorer(
        index.model.settings_for("duckdb"), StoredColumns(right), tf_tables=index._in_process.tf
    )
    assert _score_all(index, prepared, right, scorer) == len(records) ** 2


# -- hypothesis: prepared rows drawn directly --------------------------------------------

_TOKENS = [
    "amina",
    "amine",
    "aminata",
    "abcdefghij",
    "abcdefghkl",
    "abcdé",
    "abcde",
    "é",
    "e",
    "李",
    "x",
]
_TOKEN = st.one_of(st.sampled_from(_TOKENS), st.text(min_size=1, max_size=6))
_LIST = st.one_of(
    st.lists(_TOKEN, max_size=4),
    st.none(),
    st.lists(st.one_of(_TOKEN, st.none()), max_size=3),
)
_SCALAR = st.one_of(st.none(), st.sampled_from(_TOKENS))
_ISO = _DATES.map(lambda d: d.isoformat())


@st.composite
def _prepared_rows(draw: Any, schema: pa.Schema) -> list[dict[str, Any]]:
    n = draw(st.integers(min_value=2, max_value=8))
    out = []
    for i in range(n):
        row: dict[str, Any] = {}
        for field in schema:
            if pa.types.is_list(field.type):
                row[field.name] = draw(_LIST)
            elif pa.types.is_boolean(field.type):
                row[field.name] = draw(st.booleans())
            elif pa.types.is_string(field.type):
                row[field.name] = draw(_SCALAR)
        lo = draw(st.one_of(st.none(), st.integers(2005, 2020)))
        row["by_lo"] = lo
        row["by_hi"] = None if lo is None else lo + draw(st.integers(0, 4))
        dob = draw(st.one_of(st.none(), _ISO, st.sampled_from(["2015-03-04", "2015-04-03"])))
        row["dob"], row["dob_ym"] = dob, dob[:7] if dob else None
        row["sep_date"] = draw(st.one_of(st.none(), _ISO))
        row["record_id"] = f"p{i}"
        out.append(row)
    return out


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_prepared_rows_drawn_directly_score_identically(index: MatchIndex, data: Any) -> None:
    schema = index._arrow.schema
    rows = data.draw(_prepared_rows(schema))
    right = pa.Table.from_pylist(rows, schema=schema)
    assert index._in_process is not None
    scorer = InProcessScorer(
        index.model.settings_for("duckdb"), StoredColumns(right), tf_tables=index._in_process.tf
    )
    assert _score_all(index, right.to_pylist(), right, scorer) == len(rows) ** 2


#: Hand-picked boundaries: edit similarity exactly 0.8 (amina/amine, 10 letters 2
#: edits), DuckDB's byte-counted levenshtein against code-point lengths (abcdé/abcde:
#: 0.6, not 0.8), repeated and NULL elements, NULL vs empty lists, transposed and
#: one-typo dates, separation 7/45/365 days apart, birth-year gaps of 1 and 3.
_EDGE_TOKENS = [
    ["amina"],
    ["amine"],
    ["abcdé"],
    ["abcde"],
    ["abcdefghij"],
    ["abcdefghkl", "amina"],
    ["amina", "amina"],
    [None, "amine"],
    [],
    None,
]
_EDGE_DOB = ["2015-03-04", "2015-04-03", "2015-03-05", "2015-03-04", None]
_EDGE_SEP = ["2024-01-01", "2024-01-08", "2024-02-15", "2024-12-31", None]
_EDGE_YEARS = [(2010, 2010), (2011, 2012), (2013, 2013), (2007, 2009), (None, None)]


def _edge_rows(schema: pa.Schema) -> list[dict[str, Any]]:
    rows = []
    for i, tokens in enumerate(_EDGE_TOKENS):
        row: dict[str, Any] = {f.name: None for f in schema}
        row["record_id"] = f"e{i}"
        for column in ("given", "rest_tokens", "name_all", "lineage", "place_tokens"):
            row[column] = tokens
        for column in ("mother_tokens", "father_tokens", "relatives_tokens", "caregiver_tokens"):
            row[column] = _EDGE_TOKENS[(i + 3) % len(_EDGE_TOKENS)]
        for column in ("given_keys", "rest_keys", "mother_keys", "father_keys", "place_keys"):
            row[column] = _EDGE_TOKENS[(i + 1) % len(_EDGE_TOKENS)]
        row["given_first"] = (tokens or [None])[0]
        row["father_given"] = ("amina", "amine", None)[i % 3]
        row["dob"] = _EDGE_DOB[i % len(_EDGE_DOB)]
        row["dob_ym"] = row["dob"][:7] if row["dob"] else None
        row["sep_date"] = _EDGE_SEP[i % len(_EDGE_SEP)]
        row["by_lo"], row["by_hi"] = _EDGE_YEARS[i % len(_EDGE_YEARS)]
        row["consent"] = True
        rows.append(row)
    return rows


def test_edge_cases_score_identically(index: MatchIndex) -> None:
    rows = _edge_rows(index._arrow.schema)
    right = pa.Table.from_pylist(rows, schema=index._arrow.schema)
    assert index._in_process is not None
    scorer = InProcessScorer(
        index.model.settings_for("duckdb"), StoredColumns(right), tf_tables=index._in_process.tf
    )
    assert _score_all(index, right.to_pylist(), right, scorer) == len(rows) ** 2
    # the boundaries are reached: 0.8 similarity is "close", abcdé/abcde is not
    scores = scorer.score(right.to_pylist()[0], np.arange(len(rows)))  # ["amina"]
    close = 3  # "given names spelled closely"
    assert scores.gamma["given_name"][1] == close  # amine
    scores = scorer.score(right.to_pylist()[2], np.arange(len(rows)))  # ["abcdé"]
    assert scores.gamma["given_name"][3] != close  # abcde: 2 bytes apart in 5 letters


def test_a_changed_level_is_caught(index: MatchIndex) -> None:
    """The parity check is not vacuous: a predicate that differs from its SQL fails it."""
    assert index._in_process is not None
    broken = copy.copy(index._in_process)
    comparisons = list(broken.comparisons)
    sex = next(i for i, c in enumerate(comparisons) if c.name == "sex")
    same = comparisons[sex].levels[1]
    wrong = type(same)(**{**same.__dict__, "predicate": lambda v: ~v.eq("sex_l", "sex_r")})
    comparisons[sex] = type(comparisons[sex])(
        "sex", (comparisons[sex].levels[0], wrong, *comparisons[sex].levels[2:])
    )
    broken.comparisons = tuple(comparisons)
    prepared = index._arrow.slice(0, 1).to_pylist()[0]
    rows = np.arange(60)
    right = index._arrow.take(pa.array(rows))
    left_table = pa.Table.from_pylist(
        [{c: prepared.get(c) for c in right.column_names}], schema=right.schema
    )
    sql = _sql_rows(index, left_table, right)
    left = left_table.to_pylist()[0]
    with pytest.raises(AssertionError):
        _assert_same(index, broken.score(left, rows), left, right.to_pylist(), sql)


def test_model_with_unknown_comparison_is_refused(index: MatchIndex) -> None:
    """A comparison kinlink does not define cannot be scored in-process: say so."""
    settings = copy.deepcopy(index.model.settings_for("duckdb"))
    settings["comparisons"][0]["comparison_levels"][1]["label_for_charts"] = "something else"
    assert index._in_process is not None
    with pytest.raises(ValueError, match="scorer='sql'"):
        InProcessScorer(settings, index._in_process.stored)


def test_tf_tables_match_splinks(index: MatchIndex) -> None:
    """The in-process term frequencies are the ones Splink computed for the SQL."""
    assert index._in_process is not None
    for column, table in index._in_process.tf.items():
        frame = index.linker.table_management.compute_tf_table(column).as_pandas_dataframe()
        theirs = dict(zip(frame[column], frame[f"tf_{column}"], strict=True))
        assert theirs == dict(table)


def test_febrl_shaped_records_score_identically(febrl4_small: pd.DataFrame) -> None:
    """Columns no stored record fills (FEBRL has no sex, relatives, places as kinlink's)."""
    cases = febrl4_small[febrl4_small.record_type == "case"]
    idx = MatchIndex(cases, _random_model(11))
    requests = febrl4_small[febrl4_small.record_type == "tracing_request"]
    for record in requests.head(8).to_dict("records"):
        fast = match_record(record, idx, top_k=10, scorer="python")
        slow = match_record(record, idx, top_k=10, scorer="sql")
        assert fast
        _assert_same_candidates(fast, slow)


def test_fields_no_stored_record_fills(sample: pd.DataFrame) -> None:
    """A store where nobody recorded sex, IDs or phones yet, and a query with all three:
    both scorers answer (they used to fail on the NULL-typed column) and agree."""
    cases = sample[sample.record_type == "case"].copy()
    for column in ("sex", "unhcr_individual_no", "icrc_ref_no", "national_id_no"):
        cases[column] = ""
    cases["telephone"] = cases["inquirer_telephone"] = ""
    idx = MatchIndex(cases, _random_model(5))
    assert pa.types.is_list(idx._arrow.schema.field("ids").type)
    assert idx._arrow.schema.field("sex").type == pa.string()
    request = sample[sample.record_type == "tracing_request"].iloc[0].to_dict()
    request.update(sex="male", unhcr_individual_no="123-45", telephone="0772123456")
    fast = match_record(request, idx, scorer="python")
    assert fast
    _assert_same_candidates(fast, match_record(request, idx, scorer="sql"))
