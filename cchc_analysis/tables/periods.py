"""Column and row headers that name a period: "Năm 2017 (9/2017)", "Năm 2020 (Tính đến 31/3)",
"Giai đoạn 2011-2020 (Tính đến 12/2019)". A period has a label, the year it is filed under, and an as-of date."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from cchc_analysis.text import clean, fold

_YEAR = re.compile(r"^nam\s+(\d{4})\s*(?:\((.*)\))?$")
_SPAN = re.compile(r"^giai doan\s+(\d{4})\s*-\s*(\d{4})\s*(?:\((.*)\))?$")
_DAY_MONTH = re.compile(r"(?:tinh )?den (?:ngay )?(\d{1,2})\s*(?:/|thang)\s*(\d{1,2})(?:\s*(?:/|nam)\s*(\d{4}))?")
_MONTH_YEAR = re.compile(r"(?:^|den (?:thang )?)(\d{1,2})\s*/\s*(\d{4})$")


@dataclass(frozen=True)
class Period:
    label: str          # "2015", "2001-2010"
    year: int           # the year the figures are filed under (the as-of year for a span)
    as_of: date | None  # None when the header does not say and no rule applies
    header: str         # the header text as printed
    note: str = ""


def _end_of_month(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def parse_as_of(qualifier: str, default_year: int) -> date | None:
    """"Tính đến 31/3" -> 31 March; "9/2017" -> 30 Sep 2017; "Tính đến ngày 31 tháng 12 năm 2019"."""
    key = fold(qualifier)
    match = _MONTH_YEAR.search(key)
    if match:
        month, year = match.groups()
        return _end_of_month(int(year), int(month)) if 1 <= int(month) <= 12 else None
    match = _DAY_MONTH.search(key)
    if match:
        day, month, year = match.groups()
        try:
            return date(int(year) if year else default_year, int(month), int(day))
        except ValueError:
            return None
    return None


def parse_period(header: str) -> Period | None:
    """A period header, or None when the text is not one."""
    text = clean(header)
    key = fold(text)
    match = _YEAR.match(key)
    if match:
        year = int(match.group(1))
        qualifier = match.group(2)
        if qualifier is None:
            return Period(str(year), year, date(year, 12, 31), text)
        as_of = parse_as_of(qualifier, year)
        note = "" if as_of else f"as-of date not understood: '{clean(header)}'"
        return Period(str(year), year, as_of, text, note)
    match = _SPAN.match(key)
    if match:
        first, last, qualifier = int(match.group(1)), int(match.group(2)), match.group(3)
        as_of = parse_as_of(qualifier, last) if qualifier else date(last, 12, 31)
        note = "" if as_of else f"as-of date not understood: '{clean(header)}'"
        return Period(f"{first}-{last}", as_of.year if as_of else last, as_of, text, note)
    return None


_QUARTER_END = {"i": (3, 31), "ii": (6, 30), "iii": (9, 30), "iv": (12, 31)}
_STATED_QUARTER = re.compile(r"\b(?:cuoi|het)\s+quy\s+(iv|iii|ii|i)\b(?:\s+(?:nam\s+)?(\d{4}))?")
_PLANNED = re.compile(r"\b(?:du kien|ke hoach|phan dau)\b")


def stated_forecast(text: str, as_of: date | None, year: int) -> date | None:
    """The date a cell's figure is stated for, when it lies after the column's as-of date ("Cuối Quý II năm 2020
    đạt 19/19" in a column as of 31/3/2020): that figure is a forecast, not the column's actual. A cell that says
    it is planned (dự kiến, kế hoạch, phấn đấu) is a forecast for the column's own date."""
    key = fold(text)
    match = _STATED_QUARTER.search(key)
    if match:
        month, day = _QUARTER_END[match.group(1)]
        stated = date(int(match.group(2) or year), month, day)
        if as_of is None or stated > as_of:
            return stated
    if _PLANNED.search(key):
        return as_of or date(year, 12, 31)
    return None
