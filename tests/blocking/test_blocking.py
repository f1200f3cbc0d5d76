import pandas as pd

from kinlink.blocking import MAX_BLOCK_SIZE, block_keys, candidate_pairs
from kinlink.ingest.columns import RECORD_COLUMNS
from kinlink.matching.prepare import prepare_row


def _frame(rows):
    df = pd.DataFrame(rows)
    for c in RECORD_COLUMNS:
        if c not in df:
            df[c] = None
    return df[list(RECORD_COLUMNS)]


BASE = {"name": "Amina Yusuf Hassan", "date_of_birth": "2014-02-03", "sex": "female"}


def test_keys_are_prefixed_and_deterministic():
    row = prepare_row({"record_id": "1", **BASE})
    row["name_rare"] = row["name_all"]
    keys = block_keys(row)
    assert keys == block_keys(row)
    assert all(k[1] == ":" for k in keys)


def test_link_pairs_only_request_to_case_and_consent():
    df = _frame(
        [
            {"record_id": "c1", "record_type": "case", "agency": "A", **BASE},
            {"record_id": "c2", "record_type": "case", "agency": "B", **BASE},
            {
                "record_id": "c3",
                "record_type": "case",
                "agency": "C",
                **BASE,
                "consent_for_tracing": "false",
            },
            {"record_id": "t1", "record_type": "tracing_request", "agency": "A", **BASE},
        ]
    )
    link = candidate_pairs(df, "link")
    assert set(link.record_id_l) == {"t1"}
    assert set(link.record_id_r) == {"c1", "c2"}  # c3 refused tracing across agencies
    dedupe = candidate_pairs(df, "dedupe_only")  # Splink's name accepted too
    assert {tuple(x) for x in dedupe[["record_id_l", "record_id_r"]].values} == {("c1", "c2")}


def test_block_size_cap_drops_huge_blocks():
    rows = [
        {
            "record_id": f"c{i}",
            "record_type": "case",
            "name": "Mohamed",
            "agency": "A",
            "date_of_birth": "2015",
        }
        for i in range(30)
    ]
    df = _frame(rows)
    assert len(candidate_pairs(df, "dedupe", max_block_size=10)) == 0
    assert len(candidate_pairs(df, "dedupe", max_block_size=MAX_BLOCK_SIZE)) == 30 * 29 // 2


def test_given_name_key_blocks_only_on_the_given_name():
    from kinlink.blocking.rules import RULES_BY_CODE
    from kinlink.matching.prepare import prepare_row

    child = prepare_row({"record_id": "a", "name": "Ali Hassan Abdi", "date_of_birth": "2015"})
    other = prepare_row({"record_id": "b", "name": "Omar Ali Farah", "date_of_birth": "2015"})
    b = RULES_BY_CODE["b"]
    # "ali" is the given name of one and the father's name of the other: no rule-b block
    assert not set(b.keys(child)) & set(b.keys(other))
    # the rescue rule (any name key x sex x birth) still meets them when sexes agree
    i = RULES_BY_CODE["i"]
    same_sex = {**other, "sex": None}
    assert set(i.keys({**child, "sex": None})) & set(i.keys(same_sex))
