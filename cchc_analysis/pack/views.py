"""What the evaluation pack shows, computed from the tidy dataset (issue 4).

The notebooks in ``notebooks/`` only call these functions and display what they return, so every figure a page
shows is computed here, where it is tested. Every string that comes from data is HTML-escaped by ``html_table`` and
``esc``; nothing in this module builds HTML by pasting data unescaped.

Conventions:
- ``lang`` is ``"vi"`` (default) or ``"en"``; Vietnamese labels come from the data, English ones from the codebook.
- a year column whose as-of date is not the end of that year is labelled with the date ("2020 (đến 31/3/2020)").
- derived measures are declared by indicator id in ``measures/measures.yaml`` and computed by
  ``measures.compute.measure_values``, the engine the comparison of districts uses too.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from functools import lru_cache
from importlib import resources

import pandas as pd

from cchc_analysis.dataset.model import Dataset
from cchc_analysis.errors import CchcError
from cchc_analysis.measures.compute import latest_values, measure_values
from cchc_analysis.measures.definitions import Measure, measure, measures_for_area

LANGS = ("vi", "en")
FIRST_YEAR = 2015

# --------------------------------------------------------------------------------------------------- text

TEXT = {
    "vi": {
        "pack_title": "Đánh giá cải cách hành chính 2011-2020",
        "overview": "Tổng quan",
        "home": "Trang chủ",
        "district": "Huyện",
        "province": "Tỉnh",
        "indicator": "Chỉ tiêu",
        "unit": "Đơn vị",
        "indicators_by_year": "Các chỉ tiêu theo năm",
        "asof_note": "Số liệu năm 2017 của Phụ lục 3 tính đến 30/9/2017; năm 2020 tính đến 31/3/2020 (chưa hết năm).",
        "change_trend": "Thay đổi so với năm 2015 và xu hướng",
        "first": "Năm đầu",
        "latest": "Số mới nhất",
        "change": "Thay đổi",
        "change_pct": "Thay đổi (%)",
        "trend": "Xu hướng",
        "trend_up": "tăng",
        "trend_down": "giảm",
        "trend_flat": "ổn định",
        "trend_na": "không đủ số liệu",
        "charts": "Biểu đồ",
        "derived": "Các chỉ số đánh giá (tính từ số liệu)",
        "measure": "Chỉ số",
        "how": "Cách tính",
        "report_text": "Báo cáo tự đánh giá: kết quả, hạn chế, nguyên nhân",
        "no_sections": "Chưa có phần lời văn của báo cáo (sections.json) trong bộ dữ liệu này.",
        "no_sections_area": "Bộ dữ liệu không có đoạn lời văn nào cho lĩnh vực này.",
        "quality": "Kiểm tra chất lượng số liệu",
        "no_quality": "Không có phát hiện nào về chất lượng số liệu cho lĩnh vực này.",
        "severity": "Mức độ",
        "check": "Kiểm tra",
        "year": "Năm",
        "message": "Nội dung",
        "lines": "Dòng",
        "targets": "Mục tiêu giai đoạn 2021-2030",
        "no_targets": "Không có mục tiêu 2021-2030 nào trong tệp mục tiêu áp dụng cho lĩnh vực này.",
        "target": "Mục tiêu",
        "evidence": "Số liệu 2020 của huyện",
        "comparison": "So sánh",
        "source": "Nguồn",
        "status": "Mức xác minh",
        "indicative": "tham khảo (định nghĩa khác nhau)",
        "direct": "trực tiếp",
        "none": "không có số liệu tương ứng",
        "headline": "Số liệu chính",
        "self_assessment": "Tự đánh giá Phụ lục 8 so với bằng chứng",
        "number": "STT",
        "assessment": "Tự đánh giá",
        "evidence_found": "Bằng chứng (kiểm tra chéo)",
        "no_evidence": "chưa được kiểm tra",
        "quality_summary": "Tóm tắt chất lượng số liệu",
        "count": "Số phát hiện",
        "how_to_read": "Cách đọc bộ tài liệu",
        "pages": "Các trang",
        "downloads": "Tải số liệu",
        "pdf": "Bản PDF đầy đủ",
        "area": "Lĩnh vực",
        "kind_results": "Kết quả đạt được",
        "kind_limitations": "Tồn tại, hạn chế",
        "kind_causes": "Nguyên nhân",
        "line_ref": "dòng",
        "facts": "Số liệu nêu trong lời văn báo cáo",
        "stated_value": "Số liệu",
        "stated_counts": "Đếm gì",
        "quote": "Trích dẫn",
        "dat_true": "Đạt",
        "dat_false": "Không đạt",
        "flag_true": "Có",
        "flag_false": "Không",
        "as_of": "đến",
        "no_data": "Không có số liệu.",
        "more_pages": "Xem trang từng lĩnh vực để biết chi tiết.",
        "generated": "Tạo tự động từ báo cáo gốc bằng cchc_analysis",
        "sev_error": "lỗi",
        "sev_warning": "cảnh báo",
        "sev_info": "thông tin",
        "sev_ok": "khớp",
        "status_verified": "đã xác minh",
        "status_secondary": "nguồn thứ cấp",
        "status_unverified": "chưa xác minh",
    },
    "en": {
        "pack_title": "Evaluation of administrative reform 2011-2020",
        "overview": "Overview",
        "home": "Home",
        "district": "District",
        "province": "Province",
        "indicator": "Indicator",
        "unit": "Unit",
        "indicators_by_year": "Indicators by year",
        "asof_note": "Phụ lục 3 figures for 2017 are as of 30 September 2017; 2020 figures are as of 31 March 2020 "
                     "(part of the year).",
        "change_trend": "Change since 2015 and trend",
        "first": "First year",
        "latest": "Latest",
        "change": "Change",
        "change_pct": "Change (%)",
        "trend": "Trend",
        "trend_up": "rising",
        "trend_down": "falling",
        "trend_flat": "stable",
        "trend_na": "too few values",
        "charts": "Charts",
        "derived": "Evaluation measures (derived from the data)",
        "measure": "Measure",
        "how": "How computed",
        "report_text": "The report's own assessment: results, limitations, causes",
        "no_sections": "The report's narrative (sections.json) is not in this dataset.",
        "no_sections_area": "The dataset holds no narrative for this area.",
        "quality": "Data-quality findings",
        "no_quality": "No data-quality findings for this area.",
        "severity": "Severity",
        "check": "Check",
        "year": "Year",
        "message": "Message",
        "lines": "Lines",
        "targets": "2021-2030 targets",
        "no_targets": "No 2021-2030 target in the targets file applies to this area.",
        "target": "Target",
        "evidence": "District figure, 2020",
        "comparison": "Comparison",
        "source": "Source",
        "status": "Verification",
        "indicative": "indicative (definitions differ)",
        "direct": "direct",
        "none": "no matching figure",
        "headline": "Headline figures",
        "self_assessment": "Phụ lục 8 self-assessment against the evidence",
        "number": "No.",
        "assessment": "Self-assessment",
        "evidence_found": "Evidence (cross-checks)",
        "no_evidence": "not checked",
        "quality_summary": "Data-quality summary",
        "count": "Findings",
        "how_to_read": "How to read this pack",
        "pages": "Pages",
        "downloads": "Data downloads",
        "pdf": "Full PDF",
        "area": "Area",
        "kind_results": "Results",
        "kind_limitations": "Limitations",
        "kind_causes": "Causes",
        "line_ref": "line",
        "facts": "Figures stated in the report's prose",
        "stated_value": "Figure",
        "stated_counts": "What it counts",
        "quote": "Quote",
        "dat_true": "Achieved",
        "dat_false": "Not achieved",
        "flag_true": "Yes",
        "flag_false": "No",
        "as_of": "as of",
        "no_data": "No data.",
        "more_pages": "See each area's page for details.",
        "generated": "Generated from the original report by cchc_analysis",
        "sev_error": "error",
        "sev_warning": "warning",
        "sev_info": "info",
        "sev_ok": "agrees",
        "status_verified": "verified",
        "status_secondary": "secondary source",
        "status_unverified": "unverified",
    },
}

HOW_TO_READ = {
    "vi": [
        "Mỗi trang lĩnh vực trình bày các chỉ tiêu của phụ lục tương ứng theo năm, đúng như báo cáo ghi; ô trống "
        "nghĩa là báo cáo không ghi số.",
        "Năm 2017 của Phụ lục 3 tính đến 30/9/2017 và năm 2020 tính đến 31/3/2020: các số này chưa phải cả năm.",
        "\u201cThay đổi\u201d so sánh số mới nhất với năm đầu có số liệu (thường là 2015); \u201cxu hướng\u201d là "
        "độ dốc của các năm đủ 12 tháng (bỏ các năm chưa hết), \u201cổn định\u201d khi thay đổi dưới 5%.",
        "Các chỉ số đánh giá (tỷ lệ có mặt/được giao, tỷ lệ một cửa, tỷ lệ đúng hạn...) được tính từ các dòng của "
        "bảng; cách tính ghi bên cạnh mỗi chỉ số.",
        "Mục tiêu 2021-2030 lấy từ Nghị quyết 76/NQ-CP, ghi rõ nguồn và mức xác minh; so sánh \u201ctham khảo\u201d "
        "khi định nghĩa khác nhau.",
        "Phát hiện về chất lượng số liệu nêu các số không khớp và dòng của báo cáo gốc; số liệu không bị sửa.",
    ],
    "en": [
        "Each area page shows the indicators of its appendix by year, as the report states them; an empty cell means "
        "the report gives no figure.",
        "Phụ lục 3's 2017 figures are as of 30 September 2017 and all 2020 figures as of 31 March 2020: not full years.",
        "\u201cChange\u201d compares the latest figure with the first year with data (usually 2015); \u201ctrend\u201d is "
        "the slope over full years only, \u201cstable\u201d when the change is under 5%.",
        "Evaluation measures (fill rate in post/allotted, one-stop share, on-time rate...) are computed from the table "
        "rows; each says how it is computed.",
        "2021-2030 targets come from Nghị quyết 76/NQ-CP, with their source and verification status; a comparison is "
        "\u201cindicative\u201d where definitions differ.",
        "Data-quality findings give the figures that disagree and the lines of the original report; no figure is "
        "corrected.",
    ],
}


def t(key: str, lang: str) -> str:
    return TEXT[lang][key]


def esc(value) -> str:
    """HTML-escape anything (None and NaN become an empty string)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value), quote=True)


def nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value)


# --------------------------------------------------------------------------------------------------- loading

@lru_cache(maxsize=1)
def areas() -> pd.DataFrame:
    """The seven reform areas in report order (id, appendix, label_vi, label_en)."""
    with resources.files("cchc_analysis").joinpath("data/areas.csv").open(encoding="utf-8") as f:
        df = pd.read_csv(f, dtype=str, keep_default_na=False)
    df["appendix"] = df["appendix"].astype(int)
    df["order"] = df["order"].astype(int)
    return df.sort_values("order").reset_index(drop=True)


def area_ids() -> list[str]:
    return list(areas()["area"])


def area_label(area: str, lang: str) -> str:
    row = areas().set_index("area").loc[area]
    return nfc(row["label_vi"] if lang == "vi" else row["label_en"])


def check_params(area: str | None = None, lang: str = "vi") -> None:
    """Raise ``CchcError`` for an unknown area or language (the message lists the valid ones)."""
    if lang not in LANGS:
        raise CchcError(f"unknown language {lang!r}; use one of: {', '.join(LANGS)}")
    if area is not None and area not in area_ids():
        raise CchcError(f"unknown area {area!r}; use one of: {', '.join(area_ids())}")


@lru_cache(maxsize=1)
def targets_2021_2030() -> pd.DataFrame:
    with resources.files("cchc_analysis").joinpath("data/targets_2021_2030.csv").open(encoding="utf-8") as f:
        df = pd.read_csv(f, dtype=str, keep_default_na=False)
    for col in ("target_2025", "target_2030"):
        df[col] = pd.to_numeric(df[col].replace("", None), errors="coerce")
    return df


