"""The measures engine on tiny frames (ratio, sum, value, cumulative, missing and zero denominators, several
districts) and the schema of measures.yaml."""

from __future__ import annotations

import pandas as pd
import pytest

from cchc_analysis.errors import CchcError
from cchc_analysis.measures.compute import COLUMNS, latest_values, measure_values
from cchc_analysis.measures.definitions import Measure, load_measures, measure
from cchc_analysis.tables.specs import load_specs

TOTAL, DESK, DISTRICT_DESK, COMMUNE_DESK = "tthc_tong_so", "tthc_mot_cua_tong", "tthc_mot_cua_huyen", "tthc_mot_cua_xa"


def obs(district, iid, year, value, as_of=None, period=None):
    return {"district": district, "indicator_id": iid, "period": period or str(year), "year": year,
            "as_of": f"{year}-12-31" if as_of is None else as_of, "value": value}


def frame(*rows) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


def make(kind: str, numerator: tuple[str, ...], denominator: tuple[str, ...] = (), unit: str = "count") -> Measure:
    return Measure(f"test_{kind}", "tthc", {"vi": "x", "en": "x"}, unit, kind, numerator, denominator,
                   {"vi": "", "en": ""}, False)


def table(values: pd.DataFrame) -> list[list]:
    return values[["district", "year", "value"]].values.tolist()


def test_ratio_needs_numerator_and_nonzero_denominator_in_the_same_column():
    ind = frame(obs("A", TOTAL, 2018, 200), obs("A", DESK, 2018, 50),
                obs("A", TOTAL, 2019, 0), obs("A", DESK, 2019, 10),          # zero denominator
                obs("A", DESK, 2020, 10),                                    # no denominator
                obs("B", TOTAL, 2018, 100), obs("B", DESK, 2018, float("nan")))  # no numerator
    values = measure_values(ind, [make("ratio", (DESK,), (TOTAL,), "percent")])
    assert list(values.columns) == COLUMNS
    assert table(values) == [["A", 2018, 25.0]]
    assert values[["numerator", "denominator"]].values.tolist() == [[50.0, 200.0]]


def test_ratio_without_any_denominator_row_is_empty():
    values = measure_values(frame(obs("A", DESK, 2018, 50)), [make("ratio", (DESK,), (TOTAL,), "percent")])
    assert values.empty and list(values.columns) == COLUMNS


def test_sum_adds_the_rows_present_in_each_column():
    ind = frame(obs("A", DISTRICT_DESK, 2018, 84), obs("A", COMMUNE_DESK, 2018, 141),
                obs("A", DISTRICT_DESK, 2019, 84))
    assert table(measure_values(ind, [make("sum", (DISTRICT_DESK, COMMUNE_DESK))])) == [["A", 2018, 225.0],
                                                                                       ["A", 2019, 84.0]]


def test_cumulative_runs_over_the_years_of_each_district():
    ind = frame(obs("A", TOTAL, 2016, 4), obs("A", TOTAL, 2015, 4), obs("A", TOTAL, 2017, 16),
                obs("B", TOTAL, 2015, 1), obs("B", TOTAL, 2017, 2))
    assert table(measure_values(ind, [make("cumulative", (TOTAL,))])) == [
        ["A", 2015, 4.0], ["A", 2016, 8.0], ["A", 2017, 24.0], ["B", 2015, 1.0], ["B", 2017, 3.0]]


def test_several_districts_and_measures_in_one_call():
    ind = frame(*[obs(d, TOTAL, 2019, 100 * (i + 1)) for i, d in enumerate("ABC")],
                *[obs(d, DESK, 2019, 50) for d in "ABC"])
    values = measure_values(ind, [make("ratio", (DESK,), (TOTAL,), "percent"), make("value", (TOTAL,))])
    ratio = values[values["measure"] == "test_ratio"]
    assert table(ratio) == [["A", 2019, 50.0], ["B", 2019, 25.0], ["C", 2019, 50 / 300 * 100]]
    assert table(values[values["measure"] == "test_value"]) == [["A", 2019, 100.0], ["B", 2019, 200.0],
                                                                ["C", 2019, 300.0]]


