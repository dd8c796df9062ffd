"""Comparing districts (issue 6): the measures that mean the same in every district, side by side.

Raw counts (procedures, staff, documents issued) grow with a district's size, so only rates and shares are compared:
the ``percent`` measures of ``presentation.MEASURES``. Even those rest on each district's own reporting, and a
district's latest figure may stand at another date than its neighbour's; every cell says which.

Everything here works on the whole corpus at once (one pivot of the indicators, grouped operations, no loop over
districts), so a corpus of 700 districts is compared in seconds. ``notebooks/compare.ipynb`` only calls these.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cchc_analysis.pack import views as P
from cchc_analysis.pack.catalog import catalog
from cchc_analysis.errors import CchcError

COMPARABLE_UNITS = ("percent",)
INDICATOR_COLUMNS = ["district", "area", "indicator_id", "period", "year", "as_of", "value"]


def t(key: str, lang: str) -> str:
    """A UI string of the comparison page (``compare`` in text/<lang>.yaml)."""
    return catalog(lang)["compare"][key]


@dataclass
class Corpus:
    """The part of the processed dataset a comparison needs, for the chosen districts."""
    indicators: pd.DataFrame
    codebook: pd.DataFrame
    quality: pd.DataFrame
    districts: pd.DataFrame    # district, district_code, province, synthetic
    directory: Path


def load_corpus(directory: str | Path, districts: list[str] | None = None) -> Corpus:
    """Read ``data/processed`` (Parquet indicators when present: the fast path) narrowed to ``districts``."""
    d = Path(directory)
    if not (d / "indicators.csv").exists() and not (d / "indicators.parquet").exists():
        raise CchcError("no processed dataset here (indicators.csv is missing); run `cchc parse` first", file=d)
    if (d / "indicators.parquet").exists():
        ind = pd.read_parquet(d / "indicators.parquet", columns=INDICATOR_COLUMNS)
    else:
        ind = pd.read_csv(d / "indicators.csv", usecols=INDICATOR_COLUMNS, dtype=str, keep_default_na=False)
        ind["value"] = pd.to_numeric(ind["value"].replace("", None)).astype(float)
        ind["year"] = ind["year"].astype(int)
    ind["district"] = ind["district"].map(P.nfc)
    book = pd.read_csv(d / "indicators_codebook.csv", dtype=str, keep_default_na=False)
    book["appendix"] = book["appendix"].astype(int)
    quality = pd.read_csv(d / "quality.csv", dtype=str, keep_default_na=False) if (d / "quality.csv").exists() \
        else pd.DataFrame(columns=["district", "check", "severity", "appendix", "indicator_id"])
    if (d / "districts.csv").exists():
        units = pd.read_csv(d / "districts.csv", dtype=str, keep_default_na=False)
        units["district"] = units["district"].map(P.nfc)
    else:
        units = ind[["district"]].drop_duplicates().assign(district_code="", province="")
    if "synthetic" not in units:
        units["synthetic"] = "False"
    units["synthetic"] = units["synthetic"].astype(str).str.lower() == "true"
    units = units.drop_duplicates("district")[["district", "district_code", "province", "synthetic"]]
    known = sorted(units["district"])
    if districts:
        wanted = [P.nfc(x) for x in districts]
        unknown = [x for x in wanted if x not in set(known)]
        if unknown:
            shown = ", ".join(known[:20]) + (f" … ({len(known)} in all)" if len(known) > 20 else "")
            raise CchcError(f"unknown district {', '.join(map(repr, unknown))}; the dataset holds: {shown}", file=d)
        ind = ind[ind["district"].isin(wanted)]
        quality = quality[quality["district"].isin(wanted)]
        units = units[units["district"].isin(wanted)]
    return Corpus(ind.reset_index(drop=True), book, quality.reset_index(drop=True),
                  units.sort_values("district").reset_index(drop=True), d)


def check_params(areas: list[str] | None, lang: str) -> list[str]:
    """The areas to compare, in report order (all when None); ``CchcError`` for an unknown area or language."""
    P.check_params(None, lang)
    known = P.area_ids()
    chosen = list(areas) if areas else known
    for area in chosen:
        P.check_params(area, lang)
    return [a for a in known if a in chosen]


# --------------------------------------------------------------------------------------------------- measures

def comparable_measures(area: str | None = None) -> list[P.Measure]:
    """Rates and shares (not raw counts): the measures that mean the same in a small and a large district."""
    return [m for m in P.MEASURES if m.unit in COMPARABLE_UNITS and (area is None or m.area == area)]


def resolve_in_codebook(codebook: pd.DataFrame, ref: P.Ref) -> str | None:
    """The indicator id a measure's ``Ref`` points to, looked up once in the codebook (shared by all districts)."""
    rows = codebook[codebook["appendix"] == ref.appendix]
    hits = []
    for iid, label, parent in zip(rows["indicator_id"], rows["label_vi"], rows["parent"]):
        folded = P.fold(label)
        if ref.label not in folded or (ref.exclude and ref.exclude in folded):
            continue
        if ref.parent is not None and ref.parent not in P.fold(parent):
            continue
        hits.append(iid)
    return hits[ref.nth] if len(hits) > ref.nth else None