# --------------------------------------------------------------------------------------------------- formatting

def fmt_number(value, lang: str = "vi", decimals: int = 2) -> str:
    """2232 -> "2.232" (vi) / "2,232" (en); 99.95 -> "99,95" / "99.95"; NaN -> ""."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    v = round(float(value), decimals)
    if v == 0:
        v = 0.0  # no "-0"
    text = f"{v:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if lang == "vi":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def fmt_value(value, unit: str, lang: str = "vi", denominator=None) -> str:
    """A value as a reader expects it for its unit (percent sign, Đạt/Không đạt, 13/13)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if unit == "percent":
        return fmt_number(value, lang) + ("\u00a0%" if lang == "vi" else "%")
    if unit == "dat":
        return t("dat_true" if value else "dat_false", lang)
    if unit == "flag":
        return t("flag_true" if value else "flag_false", lang)
    if unit == "ratio" and denominator is not None and not (isinstance(denominator, float) and math.isnan(denominator)):
        return f"{fmt_number(value, lang)}/{fmt_number(denominator, lang)}"
    return fmt_number(value, lang)


def fmt_date(iso: str, lang: str = "vi") -> str:
    """"2020-03-31" -> "31/3/2020" (both languages use day/month/year here)."""
    if not iso:
        return ""
    y, m, d = iso.split("-")
    return f"{int(d)}/{int(m)}/{y}"


def is_partial(year, as_of: str) -> bool:
    """True when the as-of date is before the end of the observation's year (2020 as of 31/3)."""
    return bool(as_of) and not pd.isna(year) and as_of < f"{int(year)}-12-31" and as_of.startswith(str(int(year)))


def period_label(period: str, year, as_of: str, lang: str) -> str:
    """Column label: "2020 (đến 31/3/2020)" for a partial year, the period itself otherwise."""
    label = str(period) if period else str(year)
    if is_partial(year, as_of) or (as_of and "-" in str(period)):
        label += f" ({t('as_of', lang)} {fmt_date(as_of, lang)})"
    return label


