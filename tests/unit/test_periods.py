from datetime import date

import pytest

from cchc_analysis.tables.periods import parse_period


@pytest.mark.parametrize("header, label, year, as_of", [
    ("Năm 2015", "2015", 2015, date(2015, 12, 31)),
    ("Năm 2017 (9/2017)", "2017", 2017, date(2017, 9, 30)),
    ("Năm 2020 (Tính đến 31/3)", "2020", 2020, date(2020, 3, 31)),
    ("Năm 2020 (Tinh đến 31/3)", "2020", 2020, date(2020, 3, 31)),
    ("NĂM 2019 (tính đến ngày 31 tháng 12 năm 2019)", "2019", 2019, date(2019, 12, 31)),
    ("Giai đoạn 2011-2020 (Tính đến 12/2019)", "2011-2020", 2019, date(2019, 12, 31)),
    ("Giai đoạn 2001 - 2010", "2001-2010", 2010, date(2010, 12, 31)),
])
def test_period_headers(header, label, year, as_of):
    period = parse_period(header)
    assert (period.label, period.year, period.as_of) == (label, year, as_of)


def test_unknown_qualifier_gives_no_date_and_says_so():
    period = parse_period("Năm 2020 (sơ bộ)")
    assert period.as_of is None and "not understood" in period.note


@pytest.mark.parametrize("header", ["Các cơ quan, đơn vị", "STT", "Năm", "2015"])
def test_not_a_period(header):
    assert parse_period(header) is None


def test_a_figure_stated_for_a_later_date_is_a_forecast():
    from datetime import date

    from cchc_analysis.tables.periods import stated_forecast

    as_of = date(2020, 3, 31)
    assert stated_forecast("Cuối Quý II năm 2020 đạt 19/19 ĐV cấp xã", as_of, 2020) == date(2020, 6, 30)
    assert stated_forecast("hết quý IV đạt 12", as_of, 2020) == date(2020, 12, 31)
    assert stated_forecast("Dự kiến 15 đơn vị", as_of, 2020) == as_of
    assert stated_forecast("Cuối Quý I năm 2020 đạt 19/19", as_of, 2020) is None  # not after the column's date
    assert stated_forecast("13/13 phòng ban và 17 ĐV cấp xã", as_of, 2020) is None


def test_every_count_row_says_whether_it_is_a_stock_or_a_flow():
    from cchc_analysis.tables.specs import load_specs

    specs = [s for t in load_specs().values() for s in t.all_indicators()]
    assert {s.kind for s in specs if s.unit == "count"} == {"stock", "flow"}
    kinds = {s.id: s.kind for s in specs}
    assert kinds["cbccvc_tinh_gian"] == "flow" and kinds["cbccvc_cbcc_co_mat"] == "stock"
    assert kinds["hdh_van_ban_dien_tu"] == "rate"
