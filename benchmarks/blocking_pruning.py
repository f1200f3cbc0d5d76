"""Pruning candidate pairs before Splink scoring: how many pairs, what is lost.

    .venv/bin/python benchmarks/blocking_pruning.py --data /tmp/bp/s20k [--no-score]

``--data`` holds ``records.csv`` and ``truth.csv`` (``kinlink synth``). The candidate
pairs of both jobs (link: tracing request -> case; dedupe: case - case) are generated
once, as ``kinlink.blocking.candidates`` does (all records prepared together, cap 400,
no consent rule: blocking alone, like ``kinlink.blocking.completeness``), keeping per
pair the number of shared keys and, per rule, the smallest block it shares. Each
variant is then a filter on that table:

* idea 1, cheap first-pass filters over prepared columns (shared keys, given-name
  keys, birth-interval gap, sex);
* idea 2, an upper bound of the match weight: the exact weight (with term frequency)
  of a few comparisons plus the largest weight (with the largest term-frequency
  adjustment in the data) every other comparison can reach; a pair whose bound is below
  the weight of the job's output threshold cannot be written out;
* idea 3, per-rule block caps and dropping rules c/d.

Unless ``--no-score``, both jobs' candidates are scored with the real models (trained
as ``link_records`` / ``dedupe_records`` train them: default m, prior and u from the
data; the dedupe model on the cases): dedupe pairs with p >= 0.01 (what ``kinlink
dedupe`` writes), link pairs with p >= 1e-7 and each request's top 50 (what ``kinlink
link`` writes). The bounds are checked against the scores (``bound violations`` must be
0). ``--time-pruned b4`` also scores only the pairs bound ``b4`` keeps, timed, and
counts the output pairs that differ from the unpruned run (must be 0).

Approximations: the dedupe scoring table holds the cases only (as in
``dedupe_records``) but candidates come from the table of all records (as the
completeness figures do). "pairs/record" counts both jobs' pairs over all records.
"""

from __future__ import annotations

import argparse
import math
import resource
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

RULES = "abcdefghij"
#: Comparisons whose weight the bound evaluates exactly, per bound variant; the rest
#: count with their largest possible weight.
TOP_LINKS = 50


def _log(msg: str, t0: float) -> None:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(f"[{time.time() - t0:7.1f}s rss {rss:4.1f}GB] {msg}", flush=True)


def run(con: Any, sql: str, params: list[Any] | None = None) -> list[tuple]:
    """Execute and fetch everything (the connection refuses new work until then)."""
    return con.execute(sql, params).fetchall()


def logit2(p: float) -> float:
    return math.log2(p / (1.0 - p))


@dataclass
class Level:
    sql: str
    weight: float
    tf_column: str | None
    tf_weight: float
    log2_u: float
    min_u: float
    is_null: bool
    is_else: bool


def model_levels(model: Any) -> tuple[float, dict[str, list[Level]]]:
    """Prior weight and, per comparison, its levels (SQL, weight, tf) from Splink."""
    from splink.internals.misc import prob_to_match_weight
    from splink.internals.settings_creator import SettingsCreator

    settings = SettingsCreator.from_path_or_dict(dict(model.settings_for("duckdb"))).get_settings(
        "duckdb"
    )
    prior = prob_to_match_weight(settings._probability_two_random_records_match)
    out: dict[str, list[Level]] = {}
    for comparison in settings.comparisons:
        levels = comparison.comparison_levels
        rows = []
        for lv in levels:
            tf = (
                lv._has_tf_adjustments
                and lv._tf_adjustment_weight != 0
                and not lv._is_else_level
                and not lv._is_null_level
            )
            rows.append(
                Level(
                    sql=lv.sql_condition,
                    weight=0.0 if lv._is_null_level else lv._match_weight,
                    tf_column=lv._tf_adjustment_input_column_name if tf else None,
                    tf_weight=lv._tf_adjustment_weight if tf else 0.0,
                    log2_u=math.log2(lv._u_probability_corresponding_to_exact_match(levels))
                    if tf
                    else 0.0,
                    min_u=lv._tf_minimum_u_value if tf else 0.0,
                    is_null=lv._is_null_level,
                    is_else=lv._is_else_level,
                )
            )
        out[comparison.output_column_name] = rows
    return prior, out