def when_label(period: str, year, as_of: str, lang: str) -> str:
    """"2020, đến 31/3/2020" for a partial year; the period otherwise (for use inside parentheses)."""
    return period_label(period, year, as_of, lang).replace(" (", ", ").rstrip(")")


def html_table(rows: list[dict], columns: list[tuple[str, str]], css_class: str = "data",
               numeric: set[str] = frozenset(), caption: str | None = None) -> str:
    """An HTML table; every header and cell is escaped. ``columns`` is [(key, header)]."""
    out = [f'<table class="{esc(css_class)}">']
    if caption:
        out.append(f"<caption>{esc(caption)}</caption>")
    out.append(_colgroup(rows, columns))
    out.append("<thead><tr>" + "".join(f"<th>{esc(h)}</th>" for _, h in columns) + "</tr></thead><tbody>")
    for row in rows:
        cells = []
        for key, _ in columns:
            cls = ' class="num"' if key in numeric and _looks_numeric(row.get(key, "")) else ""
            cells.append(f"<td{cls}>{esc(row.get(key, ''))}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


_NUMERIC_RE = re.compile(r"^[+-]?[\d.,]+(\s?%|\u00a0%)?(/[\d.,]+)?$")


def _looks_numeric(value) -> bool:
    return bool(_NUMERIC_RE.match(str(value).strip()))


def _colgroup(rows: list[dict], columns: list[tuple[str, str]]) -> str:
    """Column widths from the text they hold (so print can use the fast fixed table layout).

    A column is as wide as its longest number (numbers never wrap) or its longest word, and text columns get room
    in proportion to their longest cell (capped): a long text in a column of numbers wraps instead of widening it.
    """
    need = []
    for key, header in columns:
        cells = [str(r.get(key, "")) for r in rows]
        words = [len(w) for c in cells + [str(header)] for w in c.split()] + [1]
        numbers = [len(c) for c in cells if _looks_numeric(c)]
        texts = [len(c) for c in cells if c and not _looks_numeric(c)]
        if numbers and len(numbers) >= len(texts):
            need.append(max(max(numbers) + 1, min(max(words), 12), 4))
        else:
            need.append(max(min(max(texts + [1]), 48), min(max(words), 14), 4))
    total = sum(need)
    return "<colgroup>" + "".join(f'<col style="width:{n / total * 100:.1f}%">' for n in need) + "</colgroup>"


def heading(text: str, level: int = 2, anchor: str | None = None) -> str:
    ident = f' id="{esc(anchor)}"' if anchor else ""
    return f"<h{level}{ident}>{esc(text)}</h{level}>"


def paragraph(text: str, css_class: str | None = None) -> str:
    cls = f' class="{esc(css_class)}"' if css_class else ""
    return f"<p{cls}>{esc(text)}</p>"


# --------------------------------------------------------------------------------------------------- indicators

def label_of(row, lang: str) -> str:
    if lang == "en" and row.get("indicator_en"):
        return row["indicator_en"]
    return row["indicator"]


def area_indicators(ds: Dataset, area: str) -> pd.DataFrame:
    df = ds.indicators[ds.indicators["area"] == area].copy()
    return df.sort_values(["source_line", "year"], kind="stable").reset_index(drop=True)


def indicator_order(df: pd.DataFrame) -> list[str]:
    """Indicator ids in report order (first source line)."""
    first = df.groupby("indicator_id", sort=False)["source_line"].min().sort_values(kind="stable")
    return list(first.index)


def period_columns(df: pd.DataFrame, lang: str) -> list[tuple[str, str]]:
    """[(period, label)] in time order, with as-of dates for partial years."""
    cols = []
    seen = set()
    for _, r in df.sort_values(["year", "period", "as_of"], kind="stable").iterrows():
        key = colkey(r)
        if key in seen:
            continue
        seen.add(key)
        cols.append((key, period_label(r["period"] or str(r["year"]), r["year"], r["as_of"], lang)))
    return cols


def colkey(r) -> str:
    """A column of the report: its period and as-of date (Phụ lục 2 has "Năm 2020" and "Năm 2020 (Tính đến 31/3)")."""
    return f"{r['period'] or r['year']}|{r['as_of'] or ''}"


def indicators_wide(ds: Dataset, area: str, lang: str = "vi") -> tuple[list[dict], list[tuple[str, str]]]:
    """Rows (one per indicator, values formatted for display) and columns for ``html_table``."""
    df = area_indicators(ds, area)
    pcols = period_columns(df, lang)
    rows = []
    shown = set()
    for iid in indicator_order(df):
        sub = df[df["indicator_id"] == iid]
        first = sub.iloc[0]
        label = label_of(first, lang)
        parent = first["parent"] if lang == "vi" else _parent_en(ds, first)
        pid = first["parent_id"]
        if pid and pid not in shown and pid not in set(df["indicator_id"]):
            # a heading row of the report with no figures of its own ("Tổng số biên chế cán bộ, công chức"):
            # show it, or its children ("Tổng số được giao") would lose their meaning
            rows.append({"indicator": parent or pid, "unit": ""})
            shown.add(pid)
        shown.add(iid)
        row = {"indicator": ("\u2003" + label) if pid else label,
               "parent": parent, "unit": unit_label(first["unit"], lang)}
        for _, r in sub.iterrows():
            p = colkey(r)
            if pd.isna(r["value"]):
                row[p] = r["raw"] if r["raw"] else ""
            else:
                row[p] = fmt_value(r["value"], r["unit"], lang, r.get("denominator"))
        rows.append(row)
    columns = [("indicator", t("indicator", lang)), ("unit", t("unit", lang))] + pcols
    return rows, columns


def _parent_en(ds: Dataset, row) -> str:
    if not row.get("parent_id"):
        return ""
    book = ds.codebook
    hit = book[book["indicator_id"] == row["parent_id"]] if "indicator_id" in book else book
    if len(hit) and hit.iloc[0].get("label_en"):
        return hit.iloc[0]["label_en"]
    return row.get("parent", "")


UNIT_LABELS = {"vi": {"count": "số lượng", "percent": "%", "flag": "có/không", "dat": "Đạt/Không đạt",
                      "ratio": "tỷ số"},
               "en": {"count": "count", "percent": "%", "flag": "yes/no", "dat": "achieved?", "ratio": "ratio"}}


def unit_label(unit: str, lang: str) -> str:
    return UNIT_LABELS[lang].get(unit, unit)


def indicators_table_html(ds: Dataset, area: str, lang: str = "vi") -> str:
    rows, columns = indicators_wide(ds, area, lang)
    if not rows:
        return paragraph(t("no_data", lang))
    numeric = {k for k, _ in columns[2:]}
    return html_table(rows, columns, numeric=numeric)


def annual_series(ds: Dataset, indicator_id: str) -> pd.DataFrame:
    """year, period, as_of, value for one indicator, in time order, empty values dropped."""
    df = ds.indicators[ds.indicators["indicator_id"] == indicator_id]
    df = df[df["value"].notna()].sort_values(["year", "as_of"], kind="stable")
    return df[["year", "period", "as_of", "value", "unit"]].reset_index(drop=True)


def change_since_first(series: pd.DataFrame) -> dict | None:
    """First and latest value, absolute and relative change; None with fewer than two values."""
    if len(series) < 2:
        return None
    a, b = series.iloc[0], series.iloc[-1]
    pct = (b["value"] - a["value"]) / a["value"] * 100 if a["value"] else float("nan")
    return {"first_year": int(a["year"]), "first_period": a["period"], "first": float(a["value"]),
            "last_year": int(b["year"]), "last_period": b["period"], "last_as_of": b["as_of"],
            "last": float(b["value"]), "change": float(b["value"] - a["value"]), "change_pct": pct}


def trend(series: pd.DataFrame, flat_threshold: float = 0.05) -> str | None:
    """"up" / "down" / "flat" from the least-squares slope over full years; None with fewer than three."""
    full = series[[not is_partial(y, a) for y, a in zip(series["year"], series["as_of"])]]
    if len(full) < 3:
        return None
    x = full["year"].astype(float).to_numpy()
    y = full["value"].astype(float).to_numpy()
    xm, ym = x.mean(), y.mean()
    denom = ((x - xm) ** 2).sum()
    slope = ((x - xm) * (y - ym)).sum() / denom if denom else 0.0
    span_change = slope * (x.max() - x.min())
    scale = abs(ym) if ym else 1.0
    if abs(span_change) / scale < flat_threshold:
        return "flat"
    return "up" if slope > 0 else "down"


def change_rows(ds: Dataset, area: str, lang: str = "vi") -> list[dict]:
    """One row per numeric indicator with at least two values: first, latest (with as-of), change, trend."""
    df = area_indicators(ds, area)
    rows = []
    for iid in indicator_order(df):
        s = annual_series(ds, iid)
        if s.empty or s["unit"].iloc[0] in ("dat", "flag"):
            continue
        c = change_since_first(s)
        if c is None:
            continue
        unit = s["unit"].iloc[0]
        first_row = df[df["indicator_id"] == iid].iloc[0]
        tr = trend(s)
        rows.append({
            "indicator_id": iid,
            "indicator": label_of(first_row, lang),
            "first": f"{fmt_value(c['first'], unit, lang)} ({c['first_period']})",
            "latest": f"{fmt_value(c['last'], unit, lang)} ({when_label(c['last_period'], c['last_year'], c['last_as_of'], lang)})",
            "change": ("+" if c["change"] > 0 else "") + fmt_number(c["change"], lang)
                      + (" điểm %" if unit == "percent" and lang == "vi" else " pp" if unit == "percent" else ""),
            "change_pct": "" if math.isnan(c["change_pct"]) or unit == "percent"
                          else ("+" if c["change_pct"] > 0 else "") + fmt_number(c["change_pct"], lang, 1) + "%",
            "trend": t(f"trend_{tr}", lang) if tr else t("trend_na", lang),
            "_change": c, "_trend": tr,
        })
    return rows


def change_table_html(ds: Dataset, area: str, lang: str = "vi") -> str:
    rows = change_rows(ds, area, lang)
    if not rows:
        return paragraph(t("no_data", lang))
    cols = [("indicator", t("indicator", lang)), ("first", t("first", lang)), ("latest", t("latest", lang)),
            ("change", t("change", lang)), ("change_pct", t("change_pct", lang)), ("trend", t("trend", lang))]
    return html_table(rows, cols, numeric={"first", "latest", "change", "change_pct"})


# --------------------------------------------------------------------------------------------------- derived measures

def area_measure_values(ds: Dataset, area: str) -> pd.DataFrame:
    """The area's derived measures for the district, by column of the report (``measures.compute``)."""
    return measure_values(ds.indicators, measures_for_area(area))


def latest_figure(values: pd.DataFrame, m: Measure) -> pd.Series | None:
    """The latest figure of ``m`` in ``values`` (one district), None when it has none."""
    last = latest_values(values[values["measure"] == m.key])
    return None if last.empty else last.iloc[0]


def derived_rows(ds: Dataset, area: str, lang: str = "vi") -> list[dict]:
    """One row per derived measure that the data supports: label, value for each period, how computed."""
    values = area_measure_values(ds, area)
    rows = []
    for m in measures_for_area(area):
        df = values[values["measure"] == m.key]
        if df.empty:
            continue
        row = {"measure": m.label[lang], "how": m.how[lang], "_key": m.key, "_df": df}
        for _, r in df.iterrows():
            row[colkey(r)] = fmt_value(r["value"], m.unit, lang)
        rows.append(row)
    return rows


def derived_table_html(ds: Dataset, area: str, lang: str = "vi") -> str:
    rows = derived_rows(ds, area, lang)
    if not rows:
        return paragraph(t("no_data", lang))
    frames = pd.concat([r["_df"] for r in rows])
    pcols = period_columns(frames.assign(period=frames["period"].astype(str)), lang)
    cols = [("measure", t("measure", lang))] + pcols + [("how", t("how", lang))]
    return html_table(rows, cols, numeric={p for p, _ in pcols})


def headline_figures(ds: Dataset, area: str, lang: str = "vi") -> list[dict]:
    """The area's headline measures: label, latest value (formatted) and when it refers to."""
    values = area_measure_values(ds, area)
    out = []
    for m in [m for m in measures_for_area(area) if m.headline]:
        last = latest_figure(values, m)
        if last is None:
            continue
        out.append({"key": m.key, "label": m.label[lang], "value": fmt_value(last["value"], m.unit, lang),
                    "raw_value": float(last["value"]), "unit": m.unit,
                    "when": period_label(last["period"], last["year"], last["as_of"], lang)})
    return out


def headline_html(ds: Dataset, area: str, lang: str = "vi") -> str:
    items = headline_figures(ds, area, lang)
    if not items:
        return paragraph(t("no_data", lang))
    parts = ['<dl class="headline">']
    for it in items:
        parts.append(f'<div class="fig"><dt>{esc(it["label"])}</dt><dd><span class="big">{esc(it["value"])}</span>'
                     f' <span class="when">{esc(it["when"])}</span></dd></div>')
    parts.append("</dl>")
    return "".join(parts)


# --------------------------------------------------------------------------------------------------- narrative

KINDS = ("results", "limitations", "causes")


def sections_for_area(ds: Dataset, area: str) -> list[dict]:
    if not ds.sections:
        return []
    return [s for s in ds.sections if s.get("area") == area and s.get("kind") in KINDS]


def sections_html(ds: Dataset, area: str, lang: str = "vi") -> str:
    if ds.sections is None:
        return paragraph(t("no_sections", lang), "muted")
    secs = sections_for_area(ds, area)
    if not secs:
        return paragraph(t("no_sections_area", lang), "muted")
    order = {k: i for i, k in enumerate(KINDS)}
    secs = sorted(secs, key=lambda s: (order.get(s.get("kind"), 99), s.get("first_line") or 0))
    out = []
    for s in secs:
        kind = s.get("kind", "")
        title = TEXT[lang].get(f"kind_{kind}", kind)
        lines = f"{t('line_ref', lang)} {s.get('first_line', '')}-{s.get('last_line', '')}"
        out.append('<section class="narrative">')
        out.append(f"<h3>{esc(title)}: {esc(nfc(s.get('heading', '')))} <small>({esc(lines)})</small></h3>")
        for para in nfc(str(s.get("text", ""))).split("\n"):
            if para.strip():
                out.append(f"<p>{esc(para.strip())}</p>")
        out.append("</section>")
    return "".join(out)


def facts_for_area(ds: Dataset, area: str) -> pd.DataFrame:
    f = ds.facts
    if f is None or f.empty or "area" not in f:
        return pd.DataFrame()
    return f[f["area"] == area].reset_index(drop=True)


def facts_table_html(ds: Dataset, area: str, lang: str = "vi") -> str:
    """Figures the report's prose states for the area, each with its quote and line (facts.csv, when present)."""
    f = facts_for_area(ds, area)
    if f.empty:
        return ""
    rows = []
    for _, r in f.iterrows():
        value = fmt_number(pd.to_numeric(r.get("value", ""), errors="coerce"), lang)
        rows.append({"value": value + (f" {r['unit']}" if r.get("unit") else ""), "counts": r.get("counts", ""),
                     "period": r.get("period", ""), "quote": f"“{r.get('quote', '')}”",
                     "line": r.get("line", "")})
    cols = [("value", t("stated_value", lang)), ("counts", t("stated_counts", lang)), ("period", t("year", lang)),
            ("quote", t("quote", lang)), ("line", t("lines", lang))]
    return heading(t("facts", lang), 3) + html_table(rows, cols, css_class="data facts")


# --------------------------------------------------------------------------------------------------- quality

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2, "ok": 3}


