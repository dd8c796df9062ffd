"""What the evaluation pack shows, computed from the tidy dataset (issue 4).

The notebooks in ``notebooks/`` only call these functions and display what they return, so every figure a page
shows is computed here, where it is tested. Every string that comes from data is HTML-escaped by ``html_table`` and
``esc``; nothing in this module builds HTML by pasting data unescaped.

Conventions:
- ``lang`` is ``"vi"`` (default) or ``"en"``; Vietnamese labels come from the data, English ones from the codebook.
- a year column whose as-of date is not the end of that year is labelled with the date ("2020 (đến 31/3/2020)").
- derived measures are declared in ``MEASURES`` (which rows of which appendix, matched by accent-folded label
  patterns, so they do not depend on the parser's indicator ids) and computed by ``compute_measure``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import pandas as pd

from cchc_analysis.errors import CchcError
from cchc_analysis.pack import layout
from cchc_analysis.pack.catalog import LANGS, catalog

FIRST_YEAR = 2015

# --------------------------------------------------------------------------------------------------- text

def t(key: str, lang: str) -> str:
    """A UI string of a district's pages (``views`` in text/<lang>.yaml)."""
    return catalog(lang)["views"][key]


def t_or(key: str, fallback: str, lang: str) -> str:
    """The UI string for a value from the data (a severity, a kind), or the value itself when it has none."""
    return catalog(lang)["views"].get(key, fallback)


def nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value)


def fold(text: str) -> str:
    """Accent-folded, lower-case key for matching labels (never for display)."""
    text = unicodedata.normalize("NFD", str(text).replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " ".join(text.replace("/", " / ").split())


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


@dataclass
class Dataset:
    indicators: pd.DataFrame
    codebook: pd.DataFrame
    quality: pd.DataFrame
    targets: pd.DataFrame
    sections: list[dict] | None = None
    facts: pd.DataFrame | None = None
    directory: Path | None = None
    district: str = ""
    province: str = ""
    extra: dict = field(default_factory=dict)


def load_dataset(directory: str | Path, district: str | None = None) -> Dataset:
    """The parser's output folder (``data/processed/``, read by ``cchc_analysis.dataset``), narrowed to one
    district (the only one, or ``district``)."""
    from cchc_analysis.dataset import io as processed_data

    d = Path(directory)
    data = processed_data.load_dataset(d)
    ind = data.indicators
    if ind.empty:
        raise CchcError("indicators.csv holds no rows", file=d / "indicators.csv")
    for col in ("appendix", "year", "source_line"):
        ind[col] = ind[col].astype("Int64")
    districts = sorted(ind["district"].unique())
    if district is None:
        if len(districts) > 1:
            raise CchcError(f"the dataset holds several districts ({', '.join(districts)}); choose one")
        district = districts[0]
    elif district not in districts:
        raise CchcError(f"unknown district {district!r}; the dataset holds: {', '.join(districts)}")
    ind = ind[ind["district"] == district].reset_index(drop=True)
    book = data.codebook.assign(appendix=data.codebook["appendix"].astype("Int64"))
    qual = data.quality[data.quality["district"].isin([district, ""])].reset_index(drop=True)
    tg = data.targets[data.targets["district"].isin([district, ""])].reset_index(drop=True)
    sections = [s for s in data.sections if s.get("district", district) == district] or None
    facts = data.facts
    if facts is not None and "district" in facts:
        facts = facts[facts["district"].isin([district, ""])].reset_index(drop=True)
    province = ind["province"].iloc[0] if len(ind) else ""
    return Dataset(ind, book, qual, tg, sections, facts, d, district, province)


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


def table_block(rows: list[dict], columns: list[tuple[str, str]], css_class: str = "data",
                numeric: set[str] = frozenset(), caption: str | None = None, note: str | None = None) -> dict:
    """What ``blocks.html.j2``'s ``table`` lays out: headers, column widths, cells (``num`` when right-aligned).
    ``columns`` is [(key, header)]; the template escapes every header and cell."""
    cells = [[{"text": _cell_text(row.get(key, "")), "num": key in numeric and _looks_numeric(row.get(key, ""))}
              for key, _ in columns] for row in rows]
    return {"kind": "table", "css_class": css_class, "caption": caption, "note": note,
            "widths": column_widths(rows, columns), "headers": [h for _, h in columns], "rows": cells}


def message_block(text: str, css_class: str | None = None) -> dict:
    """A paragraph in place of a table (no data, nothing found)."""
    return {"kind": "paragraph", "text": text, "css_class": css_class}


def render_block(block: dict) -> str:
    return layout.macro("blocks.html.j2", "block", block)


def html_table(rows: list[dict], columns: list[tuple[str, str]], css_class: str = "data",
               numeric: set[str] = frozenset(), caption: str | None = None) -> str:
    """An HTML table; every header and cell is escaped. ``columns`` is [(key, header)]."""
    return render_block(table_block(rows, columns, css_class, numeric, caption))


def _cell_text(value) -> str:
    """None and NaN show as an empty cell."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


_NUMERIC_RE = re.compile(r"^[+-]?[\d.,]+(\s?%|\u00a0%)?(/[\d.,]+)?$")


def _looks_numeric(value) -> bool:
    return bool(_NUMERIC_RE.match(str(value).strip()))


def column_widths(rows: list[dict], columns: list[tuple[str, str]]) -> list[str]:
    """Column widths in percent from the text they hold (so print can use the fast fixed table layout).

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
    return [f"{n / total * 100:.1f}" for n in need]


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


def unit_label(unit: str, lang: str) -> str:
    return catalog(lang)["units"].get(unit, unit)


def indicators_table_html(ds: Dataset, area: str, lang: str = "vi") -> str:
    rows, columns = indicators_wide(ds, area, lang)
    if not rows:
        return render_block(message_block(t("no_data", lang)))
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
                      + (t("points", lang) if unit == "percent" else ""),
            "change_pct": "" if math.isnan(c["change_pct"]) or unit == "percent"
                          else ("+" if c["change_pct"] > 0 else "") + fmt_number(c["change_pct"], lang, 1) + "%",
            "trend": t(f"trend_{tr}", lang) if tr else t("trend_na", lang),
            "_change": c, "_trend": tr,
        })
    return rows


