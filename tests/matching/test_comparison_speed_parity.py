"""The fast comparison SQL gives the same levels as its plain formulation.

The comparisons avoid ``array_intersect`` on DuckDB (a linear scan is faster on short
arrays) and the family comparison reads one "family code" instead of three sums per
level. These tests score the committed synthetic sample's related pairs (those sharing
a blocking key, i.e. families and duplicates: where the levels are exercised) with
both formulations and require identical gamma vectors.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
from splink.internals.settings_creator import SettingsCreator

from kinlink.matching.comparisons import (
    FAMILY_LEVELS,
    SqlFunctions,
    _family_signals,
    build_comparisons,
    family_comparison,
)
from kinlink.matching.model import model_input
from kinlink.matching.prepare import prepare_records

SAMPLE = Path(__file__).parents[2] / "datasets" / "synthetic" / "sample" / "records.csv"


class PlainSqlFunctions(SqlFunctions):
    """The textbook spellings: set sizes from ``array_intersect``, overlap as size >= 1."""

    def common(self, a: str, b: str) -> str:
        return self.size(f"array_intersect({a}, {b})")

    def overlaps(self, a: str, b: str) -> str:
        return f"({self.common(a, b)} >= 1)"


def _case(comparison) -> str:
    settings = SettingsCreator(
        link_type="dedupe_only", unique_id_column_name="record_id", comparisons=[comparison]
    ).get_settings("duckdb")
    return settings.comparisons[0]._case_statement.rsplit(" as ", 1)[0]


@pytest.fixture(scope="module")
def pairs() -> duckdb.DuckDBPyConnection:
    """A connection with table ``j``: related pairs of the sample with ``_l``/``_r`` columns."""
    records = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    prepared = prepare_records(records)
    con = duckdb.connect()
    con.register("prepared_df", prepared)
    con.register("inputs_df", model_input(prepared))
    con.execute(
        """create table ids as
        with k as (select record_id, unnest(block_keys) as key from prepared_df),
        small as (select key from k group by key having count(*) <= 10)
        select distinct a.record_id as id_l, b.record_id as id_r
        from k a join k b using (key) join small using (key)
        where a.record_id < b.record_id"""
    )
    columns = list(model_input(prepared).columns)
    select = ", ".join(f'l."{c}" as "{c}_l", r."{c}" as "{c}_r"' for c in columns)
    con.execute(
        f"""create table j as select {select} from ids
        join inputs_df l on l.record_id = ids.id_l join inputs_df r on r.record_id = ids.id_r"""
    )
    # Edge cases the sample may lack: NULL and empty arrays, repeated tokens.
    con.execute(
        """insert into j (record_id_l, record_id_r, mother_tokens_l, mother_tokens_r,
                          place_tokens_l, place_tokens_r, phones_l, phones_r)
        values ('e1', 'e2', null, ['amina'], ['a', 'a', 'b'], ['a', 'b', 'b'], [], null),
               ('e3', 'e4', ['amina', 'amina'], ['amina'], ['a'], ['a', 'a'], ['1'], ['1'])"""
    )
    return con


def test_related_pairs_cover_every_family_level(pairs):
    gammas = pairs.execute(
        f"select distinct {_case(family_comparison(SqlFunctions('duckdb')))} from j"
    ).fetchall()
    assert {g for (g,) in gammas} == set(range(-1, len(FAMILY_LEVELS) + 1))


@pytest.mark.parametrize("comparison", [c._output_column_name for c in build_comparisons()])
def test_fast_sql_gives_the_plain_levels(pairs, comparison):
    fast = {c._output_column_name: c for c in build_comparisons("duckdb")}[comparison]
    plain_f = PlainSqlFunctions("duckdb")
    from kinlink.matching import comparisons as module

    builder = {
        c._output_column_name: c
        for c in [
            getattr(module, name)(plain_f)
            for name in dir(module)
            if name.endswith("_comparison") and name != "family_comparison"
        ]
    }
    plain = builder.get(comparison) or family_comparison(plain_f)
    differ = pairs.execute(
        f"select count(*), count(*) filter (where ({_case(fast)}) is distinct from "
        f"({_case(plain)})) from j"
    ).fetchone()
    assert differ[0] > 1000 and differ[1] == 0


def test_family_code_levels_equal_the_count_formulation(pairs):
    """The family levels as first written: three sums (strong, weak, differ) per level."""
    f = PlainSqlFunctions("duckdb")
    s, w, d = _family_signals(f)
    reference = [
        (f"{s} = 0 and {w} = 0 and {d} = 0", -1),
        (f"{s} >= 2 and {d} = 0", 7),
        (f"{s} = 1 and {w} >= 1 and {d} = 0", 6),
        (f"{s} = 1 and {d} = 0", 5),
        (f"{w} >= 2 and {d} = 0", 4),
        (f"{w} = 1 and {d} = 0", 3),
        (f"{s} + {w} > {d}", 2),
        (f"{s} + {w} >= 1", 1),
    ]
    case = "case " + " ".join(f"when {c} then {g}" for c, g in reference) + " else 0 end"
    fast = _case(family_comparison(SqlFunctions("duckdb")))
    n, differ = pairs.execute(
        f"select count(*), count(*) filter (where ({fast}) is distinct from ({case})) from j"
    ).fetchone()
    assert n > 1000 and differ == 0


def test_saved_model_scores_with_the_current_sql():
    """A model saved with older (equivalent) SQL is re-rendered on its own dialect."""
    from kinlink.matching.model import KinlinkModel, base_settings

    settings = base_settings("duckdb")
    stale = KinlinkModel(splink_settings=settings).to_json()
    family = next(
        c for c in stale["splink_settings"]["comparisons"] if c["output_column_name"] == "family"
    )
    current = family["comparison_levels"][1]["sql_condition"]
    family["comparison_levels"][1]["sql_condition"] = "1 = 1  /* an older rendering */"
    custom = {
        "output_column_name": "custom",
        "comparison_levels": [{"sql_condition": "ELSE", "label_for_charts": "all other"}],
    }
    stale["splink_settings"]["comparisons"].append(custom)
    rendered = KinlinkModel.from_json(stale).settings_for("duckdb")
    by_name = {c["output_column_name"]: c for c in rendered["comparisons"]}
    assert by_name["family"]["comparison_levels"][1]["sql_condition"] == current
    assert by_name["custom"] == custom  # not kinlink's: left as stored
    with pytest.raises(ValueError, match="custom"):
        KinlinkModel.from_json(stale).settings_for("spark")
