from hypothesis import given, settings
from hypothesis import strategies as st

from kinlink.blocking.rules import block_keys
from kinlink.ingest.columns import RECORD_COLUMNS
from kinlink.matching.prepare import birth_interval, normalise_phone, parse_date, prepare_row


def test_parse_date_forms():
    assert parse_date("2015-03-04") == (2015, 3, 4)
    assert parse_date("2015-03") == (2015, 3, None)
    assert parse_date("2015") == (2015, None, None)
    assert parse_date("20150304") == (2015, 3, 4)  # FEBRL
    assert parse_date("not a date") is None


def test_birth_interval_exact_and_estimated():
    assert birth_interval("2015-03-04", None, None, None) == (2015, 2015)
    # age 7 at registration in 2023: born 2015 or 2016
    assert birth_interval(None, "7", "2023-05-01", "false") == (2015, 2016)
    lo, hi = birth_interval(None, "7", "2023-05-01", "true")
    assert lo < 2015 and hi > 2016  # an estimated age is a wider interval
    assert birth_interval(None, None, "2023-05-01", None) == (None, None)


def test_birth_interval_ignores_non_numbers_that_parse_as_floats():
    # float("nan") and float("inf") succeed; neither is an age (int(nan) used to raise).
    for text in ("nan", "NaN", "inf", "-inf", "1e999"):
        assert birth_interval(None, text, "2023-05-01", "true") == (None, None)


def test_phone_forms_agree():
    assert normalise_phone("+256 772 123456") == normalise_phone("0772123456")
    assert normalise_phone("00256772123456") == normalise_phone("0772 123 456")
    assert normalise_phone("12") is None


def test_inquirer_fills_relation_slot():
    row = prepare_row(
        {
            "record_id": "t1",
            "record_type": "tracing_request",
            "name": "Amina Hassan",
            "inquirer_name": "Fatuma Ali",
            "inquirer_relation": "mother",
        }
    )
    assert row["mother_tokens"] and row["father_tokens"] == []
    aunt = prepare_row({"record_id": "t2", "inquirer_name": "Hodan", "inquirer_relation": "aunt"})
    assert aunt["caregiver_tokens"] and aunt["mother_tokens"] == []


def test_consent_and_ids():
    row = prepare_row(
        {"record_id": "c", "consent_for_tracing": "false", "unhcr_individual_no": "ab-12 3"}
    )
    assert row["consent"] is False
    assert row["ids"] == ["unhcr:AB123"]


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(RECORD_COLUMNS), st.text(max_size=30)))
def test_prepare_row_is_total(record):
    record["record_id"] = "x"
    row = prepare_row(record)
    assert isinstance(row["name_all"], list)
    assert (row["by_lo"] is None) == (row["by_hi"] is None)


def test_nickname_is_a_given_name_candidate_never_part_of_the_family_name():
    # "Sasha" resolves to Oleksandr: one more given-name form; it must not land in the
    # rest of the name, where a record without it would read as a different family.
    row = prepare_row({"record_id": "c1", "name": "Layan Haddad", "name_nickname": "Hamoudi"})
    assert row["rest_tokens"] == [t for t in row["rest_tokens"] if t not in row["given"]]
    assert "muhammad" in row["given"] or any(t.startswith("muham") for t in row["given"])
    assert not any(t.startswith("muham") for t in row["rest_tokens"])
    bare = prepare_row({"record_id": "c2", "name": "Layan Haddad"})
    assert row["rest_tokens"] == bare["rest_tokens"]
    # a nickname that is a word of the name (the father's) stays in the family part
    row = prepare_row({"record_id": "c3", "name": "Layan Mohammed Haddad", "name_nickname": "Mohd"})
    assert row["given"][0] == bare["given"][0]
    assert len(row["rest_tokens"]) == 2


def test_given_keys_include_the_spelling_as_written():
    # Somali "Cismaan" and "Osman": the canonical "uthman" loses the s of Osman's key.
    osman = prepare_row({"record_id": "a", "name": "Osman Mohammed Faarax"})
    cismaan = prepare_row({"record_id": "b", "name": "Cusmaan Maxamed Farah"})
    assert set(osman["given_keys"]) & set(cismaan["given_keys"])
    assert "dm:ASMN" in osman["given_keys"]


def test_tracing_request_current_location_is_the_inquirers_not_the_childs():
    base = {"location_origin": "Luuq", "location_current": "Doolow IDP camp"}
    case = prepare_row({"record_id": "c", "record_type": "case", **base})
    request = prepare_row({"record_id": "t", "record_type": "tracing_request", **base})
    assert "camp" in case["place_tokens"]
    assert "camp" not in request["place_tokens"]
    assert request["origin"] == case["origin"]


def test_place_numbers_are_tokens():
    # A camp, block or street number tells two places apart and survives the typos
    # that break a street's name (FEBRL: "592 dalrymple street" / "592 dalrymple s treet").
    camp4 = prepare_row({"record_id": "a", "location_origin": "Kutupalong Camp 4, Block 07"})
    camp14 = prepare_row({"record_id": "b", "location_origin": "Kutupalong camp 14 block 7"})
    assert "4" in camp4["place_tokens"] and "7" in camp4["place_tokens"]
    assert "14" in camp14["place_tokens"] and "4" not in camp14["place_tokens"]
    # digits of any script are the same number
    arabic = prepare_row({"record_id": "c", "location_origin": "مخيم ٤"})
    assert "4" in arabic["place_tokens"]
    street = prepare_row({"record_id": "d", "location_separation": "592 Dalrymple Street"})
    typo = prepare_row({"record_id": "e", "location_separation": "592 dalrymple s treet"})
    pairs = {k for k in block_keys(street) if k.startswith("h:")}
    assert pairs & {k for k in block_keys(typo) if k.startswith("h:")}