def change_table_html(ds: Dataset, area: str, lang: str = "vi") -> str:
    rows = change_rows(ds, area, lang)
    if not rows:
        return render_block(message_block(t("no_data", lang)))
    cols = [("indicator", t("indicator", lang)), ("first", t("first", lang)), ("latest", t("latest", lang)),
            ("change", t("change", lang)), ("change_pct", t("change_pct", lang)), ("trend", t("trend", lang))]
    return html_table(rows, cols, numeric={"first", "latest", "change", "change_pct"})


# --------------------------------------------------------------------------------------------------- derived measures

@dataclass(frozen=True)
class Ref:
    """Rows of one appendix whose folded label contains ``label`` (and whose parent's contains ``parent``).

    ``exclude`` drops labels containing it; ``nth`` picks among several matches in report order.
    """
    appendix: int
    label: str
    parent: str | None = None
    exclude: str | None = None
    nth: int = 0


@dataclass(frozen=True)
class Measure:
    key: str
    area: str
    label_vi: str
    label_en: str
    unit: str                       # percent | count
    kind: str                       # ratio | sum | value | cumulative | change
    num: tuple[Ref, ...]
    den: tuple[Ref, ...] = ()
    how_vi: str = ""
    how_en: str = ""
    headline: bool = False


_BC_CBCC = "bien che can bo, cong chuc"
_BC_VC = "bien che vien chuc"
_TU_CHU = "don vi su nghiep cong lap thuoc ubnd cap huyen thuc hien co che tu chu"