def tf_tables(con: Any, table: str, columns: set[str]) -> dict[str, tuple[str, float]]:
    """Per tf column: a DuckDB table of value -> frequency (as Splink counts it) and
    the smallest frequency in the data."""
    out = {}
    for column in sorted(columns):
        name = f"{table}_tf_{column}"
        run(
            con,
            f"create or replace table {name} as select {column} as v, "
            f"count(*) / (select count({column}) from {table}) as tf "
            f"from {table} where {column} is not null group by {column}",
        )
        out[column] = (name, float(run(con, f"select min(tf) from {name}")[0][0]))
    return out


def _tf_adj(level: Level, tf_expr: str) -> str:
    floor = f"greatest({tf_expr}, {level.min_u!r})" if level.min_u > 0 else tf_expr
    return f"coalesce({level.tf_weight!r} * ({level.log2_u!r} - log2({floor})), 0)"


def max_weight(levels: list[Level], tfs: dict[str, tuple[str, float]]) -> float:
    """The largest weight a comparison can contribute (null level: 0)."""
    best = 0.0 if any(lv.is_null for lv in levels) else -math.inf
    for lv in levels:
        if lv.is_null:
            continue
        w = lv.weight
        if lv.tf_column:
            min_tf = max(tfs[lv.tf_column][1], lv.min_u)
            w += lv.tf_weight * (lv.log2_u - math.log2(min_tf))
        best = max(best, w)
    return best


def _expensive(level: Level) -> bool:
    """Levels the cheap bound does not evaluate: edit distances over token lists."""
    return "levenshtein" in level.sql and "list_" in level.sql


def comparison_bound(
    comp: str, levels: list[Level], tfs: dict[str, tuple[str, float]], cheap: bool
) -> tuple[str, list[str]]:
    """SQL for an upper bound of one comparison's weight (and the tf joins it needs).

    Levels are tested in order as Splink does; with ``cheap`` an expensive level is
    not tested: the bound there is the larger of its weight and the bound of the levels
    after it (either it holds, or evaluation goes on).
    """
    joins: list[str] = []
    tf_max: dict[int, float] = {}

    def value(i: int) -> str:
        lv = levels[i]
        if not lv.tf_column:
            return f"{lv.weight!r}"
        name, min_tf = tfs[lv.tf_column]
        alias = f"tf_{comp}"
        joins.append(f"left join {name} as {alias} on {alias}.v = x.{lv.tf_column}_l")
        tf_max[i] = lv.weight + lv.tf_weight * (lv.log2_u - math.log2(max(min_tf, lv.min_u)))
        return f"({lv.weight!r} + {_tf_adj(lv, f'{alias}.tf')})"

    def from_level(i: int) -> str:
        lv = levels[i]
        if lv.is_else:
            return value(i)
        if cheap and _expensive(lv):
            return f"greatest({value(i)}, {from_level(i + 1)})"
        return f"(case when {lv.sql} then {value(i)} else {from_level(i + 1)} end)"

    return from_level(0), joins


#: Bounds measured: per comparison evaluated, "exact" (every level) or "cheap" (no edit
#: distances over token lists); the others count with their largest possible weight.
BOUNDS: dict[str, dict[str, str]] = {
    "b1": dict.fromkeys(("given_name", "birth", "sex"), "exact"),
    "b2": dict.fromkeys(("given_name", "birth", "sex", "identifier"), "exact"),
    "b3": dict.fromkeys(("given_name", "birth", "sex", "identifier", "name"), "exact"),
    "b4": dict.fromkeys(("given_name", "birth", "sex", "identifier", "name", "place"), "exact"),
    "c4": dict.fromkeys(("given_name", "birth", "sex", "identifier", "name", "place"), "cheap"),
}


