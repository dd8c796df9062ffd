"""How a Vietnamese reader reads a table cell, given the unit of its row.

Vietnamese writes 2.232 for two thousand two hundred and thirty-two and 99,5 for ninety-nine and a half; the
report also writes 99.95 in a percent row. So a cell is read with its row's unit: in a count row "2.232" is 2232,
in a percent row "99.95" is 99.95. A cell that is not a number keeps no value and keeps its text as a note; a cell
whose number cannot be read without guessing is ``unparsed`` and flagged by validation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cchc_analysis.text import clean, fold

UNITS = ("count", "percent", "flag", "dat", "ratio", "none")


@dataclass(frozen=True)
class CellValue:
    value: float | None
    status: str  # number | text_zero | number_in_text | assessment | text | unparsed
    note: str = ""
    denominator: float | None = None


_INT = re.compile(r"^\d{1,15}$")  # a count has at most 15 digits: 10^15 is no district's figure
_THOUSANDS_DOT = re.compile(r"^\d{1,3}(?:\.\d{3}){1,4}$")
_THOUSANDS_SPACE = re.compile(r"^\d{1,3}(?: \d{3}){1,4}$")
_PERCENT = re.compile(r"^(\d{1,15})(?:[.,](\d{1,15}))?\s*%?$")
_NONE_PREFIX = re.compile(r"^khong co\b")
# a number followed by what it counts, inside a sentence: "tinh giản 17 người"
_COUNTED = re.compile(
    r"(?<![\d./-])(\d{1,3}(?:\.\d{3}){1,4}|\d{1,15})\s+"
    r"(nguoi|ban|van ban|don vi|dv|ho so|tthc|thu tuc|co quan|lop|xa|phong)\b")


def read_count(text: str) -> float | None:
    """A whole number written the Vietnamese way (dots or spaces between thousands); None if not one."""
    text = text.strip()
    if _INT.match(text):
        return float(int(text))
    if _THOUSANDS_DOT.match(text):
        return float(int(text.replace(".", "")))
    if _THOUSANDS_SPACE.match(text):
        return float(int(text.replace(" ", "")))
    return None


def read_percent(text: str) -> float | None:
    """99.95, 99,95, 99.76%, 100 -> float. A dot followed by exactly three digits is ambiguous (1.319) -> None."""
    match = _PERCENT.match(text.strip())
    if not match:
        return None
    whole, fraction = match.groups()
    if fraction is not None and len(fraction) == 3 and "%" not in text:
        return None
    return float(f"{whole}.{fraction}") if fraction else float(whole)


def _has_digit(text: str) -> bool:
    return any(ch.isdigit() for ch in text)


def _read_count_cell(text: str, key: str) -> CellValue | None:
    number = read_count(text)
    if number is not None:
        return CellValue(number, "number")
    if _NONE_PREFIX.match(key):
        return CellValue(0.0, "text_zero", note=text)
    counted = _COUNTED.findall(key)
    if len(counted) == 1:
        return CellValue(float(int(counted[0][0].replace(".", ""))), "number_in_text", note=text)
    return None


def _read_percent_cell(text: str, key: str) -> CellValue | None:
    number = read_percent(text)
    return CellValue(number, "number") if number is not None else None


_WORDS = {  # unit -> folded cell text -> (value, status)
    "flag": {"1": (1.0, "number"), "co": (1.0, "number"), "0": (0.0, "number"), "khong": (0.0, "number")},
    "dat": {"dat": (1.0, "assessment"), "khong dat": (0.0, "assessment"), "chua dat": (0.0, "assessment")},
}


def _read_word_cell(unit: str):
    def read(text: str, key: str) -> CellValue | None:
        found = _WORDS[unit].get(key)
        return CellValue(*found) if found else None
    return read


_READERS = {"count": _read_count_cell, "percent": _read_percent_cell, "flag": _read_word_cell("flag"),
            "dat": _read_word_cell("dat"), "none": lambda text, key: CellValue(None, "text", note=text)}


def read_value(raw: str, unit: str) -> CellValue:
    """Read one cell of a row whose unit is ``unit``."""
    reader = _READERS.get(unit)
    if reader is None:
        raise ValueError(f"unknown unit {unit!r}; expected one of {UNITS}")
    text = clean(raw)
    if not text:
        return CellValue(None, "empty")
    value = reader(text, fold(text))
    if value is not None:
        return value
    return CellValue(None, "unparsed" if _has_digit(text) else "text", note=text)


def read_parts(raw: str, parts: list[dict]) -> dict[str, CellValue]:
    """A cell carrying several measures, e.g. "13/13 phòng ban và 07 ĐV cấp xã".

    Each part is ``{"id": ..., "keyword": ...}``; a part is read where a number (or n/m) stands right before its
    keyword. Parts that are absent from the cell are left out.
    """
    text = clean(raw)
    key = fold(text)
    found: dict[str, CellValue] = {}
    consumed: list[tuple[int, int]] = []
    for part in parts:
        pattern = re.compile(r"(\d+)\s*(?:/\s*(\d+))?\s+" + re.escape(fold(part["keyword"])) + r"\b")
        match = pattern.search(key)
        if not match:
            continue
        consumed.append(match.span())
        numerator, denominator = match.groups()
        found[part["id"]] = CellValue(float(int(numerator)), "number",
                                      denominator=float(int(denominator)) if denominator else None)
    leftover = key
    for start, end in sorted(consumed, reverse=True):
        leftover = leftover[:start] + leftover[end:]
    if _has_digit(leftover):
        found = {k: CellValue(v.value, "number_in_text", note=text, denominator=v.denominator)
                 for k, v in found.items()}
    return found