MEASURES: tuple[Measure, ...] = (
    Measure("inspected_units", "chi_dao_dieu_hanh", "Số cơ quan, đơn vị được kiểm tra CCHC", "Units inspected for PAR",
            "count", "value", (Ref(1, "duoc kiem tra cchc"),), (),
            "Phụ lục 1, dòng 2", "Phụ lục 1, row 2", True),
    Measure("communication", "chi_dao_dieu_hanh", "Hoạt động tuyên truyền CCHC", "PAR communication activities",
            "count", "value", (Ref(1, "tuyen truyen cchc", exclude="hinh thuc"),), (),
            "Phụ lục 1, dòng 3", "Phụ lục 1, row 3", True),
    Measure("satisfaction", "chi_dao_dieu_hanh", "Mức độ hài lòng chung (tự đánh giá)",
            "Overall satisfaction (self-assessed)", "dat", "value", (Ref(1, "muc do hai long chung"),), (),
            "Phụ lục 1: Đạt/Không đạt, không phải tỷ lệ", "Phụ lục 1: achieved or not, not a percentage"),
    Measure("legal_checked_share", "the_che", "Tỷ lệ VBQPPL được kiểm tra trên số ban hành",
            "Legal documents checked / issued", "percent", "ratio",
            (Ref(2, "vbqppl da kiem tra"),), (Ref(2, "tong so van ban quy pham phap luat"),),
            "Số VBQPPL đã kiểm tra / tổng số VBQPPL ban hành", "Documents checked / documents issued", True),
    Measure("legal_issued", "the_che", "Số VBQPPL ban hành", "Legal documents issued", "count", "value",
            (Ref(2, "tong so van ban quy pham phap luat"),), (), "Phụ lục 2", "Phụ lục 2", True),
    Measure("procedures_total", "tthc", "Tổng số TTHC", "Administrative procedures", "count", "value",
            (Ref(3, "tong so tthc"),), (), "Phụ lục 3, dòng 1", "Phụ lục 3, row 1", True),
    Measure("one_stop_share", "tthc", "Tỷ lệ TTHC giải quyết tại Bộ phận một cửa",
            "Share of procedures handled at the one-stop desk", "percent", "ratio",
            (Ref(3, "giai quyet tai bo phan tiep nhan va tra ket qua"),), (Ref(3, "tong so tthc"),),
            "TTHC tại Bộ phận Tiếp nhận và trả kết quả / tổng số TTHC",
            "Procedures at the one-stop desk / all procedures"),
    Measure("one_stop_district_share", "tthc", "Tỷ lệ TTHC tại Bộ phận Một cửa cấp huyện",
            "Share of procedures at the district one-stop desk", "percent", "ratio",
            (Ref(3, "mot cua cap huyen"),), (Ref(3, "tong so tthc"),),
            "TTHC tại Một cửa cấp huyện / tổng số TTHC", "District one-stop procedures / all procedures"),
    Measure("one_stop_commune_share", "tthc", "Tỷ lệ TTHC tại Bộ phận Một cửa cấp xã",
            "Share of procedures at the commune one-stop desk", "percent", "ratio",
            (Ref(3, "mot cua cap xa"),), (Ref(3, "tong so tthc"),),
            "TTHC tại Một cửa cấp xã / tổng số TTHC", "Commune one-stop procedures / all procedures"),
    Measure("on_time_district", "tthc", "Tỷ lệ hồ sơ cấp huyện giải quyết đúng hẹn",
            "District dossiers resolved on time", "percent", "value", (Ref(3, "cap huyen giai quyet dung"),), (),
            "Phụ lục 3, dòng 5 (số báo cáo ghi)", "Phụ lục 3, row 5 (as reported)", True),
    Measure("on_time_commune", "tthc", "Tỷ lệ hồ sơ cấp xã giải quyết đúng hạn",
            "Commune dossiers resolved on time", "percent", "value", (Ref(3, "cap xa giai quyet dung"),), (),
            "Phụ lục 3, dòng 5 (số báo cáo ghi)", "Phụ lục 3, row 5 (as reported)"),
    Measure("published_share", "tthc", "Tỷ lệ TTHC được công khai trên Cổng/Trang TTĐT",
            "Share of procedures published online", "percent", "ratio",
            (Ref(3, "duoc cong khai"),), (Ref(3, "tong so tthc"),),
            "TTHC công khai / tổng số TTHC (trên 100% là số liệu không khớp)",
            "Procedures published / all procedures (above 100% means the figures disagree)"),
    Measure("offices", "to_chuc_bo_may", "Số phòng chuyên môn thuộc UBND huyện", "Specialised offices of the district",
            "count", "value", (Ref(4, "so phong chuyen mon"),), (), "Phụ lục 4, mục I", "Phụ lục 4, part I", True),
    Measure("service_units", "to_chuc_bo_may", "Số đơn vị sự nghiệp thuộc UBND huyện",
            "Public service units of the district", "count", "value",
            (Ref(4, "so don vi su nghiep thuoc ubnd"),), (), "Phụ lục 4, mục I", "Phụ lục 4, part I", True),
    Measure("fill_rate_civil_servants", "cbccvc", "Tỷ lệ cán bộ, công chức có mặt / được giao",
            "Civil servants in post / posts allotted", "percent", "ratio",
            (Ref(5, "co mat", _BC_CBCC),), (Ref(5, "duoc giao", _BC_CBCC),),
            "Tổng số có mặt / tổng số được giao (biên chế cán bộ, công chức)",
            "In post / allotted (cadres and civil servants)", True),
    Measure("fill_rate_public_employees", "cbccvc", "Tỷ lệ viên chức có mặt / được giao",
            "Public employees in post / posts allotted", "percent", "ratio",
            (Ref(5, "co mat", _BC_VC),), (Ref(5, "duoc giao", _BC_VC),),
            "Tổng số có mặt / tổng số được giao (biên chế viên chức)", "In post / allotted (public employees)", True),
    Measure("streamlined_cumulative", "cbccvc", "Số người tinh giản biên chế, cộng dồn",
            "Staff cut under streamlining, cumulative", "count", "cumulative",
            (Ref(5, "tinh gian bien che"),), (), "Cộng dồn từ năm 2015", "Running total from 2015", True),
    Measure("staff_in_post", "cbccvc", "Tổng số cán bộ, công chức, viên chức có mặt",
            "Cadres, civil servants and public employees in post", "count", "sum",
            (Ref(5, "co mat", _BC_CBCC), Ref(5, "co mat", _BC_VC)), (),
            "Có mặt (công chức) + có mặt (viên chức)", "In post (civil servants) + in post (public employees)"),
    Measure("self_financing_share", "tai_chinh_cong", "Tỷ lệ đơn vị sự nghiệp tự bảo đảm (toàn bộ hoặc một phần)",
            "Share of public service units self-financing (fully or partly)", "percent", "ratio",
            (Ref(6, "tu bao dam chi thuong xuyen va chi dau tu", _TU_CHU),
             Ref(6, "tu bao dam chi thuong xuyen", _TU_CHU, exclude="dau tu"),
             Ref(6, "tu bao dam mot phan", _TU_CHU)),
            (Ref(6, _TU_CHU),),
            "Đơn vị tự bảo đảm (chi thường xuyên và đầu tư, chi thường xuyên, một phần) / đơn vị thực hiện tự chủ",
            "Self-financing units (all kinds) / units with autonomy", True),
    Measure("fully_self_financing_share", "tai_chinh_cong", "Tỷ lệ đơn vị sự nghiệp tự bảo đảm chi thường xuyên",
            "Share of units covering their recurrent spending", "percent", "ratio",
            (Ref(6, "tu bao dam chi thuong xuyen va chi dau tu", _TU_CHU),
             Ref(6, "tu bao dam chi thuong xuyen", _TU_CHU, exclude="dau tu")),
            (Ref(6, _TU_CHU),),
            "Đơn vị tự bảo đảm chi thường xuyên (kể cả chi đầu tư) / đơn vị thực hiện tự chủ",
            "Units covering recurrent spending (with or without investment) / units with autonomy"),
    Measure("units_autonomy", "tai_chinh_cong", "Số đơn vị sự nghiệp thực hiện tự chủ", "Units with autonomy",
            "count", "value", (Ref(6, _TU_CHU),), (), "Phụ lục 6, dòng 2", "Phụ lục 6, row 2", True),
    Measure("electronic_documents", "hien_dai_hoa", "Tỷ lệ văn bản trao đổi dưới dạng điện tử",
            "Documents exchanged electronically", "percent", "value",
            (Ref(7, "van ban hanh chinh duoc trao doi duoi dang dien tu"),), (),
            "Phụ lục 7, dòng 1 (số báo cáo ghi)", "Phụ lục 7, row 1 (as reported)", True),
    Measure("online_services", "hien_dai_hoa", "Số dịch vụ công trực tuyến mức độ 3, 4",
            "Online public services at levels 3-4", "count", "value",
            (Ref(7, "so dich vu cong truc tuyen muc do 3"),), (), "Phụ lục 7, dòng 10", "Phụ lục 7, row 10", True),
    Measure("online_services_share", "hien_dai_hoa", "Dịch vụ công trực tuyến mức độ 3, 4 / tổng số TTHC",
            "Online services at levels 3-4 / all procedures", "percent", "ratio",
            (Ref(7, "so dich vu cong truc tuyen muc do 3"),), (Ref(3, "tong so tthc"),),
            "Số dịch vụ mức độ 3, 4 (Phụ lục 7) / tổng số TTHC (Phụ lục 3): tham khảo",
            "Services at levels 3-4 (Phụ lục 7) / all procedures (Phụ lục 3): indicative"),
    Measure("online_dossiers", "hien_dai_hoa", "Hồ sơ giải quyết qua hệ thống một cửa điện tử",
            "Dossiers handled through the electronic one-stop system", "count", "value",
            (Ref(7, "ho so giai quyet qua he thong mot cua dien tu"),), (),
            "Phụ lục 7, dòng 13: dòng ghi tỷ lệ nhưng chứa số hồ sơ",
            "Phụ lục 7, row 13: a percentage row holding counts of dossiers"),
    Measure("digital_signatures", "hien_dai_hoa", "Số lượng chữ ký số", "Digital signatures", "count", "value",
            (Ref(7, "so luong chu ky so"),), (), "Phụ lục 7, dòng 5", "Phụ lục 7, row 5"),
)

