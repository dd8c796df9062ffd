"""One engine for the derived measures, over the tidy indicators of any number of districts.

A district's page and the comparison of the whole corpus call the same function: the indicators are pivoted once
to district x report column x indicator id, and each measure is a column operation on that table. A column of the
report is its period and its as-of date (Phụ lục 2 has "Năm 2020" and "Năm 2020 (Tính đến 31/3)"): a ratio takes
its numerator and its denominator from the same column, and has no value without a non-zero denominator there.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from cchc_analysis.measures.definitions import Measure

COLUMNS = ["district", "measure", "area", "unit", "period", "year", "as_of", "column", "value", "numerator",
           "denominator"]
INPUT_COLUMNS = ["district", "indicator_id", "period", "year", "as_of", "value"]
ORDER = ["measure", "district", "year", "as_of"]


def empty_values() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=float if c in ("value", "numerator", "denominator") else object)
                         for c in COLUMNS})


def measure_values(indicators: pd.DataFrame, measures: Iterable[Measure]) -> pd.DataFrame:
    """Every measure for every district and column of the report where it can be computed, one row each
    (``COLUMNS``), ordered by measure, district, year and as-of date. ``indicators`` needs ``INPUT_COLUMNS``."""
    measures = list(measures)
    needed = {i for m in measures for i in (*m.numerator, *m.denominator)}
    actual = indicators["value"].notna()
    if "value_status" in indicators:  # a figure stated as a forecast is not the column's actual
        actual &= indicators["value_status"] != "forecast"
    rows = indicators.loc[indicators["indicator_id"].isin(needed) & actual, INPUT_COLUMNS]
    if rows.empty:
        return empty_values()
    rows = rows.assign(column=rows["period"].astype(str) + "|" + rows["as_of"].fillna("").astype(str))
    wide = rows.pivot_table(index=["district", "column"], columns="indicator_id", values="value", aggfunc="first")
    when = rows.groupby(["district", "column"])[["period", "year", "as_of"]].first()
    frames = [frame for frame in (_one_measure(m, wide, when) for m in measures) if not frame.empty]
    if not frames:
        return empty_values()
    out = pd.concat(frames, ignore_index=True)
    out["year"] = out["year"].astype(int)
    return out[COLUMNS].sort_values(ORDER, kind="stable").reset_index(drop=True)


def _total(wide: pd.DataFrame, ids: tuple[str, ...]) -> pd.Series | None:
    """The rows ``ids`` added up per column of the report (empty where none has a value); None when no district
    reports any of them."""
    present = [i for i in ids if i in wide]
    return wide[present].sum(axis=1, min_count=1) if present else None


def _one_measure(m: Measure, wide: pd.DataFrame, when: pd.DataFrame) -> pd.DataFrame:
    numerator = _total(wide, m.numerator)
    denominator = _total(wide, m.denominator) if m.kind == "ratio" else pd.Series(float("nan"), index=wide.index)
    if numerator is None or denominator is None:
        return pd.DataFrame()
    value = numerator / denominator.where(denominator != 0) * 100 if m.kind == "ratio" else numerator
    frame = when.assign(value=value, numerator=numerator, denominator=denominator) \
        .dropna(subset=["value"]).reset_index()
    if m.kind == "cumulative":
        frame = frame.sort_values(["district", "year"], kind="stable")
        frame["value"] = frame.groupby("district")["value"].cumsum()
    return frame.assign(measure=m.key, area=m.area, unit=m.unit)


def latest_values(values: pd.DataFrame) -> pd.DataFrame:
    """Each district's latest figure of each measure (latest year, then latest as-of date); ``inconsistent`` marks a
    share above 100 % (the report's figures disagree)."""
    if values.empty:
        return values.assign(inconsistent=pd.Series(dtype=bool))
    last = values.sort_values(ORDER, kind="stable").groupby(["measure", "district"], sort=False).tail(1) \
        .reset_index(drop=True)
    return last.assign(inconsistent=(last["unit"] == "percent") & (last["value"] > 100 + 1e-9))