def quality_for_area(ds: Dataset, area: str) -> pd.DataFrame:
    q = ds.quality
    if q.empty:
        return q
    app = int(areas().set_index("area").loc[area, "appendix"])
    ids = set(ds.indicators.loc[ds.indicators["area"] == area, "indicator_id"])
    by_app = q["appendix"].astype(str) == str(app) if "appendix" in q else False
    by_id = q["indicator_id"].isin(ids) if "indicator_id" in q else False
    out = q[by_app | by_id].copy()
    out["_o"] = out["severity"].map(SEVERITY_ORDER).fillna(9)
    return out.sort_values(["_o", "check"], kind="stable").drop(columns="_o").reset_index(drop=True)


def quality_rows(df: pd.DataFrame, lang: str) -> list[dict]:
    rows = []
    for _, r in df.iterrows():
        rows.append({"severity": TEXT[lang].get(f"sev_{r.get('severity', '')}", r.get("severity", "")),
                     "check": r.get("check", ""), "year": r.get("year", ""), "message": r.get("message", ""),
                     "lines": str(r.get("source_lines", "")).replace(";", ", ")})
    return rows


def quality_table_html(ds: Dataset, area: str, lang: str = "vi") -> str:
    df = quality_for_area(ds, area)
    if df.empty:
        return paragraph(t("no_quality", lang), "muted")
    cols = [("severity", t("severity", lang)), ("check", t("check", lang)), ("year", t("year", lang)),
            ("message", t("message", lang)), ("lines", t("lines", lang))]
    return html_table(quality_rows(df, lang), cols, css_class="data quality")