MEASURE_BY_KEY = {m.key: m for m in MEASURES}


def resolve(ds: Dataset, ref: Ref) -> str | None:
    """The indicator id a ``Ref`` points to, or None when the dataset has no such row."""
    ind = ds.indicators
    cand = ind[ind["appendix"] == ref.appendix].drop_duplicates("indicator_id")
    cand = cand.sort_values("source_line", kind="stable")
    hits = []
    for _, r in cand.iterrows():
        lab = fold(r["indicator"])
        if ref.label not in lab or (ref.exclude and ref.exclude in lab):
            continue
        if ref.parent is not None and ref.parent not in fold(r.get("parent", "")):
            continue
        hits.append(r["indicator_id"])
    if len(hits) <= ref.nth:
        return None
    return hits[ref.nth]


def _values(ds: Dataset, iid: str) -> pd.DataFrame:
    s = annual_series(ds, iid)
    s = s.assign(key=[colkey(r) for _, r in s.iterrows()], period=s["period"].astype(str))
    return s.drop_duplicates("key").set_index("key")


def compute_measure(ds: Dataset, m: Measure) -> pd.DataFrame:
    """A derived measure by period: columns period, year, as_of, value; rows where it can be computed."""
    num_ids = [resolve(ds, r) for r in m.num]
    num_ids = [i for i in num_ids if i]
    if not num_ids:
        return pd.DataFrame(columns=["period", "year", "as_of", "value", "key"])
    num = [_values(ds, i) for i in num_ids]
    meta = pd.concat(num).groupby(level=0)[["year", "as_of", "period"]].first()
    periods = sorted(meta.index, key=lambda k: (int(meta.loc[k, "year"]), k))
    out = []
    for p in periods:
        present = [n.loc[p, "value"] for n in num if p in n.index]
        if m.kind in ("ratio", "sum") and len(present) == 0:
            continue
        top = float(sum(present))
        if m.kind == "ratio":
            den_ids = [i for i in (resolve(ds, r) for r in m.den) if i]
            dens = [_values(ds, i) for i in den_ids]
            dv = [d.loc[p, "value"] for d in dens if p in d.index]
            if not dv or not sum(dv):
                continue
            value = top / float(sum(dv)) * 100
        else:
            value = top
        out.append({"period": meta.loc[p, "period"], "year": int(meta.loc[p, "year"]), "as_of": meta.loc[p, "as_of"],
                    "value": value, "key": p})
    df = pd.DataFrame(out, columns=["period", "year", "as_of", "value", "key"])
    if m.kind == "cumulative" and not df.empty:
        df = df.sort_values("year", kind="stable")
        df["value"] = df["value"].cumsum()
    return df.reset_index(drop=True)


