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