def bound_table(
    con: Any, job: str, pairs: str, input_table: str, model: Any, columns: list[str]
) -> tuple[str, dict[str, float]]:
    """Table ``bounds_<job>``: id_l, id_r and one bound per ``BOUNDS`` entry, each
    computed (and timed) on its own."""
    prior, comps = model_levels(model)
    tf_cols = {lv.tf_column for levels in comps.values() for lv in levels if lv.tf_column}
    tfs = tf_tables(con, input_table, tf_cols)
    maxes = {c: max_weight(levels, tfs) for c, levels in comps.items()}
    cols = ", ".join(f"l.{c} as {c}_l, r.{c} as {c}_r" for c in columns)
    for name, modes in BOUNDS.items():
        t = time.time()
        rest = prior + sum(w for c, w in maxes.items() if c not in modes)
        terms, joins = [], []
        for comp, mode in modes.items():
            sql, comp_joins = comparison_bound(comp, comps[comp], tfs, mode == "cheap")
            terms.append(sql)
            joins += list(dict.fromkeys(comp_joins))
        run(
            con,
            f"""create or replace table bounds_{job}_{name} as
            with x as (
                select p.id_l, p.id_r, {cols}
                from {pairs} as p
                join {input_table} as l on l.record_id = p.id_l
                join {input_table} as r on r.record_id = p.id_r
                where p.job = '{job}'
            )
            select x.id_l, x.id_r, {rest!r} + {" + ".join(terms)} as {name}
            from x {" ".join(joins)}""",
        )
        print(f"  {job} bound {name}: {time.time() - t:.1f}s", flush=True)
    first, *others = BOUNDS
    run(
        con,
        f"create or replace table bounds_{job} as select b_{first}.id_l, b_{first}.id_r, "
        + ", ".join(BOUNDS)
        + f" from bounds_{job}_{first} as b_{first} "
        + " ".join(
            f"join bounds_{job}_{b} as b_{b} on b_{b}.id_l = b_{first}.id_l "
            f"and b_{b}.id_r = b_{first}.id_r"
            for b in others
        ),
    )
    for name in BOUNDS:
        run(con, f"drop table bounds_{job}_{name}")
    return f"bounds_{job}", {"prior": prior, **maxes}


def candidate_table(con: Any, keys: str, cap: int) -> None:
    """``pairs``: both jobs' candidates with shared-key count and per-rule min block size."""
    run(
        con,
        f"""create or replace table kk as
        with kx as (select record_id, record_type, unnest(block_keys) as bkey from {keys}),
        ks as (select bkey, count(*) as n from kx group by bkey
               having count(*) >= 2 and count(*) <= {int(cap)})
        select kx.record_id, kx.record_type, kx.bkey, substr(kx.bkey, 1, 1) as rule, ks.n
        from kx join ks on kx.bkey = ks.bkey""",
    )
    per_rule = ", ".join(f"min(case when l.rule = '{c}' then l.n end) as s_{c}" for c in RULES)
    run(
        con,
        f"""create or replace table pairs as
        select l.record_id as id_l, r.record_id as id_r,
               case when l.record_type = 'case' then 'dedupe' else 'link' end as job,
               min(l.rule) as rule, count(*) as n_keys, {per_rule}
        from kk as l join kk as r on l.bkey = r.bkey
        where (l.record_type = 'tracing_request' and r.record_type = 'case')
           or (l.record_type = 'case' and r.record_type = 'case' and l.record_id < r.record_id)
        group by l.record_id, r.record_id, l.record_type""",
    )
    run(con, "drop table kk")


class _Named:
    def __init__(self, name: str) -> None:
        self.physical_name = name