def measure_label(m: Measure, lang: str) -> str:
    return m.label_vi if lang == "vi" else m.label_en


def latest(df: pd.DataFrame) -> dict | None:
    if df.empty:
        return None
    r = df.sort_values("year", kind="stable").iloc[-1]
    return {"period": r["period"], "year": int(r["year"]), "as_of": r["as_of"], "value": float(r["value"])}


def measures_for_area(area: str) -> list[Measure]:
    return [m for m in MEASURES if m.area == area]


def derived_rows(ds: Dataset, area: str, lang: str = "vi") -> list[dict]:
    """One row per derived measure that the data supports: label, value for each period, how computed."""
    rows = []
    for m in measures_for_area(area):
        df = compute_measure(ds, m)
        if df.empty:
            continue
        row = {"measure": measure_label(m, lang), "how": m.how_vi if lang == "vi" else m.how_en, "_key": m.key,
               "_df": df}
        for _, r in df.iterrows():
            row[r["key"]] = fmt_value(r["value"], m.unit, lang)
        rows.append(row)
    return rows


def derived_table_html(ds: Dataset, area: str, lang: str = "vi") -> str:
    rows = derived_rows(ds, area, lang)
    if not rows:
        return render_block(message_block(t("no_data", lang)))
    frames = pd.concat([r["_df"] for r in rows])
    pcols = period_columns(frames.assign(period=frames["period"].astype(str)), lang)
    cols = [("measure", t("measure", lang))] + pcols + [("how", t("how", lang))]
    return html_table(rows, cols, numeric={p for p, _ in pcols})