def measure_values(corpus: Corpus, measures: list[P.Measure]) -> pd.DataFrame:
    """Every measure for every district and period: district, measure, area, unit, period, year, as_of, value.

    Same rules as ``presentation.compute_measure`` (a ratio needs a numerator and a non-zero denominator in the
    same column of the report), computed for all districts in one pass.
    """
    columns = ["district", "measure", "area", "unit", "period", "year", "as_of", "value"]
    refs = {m.key: ([resolve_in_codebook(corpus.codebook, r) for r in m.num],
                    [resolve_in_codebook(corpus.codebook, r) for r in m.den]) for m in measures}
    needed = {i for num, den in refs.values() for i in num + den if i}
    ind = corpus.indicators
    sub = ind[ind["indicator_id"].isin(needed) & ind["value"].notna()]
    if sub.empty:
        return pd.DataFrame(columns=columns)
    sub = sub.assign(key=sub["period"].astype(str) + "|" + sub["as_of"].astype(str))
    wide = sub.pivot_table(index=["district", "key"], columns="indicator_id", values="value", aggfunc="first")
    meta = sub.groupby(["district", "key"])[["period", "year", "as_of"]].first()
    frames = []
    for m in measures:
        num_ids = [i for i in refs[m.key][0] if i in wide]
        if not num_ids:
            continue
        value = wide[num_ids].sum(axis=1, min_count=1)
        if m.kind == "ratio":
            den_ids = [i for i in refs[m.key][1] if i in wide]
            if not den_ids:
                continue
            den = wide[den_ids].sum(axis=1, min_count=1)
            value = (value / den.where(den != 0)) * 100
        frame = meta.assign(value=value).dropna(subset=["value"]).reset_index()
        if m.kind == "cumulative":
            frame = frame.sort_values(["district", "year"], kind="stable")
            frame["value"] = frame.groupby("district")["value"].cumsum()
        frames.append(frame.assign(measure=m.key, area=m.area, unit=m.unit))
    if not frames:
        return pd.DataFrame(columns=columns)
    out = pd.concat(frames, ignore_index=True)
    out["year"] = out["year"].astype(int)
    return out[columns].sort_values(["measure", "district", "year", "as_of"], kind="stable").reset_index(drop=True)


def latest_values(values: pd.DataFrame) -> pd.DataFrame:
    """Each district's latest figure of each measure (latest year, then latest as-of date)."""
    if values.empty:
        return values.assign(inconsistent=pd.Series(dtype=bool))
    last = values.sort_values(["measure", "district", "year", "as_of"], kind="stable") \
        .groupby(["measure", "district"], sort=False).tail(1).reset_index(drop=True)
    return last.assign(inconsistent=(last["unit"] == "percent") & (last["value"] > 100 + 1e-9))


def rankings(latest: pd.DataFrame) -> pd.DataFrame:
    """Rank of each district on each measure (1 = highest; ties share the best rank), among districts whose figure
    is consistent (a share above 100% is not ranked); ``of`` = how many were ranked."""
    ok = latest[~latest["inconsistent"]].copy()
    ok["rank"] = ok.groupby("measure")["value"].rank(ascending=False, method="min").astype(int)
    ok["of"] = ok.groupby("measure")["value"].transform("size").astype(int)
    return ok[["measure", "district", "value", "rank", "of"]].reset_index(drop=True)


