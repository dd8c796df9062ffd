"""What the prose checks read: the stated figures by id and the table series by indicator, with the small
formatting both the prose checks and the target evidence word their findings with."""

from __future__ import annotations

import math

import pandas as pd

from cchc_analysis.findings import nested
from cchc_analysis.prose.facts import parse_vi_number


def fmt(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    v = float(v)
    return str(int(v)) if v.is_integer() else f"{v:g}"


_QUALIFIER_KEYS = {"more_than": "qualifier_more_than", "at_least": "qualifier_at_least", "planned": "qualifier_planned"}


class FactIndex:
    """The stated figures of one report by id."""

    def __init__(self, df: pd.DataFrame):
        self.by_id = {r["id"]: r for r in df.to_dict("records")}

    def get(self, fid: str) -> dict | None:
        return self.by_id.get(fid)

    def desc(self, fid: str) -> dict:
        """A figure as a finding cites it: "more than 230 (what it counts, line 25)"."""
        f = self.by_id[fid]
        key = _QUALIFIER_KEYS.get(f["qualifier"] or "exact")
        return nested("fact_desc", qualifier=nested(key) if key else "", value=fmt(f["value"]), counts=f["counts"],
                      line=f["line"])


# Table access


_SERIES_CACHE: dict[int, tuple] = {}
_SERIES_COLUMNS = ("indicator_id", "year", "period", "as_of", "value", "raw", "source_line", "appendix", "unit",
                   "district")


def series(ind: pd.DataFrame | None, iid: str) -> pd.DataFrame:
    """Rows of one indicator, sorted by year (then as_of), with value as float.

    The table is split by indicator once and kept for the frame in hand: the target and fact checks ask for the
    same few series hundreds of times per report, and a filter of the whole frame each time dominated a corpus run.
    """
    if ind is None or ind.empty or "indicator_id" not in ind.columns:
        return pd.DataFrame(columns=["year", "value", "raw", "source_line", "appendix"])
    cached = _SERIES_CACHE.get(id(ind))
    if cached is None or cached[0] is not ind:
        # only the columns the checks read, as plain Python objects: element access on pandas' Arrow-backed
        # strings costs more than the checks themselves
        columns = [c for c in _SERIES_COLUMNS if c in ind.columns]
        prepared = ind[columns].astype({c: object for c in columns if c not in ("value", "year")})
        prepared["value"] = pd.to_numeric(ind["value"], errors="coerce")
        prepared["year"] = pd.to_numeric(ind.get("year"), errors="coerce")
        sort = ["indicator_id", "year"] + (["as_of"] if "as_of" in prepared.columns else [])
        prepared = prepared.sort_values(sort, kind="stable").reset_index(drop=True)
        positions = prepared.groupby("indicator_id", sort=False).indices
        _SERIES_CACHE.clear()
        cached = _SERIES_CACHE[id(ind)] = (ind, prepared, positions, {})
    _, prepared, positions, made = cached
    if iid not in made:
        rows = positions.get(iid)
        made[iid] = prepared.iloc[rows] if rows is not None else prepared.iloc[0:0]
    return made[iid].copy()


def values_text(s: pd.DataFrame) -> str:
    parts = []
    n = len(s)

    def column(name):
        return s[name].tolist() if name in s.columns else [None] * n

    for y, period, v, raw in zip(column("year"), column("period"), column("value"), column("raw")):
        label = str(int(y)) if y is not None and not (isinstance(y, float) and math.isnan(y)) else str(period or "")
        raw = str(raw or "")
        has_v = v is not None and not (isinstance(v, float) and math.isnan(v))
        shown = fmt(v) if has_v else f"«{raw}»"
        if has_v and raw and parse_vi_number(raw) is None and not raw.replace(".", "").replace("%", "").isdigit():
            shown += f" «{raw}»"
        parts.append(f"{label}: {shown}")
    return ", ".join(parts)


def appendix_of(s: pd.DataFrame):
    if s is None or s.empty or "appendix" not in s.columns:
        return None
    v = s["appendix"].dropna()
    return int(v.iloc[0]) if len(v) else None


def src_lines(s: pd.DataFrame) -> list[int]:
    if s is None or s.empty or "source_line" not in s.columns:
        return []
    return [int(x) for x in pd.to_numeric(s["source_line"], errors="coerce").dropna()]


def with_value(s: pd.DataFrame) -> pd.DataFrame:
    return s[s["value"].notna()] if not s.empty else s