def headline_figures(ds: Dataset, area: str, lang: str = "vi") -> list[dict]:
    """The area's headline measures: label, latest value (formatted) and when it refers to."""
    out = []
    for m in measures_for_area(area):
        if not m.headline:
            continue
        last = latest(compute_measure(ds, m))
        if last is None:
            continue
        out.append({"key": m.key, "label": measure_label(m, lang), "value": fmt_value(last["value"], m.unit, lang),
                    "raw_value": last["value"], "unit": m.unit,
                    "when": period_label(last["period"], last["year"], last["as_of"], lang)})
    return out


def headline_html(ds: Dataset, area: str, lang: str = "vi") -> str:
    items = headline_figures(ds, area, lang)
    if not items:
        return render_block(message_block(t("no_data", lang)))
    return layout.macro("blocks.html.j2", "headline", items)


# --------------------------------------------------------------------------------------------------- narrative

KINDS = ("results", "limitations", "causes")


def sections_for_area(ds: Dataset, area: str) -> list[dict]:
    if not ds.sections:
        return []
    return [s for s in ds.sections if s.get("area") == area and s.get("kind") in KINDS]


def sections_html(ds: Dataset, area: str, lang: str = "vi") -> str:
    if ds.sections is None:
        return render_block(message_block(t("no_sections", lang), "muted"))
    secs = sections_for_area(ds, area)
    if not secs:
        return render_block(message_block(t("no_sections_area", lang), "muted"))
    order = {k: i for i, k in enumerate(KINDS)}
    secs = sorted(secs, key=lambda s: (order.get(s.get("kind"), 99), s.get("first_line") or 0))
    shown = [{"title": t_or(f"kind_{s.get('kind', '')}", s.get("kind", ""), lang),
              "heading": nfc(s.get("heading", "")),
              "lines": f"{t('line_ref', lang)} {s.get('first_line', '')}-{s.get('last_line', '')}",
              "paragraphs": [p.strip() for p in nfc(str(s.get("text", ""))).split("\n") if p.strip()]}
             for s in secs]
    return layout.macro("blocks.html.j2", "narrative", shown)


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
    return layout.macro("blocks.html.j2", "facts", t("facts", lang), table_block(rows, cols, css_class="data facts"))


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
        rows.append({"severity": t_or(f"sev_{r.get('severity', '')}", r.get("severity", ""), lang),
                     "check": r.get("check", ""), "year": r.get("year", ""), "message": r.get("message", ""),
                     "lines": str(r.get("source_lines", "")).replace(";", ", ")})
    return rows