def overall_rank(ranks: pd.DataFrame, measures: list[P.Measure]) -> pd.DataFrame:
    """Mean rank per district over the given measures (districts ranked on fewer measures are still listed)."""
    keys = [m.key for m in measures]
    sub = ranks[ranks["measure"].isin(keys)]
    if sub.empty:
        return pd.DataFrame(columns=["district", "mean_rank", "ranked_on"])
    out = sub.groupby("district").agg(mean_rank=("rank", "mean"), ranked_on=("rank", "size")).reset_index()
    return out.sort_values(["mean_rank", "district"], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------------------------------- quality

def data_quality(corpus: Corpus, areas: list[str]) -> pd.DataFrame:
    """Per district and area: completeness (share of the area's codebook indicators with at least one figure),
    and the errors and warnings of ``quality.csv`` that concern the area."""
    book = corpus.codebook
    area_of_appendix = dict(zip(P.areas()["appendix"].astype(str), P.areas()["area"]))
    expected = book[book["area"].isin(areas)].groupby("area")["indicator_id"].nunique()
    ind = corpus.indicators
    have = ind[ind["value"].notna() & ind["area"].isin(areas)] \
        .groupby(["district", "area"])["indicator_id"].nunique()
    grid = pd.MultiIndex.from_product([corpus.districts["district"], areas], names=["district", "area"])
    out = pd.DataFrame(index=grid).reset_index()
    out["completeness"] = [have.get((d, a), 0) / expected.get(a, 1) * 100 if expected.get(a) else float("nan")
                           for d, a in zip(out["district"], out["area"])]
    q = corpus.quality
    if not q.empty:
        id_area = dict(zip(book["indicator_id"], book["area"]))
        area = q["indicator_id"].map(id_area)
        area = area.fillna(q["appendix"].map(area_of_appendix))
        q = q.assign(area=area)
        counts = q[q["severity"].isin(["error", "warning"])].groupby(["district", "area", "severity"]).size()
        for severity in ("error", "warning"):
            out[severity + "s"] = [int(counts.get((d, a, severity), 0)) for d, a in zip(out["district"], out["area"])]
    else:
        out["errors"] = 0
        out["warnings"] = 0
    return out


# --------------------------------------------------------------------------------------------------- display

def _district_cell(name: str, synthetic: bool, lang: str) -> str:
    return t("synthetic_district", lang).format(name=name) if synthetic else name


def _when(row, lang: str) -> str:
    return P.when_label(row["period"], row["year"], row["as_of"], lang)


def _limit(order: list[str], max_rows: int | None) -> list[str]:
    """The first and last ``max_rows // 2`` of an ordered list of districts (all when it is short enough)."""
    if not max_rows or len(order) <= max_rows:
        return order
    half = max_rows // 2
    return order[:half] + order[-(max_rows - half):]


def districts_html(corpus: Corpus, lang: str = "vi", max_rows: int | None = 40) -> str:
    """The districts compared (code, province, observations); beyond ``max_rows``, a count per province."""
    if max_rows and len(corpus.districts) > max_rows:
        per = corpus.districts.groupby("province").agg(n=("district", "size"), synthetic=("synthetic", "sum"))
        rows = [{"province": province, "n": P.fmt_number(r.n, lang),
                 "synthetic": P.fmt_number(r.synthetic, lang) if r.synthetic else ""}
                for province, r in per.iterrows()]
        cols = [("province", t("province", lang)), ("n", t("districts", lang)),
                ("synthetic", t("synthetic_column", lang))]
        return P.html_table(rows, cols, numeric={"n", "synthetic"})
    counts = corpus.indicators.groupby("district")["value"].count()
    rows = [{"district": _district_cell(r.district, r.synthetic, lang), "code": r.district_code, "province": r.province,
             "n": P.fmt_number(counts.get(r.district, 0), lang)}
            for r in corpus.districts.itertuples()]
    cols = [("district", t("district", lang)), ("code", t("code", lang)), ("province", t("province", lang)),
            ("n", t("reports", lang))]
    return P.html_table(rows, cols, numeric={"n"})


def side_by_side_html(latest: pd.DataFrame, ranks: pd.DataFrame, corpus: Corpus, area: str, lang: str = "vi",
                      max_rows: int | None = 40) -> str:
    """Districts (rows, by overall rank) x the area's comparable measures: latest figure, its date, its rank."""
    measures = [m for m in comparable_measures(area) if m.key in set(latest["measure"])]
    if not measures:
        return P.render_block(P.message_block(t("no_comparable", lang), "muted"))
    order_df = overall_rank(ranks, measures)
    ranked = list(order_df["district"])
    order = ranked + [d for d in corpus.districts["district"] if d not in set(ranked)]
    shown = _limit(order, max_rows)
    cell = {(r.measure, r.district): r for r in latest[latest["measure"].isin([m.key for m in measures])]
            .itertuples()}
    rank_of = {(r.measure, r.district): (r.rank, r.of) for r in ranks.itertuples()}
    mean_rank = dict(zip(order_df["district"], order_df["mean_rank"]))
    synthetic = dict(zip(corpus.districts["district"], corpus.districts["synthetic"]))
    # a measure whose latest figures all stand at one date says it once, in its header
    dates = latest.groupby("measure").apply(lambda g: {(p, y, a) for p, y, a in zip(g["period"], g["year"],
                                                                                    g["as_of"])},
                                            include_groups=False)
    common = {key: next(iter(when)) for key, when in dates.items() if len(when) == 1}
    rows = []
    for name in shown:
        row = {"district": _district_cell(name, synthetic.get(name, False), lang),
               "overall": P.fmt_number(mean_rank[name], lang, 1) if name in mean_rank else ""}
        for m in measures:
            r = cell.get((m.key, name))
            if r is None:
                continue
            text = P.fmt_value(r.value, m.unit, lang)
            if m.key not in common:
                text += f" ({P.when_label(r.period, r.year, r.as_of, lang)})"
            if r.inconsistent:
                text += f" [{t('inconsistent', lang)}]"
            elif (m.key, name) in rank_of:
                text += f" #{rank_of[(m.key, name)][0]}"
            row[m.key] = text
        rows.append(row)
    cols = [("district", t("district", lang)), ("overall", t("overall_rank", lang))] + \
        [(m.key, P.measure_label(m, lang) + (f" ({P.when_label(*common[m.key], lang)})" if m.key in common else ""))
         for m in measures]
    note = t("ranking_note", lang)
    if len(shown) < len(order):
        note += " " + t("shown", lang).format(shown=len(shown), total=len(order))
    return P.render_block(P.table_block(rows, cols, css_class="data compare", numeric={"overall"}, note=note))


def quality_html(quality: pd.DataFrame, area: str, lang: str = "vi", max_rows: int | None = 40) -> str:
    """Districts whose data for the area is incomplete or inconsistent, worst first."""
    q = quality[quality["area"] == area]
    q = q[(q["completeness"] < 100) | (q["errors"] > 0) | (q["warnings"] > 0)]
    if q.empty:
        return P.render_block(P.message_block(P.t("no_quality", lang), "muted"))
    q = q.sort_values(["errors", "warnings", "completeness", "district"], ascending=[False, False, True, True],
                      kind="stable")
    shown = q.head(max_rows) if max_rows else q
    rows = [{"district": r.district, "completeness": P.fmt_value(r.completeness, "percent", lang, None),
             "errors": str(r.errors), "warnings": str(r.warnings)} for r in shown.itertuples()]
    cols = [("district", t("district", lang)), ("completeness", t("completeness", lang)),
            ("errors", t("errors", lang)), ("warnings", t("warnings", lang))]
    note = t("quality_note", lang)
    if len(shown) < len(q):
        note += " " + t("shown", lang).format(shown=len(shown), total=len(q))
    return P.render_block(P.table_block(rows, cols, numeric={"completeness", "errors", "warnings"}, note=note))


def summary_html(quality: pd.DataFrame, latest: pd.DataFrame, areas: list[str], lang: str = "vi") -> str:
    """One row per area: how many districts have a comparable figure, and their errors and warnings."""
    rows = []
    for area in areas:
        keys = [m.key for m in comparable_measures(area)]
        q = quality[quality["area"] == area]
        rows.append({"area": P.area_label(area, lang), "measures": str(len(keys)),
                     "districts": str(latest.loc[latest["measure"].isin(keys), "district"].nunique()),
                     "completeness": P.fmt_value(q["completeness"].mean(), "percent", lang) if len(q) else "",
                     "errors": str(int(q["errors"].sum())), "warnings": str(int(q["warnings"].sum()))})
    cols = [("area", P.t("area", lang)), ("measures", t("rates", lang)), ("districts", t("districts", lang)),
            ("completeness", t("completeness", lang)), ("errors", t("errors", lang)),
            ("warnings", t("warnings", lang))]
    return P.html_table(rows, cols, numeric={"measures", "districts", "completeness", "errors", "warnings"})