def test_a_partial_year_is_its_own_column():
    # Phụ lục 2 prints "Năm 2020" and "Năm 2020 (Tính đến 31/3)": two columns, never added up
    ind = frame(obs("A", TOTAL, 2020, 7, as_of=""), obs("A", TOTAL, 2020, 1, as_of="2020-03-31"),
                obs("A", DESK, 2020, 1, as_of="2020-03-31"))
    values = measure_values(ind, [make("value", (TOTAL,)), make("ratio", (DESK,), (TOTAL,), "percent")])
    assert values[["measure", "as_of", "column", "value"]].values.tolist() == [
        ["test_ratio", "2020-03-31", "2020|2020-03-31", 100.0],
        ["test_value", "", "2020|", 7.0], ["test_value", "2020-03-31", "2020|2020-03-31", 1.0]]
    last = latest_values(values).set_index("measure")
    assert last.loc["test_value", "as_of"] == "2020-03-31"


def test_ids_absent_from_the_data_give_no_rows():
    assert measure_values(frame(obs("A", TOTAL, 2019, 1)), [make("value", ("tthc_don_gian_hoa",))]).empty


def test_latest_marks_shares_above_100_as_inconsistent():
    ind = frame(obs("A", DESK, 2018, 90), obs("A", DESK, 2019, 120), obs("B", DESK, 2019, 99))
    last = latest_values(measure_values(ind, [make("value", (DESK,), unit="percent")])).set_index("district")
    assert last["year"].to_dict() == {"A": 2019, "B": 2019}
    assert last["inconsistent"].to_dict() == {"A": True, "B": False}


# --------------------------------------------------------------------------------------------------- schema

def test_a_measures_how_cites_its_rows_as_the_evaluation_does():
    """"Phụ lục 1, chỉ tiêu 2" / "Appendix 1, item 2": the printed row number of one of its own indicators, worded
    as every other citation of the pack (not "dòng", which elsewhere means a line of the report; no Vietnamese word
    in the English text)."""
    import re

    from cchc_analysis.evaluation.verdicts import cite

    for m in load_measures():
        own = {lang: {cite(i, lang) for i in (*m.numerator, *m.denominator)} for lang in ("vi", "en")}
        for lang, pattern in (("vi", r"Phụ lục \d+, (?:chỉ tiêu|mục) [\dIVX]+"), ("en", r"Appendix \d+, (?:item|part) [\dIVX]+")):
            for cited in re.findall(pattern, m.how[lang]):
                assert cited in own[lang], (m.key, cited, own[lang])
        assert not re.search(r"dòng \d", m.how["vi"]) and "Phụ lục" not in m.how["en"], m.key


def test_shipped_measures_reference_spec_ids():
    ids = {i for table in load_specs().values() for i in table.indicators}
    measures = load_measures()
    assert len({m.key for m in measures}) == len(measures) > 20
    for m in measures:
        assert set(m.numerator) | set(m.denominator) <= ids
    assert measure("procedures_total").numerator == (TOTAL,)
    assert measure("one_stop_share").denominator == (TOTAL,)


GOOD = """measures:
  - key: share
    area: tthc
    label: {vi: "Tỷ lệ", en: "Share"}
    unit: percent
    kind: ratio
    numerator: [tthc_mot_cua_tong]
    denominator: [tthc_tong_so]
    how: {vi: "a / b", en: "a / b"}
"""


@pytest.mark.parametrize("edit,message", [
    (("    unit: percent\n", "    unit: percent\n    colour: red\n"), "unknown key.*colour"),
    (("kind: ratio", "kind: 3"), "'kind' must be a str"),
    (("    how: {vi: \"a / b\", en: \"a / b\"}\n", ""), "'how' is missing"),
    (("[tthc_tong_so]", "[tthc_no_such_row]"), "no table spec declares.*tthc_no_such_row"),
    (("    denominator: [tthc_tong_so]\n", ""), "a ratio needs a denominator"),
    (("area: tthc", "area: nowhere"), "area 'nowhere' is not one of"),
    (("en: \"Share\"", "fr: \"Part\""), "'label' must give a text for each of vi, en"),
])
def test_schema_rejects_bad_measures(tmp_path, edit, message):
    path = tmp_path / "measures.yaml"
    path.write_text(GOOD.replace(*edit), encoding="utf-8")
    with pytest.raises(CchcError, match=message) as err:
        load_measures(path)
    assert str(path) in str(err.value) and "measure 'share'" in str(err.value)


def test_schema_accepts_a_good_file_and_rejects_a_key_declared_twice(tmp_path):
    path = tmp_path / "measures.yaml"
    path.write_text(GOOD, encoding="utf-8")
    assert [m.key for m in load_measures(path)] == ["share"]
    twice = tmp_path / "twice.yaml"
    twice.write_text(GOOD + GOOD.replace("measures:\n", ""), encoding="utf-8")
    with pytest.raises(CchcError, match="'share' is declared twice"):
        load_measures(twice)