def score_job(
    con: Any,
    engine: Any,
    prepared: pd.DataFrame,
    model: Any,
    job: str,
    threshold: float,
    bound: str | None = None,
) -> str:
    """Score the job's candidates with Splink; table ``scored_<job>`` (p >= threshold).

    With ``bound``, only the pairs whose bound reaches the threshold's weight, into
    ``scored_<job>_<bound>``.
    """
    from kinlink.matching.predict import Session

    session = Session.open(prepared, model, engine)
    out, source = f"scored_{job}", f"pairs where job = '{job}'"
    if bound:
        out = f"scored_{job}_{bound}"
        source = (
            f"pairs join bounds_{job} as b using (id_l, id_r) "
            f"where pairs.job = '{job}' and b.{bound} >= {logit2(threshold)!r}"
        )
    run(
        con,
        f"create or replace table cand_{job} as select id_l as record_id_l, "
        f"id_r as record_id_r, rule from {source}",
    )
    scored = session.score(_Named(f"cand_{job}"), threshold_match_probability=threshold)
    run(
        con,
        f"create or replace table {out} as select record_id_l as id_l, "
        f"record_id_r as id_r, match_weight as mw, match_probability as p "
        f"from {scored.physical_name}",
    )
    scored.drop_table_from_database_and_remove_from_cache()
    return out


