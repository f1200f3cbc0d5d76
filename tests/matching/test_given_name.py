"""The child's given name apart from the family part, nationality forms, default m."""

from __future__ import annotations

import math

import pandas as pd

from kinlink.matching.default_model import DEFAULT_M_FILES, default_m_model, m_source_for
from kinlink.matching.model import copy_m_probabilities, load_model
from kinlink.matching.prepare import given_of_name, prepare_row


def _row(**fields: str) -> dict:
    return prepare_row({"record_id": "x", **fields})


def test_given_name_of_capitalised_family_forms():
    # DRC: NOM POSTNOM Prénom; the given name is the word not in capitals
    assert given_of_name("KAMBALE KASONGO Sarah") == "sara"
    # Ukrainian in Cyrillic: surname, given, patronymic
    assert given_of_name("Бондаренко Андрій Андрійович") == given_of_name("Andrii")
    # a name chain starts with the given name
    assert given_of_name("Maxamed Cabdi Xasan") == given_of_name("Mohamed")


def test_siblings_share_the_rest_not_the_given_name():
    a = _row(name="Mohamed Hassan Abdi")
    b = _row(name="Maxamed Xasan Cabdi")  # same child, Somali orthography
    sib = _row(name="Ahmed Hassan Abdi")
    assert a["given_first"] == b["given_first"] != sib["given_first"]
    assert a["rest_sorted"] == b["rest_sorted"] == sib["rest_sorted"]
    assert a["given_first"] not in a["rest_tokens"]


def test_native_script_name_meets_its_latin_rendering():
    row = _row(name="نور حسن", name_other="Noor Hussain Al Hasan")
    assert given_of_name("Noor") in row["given"]


def test_nationality_forms_agree_and_stateless_is_missing():
    forms = {_row(nationality=n)["nationality"] for n in ("Somali", "SOM", "Soomaali", "Somalia")}
    assert len(forms) == 1
    assert _row(nationality="Somali")["nationality"] != _row(nationality="Syrian")["nationality"]
    assert _row(nationality="Stateless")["nationality"] is None


def _weights(model, comparison: str) -> dict[str, float]:
    for c in model.splink_settings["comparisons"]:
        if c["output_column_name"] == comparison:
            return {
                lv["label_for_charts"]: math.log2(lv["m_probability"] / lv["u_probability"])
                for lv in c["comparison_levels"]
                if not lv.get("is_null_level")
            }
    raise KeyError(comparison)


def test_default_models_are_label_trained_and_given_name_disagreement_is_strong():
    for job, path in DEFAULT_M_FILES.items():
        model = load_model(path)
        assert model.metadata["m_source"].startswith("labels:synthetic")
        w = _weights(model, "given_name")
        assert w["all other"] < -4, job  # siblings differ here: strong evidence against
        assert w["same given name (nicknames and scripts resolved)"] > 3, job


def test_default_m_only_on_data_that_names_relatives():
    with_relatives = pd.DataFrame({"relatives_tokens": [["amina"], ["ali"], []]})
    febrl_like = pd.DataFrame({"relatives_tokens": [[], [], []]})
    assert m_source_for(with_relatives, "link") is default_m_model("link")
    assert m_source_for(febrl_like, "link") is None


def test_copy_m_probabilities_matches_levels_by_label():
    src = {
        "comparisons": [
            {
                "output_column_name": "sex",
                "comparison_levels": [
                    {"label_for_charts": "same sex", "m_probability": 0.9},
                    {"label_for_charts": "all other", "m_probability": 0.1},
                ],
            }
        ]
    }
    dst = {
        "comparisons": [
            {
                "output_column_name": "sex",
                "comparison_levels": [
                    {"label_for_charts": "missing", "is_null_level": True},
                    {"label_for_charts": "same sex", "m_probability": 0.5},
                    {"label_for_charts": "all other", "m_probability": 0.5},
                ],
            }
        ]
    }
    assert copy_m_probabilities(src, dst) == 2
    assert [lv.get("m_probability") for lv in dst["comparisons"][0]["comparison_levels"]] == [
        None,
        0.9,
        0.1,
    ]
