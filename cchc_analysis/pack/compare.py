"""Comparing districts (issue 6): the measures that mean the same in every district, side by side.

Raw counts (procedures, staff, documents issued) grow with a district's size, so only rates and shares are compared:
the ``percent`` measures of ``presentation.MEASURES``. Even those rest on each district's own reporting, and a
district's latest figure may stand at another date than its neighbour's; every cell says which.

Everything here works on the whole corpus at once (one pivot of the indicators, grouped operations, no loop over
districts), so a corpus of 700 districts is compared in seconds. ``notebooks/compare.ipynb`` only calls these.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cchc_analysis.dataset.io import load_dataset
from cchc_analysis.dataset.model import Dataset
from cchc_analysis.pack import views as P

TEXT = {
    "vi": {
        "title": "So sánh các huyện",
        "lead": "Các huyện được so sánh trên các tỷ lệ, không trên số tuyệt đối.",
        "caveat": "Số tuyệt đối (số thủ tục, số biên chế, số văn bản) phụ thuộc quy mô của huyện nên không được so "
                  "sánh; chỉ so sánh các tỷ lệ. Các tỷ lệ được tính từ số liệu huyện tự báo cáo, có thể khác nhau về "
                  "cách hiểu chỉ tiêu; số mới nhất của các huyện có thể ở các thời điểm khác nhau (ghi trong ngoặc). "
                  "Tỷ lệ trên 100% là số liệu không khớp: được nêu, không được xếp hạng.",
        "districts": "Các huyện",
        "district": "Huyện",
        "code": "Mã ĐVHC",
        "province": "Tỉnh",
        "reports": "Số quan sát",
        "side_by_side": "Các tỷ lệ, số mới nhất",
        "ranking": "Xếp hạng",
        "ranking_note": "Hạng 1 là tỷ lệ cao nhất; hạng chung là trung bình các hạng của lĩnh vực.",
        "overall_rank": "Hạng chung",
        "trends": "Xu hướng",
        "quality": "Số liệu thiếu hoặc không khớp",
        "quality_note": "Đủ số liệu: tỷ lệ chỉ tiêu của lĩnh vực có ít nhất một số; lỗi và cảnh báo lấy từ quality.csv.",
        "completeness": "Đủ số liệu",
        "errors": "Lỗi",
        "warnings": "Cảnh báo",
        "no_comparable": "Lĩnh vực này không có tỷ lệ nào so sánh được giữa các huyện.",
        "inconsistent": "không khớp",
        "shown": "Hiển thị {shown} trên {total} huyện (cao nhất và thấp nhất); đầy đủ trong tệp dữ liệu.",
        "median": "trung vị",
        "iqr": "khoảng tứ phân vị",
        "synthetic": "DỮ LIỆU THỬ NGHIỆM (SYNTHETIC): không phải báo cáo thật",
        "summary": "Tổng quan",
        "rates": "Số tỷ lệ",
        "per_district": "Trang đánh giá của từng huyện: cchc build --district \"<tên huyện>\".",
    },
    "en": {
        "title": "Comparing districts",
        "lead": "Districts are compared on rates and shares, not on raw counts.",
        "caveat": "Raw counts (procedures, staff, documents) depend on a district's size and are not compared; only "
                  "rates and shares are. The rates come from each district's self-reported figures, whose "
                  "definitions may differ; districts' latest figures may stand at different dates (in brackets). "
                  "A share above 100% means the figures disagree: it is shown, not ranked.",
        "districts": "Districts",
        "district": "District",
        "code": "Code",
        "province": "Province",
        "reports": "Observations",
        "side_by_side": "Rates and shares, latest figure",
        "ranking": "Ranking",
        "ranking_note": "Rank 1 is the highest rate; the overall rank is the mean of the area's ranks.",
        "overall_rank": "Overall rank",
        "trends": "Trends",
        "quality": "Incomplete or inconsistent data",
        "quality_note": "Completeness: share of the area's indicators with at least one figure; errors and warnings "
                        "from quality.csv.",
        "completeness": "Completeness",
        "errors": "Errors",
        "warnings": "Warnings",
        "no_comparable": "This area has no rate that is comparable across districts.",
        "inconsistent": "inconsistent",
        "shown": "Showing {shown} of {total} districts (highest and lowest); all are in the data files.",
        "median": "median",
        "iqr": "interquartile range",
        "synthetic": "SYNTHETIC TEST DATA: not a real report",
        "summary": "Summary",
        "rates": "Rates",
        "per_district": "A district's own evaluation pages: cchc build --district \"<name>\".",
    },
}

COMPARABLE_UNITS = ("percent",)
TABLES = ("indicators", "indicators_codebook", "quality", "districts")
COLUMNS = {"indicators": ["district", "area", "indicator_id", "period", "year", "as_of", "value"],
           "districts": ["district", "district_code", "province", "synthetic"]}


def t(key: str, lang: str) -> str:
    return TEXT[lang][key]


def load_corpus(directory: str | Path, districts: list[str] | None = None) -> Dataset:
    """The part of the processed dataset a comparison needs (Parquet observations, a few columns), narrowed to
    ``districts`` (all when None), the districts in name order."""
    corpus = load_dataset(directory, tables=TABLES, columns=COLUMNS).for_districts(districts)
    corpus.districts = corpus.districts.sort_values("district").reset_index(drop=True)
    return corpus


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


def measure_values(corpus: Dataset, measures: list[P.Measure]) -> pd.DataFrame:
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

def data_quality(corpus: Dataset, areas: list[str]) -> pd.DataFrame:
    """Per district and area: completeness (share of the area's codebook indicators with at least one figure),
    and the errors and warnings of ``quality.csv`` that concern the area."""
    book = corpus.codebook
    area_of_appendix = dict(zip(P.areas()["appendix"], P.areas()["area"]))
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

def _district_cell(name: str, synthetic: bool) -> str:
    return f"{name} (SYNTHETIC)" if synthetic else name


def _when(row, lang: str) -> str:
    return P.when_label(row["period"], row["year"], row["as_of"], lang)


def _limit(order: list[str], max_rows: int | None) -> list[str]:
    """The first and last ``max_rows // 2`` of an ordered list of districts (all when it is short enough)."""
    if not max_rows or len(order) <= max_rows:
        return order
    half = max_rows // 2
    return order[:half] + order[-(max_rows - half):]


def districts_html(corpus: Dataset, lang: str = "vi", max_rows: int | None = 40) -> str:
    """The districts compared (code, province, observations); beyond ``max_rows``, a count per province."""
    if max_rows and len(corpus.districts) > max_rows:
        per = corpus.districts.groupby("province").agg(n=("district", "size"), synthetic=("synthetic", "sum"))
        rows = [{"province": province, "n": P.fmt_number(r.n, lang),
                 "synthetic": P.fmt_number(r.synthetic, lang) if r.synthetic else ""}
                for province, r in per.iterrows()]
        cols = [("province", t("province", lang)), ("n", t("districts", lang)), ("synthetic", "SYNTHETIC")]
        return P.html_table(rows, cols, numeric={"n", "synthetic"})
    counts = corpus.indicators.groupby("district")["value"].count()
    rows = [{"district": _district_cell(r.district, r.synthetic), "code": r.district_code, "province": r.province,
             "n": P.fmt_number(counts.get(r.district, 0), lang)}
            for r in corpus.districts.itertuples()]
    cols = [("district", t("district", lang)), ("code", t("code", lang)), ("province", t("province", lang)),
            ("n", t("reports", lang))]
    return P.html_table(rows, cols, numeric={"n"})


def synthetic_banner_html(corpus: Dataset, lang: str = "vi") -> str:
    """A warning when the comparison includes synthetic (test) districts; "" otherwise."""
    if not corpus.districts["synthetic"].any():
        return ""
    return f'<p class="warning synthetic">{P.esc(t("synthetic", lang))}</p>'


def side_by_side_html(latest: pd.DataFrame, ranks: pd.DataFrame, corpus: Dataset, area: str, lang: str = "vi",
                      max_rows: int | None = 40) -> str:
    """Districts (rows, by overall rank) x the area's comparable measures: latest figure, its date, its rank."""
    measures = [m for m in comparable_measures(area) if m.key in set(latest["measure"])]
    if not measures:
        return P.paragraph(t("no_comparable", lang), "muted")
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
        row = {"district": _district_cell(name, synthetic.get(name, False)),
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
    html = P.html_table(rows, cols, css_class="data compare", numeric={"overall"})
    note = t("ranking_note", lang)
    if len(shown) < len(order):
        note += " " + t("shown", lang).format(shown=len(shown), total=len(order))
    return P.paragraph(note, "note") + html


def quality_html(quality: pd.DataFrame, area: str, lang: str = "vi", max_rows: int | None = 40) -> str:
    """Districts whose data for the area is incomplete or inconsistent, worst first."""
    q = quality[quality["area"] == area]
    q = q[(q["completeness"] < 100) | (q["errors"] > 0) | (q["warnings"] > 0)]
    if q.empty:
        return P.paragraph(P.t("no_quality", lang), "muted")
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
    return P.paragraph(note, "note") + P.html_table(rows, cols, numeric={"completeness", "errors", "warnings"})


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