def variants() -> list[tuple[str, str]]:
    """(name, SQL condition over the pair view) of every variant measured."""
    t01 = logit2(0.01)
    t7 = logit2(1e-7)
    out = [("all candidates (cap 400)", "true")]
    # idea 1: cheap filters
    for k in (2, 3, 5, 10):
        out.append((f"1: rule a or shared keys >= {k}", f"rule = 'a' or n_keys >= {k}"))
    for g in (0, 1, 2, 3):
        out.append(
            (
                f"1: rule a or (given key in common and birth gap <= {g})",
                f"rule = 'a' or (gk and gap <= {g})",
            )
        )
    out.append(("1: rule a or given key in common", "rule = 'a' or gk"))
    out.append(("1: rule a or birth gap <= 3", "rule = 'a' or coalesce(gap <= 3, true)"))
    out.append(
        (
            "1: rule a or ((given key or form in common or unknown) and birth gap <= 3 or unknown)",
            "rule = 'a' or ((gk or gv or g_unknown) and coalesce(gap <= 3, true))",
        )
    )
    out.append(
        (
            "1: rule a or given key/form in common/unknown or birth gap <= 1/unknown",
            "rule = 'a' or gk or gv or g_unknown or coalesce(gap <= 1, true)",
        )
    )
    # idea 2: weight upper bounds
    for name, modes in BOUNDS.items():
        label = "+".join(c.replace("given_name", "given") for c in modes)
        kind = "cheap " if "cheap" in modes.values() else ""
        out.append((f"2: {kind}bound({label}) >= w(p=0.01)", f"{name} >= {t01!r}"))
    for name in [b for b in ("b4", "c4") if b in BOUNDS]:
        out.append(
            (
                f"2: {name} >= w(p=0.01) dedupe, >= w(1e-7) link",
                f"(job = 'dedupe' and {name} >= {t01!r}) or (job = 'link' and {name} >= {t7!r})",
            )
        )

    # idea 3: rule caps
    def caps(cap: dict[str, int]) -> str:
        return " or ".join(f"s_{c} <= {cap.get(c, 400)}" for c in RULES if cap.get(c, 400) > 0)

    out.append(("3: drop rules c, d", caps({"c": 0, "d": 0})))
    out.append(("3: cap b, i at 200", caps({"b": 200, "i": 200})))
    out.append(("3: cap b, i at 100", caps({"b": 100, "i": 100})))
    out.append(
        ("3: drop c, d; cap b, i, j at 200", caps({"c": 0, "d": 0, "b": 200, "i": 200, "j": 200}))
    )
    out.append(("3: cap every rule at 200", caps(dict.fromkeys(RULES, 200))))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="folder with records.csv, truth.csv")
    parser.add_argument("--cap", type=int, default=400)
    parser.add_argument("--no-score", action="store_true", help="skip Splink scoring")
    parser.add_argument("--memory-limit", default="4GB")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--bounds", default=",".join(BOUNDS), help="which bounds to compute (idea 2)"
    )
    parser.add_argument(
        "--time-pruned", help="also score only the pairs this bound keeps (e.g. b4), timed"
    )
    parser.add_argument("--cache", help="parquet of the prepared records (made if missing)")
    args = parser.parse_args()
    t0 = time.time()
    for name in set(BOUNDS) - set(args.bounds.split(",")):
        del BOUNDS[name]

    from kinlink.blocking.completeness import true_pairs
    from kinlink.matching.default_model import m_source_for
    from kinlink.matching.engine import Engine
    from kinlink.matching.model import model_input, train_model
    from kinlink.matching.prepare import prepare_records

    data = Path(args.data)
    records = pd.read_csv(data / "records.csv", dtype=str, keep_default_na=False).replace("", None)
    truth = pd.read_csv(data / "truth.csv", dtype=str)
    if args.cache and Path(args.cache).exists():
        prepared = pd.read_parquet(args.cache)
    else:
        prepared = prepare_records(records)
        if args.cache:
            prepared.to_parquet(args.cache)
    n_req = int((prepared["record_type"] == "tracing_request").sum())
    n_case = int((prepared["record_type"] == "case").sum())
    _log(f"prepared {len(prepared)} records ({n_case} cases, {n_req} requests)", t0)

    engine = Engine(memory_limit=args.memory_limit, threads=args.threads)
    con = engine.db_api._con
    con.register("prep_df", prepared[["record_id", "record_type", "block_keys"]])
    run(con, "create table keys as select * from prep_df")
    con.unregister("prep_df")
    t = time.time()
    candidate_table(con, "keys", args.cap)
    run(con, "drop table keys")
    _log(f"candidate pairs: {time.time() - t:.1f}s", t0)

    feats = prepared[["record_id", "given", "given_keys", "by_lo", "by_hi", "sex"]]
    con.register("feat_df", feats)
    run(con, "create table feat as select * from feat_df")
    con.unregister("feat_df")
    rows = []
    for job in ("link", "dedupe"):
        for a, b in true_pairs(records, truth, job):
            rows.append((job, a, b))
    con.register("truth_df", pd.DataFrame(rows, columns=["job", "id_l", "id_r"]))
    run(con, "create table truth as select * from truth_df")
    con.unregister("truth_df")

    bound_sql = ", ".join(f"null as {b}" for b in BOUNDS)
    score_sql = "null as p, false as top"
    bound_join = score_join = ""
    if not args.no_score:
        mi_cols = [c for c in model_input(prepared).columns if c != "record_id"]
        cases = prepared[prepared["record_type"] == "case"].reset_index(drop=True)
        models = {}
        for job, frame in (("link", prepared), ("dedupe", cases)):
            t = time.time()
            models[job] = train_model(frame, engine=engine, m_from=m_source_for(frame, job))
            con.register("mi_df", model_input(frame))
            run(con, f"create or replace table mi_{job} as select * from mi_df")
            con.unregister("mi_df")
            _log(f"{job} model trained: {time.time() - t:.1f}s", t0)
            t = time.time()
            _, maxes = bound_table(con, job, "pairs", f"mi_{job}", models[job], mi_cols)
            n = run(con, "select count(*) from pairs where job = ?", [job])[0][0]
            _log(
                f"{job} bounds: {time.time() - t:.1f}s for {n} pairs; max weights "
                + ", ".join(f"{k} {v:.2f}" for k, v in maxes.items() if v),
                t0,
            )
            t = time.time()
            threshold = 1e-7 if job == "link" else 0.01
            score_job(con, engine, frame, models[job], job, threshold)
            _log(f"{job} scored: {time.time() - t:.1f}s ({n / (time.time() - t):.0f} pairs/s)", t0)
            if args.time_pruned:
                b = args.time_pruned
                t = time.time()
                score_job(con, engine, frame, models[job], job, threshold, bound=b)
                kept = run(con, f"select count(*) from cand_{job}")[0][0]
                diff = run(
                    con,
                    f"select count(*) from (select id_l, id_r, mw from scored_{job} "
                    f"except select id_l, id_r, mw from scored_{job}_{b})",
                )[0][0]
                _log(
                    f"{job} scored after the {b} prune (p >= {threshold}): {kept} pairs, "
                    f"{time.time() - t:.1f}s; output pairs missing vs unpruned: {diff}",
                    t0,
                )
        run(
            con,
            "create or replace table bounds as select * from bounds_link "
            "union all select * from bounds_dedupe",
        )
        run(
            con,
            f"""create or replace table scored as
            select id_l, id_r, p, rk <= {TOP_LINKS} as top from (
                select *, row_number() over (partition by id_l order by mw desc, id_r) as rk
                from scored_link)
            union all select id_l, id_r, p, false as top from scored_dedupe""",
        )
        bound_sql = ", ".join(f"bb.{b}" for b in BOUNDS)
        score_sql = "s.p, coalesce(s.top, false) as top"
        bound_join = "left join bounds as bb on bb.id_l = p.id_l and bb.id_r = p.id_r"
        score_join = "left join scored as s on s.id_l = p.id_l and s.id_r = p.id_r"
        for job in ("link", "dedupe"):
            for b in BOUNDS:
                v = run(
                    con,
                    f"select count(*), max(s.mw - bb.{b}) from scored_{job} as s "
                    f"join bounds_{job} as bb on bb.id_l = s.id_l and bb.id_r = s.id_r "
                    f"where s.mw > bb.{b} + 1e-6",
                )[0]
                print(f"bound violations {job} {b}: {v[0]} (max excess {v[1]})")

    t = time.time()
    run(
        con,
        f"""create or replace table v as
        select p.*, list_has_any(l.given_keys, r.given_keys) as gk,
               list_has_any(l.given, r.given) as gv,
               coalesce(len(l.given), 0) = 0 or coalesce(len(r.given), 0) = 0 as g_unknown,
               greatest(l.by_lo - r.by_hi, r.by_lo - l.by_hi, 0) as gap,
               {bound_sql}, {score_sql}, t.id_l is not null as is_true
        from pairs as p
        join feat as l on l.record_id = p.id_l
        join feat as r on r.record_id = p.id_r
        left join truth as t on t.id_l = p.id_l and t.id_r = p.id_r and t.job = p.job
        {bound_join} {score_join}""",
    )
    run(con, "drop table pairs")
    _log(f"pair view: {time.time() - t:.1f}s", t0)
    n_true = dict(run(con, "select job, count(*) from truth group by job"))
    base = {
        job: (p01, top)
        for job, p01, top in run(
            con,
            "select job, count(*) filter (p >= 0.01), count(*) filter (top) from v group by job",
        )
    }
    head = (
        "| variant | pairs | pairs/record | link pairs/request | dedupe pairs/case "
        "| completeness link | completeness dedupe | p>=0.01 kept link | p>=0.01 kept dedupe "
        "| link output kept |"
    )
    lines = [head, "|" + "---|" * 10]
    for name, cond in variants():
        if args.no_score and any(b in cond for b in BOUNDS):
            continue
        got = {
            job: (n, true, p01, top)
            for job, n, true, p01, top in run(
                con,
                f"select job, count(*), count(*) filter (is_true), count(*) filter (p >= 0.01), "
                f"count(*) filter (top) from v where {cond} group by job",
            )
        }
        link, dedupe = got.get("link", (0, 0, 0, 0)), got.get("dedupe", (0, 0, 0, 0))
        pairs = link[0] + dedupe[0]

        def share(x: int, total: int) -> str:
            return f"{x / total:.4f}" if total else "-"

        scored = not args.no_score
        lines.append(
            f"| {name} | {pairs:,} | {pairs / len(prepared):.1f} | {link[0] / n_req:.1f} "
            f"| {dedupe[0] / n_case:.1f} | {share(link[1], n_true['link'])} "
            f"| {share(dedupe[1], n_true['dedupe'])} "
            f"| {share(link[2], base['link'][0]) if scored else '-'} "
            f"| {share(dedupe[2], base['dedupe'][0]) if scored else '-'} "
            f"| {share(link[3], base['link'][1]) if scored else '-'} |"
        )
    if not args.no_score:
        print(
            f"p>=0.01 pairs among all candidates: link {base['link'][0]}, dedupe "
            f"{base['dedupe'][0]}; link output (top {TOP_LINKS}, p>=1e-7): {base['link'][1]}"
        )
    print(f"true pairs: link {n_true['link']}, dedupe {n_true['dedupe']}")
    print("\n".join(lines))
    _log("done", t0)


if __name__ == "__main__":
    main()
