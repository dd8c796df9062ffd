"""Headlines correct by construction (issue 11): on the reference report, each kind of misleading figure the pack
used to show is gone: a flow compared across a part year, a share above 100% shown as a percentage, a forecast
taken for an actual, a ratio of two different populations as a headline, shares from totals that disagree."""

from __future__ import annotations

from pathlib import Path

import pytest

from cchc_analysis.dataset.io import load_dataset, write_dataset
from cchc_analysis.pack import views as P
from cchc_analysis.workflow import evaluated_dataset

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    out = tmp_path_factory.mktemp("processed")
    write_dataset(evaluated_dataset([ROOT / "data" / "raw" / "tuan-giao"]), out)
    return load_dataset(out).for_district()


def test_a_flow_is_never_compared_across_a_part_year(ds):
    rows = {r["indicator_id"]: r for r in P.change_rows(ds, "chi_dao_dieu_hanh", "vi")}
    communication = rows["cd_tuyen_truyen"]  # a flow: 2020 runs to 31/3 only
    assert communication["_change"]["last_year"] == 2019
    streamlined = {r["indicator_id"]: r for r in P.change_rows(ds, "cbccvc", "vi")}["cbccvc_tinh_gian"]
    assert streamlined["_change"]["last_year"] == 2019 and "31/3/2020" not in streamlined["latest"]
    staff = {r["indicator_id"]: r for r in P.change_rows(ds, "cbccvc", "vi")}["cbccvc_cbcc_co_mat"]
    assert "31/3/2020" in staff["latest"]  # a stock: its latest figure is the latest, part year or not


def test_a_share_above_100_is_never_shown_as_a_percentage(ds):
    html = P.indicators_table_html(ds, "hien_dai_hoa", "vi")
    assert "1.319" in html and "1.319\u00a0%" not in html and "vượt 100%" in html
    assert "điểm %" not in P.change_table_html(ds, "hien_dai_hoa", "vi").split("1.319")[0][-200:]
    assert all("1.319" not in r["latest"] for r in P.change_rows(ds, "hien_dai_hoa", "vi"))
    assert all(f["raw_value"] <= 100 for a in P.area_ids() for f in P.headline_figures(ds, a, "vi")
               if f["unit"] == "percent")


def test_a_forecast_is_not_taken_for_the_columns_actual(ds):
    iso = ds.indicators[(ds.indicators["indicator_id"] == "hdh_iso_xa") & (ds.indicators["year"] == 2020)]
    assert iso["value_status"].tolist() == ["forecast"] and iso["as_of"].tolist() == ["2020-06-30"]
    assert "dự kiến đến 30/6/2020" in P.indicators_table_html(ds, "hien_dai_hoa", "vi")
    assert "forecast for 30/6/2020" in P.indicators_table_html(ds, "hien_dai_hoa", "en")


def test_a_ratio_of_different_populations_is_no_headline(ds):
    assert "legal_checked_share" not in {f["key"] for f in P.headline_figures(ds, "the_che", "vi")}


def test_shares_from_totals_that_disagree_are_flagged_where_shown(ds):
    rows = {r["_key"]: r for r in P.derived_rows(ds, "tthc", "vi")}
    one_stop = rows["one_stop_share"]
    flagged = [v for k, v in one_stop.items() if k.startswith("2018|") or k.startswith("2019|")]
    assert flagged and all("chưa khớp" in v for v in flagged)
    assert not any("chưa khớp" in v for k, v in one_stop.items() if k.startswith("2016|"))
