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

LinkType = Literal["link", "dedupe", "all"]

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
    completeness); every proposal path keeps the consent rule on.
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
