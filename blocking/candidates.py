"""Candidate-pair generation: one SQL pass over the prepared ``block_keys`` column.

The SQL explodes each record's keys, drops keys carried by more than the block-size
cap, self-joins on the key and keeps each pair once (attributed to the first rule, in
rule order, that produced it). It runs unchanged on any backend the
:class:`~kinlink.matching.engine.Engine` supports; only the explode differs.

Which pairs are wanted depends on the job (``link_type``):

* ``"link"``: tracing request (left) to case (right);
* ``"dedupe"``: case to case (same child registered twice, across or within agencies);
* ``"all"``: every pair of records.

Consent rule: a record with ``consent_for_tracing=false`` is never paired with a
record of *another* agency; pairs within its own agency are still proposed (the agency
already holds both records).
"""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd

from kinlink.blocking.rules import MAX_BLOCK_SIZE, RULES_BY_CODE

LinkType = Literal["link", "dedupe", "all", "sweep"]

#: The prepared columns candidate generation reads.
BLOCKING_COLUMNS = ("record_id", "record_type", "agency", "consent", "block_keys")


#: Splink's link-type names, accepted as aliases (the evaluation harness uses them).
LINK_TYPE_ALIASES = {"link_only": "link", "dedupe_only": "dedupe", "link_and_dedupe": "all"}


def _type_condition(link_type: str) -> str:
    link_type = LINK_TYPE_ALIASES.get(link_type, link_type)
    if link_type == "link":
        return "l.record_type = 'tracing_request' and r.record_type = 'case'"
    if link_type == "dedupe":
        return "l.record_type = 'case' and r.record_type = 'case' and l.record_id < r.record_id"
    if link_type == "all":
        return "l.record_id < r.record_id"
    raise ValueError(f"unknown link_type {link_type!r}")


CONSENT_CONDITION = "(l.consent and r.consent) or coalesce(l.agency, '') = coalesce(r.agency, '')"


def candidate_pairs_sql(
    engine: Any,
    prepared_table: str,
    link_type: LinkType | str,
    max_block_size: int = MAX_BLOCK_SIZE,
    rule_codes: str | None = None,
    honour_consent: bool = True,
) -> str:
    """SQL selecting ``record_id_l, record_id_r, rule`` from a prepared table.

    ``honour_consent=False`` exists only to *measure* blocking on its own (pair
    completeness); every proposal path keeps the consent rule on. One SQL statement
    for small tables; :class:`PartitionedCandidates` produces the same pairs in parts.
    """
    consent = CONSENT_CONDITION if honour_consent else "true"
    rule_filter = ""
    if rule_codes is not None:
        codes = ", ".join(f"'{c}'" for c in rule_codes)
        rule_filter = f"where substr(bkey, 1, 1) in ({codes})"
    return f"""
    with k as (
        select record_id, record_type, agency, consent, {engine.explode("block_keys", "bkey")}
        from {prepared_table}
    ),
    kf as (select * from k {rule_filter}),
    sizes as (
        select bkey from kf group by bkey
        having count(*) >= 2 and count(*) <= {int(max_block_size)}
    ),
    kk as (select kf.* from kf inner join sizes on kf.bkey = sizes.bkey)
    select l.record_id as record_id_l, r.record_id as record_id_r,
           min(substr(l.bkey, 1, 1)) as rule
    from kk as l inner join kk as r on l.bkey = r.bkey
    where l.record_id <> r.record_id
      and ({_type_condition(link_type)})
      and ({consent})
    group by l.record_id, r.record_id
    """


#: Rows of the key self-join (before pairs sharing several keys are merged) that one
#: part of a partitioned candidate run may produce. Bounds the memory of the join and
#: of the scoring of one part. Pairs share many keys (15 on average at a million
#: records, 35 at 100,000), so a part is some 5-10 million candidate pairs; each part
#: re-scans the keys table, so parts should not be much smaller.
JOIN_ROWS_PER_PART = 150_000_000


def _numbered_type_condition(link_type: str) -> str:
    """:func:`_type_condition` over the numbered keys (``rid`` follows ``record_id``)."""
    link_type = LINK_TYPE_ALIASES.get(link_type, link_type)
    if link_type == "link":
        return "not l.is_case and r.is_case"
    if link_type == "dedupe":
        return "l.is_case and r.is_case and l.rid < r.rid"
    if link_type == "all":
        return "l.rid < r.rid"
    if link_type == "sweep":
        # New records (left) against all, never request-request; a pair of two new
        # records once, from the smaller number's side.
        return "l.is_new and (not r.is_new or l.rid < r.rid) and (l.is_case or r.is_case)"
    raise ValueError(f"unknown link_type {link_type!r}")


