"""Unit tests of what the evaluation pack shows (cchc_analysis.presentation, plotting): tiny inputs, no kernel."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from cchc_analysis.dataset.io import load_dataset
from cchc_analysis.dataset.model import Dataset
from cchc_analysis.errors import CchcError
from cchc_analysis.measures.compute import measure_values
from cchc_analysis.measures.definitions import Measure, load_measures, measure
from cchc_analysis.pack import charts as plotting
from cchc_analysis.pack import views as P

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "pack" / "processed"


@pytest.fixture(scope="module")
def ds():
    return load_dataset(FIXTURE).for_district()


def series(values, years=None, as_of=None):
    years = years or list(range(2015, 2015 + len(values)))
    as_of = as_of or [f"{y}-12-31" for y in years]
    return pd.DataFrame({"year": years, "period": [str(y) for y in years], "as_of": as_of, "value": values,
                         "unit": "count"})


@pytest.mark.parametrize("value,lang,expected", [
    (2232, "vi", "2.232"), (2232, "en", "2,232"), (99.95, "vi", "99,95"), (99.95, "en", "99.95"),
    (100.0, "vi", "100"), (0.0, "vi", "0"), (-0.0001, "vi", "0"), (1234567.5, "vi", "1.234.567,5"),
    (float("nan"), "vi", ""), (None, "vi", ""),
])
def test_fmt_number(value, lang, expected):
    assert P.fmt_number(value, lang) == expected


@pytest.mark.parametrize("period,lang,expected", [
    ("2011/2020", "vi", "2011-2020"), ("2011/2020-03-30", "vi", "2011 - 30/3/2020"),
    ("2011/2020-03-30", "en", "2011 - 30/3/2020"), ("from 2012-06-15", "vi", "từ 15/6/2012"),
    ("2011/report date", "vi", "2011 - thời điểm báo cáo"), ("2011/report date", "en", "2011 - the report's date"),
    ("2016/2021 term", "vi", "nhiệm kỳ 2016-2021"), ("annual (2011/2020)", "vi", "hằng năm (2011-2020)"),
    ("2019 (QĐ 1338/QĐ-UBND of 27/12/2019)", "vi", "2019 (QĐ 1338/QĐ-UBND ngày 27/12/2019)"),
])
def test_fact_period_joins_ranges_and_keeps_the_texts_own_slashes(period, lang, expected):
    assert P.fact_period(period, lang) == expected


def test_fmt_value_by_unit():
    assert P.fmt_value(99.76, "percent", "vi") == "99,76%"
    assert P.fmt_value(99.76, "percent", "en") == "99.76%"
    assert P.fmt_value(1, "dat", "vi") == "Đạt"
    assert P.fmt_value(0, "dat", "vi") == "Không đạt"
    assert P.fmt_value(0, "dat", "en") == "Not achieved"
    assert P.fmt_value(13, "ratio", "vi", 13) == "13/13"
    assert P.fmt_value(1, "flag", "en") == "Yes"


def test_partial_years_and_labels():
    assert P.is_partial(2020, "2020-03-31")
    assert P.is_partial(2017, "2017-09-30")
    assert not P.is_partial(2019, "2019-12-31")
    assert not P.is_partial(2020, "")
    assert P.period_label("2020", 2020, "2020-03-31", "vi") == "2020 (đến 31/3/2020)"
    assert P.period_label("2020", 2020, "2020-03-31", "en") == "2020 (as of 31/3/2020)"
    assert P.period_label("2018", 2018, "2018-12-31", "vi") == "2018"
    assert P.when_label("2020", 2020, "2020-03-31", "vi") == "2020, đến 31/3/2020"


def test_change_since_first():
    c = P.change_since_first(series([109, 107, 105, 103, 101, 98]))
    assert (c["first"], c["last"], c["change"]) == (109, 98, -11)
    assert c["change_pct"] == pytest.approx(-10.09, abs=0.01)
    assert P.change_since_first(series([5])) is None
    assert math.isnan(P.change_since_first(series([0, 4]))["change_pct"])


def test_trend_uses_full_years_only():
    assert P.trend(series([1, 2, 3, 4])) == "up"
    assert P.trend(series([4, 3, 2, 1])) == "down"
    assert P.trend(series([100, 100, 101, 100])) == "flat"
    assert P.trend(series([1, 2])) is None
    # a partial last year (31/3) with a low count must not turn a rising series into a falling one
    s = series([2, 3, 5, 8, 1], as_of=["2015-12-31", "2016-12-31", "2017-12-31", "2018-12-31", "2019-03-31"])
    assert P.trend(s) == "up"


def by_period(ds, key: str) -> pd.Series:
    """One measure of the fixture district, by period."""
    return measure_values(ds.indicators, [measure(key)]).set_index("period")["value"]


def test_fill_rate_and_streamlining(ds):
    fill = by_period(ds, "fill_rate_civil_servants")
    assert fill["2015"] == pytest.approx(105 / 109 * 100)
    assert fill["2020"] == pytest.approx(90 / 98 * 100)
    cum = by_period(ds, "streamlined_cumulative")
    assert cum["2020"] == 4 + 4 + 16 + 31 + 35 + 17  # 107, the figure the report's prose states


def test_one_stop_on_time_self_financing(ds):
    one = by_period(ds, "one_stop_district_share")
    assert one["2020"] == pytest.approx(84 / 468 * 100)
    assert "2015" not in one.index  # no one-stop figure in 2015: no share
    on_time = by_period(ds, "on_time_district")
    assert on_time["2015"] == 99.95
    sf = by_period(ds, "self_financing_share")
    assert sf["2020"] == pytest.approx((1 + 1) / 75 * 100)
    share = by_period(ds, "online_services_share")
    assert share["2020"] == pytest.approx(31 / 468 * 100)


def test_measure_missing_rows_give_empty_frame(ds):
    # the fixture has no row "procedures simplified"
    m = Measure("x", "tthc", {"vi": "x", "en": "x"}, "percent", "ratio", ("tthc_don_gian_hoa",), ("tthc_tong_so",),
                {"vi": "", "en": ""}, False)
    assert measure_values(ds.indicators, [m]).empty


def test_headlines_carry_as_of(ds):
    figs = {f["key"]: f for f in P.headline_figures(ds, "cbccvc", "vi")}
    assert figs["fill_rate_civil_servants"]["value"] == "91,84%"
    assert figs["fill_rate_civil_servants"]["when"] == "2020 (đến 31/3/2020)"


def test_html_table_escapes_everything():
    out = P.html_table([{"a": "<script>x</script>", "b": 'say "hi" & <b>'}], [("a", "<h>"), ("b", "B")])
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert "&lt;h&gt;" in out and "&amp; &lt;b&gt;" in out


def test_data_strings_are_escaped_on_pages(ds):
    # the fixture's sections.json and quality.csv hold markup: it must reach the page as text
    assert "<script>" not in P.sections_html(ds, "tthc", "vi")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in P.sections_html(ds, "tthc", "vi")
    assert "&lt;b&gt;" in P.annex_html(ds, "vi")  # findings are worded on the annex page


def test_sections_degrade_gracefully(ds):
    empty = Dataset(ds.indicators, ds.codebook, ds.quality, ds.targets, sections=None)
    assert "sections.json" in P.sections_html(empty, "tthc", "vi")
    assert P.facts_table_html(empty, "tthc", "vi") == ""


def test_quality_for_area(ds):
    q = P.quality_for_area(ds, "tthc")
    assert list(q["check"]) == ["published_vs_total"]
    assert P.quality_for_area(ds, "to_chuc_bo_may").empty


def test_targets_file_has_source_and_status():
    tg = P.targets_2021_2030()
    assert {"source", "status", "comparison", "area"} <= set(tg.columns)
    assert set(tg["status"]) <= {"verified", "secondary", "unverified"}
    assert set(tg["area"]) <= set(P.area_ids())
    assert (tg["source"] != "").all()
    for key in tg["evidence"]:
        assert key == "" or key in {m.key for m in load_measures()}


def test_targets_labelled_indicative(ds):
    rows = P.targets_for_area(ds, "hien_dai_hoa", "vi")
    online = next(r for r in rows if r["target"].startswith("Thủ tục hành chính được cung cấp trực tuyến"))
    assert online["comparison"] == "tham khảo (định nghĩa khác nhau)"
    assert "6,62" in online["evidence"]
    assert P.targets_table_html(ds, "tai_chinh_cong", "vi").startswith('<p class="muted">')


def test_check_params():
    P.check_params("tthc", "vi")
    with pytest.raises(CchcError, match="unknown area 'nope'"):
        P.check_params("nope", "vi")
    with pytest.raises(CchcError, match="unknown language"):
        P.check_params("tthc", "fr")


def test_english_labels_from_codebook(ds):
    rows, cols = P.indicators_wide(ds, "cbccvc", "en")
    labels = [r["indicator"].strip() for r in rows]
    assert "Civil servants in post" in labels
    assert cols[0][1] == "Indicator"


def test_chart_png_is_deterministic(ds):
    a = plotting.area_charts(ds, "cbccvc", "vi")
    b = plotting.area_charts(ds, "cbccvc", "vi")
    assert a and a == b
    assert a[0]["svg"].lstrip().startswith(b"<?xml") and b"<dc:date>" not in a[0]["svg"]
    import matplotlib

    assert matplotlib.rcParams["font.sans-serif"][0] == "DejaVu Sans"