def quality_summary(ds: Dataset, lang: str = "vi") -> list[dict]:
    """Findings per area and severity."""
    rows = []
    for area in area_ids():
        q = quality_for_area(ds, area)
        counts = q["severity"].value_counts().to_dict() if not q.empty else {}
        rows.append({"area": area_label(area, lang), **{k: counts.get(k, 0) for k in SEVERITY_ORDER}})
    return rows


def quality_summary_html(ds: Dataset, lang: str = "vi") -> str:
    cols = [("area", t("area", lang))] + [(k, t(f"sev_{k}", lang)) for k in SEVERITY_ORDER]
    return html_table(quality_summary(ds, lang), cols, numeric=set(SEVERITY_ORDER))


# --------------------------------------------------------------------------------------------------- targets

def targets_for_area(ds: Dataset, area: str, lang: str = "vi") -> list[dict]:
    """2021-2030 targets of the area, each with the district's latest related figure and the comparison kind."""
    rows = []
    for _, tg in targets_2021_2030()[lambda d: d["area"] == area].iterrows():
        evidence = ""
        if tg["evidence"]:
            m = measure(tg["evidence"])
            last = latest_figure(measure_values(ds.indicators, [m]), m)
            if last is not None:
                evidence = (f"{m.label[lang]}: {fmt_value(last['value'], m.unit, lang)} "
                            f"({period_label(last['period'], last['year'], last['as_of'], lang)})")
        levels = []
        for y in ("2025", "2030"):
            v = tg[f"target_{y}"]
            if not pd.isna(v):
                sign = "≥ " if v > 0 else ""
                levels.append(f"{y}: {sign}{fmt_number(v, lang)}%")
        comparison = tg["comparison"] if evidence else "none"
        rows.append({"target": (tg["measure_vi"] if lang == "vi" else tg["measure_en"]) + " — " + "; ".join(levels),
                     "evidence": evidence or "—",
                     "comparison": t(comparison, lang) if comparison in ("indicative", "direct", "none") else comparison,
                     "source": tg["source"] + (f" ({tg['note']})" if tg["note"] else ""),
                     "status": TEXT[lang].get(f"status_{tg['status']}", tg["status"])})
    return rows


