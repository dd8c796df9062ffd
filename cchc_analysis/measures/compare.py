"""Comparing districts on the measures that mean the same in each: ranks, overall rank, data quality.

Raw counts (procedures, staff, documents issued) grow with a district's size, so only rates and shares are
compared. Everything works on the whole corpus at once (grouped operations, no loop over districts) on the frames of
``measures.compute``.
"""

from __future__ import annotations

import pandas as pd

from cchc_analysis.measures.definitions import Measure, load_measures

COMPARABLE_UNITS = ("percent",)


def comparable_measures(area: str | None = None) -> list[Measure]:
    """Rates and shares (not raw counts): the measures that mean the same in a small and a large district."""
    return [m for m in load_measures() if m.unit in COMPARABLE_UNITS and (area is None or m.area == area)]


def rankings(latest: pd.DataFrame) -> pd.DataFrame:
    """Rank of each district on each measure (1 = highest; ties share the best rank), among districts whose figure
    is consistent (a share above 100% is not ranked); ``of`` = how many were ranked."""
    ok = latest[~latest["inconsistent"]].copy()
    ok["rank"] = ok.groupby("measure")["value"].rank(ascending=False, method="min").astype(int)
    ok["of"] = ok.groupby("measure")["value"].transform("size").astype(int)
    return ok[["measure", "district", "value", "rank", "of"]].reset_index(drop=True)


def overall_rank(ranks: pd.DataFrame, measures: list[Measure]) -> pd.DataFrame:
    """Mean rank per district over the given measures (districts ranked on fewer measures are still listed)."""
    keys = [m.key for m in measures]
    sub = ranks[ranks["measure"].isin(keys)]
    if sub.empty:
        return pd.DataFrame(columns=["district", "mean_rank", "ranked_on"])
    out = sub.groupby("district").agg(mean_rank=("rank", "mean"), ranked_on=("rank", "size")).reset_index()
    return out.sort_values(["mean_rank", "district"], kind="stable").reset_index(drop=True)


def data_quality(indicators: pd.DataFrame, codebook: pd.DataFrame, quality: pd.DataFrame, districts: list[str],
                 areas: list[str]) -> pd.DataFrame:
    """Per district and area: completeness (share of the area's codebook indicators with at least one figure),
    and the errors and warnings of ``quality.csv`` that concern the area (by indicator id, else by appendix)."""
    expected = codebook[codebook["area"].isin(areas)].groupby("area")["indicator_id"].nunique()
    have = indicators[indicators["value"].notna() & indicators["area"].isin(areas)] \
        .groupby(["district", "area"])["indicator_id"].nunique()
    grid = pd.MultiIndex.from_product([districts, areas], names=["district", "area"])
    out = pd.DataFrame(index=grid).reset_index()
    out["completeness"] = [have.get((d, a), 0) / expected.get(a, 1) * 100 if expected.get(a) else float("nan")
                           for d, a in zip(out["district"], out["area"])]
    area_of_id = dict(zip(codebook["indicator_id"], codebook["area"]))
    area_of_appendix = dict(zip(codebook["appendix"].astype(str), codebook["area"]))
    area = quality["indicator_id"].map(area_of_id).fillna(quality["appendix"].astype(str).map(area_of_appendix))
    counts = quality.assign(area=area)[quality["severity"].isin(["error", "warning"])] \
        .groupby(["district", "area", "severity"]).size()
    for severity in ("error", "warning"):
        out[severity + "s"] = [int(counts.get((d, a, severity), 0)) for d, a in zip(out["district"], out["area"])]
    return out
