"""The CSV downloads meant to be opened by people, safe against CSV (formula) injection.

Spreadsheet programs run a cell that begins with ``=``, ``+``, ``-``, ``@``, TAB or CR as a formula (a report
footnote "- Phòng Nội vụ ..." shows as #NAME?; a crafted one can do worse). OWASP's rule: such a text cell gets a
leading ``'``. Numbers (-3, +1.5) stay numbers. The processed dataset, its Parquet file and its data package keep
the exact text; no pandas here, so the warm build path stays light.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")


def spreadsheet_safe(cell: str) -> str:
    if cell.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def copy_csv_for_people(source: Path, target: Path) -> None:
    """Copy a dataset CSV with every formula-like cell neutralised (same dialect: minimal quoting, LF)."""
    with open(source, encoding="utf-8", newline="") as handle:
        rows = [[spreadsheet_safe(cell) for cell in row] for row in csv.reader(handle)]
    with open(target, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