def targets_table_html(ds: Dataset, area: str, lang: str = "vi") -> str:
    rows = targets_for_area(ds, area, lang)
    if not rows:
        return paragraph(t("no_targets", lang), "muted")
    cols = [("target", t("target", lang)), ("evidence", t("evidence", lang)), ("comparison", t("comparison", lang)),
            ("status", t("status", lang)), ("source", t("source", lang))]
    return html_table(rows, cols, css_class="data targets")


# --------------------------------------------------------------------------------------------------- overview

def self_assessment_rows(ds: Dataset, lang: str = "vi") -> list[dict]:
    """Phụ lục 8 targets with the report's own assessment and the cross-check findings about each."""
    tg = ds.targets
    if tg.empty:
        return []
    q = ds.quality
    tq = q[q["check"].str.contains("target")] if not q.empty and "check" in q else q
    rows = []
    for _, r in tg.iterrows():
        n = str(r.get("number", "")).strip()
        ev = []
        for _, f in tq.iterrows():
            if target_number_of(f) == n:
                sev = TEXT[lang].get(f"sev_{f.get('severity', '')}", f.get("severity", ""))
                ev.append(f"[{sev}] {f.get('message', '')}")
        rows.append({"number": n, "text": r.get("text", ""), "assessment": r.get("assessment", ""),
                     "evidence": " | ".join(ev) if ev else t("no_evidence", lang)})
    return rows