class PartitionedCandidates:
    """The candidate pairs of :func:`candidate_pairs_sql`, produced in parts.

    At a million records the key self-join is billions of rows and the pairs hundreds
    of millions: one statement holding them all does not fit in memory (measured: out
    of memory at 24 GB). Here the exploded, capped keys are materialised once, lean
    (a record number, a 64-bit hash of the key, the rule's letter code, the record's
    type, agency number and consent), and the self-join runs once per part: part
    ``p`` holds the pairs whose left record's number is ``p`` modulo the number of
    parts. Each pair has one left record, so the parts are disjoint and together
    they are exactly the single statement's pairs (the same orientation: records are
    numbered in ``record_id`` order, so ``l.rid < r.rid`` is ``l.record_id <
    r.record_id``), and a tracing request's candidates all fall in one part.

    Keys are joined on a 64-bit hash: two different keys colliding (odds of about one
    in 10^5 for 30 million distinct keys) would only merge two blocks.

    ``link_type="sweep"`` with ``new_table`` (a table of ``record_id``) is the nightly
    sweep's job: the new records against every record, both directions, never a
    tracing request with a tracing request; block sizes are counted over all records,
    but only keys some new record carries are kept. Its pairs are oriented as the
    engine orients them: the tracing request on the left of a link, the smaller
    ``record_id`` on the left of a duplicate.
    """

    def __init__(
        self,
        engine: Any,
        prepared_table: str,
        link_type: LinkType | str,
        max_block_size: int = MAX_BLOCK_SIZE,
        *,
        honour_consent: bool = True,
        join_rows_per_part: int = JOIN_ROWS_PER_PART,
        new_table: str | None = None,
    ) -> None:
        if (link_type == "sweep") != (new_table is not None):
            raise ValueError("the sweep job, and only it, needs the table of new records")
        self.engine = engine
        self.link_type = link_type
        self.consent = (
            "(l.consent and r.consent) or l.agency_no = r.agency_no" if honour_consent else "true"
        )
        self._tables: list[Any] = []
        explode = engine.explode("p.block_keys", "bkey")
        self.nodes = self._keep(
            engine.materialise(
                f"""
                select row_number() over (order by record_id) as rid, record_id,
                       coalesce(record_type, 'case') = 'case' as is_case,
                       dense_rank() over (order by coalesce(agency, '')) as agency_no,
                       consent, {
                    "record_id in (select record_id from " + new_table + ")"
                    if new_table
                    else "false"
                } as is_new
                from {prepared_table}
                """
            )
        )
        nodes = self.nodes.physical_name
        # The sweep keeps only the keys some new record carries, and does so before
        # counting: at a million stored records the store's 180 million key rows then
        # stream through a semi-join instead of being grouped and held.
        new_keys = only_new = ""
        if new_table:
            # an inner join with the (distinct) new keys rather than ``in (select ...)``:
            # the same rows; DuckDB ran the IN form as a slower mark join
            only_new = "inner join nk on kk.kh = nk.kh"
            new_keys = f"""
                nk as (
                    select distinct {engine.hash_expr("bkey")} as kh from (
                        select {explode} from {prepared_table} as p
                        where p.record_id in (select record_id from {new_table})
                    )
                ),
                """
        keys = self._keep(
            engine.materialise(
                f"""
                with {new_keys} k as (
                    select n.rid, n.is_case, n.agency_no, n.consent, n.is_new, {explode}
                    from {prepared_table} as p inner join {nodes} as n
                      on p.record_id = n.record_id
                ),
                kk as (
                    select rid, is_case, agency_no, consent, is_new,
                           {engine.hash_expr("bkey")} as kh, ascii(bkey) as rule
                    from k
                ),
                h as (
                    select kk.rid, kk.is_case, kk.agency_no, kk.consent, kk.is_new, kk.kh,
                           kk.rule
                    from kk {only_new}
                ),
                sizes as (
                    select kh, count(*) as n from h group by kh
                    having count(*) >= 2 and count(*) <= {int(max_block_size)}
                )
                select h.*, sizes.n from h inner join sizes on h.kh = sizes.kh
                """
            )
        )
        self.keys = keys.physical_name
        rows = engine.query(f"select sum(n) as rows, count(*) as keys from {self.keys}")
        #: An upper bound of the self-join's rows (every record of a block with every other).
        self.join_rows = int(rows["rows"][0] or 0)
        self.parts = max(1, -(-self.join_rows // max(int(join_rows_per_part), 1)))

    def _keep(self, table: Any) -> Any:
        self._tables.append(table)
        return table

    def _pairs_cte(self, part: int) -> str:
        which = "true" if self.parts == 1 else f"l.rid % {self.parts} = {int(part)}"
        return f"""
        with pp as (
            select l.rid as rid_l, r.rid as rid_r, min(l.rule) as rule
            from {self.keys} as l inner join {self.keys} as r on l.kh = r.kh
            where {which}
              and l.rid <> r.rid
              and ({_numbered_type_condition(self.link_type)})
              and ({self.consent})
            group by l.rid, r.rid
        )"""

    def part_numbers_sql(self, part: int) -> str:
        """SQL selecting one part's pairs as record numbers, ``rid_l, rid_r``: the pairs
        of :meth:`part_sql` in the same orientation (not for the sweep's job, whose
        orientation is decided on the record ids), without the strings. Record numbers
        are :attr:`nodes`' ``rid``."""
        if self.link_type == "sweep":
            raise ValueError("part_numbers_sql is for the link, dedupe and all jobs")
        return f"{self._pairs_cte(part)} select rid_l, rid_r from pp"

    def part_sql(self, part: int) -> str:
        """SQL selecting ``record_id_l, record_id_r, rule`` of one part."""
        return f"""{self._pairs_cte(part)}
        select {self._oriented("nl", "nr")}, chr(pp.rule) as rule
        from pp
        inner join {self.nodes.physical_name} as nl on nl.rid = pp.rid_l
        inner join {self.nodes.physical_name} as nr on nr.rid = pp.rid_r
        """

    def _oriented(self, a: str, b: str) -> str:
        if self.link_type != "sweep":
            return f"{a}.record_id as record_id_l, {b}.record_id as record_id_r"
        swap = (
            f"(({a}.is_case and not {b}.is_case)"
            f" or ({a}.is_case = {b}.is_case and {a}.rid > {b}.rid))"
        )
        return (
            f"case when {swap} then {b}.record_id else {a}.record_id end as record_id_l, "
            f"case when {swap} then {a}.record_id else {b}.record_id end as record_id_r"
        )

    def part(self, part: int) -> Any:
        """One part's pairs, materialised on the backend (drop it when done)."""
        return self.engine.materialise(self.part_sql(part))

    def close(self) -> None:
        """Drop the tables this object materialised."""
        for table in self._tables:
            table.drop_table_from_database_and_remove_from_cache(force_non_splink_table=True)
        self._tables.clear()


def rule_names(codes: pd.Series) -> pd.Series:
    """Rule codes (``a``, ``b``...) to rule names, for reports."""
    return codes.map(lambda c: RULES_BY_CODE[c].name if c in RULES_BY_CODE else c)


def candidate_pairs(
    frame: pd.DataFrame,
    link_type: LinkType | str = "all",
    *,
    max_block_size: int = MAX_BLOCK_SIZE,
    rule_codes: str | None = None,
    prepared: pd.DataFrame | None = None,
    engine: Any = None,
    honour_consent: bool = True,
) -> pd.DataFrame:
    """Candidate pairs after blocking, as ``record_id_l, record_id_r, rule``.

    The evaluation harness measures pair completeness on this. ``frame`` is a frame of
    v1 records; pass ``prepared`` to reuse an already prepared table.
    """
    from kinlink.matching.engine import Engine
    from kinlink.matching.prepare import prepare_records

    engine = engine or Engine()
    if prepared is None:
        prepared = prepare_records(frame)
    table = engine.register(prepared[list(BLOCKING_COLUMNS)], "kinlink_keys")
    try:
        sql = candidate_pairs_sql(
            engine, table.physical_name, link_type, max_block_size, rule_codes, honour_consent
        )
        pairs = engine.query(sql)
    finally:
        table.drop_table_from_database_and_remove_from_cache(force_non_splink_table=True)
    pairs["rule"] = rule_names(pairs["rule"])
    return pairs[["record_id_l", "record_id_r", "rule"]]
