"""The observations' schema check vouches for a table without pandera only when pandera would pass it: every kind
of fault (a value not allowed, a pattern, an empty or missing text, a range, a repeated key, a dtype, a column)
still reaches pandera, whose error names it; empty numbers and dates where allowed pass both; a table of other dtypes
is left to pandera."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cchc_analysis.dataset.schema import (
    CSV_TABLES,
    TABLES,
    _surely_valid,
    check_schema,
    csv_header,
    empty_frame,
    pandera_schema,
)
from cchc_analysis.errors import CchcError

ROOT = Path(__file__).resolve().parents[2]


def _value(field, i: int):
    if field.name == "indicator_id":
        return f"indicator_{i}"
    if field.values:
        return field.values[0]
    if field.type == "integer":
        return field.minimum if field.minimum is not None else 1
    if field.type == "number":
        return 1.5
    return {"period": "2020", "as_of": "2020-12-31"}.get(field.name, "x")


def valid(n: int = 3) -> pd.DataFrame:
    fields = TABLES["indicators"].fields
    return pd.DataFrame({f.name: pd.Series([_value(f, i) for i in range(n)], dtype=f.dtype) for f in fields})


def _set(name: str, value):
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame[name] = frame[name].astype(object)
        frame.loc[1, name] = value
        frame[name] = frame[name].astype(TABLES["indicators"].field(name).dtype)
        return frame
    return change


FAULTS = {
    "a value not allowed": _set("unit", "furlongs"),
    "a pattern": _set("indicator_id", "Bad id"),
    "an empty text": _set("indicator", ""),
    "a missing text": _set("area", None),
    "out of range": _set("year", 1800),
    "below the minimum": _set("source_line", 0),
    "a repeated key": lambda frame: pd.concat([frame, frame.iloc[[0]]], ignore_index=True),
    "a number as text": lambda frame: frame.assign(year=frame["year"].astype(str)),
    "a column missing": lambda frame: frame.drop(columns="note"),
    "columns reordered": lambda frame: frame[[*frame.columns[1:], frame.columns[0]]],
}
ALLOWED = {
    "no value": _set("value", None),
    "no date": _set("as_of", ""),
    "no note": _set("note", ""),
}


def _pandera_passes(frame: pd.DataFrame) -> bool:
    import pandera.pandas as pa

    try:
        pandera_schema("indicators").validate(frame, lazy=True)
    except pa.errors.SchemaErrors:
        return False
    return True


@pytest.mark.parametrize("fault", FAULTS)
def test_a_fault_reaches_pandera(fault):
    frame = FAULTS[fault](valid())
    assert not _pandera_passes(frame)
    assert not _surely_valid(frame, "indicators")
    with pytest.raises(CchcError, match="the tidy table breaks its schema"):
        check_schema(frame, "report.txt")


@pytest.mark.parametrize("case", ["none", *ALLOWED])
def test_what_pandera_passes_is_vouched_for(case):
    frame = ALLOWED.get(case, lambda frame: frame)(valid())
    assert _pandera_passes(frame) and _surely_valid(frame, "indicators")
    check_schema(frame, "report.txt")


# values pandera's checks pass that the fast check, stricter, does not vouch for: pandera has the last word
STRICTER = {
    "a final newline": _set("period", "2020\n"),
    "digits of another script": _set("period", "２０２０"),
}


@pytest.mark.parametrize("case", STRICTER)
def test_what_the_fast_check_cannot_tell_is_left_to_pandera(case):
    frame = STRICTER[case](valid())
    assert not _surely_valid(frame, "indicators")
    try:
        passes = _pandera_passes(frame)
    except Exception:  # (however pandera's regular expressions read it, the check says so, never the fast path)
        passes = False
    if passes:
        check_schema(frame, "report.txt")
    else:
        with pytest.raises(CchcError):
            check_schema(frame, "report.txt")


def test_a_passing_table_is_checked_without_importing_pandera():
    """pandera costs some 0.2 s to import: a build whose observations pass never pays it."""
    code = ("import sys; sys.path.insert(0, 'tests/unit'); from test_schema_check import valid; "
            "from cchc_analysis.dataset.schema import check_schema; check_schema(valid(), 'report.txt'); "
            "print('pandera' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_a_table_of_other_dtypes_is_left_to_pandera():
    frame = valid().assign(raw=lambda frame: frame["raw"].astype(object))  # text as Python objects: pandera's call
    assert not _surely_valid(frame, "indicators") and _pandera_passes(frame)
    check_schema(frame, "report.txt")


@pytest.mark.parametrize("table", [name for name in TABLES if TABLES[name].fields and name != "sections"])
def test_the_dtype_question_is_answered_as_pandera_validation_answers_it(table):
    """``_dtypes_accepted`` tells without pandera what validating a frame without rows says."""
    import pandera.pandas as pa

    from cchc_analysis.dataset.schema import _dtypes_accepted

    empty = pd.DataFrame({name: pd.Series([], dtype=dtype) for name, dtype in TABLES[table].dtypes().items()})
    try:
        pandera_schema(table).validate(empty, lazy=True)
        validated = True
    except pa.errors.SchemaErrors:
        validated = False
    assert _dtypes_accepted(table) == validated


@pytest.mark.parametrize("table", [name for name in TABLES if name in CSV_TABLES])
def test_the_csv_header_is_the_one_pandas_writes(table):
    """A file joined from its districts' pieces gets the header a frame of the table would print."""
    assert csv_header(table) == empty_frame(table).to_csv(index=False, lineterminator="\n")
    assert list(empty_frame(table).dtypes.astype(str)) == list(TABLES[table].dtypes().values())
    mine = empty_frame(table)
    mine["x"] = 1  # (each call gives a frame of its own)
    assert "x" not in empty_frame(table)