def target_number_of(finding) -> str:
    """The Phụ lục 8 target number a cross-check finding is about ("" when it names none): its ``target`` field."""
    target = finding.get("target")
    return "" if target is None or pd.isna(target) or target == "" else str(int(target))


def self_assessment_html(ds: Dataset, lang: str = "vi") -> str:
    rows = self_assessment_rows(ds, lang)
    if not rows:
        return paragraph(t("no_data", lang), "muted")
    cols = [("number", t("number", lang)), ("text", t("target", lang)), ("assessment", t("assessment", lang)),
            ("evidence", t("evidence_found", lang))]
    return html_table(rows, cols, css_class="data selfassess")


def overview_headlines_html(ds: Dataset, lang: str = "vi") -> str:
    out = ['<div class="cards">']
    for area in area_ids():
        out.append(f'<div class="card"><h3><a href="{esc(page_name(area))}">{esc(area_label(area, lang))}</a></h3>')
        out.append(headline_html(ds, area, lang))
        out.append("</div>")
    out.append("</div>")
    return "".join(out)


def how_to_read_html(lang: str = "vi") -> str:
    return "<ul class=\"howto\">" + "".join(f"<li>{esc(x)}</li>" for x in HOW_TO_READ[lang]) + "</ul>"


def district_line(ds: Dataset, lang: str = "vi") -> str:
    return f"{t('district', lang)} {ds.district}, {t('province', lang)} {ds.province}"


def page_name(area: str | None) -> str:
    """File name of a page in the site: ``overview.html`` or ``area-<id>.html``."""
    return "overview.html" if area in (None, "overview") else f"area-{area}.html"


def page_title(area: str | None, lang: str) -> str:
    return t("overview", lang) if area in (None, "overview") else area_label(area, lang)


def asof_note(ds: Dataset, area: str, lang: str = "vi") -> str:
    """Which columns of this area's table are not full years, from the data ("" when all are)."""
    df = area_indicators(ds, area)
    partial = []
    for _, r in df.drop_duplicates(["period", "as_of"]).sort_values("year", kind="stable").iterrows():
        if is_partial(r["year"], r["as_of"]):
            partial.append(f"{r['period']} ({t('as_of', lang)} {fmt_date(r['as_of'], lang)})")
    if not partial:
        return ""
    lead = "Cột chưa đủ cả năm: " if lang == "vi" else "Columns that are not full years: "
    return lead + ", ".join(partial) + "."
