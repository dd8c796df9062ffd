"""The observations' schema check vouches for a table without pandera only when pandera would pass it: every kind
of fault (a value not allowed, a pattern, an empty or missing text, a range, a repeated key, a dtype, a column)
still reaches pandera, whose error names it; empty numbers and dates where allowed pass both; a table of other dtypes
is left to pandera."""

from __future__ import annotations

import pandas as pd
import pytest

from cchc_analysis.dataset.schema import TABLES, _surely_valid, check_schema, pandera_schema
from cchc_analysis.errors import CchcError


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


def test_a_table_of_other_dtypes_is_left_to_pandera():
    frame = valid().assign(raw=lambda frame: frame["raw"].astype(object))  # text as Python objects: pandera's call
    assert not _surely_valid(frame, "indicators") and _pandera_passes(frame)
    check_schema(frame, "report.txt")


@pytest.mark.parametrize("table", [name for name in TABLES if TABLES[name].fields and name != "sections"])
def test_the_dtype_question_is_answered_as_pandera_validation_answers_it(table):
    """``_dtypes_accepted`` asks pandera's dtype check directly; validating a frame without rows says the same."""
    import pandera.pandas as pa

    from cchc_analysis.dataset.schema import _dtypes_accepted, pandera_schema

    empty = pd.DataFrame({name: pd.Series([], dtype=dtype) for name, dtype in TABLES[table].dtypes().items()})
    try:
        pandera_schema(table).validate(empty, lazy=True)
        validated = True
    except pa.errors.SchemaErrors:
        validated = False
    assert _dtypes_accepted(table) == validated