def quality_table_html(ds: Dataset, area: str, lang: str = "vi") -> str:
    df = quality_for_area(ds, area)
    if df.empty:
        return render_block(message_block(t("no_quality", lang), "muted"))
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
        if tg["evidence"] and tg["evidence"] in MEASURE_BY_KEY:
            m = MEASURE_BY_KEY[tg["evidence"]]
            last = latest(compute_measure(ds, m))
            if last:
                evidence = (f"{measure_label(m, lang)}: {fmt_value(last['value'], m.unit, lang)} "
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
                     "status": t_or(f"status_{tg['status']}", tg["status"], lang)})
    return rows


def targets_table_html(ds: Dataset, area: str, lang: str = "vi") -> str:
    rows = targets_for_area(ds, area, lang)
    if not rows:
        return render_block(message_block(t("no_targets", lang), "muted"))
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
                sev = t_or(f"sev_{f.get('severity', '')}", f.get("severity", ""), lang)
                ev.append(f"[{sev}] {f.get('message', '')}")
        rows.append({"number": n, "text": r.get("text", ""), "assessment": r.get("assessment", ""),
                     "evidence": " | ".join(ev) if ev else t("no_evidence", lang)})
    return rows


_TARGET_RE = re.compile(r"(?:target|mục tiêu)\s+(?:số\s+)?(\d+)\b", re.IGNORECASE)


def target_number_of(finding) -> str:
    """The Phụ lục 8 target number a cross-check finding is about ("" when it names none)."""
    if str(finding.get("number", "") or "").strip():
        return str(finding["number"]).strip()
    m = _TARGET_RE.search(str(finding.get("message", "")))
    if m:
        return m.group(1)
    iid = str(finding.get("indicator_id", ""))
    m = re.search(r"(?:p8|muc_tieu|target)_?0*(\d+)$", iid)
    return m.group(1) if m else ""


def self_assessment_html(ds: Dataset, lang: str = "vi") -> str:
    rows = self_assessment_rows(ds, lang)
    if not rows:
        return render_block(message_block(t("no_data", lang), "muted"))
    cols = [("number", t("number", lang)), ("text", t("target", lang)), ("assessment", t("assessment", lang)),
            ("evidence", t("evidence_found", lang))]
    return html_table(rows, cols, css_class="data selfassess")


def overview_headlines_html(ds: Dataset, lang: str = "vi") -> str:
    """A card per area: its title linking to its page, its headline figures."""
    cards = [{"href": page_name(area), "title": area_label(area, lang), "figures": headline_figures(ds, area, lang)}
             for area in area_ids()]
    return layout.macro("blocks.html.j2", "cards", cards, t("no_data", lang))



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
    return t("partial_columns", lang) + ", ".join(partial) + "."
