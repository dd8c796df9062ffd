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
from cchc_analysis.pack import layout
from cchc_analysis.pack import wording as W
from cchc_analysis.pack.catalog import LANGS, catalog
from cchc_analysis.text import format_date, format_number

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
    """2232 -> "2.232" (vi) / "2,232" (en); 99.95 -> "99,95" / "99.95"; NaN or NA -> "" (``text.format_number``)."""
    if value is None or value is pd.NA:
        return ""
    return format_number(value, lang, decimals)


def fmt_value(value, unit: str, lang: str = "vi", denominator=None) -> str:
    """A value as a reader expects it for its unit (percent sign, Đạt/Không đạt, 13/13)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if unit == "percent":
        if value > 100:  # a count typed into a share row, or shares from figures that disagree: never a percentage
            return t("over_100", lang).format(value=fmt_number(value, lang))
        return fmt_number(value, lang) + "%"
    if unit == "dat":
        return t("dat_true" if value else "dat_false", lang)
    if unit == "flag":
        return t("flag_true" if value else "flag_false", lang)
    if unit == "ratio" and denominator is not None and not (isinstance(denominator, float) and math.isnan(denominator)):
        return f"{fmt_number(value, lang)}/{fmt_number(denominator, lang)}"
    return fmt_number(value, lang)


def fmt_date(iso: str, lang: str = "vi") -> str:
    """"2020-03-31" -> "31/3/2020" (both languages use day/month/year here)."""
    return format_date(iso)


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
                numeric: set[str] = frozenset(), caption: str | None = None, note: str | None = None,
                lang: str = "vi", label: str | None = None, vietnamese: frozenset[str] = frozenset()) -> dict:
    """What ``blocks.html.j2``'s ``table`` lays out: headers, column widths, cells (``num`` when right-aligned; a
    cell given as ``{"text", "href"}`` is a link).
    ``columns`` is [(key, header)]; the template escapes every header and cell. On English pages a cell of
    Vietnamese source text is marked ``lang="vi"``: the runs of Vietnamese words in it, or the whole cell for the
    columns in ``vietnamese`` (the report's own words, whose unaccented words a run would miss: "TTHC", "khai").
    ``label`` names the scrolling box the table sits in (its caption or the section's heading) for screen readers."""
    links = [{key: value["href"] for key, value in row.items() if _is_link(value)} for row in rows]
    rows = [{key: value["text"] if _is_link(value) else value for key, value in row.items()} for row in rows]
    cells = [[{"text": _cell_text(row.get(key, "")), "num": key in numeric and _looks_numeric(row.get(key, "")),
               "segs": _cell_segments(_cell_text(row.get(key, "")), lang, key in vietnamese), "href": link.get(key)}
              for key, _ in columns] for row, link in zip(rows, links)]
    return {"kind": "table", "css_class": css_class, "caption": caption, "note": note,
            "label": label or caption or columns[0][1],
            "widths": column_widths(rows, columns), "headers": [h for _, h in columns], "rows": cells}


def _cell_segments(text: str, lang: str, vietnamese: bool) -> list[dict]:
    if vietnamese and lang == "en" and text.strip():
        return [{"text": text, "lang": "vi"}]
    return W.segments(text, lang)


def _is_link(value) -> bool:
    return isinstance(value, dict) and "href" in value and "text" in value


def message_block(text: str, css_class: str | None = None) -> dict:
    """A paragraph in place of a table (no data, nothing found)."""
    return {"kind": "paragraph", "text": text, "css_class": css_class}


def render_block(block: dict) -> str:
    return layout.macro("blocks.html.j2", "block", block)


def html_table(rows: list[dict], columns: list[tuple[str, str]], css_class: str = "data",
               numeric: set[str] = frozenset(), caption: str | None = None, lang: str = "vi",
               label: str | None = None) -> str:
    """An HTML table; every header and cell is escaped. ``columns`` is [(key, header)]."""
    return render_block(table_block(rows, columns, css_class, numeric, caption, lang=lang, label=label))


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
               "parent": parent, "unit": W.unit_word(iid, first["unit"], lang)}
        for _, r in sub.iterrows():
            p = colkey(r)
            if pd.isna(r["value"]):
                row[p] = r["raw"] if r["raw"] else ""
            elif r.get("value_status") == "forecast":
                row[p] = t("forecast", lang).format(value=fmt_value(r["value"], r["unit"], lang, r.get("denominator")),
                                                   date=fmt_date(r["as_of"], lang))
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
    return html_table(rows, columns, numeric=numeric, lang=lang)


def annual_series(ds: Dataset, indicator_id: str) -> pd.DataFrame:
    """year, period, as_of, value for one indicator, in time order: the figures that can be compared over time.

    Empty values and forecasts are dropped; so is a share above 100% (a count in a share row); and a flow (what
    happened in a period, e.g. documents issued) keeps full years only: a part year (2020 to 31/3) would show a fall
    that did not happen."""
    df = ds.indicators[ds.indicators["indicator_id"] == indicator_id]
    df = df[df["value"].notna()]
    if "value_status" in df:
        df = df[df["value_status"] != "forecast"]
    df = df[~((df["unit"] == "percent") & (df["value"] > 100))]
    if indicator_kind(ds, indicator_id) == "flow":
        df = df[pd.Series([not is_partial(y, a) for y, a in zip(df["year"], df["as_of"])], index=df.index,
                          dtype=bool)]
    df = df.sort_values(["year", "as_of"], kind="stable")
    return df[["year", "period", "as_of", "value", "unit"]].reset_index(drop=True)


def indicator_kind(ds: Dataset, indicator_id: str) -> str:
    """stock | flow | rate | flag | none, from the codebook (the specs' ``kind``)."""
    book = ds.codebook
    if book is None or "kind" not in book:
        return ""
    found = book.loc[book["indicator_id"] == indicator_id, "kind"]
    return str(found.iloc[0]) if len(found) else ""


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
            "latest": f"{fmt_value(c['last'], unit, lang)} "
                      f"({when_label(c['last_period'], c['last_year'], c['last_as_of'], lang)})",
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
    return html_table(rows, cols, numeric={"first", "latest", "change", "change_pct"}, lang=lang)


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
        disagree = _years_in_error(ds, (*m.numerator, *m.denominator))
        for _, r in df.iterrows():
            text = fmt_value(r["value"], m.unit, lang)
            row[colkey(r)] = t("totals_disagree", lang).format(value=text) if int(r["year"]) in disagree else text
        rows.append(row)
    return rows


def _years_in_error(ds: Dataset, indicator_ids: tuple[str, ...]) -> set[int]:
    """Years in which the quality checks found one of these rows inconsistent (a total that is not the sum of its
    parts, a part above its whole): a share computed from them is flagged where it is shown."""
    q = ds.quality
    if q is None or q.empty:
        return set()
    bad = q[(q["severity"] == "error") & q["indicator_id"].isin(indicator_ids) & q["year"].notna()]
    return {int(y) for y in bad["year"]}


def derived_table_html(ds: Dataset, area: str, lang: str = "vi") -> str:
    rows = derived_rows(ds, area, lang)
    if not rows:
        return render_block(message_block(t("no_data", lang)))
    frames = pd.concat([r["_df"] for r in rows])
    pcols = period_columns(frames.assign(period=frames["period"].astype(str)), lang)
    cols = [("measure", t("measure", lang))] + pcols + [("how", t("how", lang))]
    return html_table(rows, cols, numeric={p for p, _ in pcols}, lang=lang)


def headline_figures(ds: Dataset, area: str, lang: str = "vi") -> list[dict]:
    """The area's headline measures: label, latest value (formatted) and when it refers to."""
    values = area_measure_values(ds, area)
    out = []
    for m in [m for m in measures_for_area(area) if m.headline]:
        last = latest_figure(values, m)
        if last is None or (m.unit == "percent" and last["value"] > 100):  # figures that disagree: no headline
            continue
        out.append({"key": m.key, "label": m.label[lang], "value": fmt_value(last["value"], m.unit, lang),
                    "raw_value": float(last["value"]), "unit": m.unit,
                    "when": period_label(last["period"], last["year"], last["as_of"], lang)})
    return out


def headline_html(ds: Dataset, area: str, lang: str = "vi") -> str:
    items = headline_figures(ds, area, lang)
    if not items:
        return render_block(message_block(t("no_data", lang)))
    return layout.macro("blocks.html.j2", "headline", items)


# --------------------------------------------------------------------------------------------------- narrative

KINDS = ("results", "limitations", "causes", "lessons", "tasks_2021_2030", "solutions_2021_2030", "recommendations")
GENERAL_KINDS = ("overall_assessment", "lessons", "tasks_2021_2030", "solutions_2021_2030", "recommendations")


def sections_for_area(ds: Dataset, area: str) -> list[dict]:
    """Every section of the prose filed under the area (its results, limitations and causes, and the lessons,
    2021-2030 tasks and solutions and recommendations of the report's last parts that name it)."""
    if not ds.sections:
        return []
    return [s for s in ds.sections if s.get("area") == area and s.get("kind") in KINDS]


def general_sections(ds: Dataset) -> list[dict]:
    """The sections about the programme as a whole (overall assessment, lessons, tasks, solutions, recommendations
    not filed under one area): shown on the overview, so that every section of the prose is on some page."""
    if not ds.sections:
        return []
    return [s for s in ds.sections if s.get("area") not in area_ids() and s.get("kind") in GENERAL_KINDS]


def _shown_sections(ds: Dataset, secs: list[dict], kinds: tuple[str, ...], lang: str) -> list[dict]:
    ctx = W.Context(ds)
    order = {k: i for i, k in enumerate(kinds)}
    secs = sorted(secs, key=lambda s: (order.get(s.get("kind"), 99), s.get("first_line") or 0))
    return [{"title": t_or(f"kind_{s.get('kind', '')}", s.get("kind", ""), lang),
             "heading": nfc(s.get("heading", "")).strip(),
             "where": ctx.cite(int(s.get("first_line") or 0), lang),
             "paragraphs": [p.strip() for p in nfc(str(s.get("text", ""))).split("\n") if p.strip()]}
            for s in secs]


def sections_html(ds: Dataset, area: str, lang: str = "vi") -> str:
    if ds.sections is None:
        return render_block(message_block(t("no_sections", lang), "muted"))
    secs = sections_for_area(ds, area)
    if not secs:
        return render_block(message_block(t("no_sections_area", lang), "muted"))
    return layout.macro("blocks.html.j2", "narrative", _shown_sections(ds, secs, KINDS, lang),
                        t("report_text_folded", lang))


def general_sections_html(ds: Dataset, lang: str = "vi") -> str:
    secs = general_sections(ds)
    if not secs:
        return render_block(message_block(t("no_sections", lang), "muted"))
    return layout.macro("blocks.html.j2", "narrative", _shown_sections(ds, secs, GENERAL_KINDS, lang),
                        t("report_text_folded", lang))


def facts_for_area(ds: Dataset, area: str) -> pd.DataFrame:
    f = ds.facts
    if f is None or f.empty or "area" not in f:
        return pd.DataFrame()
    return f[f["area"] == area].reset_index(drop=True)


# a range in facts.csv `period`: two ends (a year, an ISO date, the report's date) joined by "/"; any other "/" is
# the text's own (a decision's number, 1338/QĐ-UBND; a date written 27/12/2019)
_PERIOD_RANGE = re.compile(r"\b(\d{4}(?:-\d{2}-\d{2})?)/(\d{4}(?:-\d{2}-\d{2})?\b|report date)")
_YEARS, _SPAN = "\x01", "\x02"  # (the range's mark while the words are put in the pack's language)


def _marked_ranges(text: str) -> str:
    return _PERIOD_RANGE.sub(lambda m: m[1] + (_YEARS if len(m[1]) == len(m[2]) == 4 else _SPAN) + m[2], text)


def fact_period(period: str, lang: str) -> str:
    """A stated figure's period in the pack's language: "2011/2020" -> "2011-2020", "2011/2020-03-30" -> "2011 -
    30/3/2020", "report date" -> "thời điểm báo cáo" (catalog ``fact_periods``), ISO dates as 31/3/2020; a "/" that
    joins no range stays ("QĐ 1338/QĐ-UBND of 27/12/2019")."""
    words = W.rules()[lang]["fact_periods"] or {}
    text = _marked_ranges(str(period))
    for en, said in sorted(words.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(_marked_ranges(en), said)
    return W.iso_to_text(text).replace(_YEARS, "-").replace(_SPAN, " - ")


def facts_rows(ds: Dataset, area: str, lang: str = "vi") -> list[dict]:
    f = facts_for_area(ds, area)
    ctx = W.Context(ds)
    units = catalog(lang)["fact_units"]
    rows = []
    for _, r in f.iterrows():
        number = pd.to_numeric(r.get("value", ""), errors="coerce")
        value = fmt_number(number, lang)
        unit = W.text_of(r.get("unit"))
        word = units.get(unit, unit)
        if number == 1:
            word = (W.rules()[lang].get("singular") or {}).get(word, word)
        shown = value + ("%" if unit == "percent" else (f" {word}" if word else ""))
        qualifier = catalog(lang)["views"].get(f"qualifier_{W.text_of(r.get('qualifier'))}", "")
        line = W.text_of(r.get("line")).strip()
        rows.append({"value": (qualifier + " " + shown).strip(),
                     "counts": W.text_of(r.get("counts")) if lang == "en" else "",
                     "period": fact_period(W.text_of(r.get("period")), lang), "quote": f"“{W.text_of(r.get('quote'))}”",
                     "where": ctx.cite(int(line), lang) if line.isdigit() else ""})
    return rows


def facts_table_html(ds: Dataset, area: str, lang: str = "vi") -> str:
    """Figures the report's prose states for the area, each with its quote and where it stands (facts.csv)."""
    rows = facts_rows(ds, area, lang)
    if not rows:
        return ""
    cols = [("value", t("stated_value", lang))] + ([("counts", t("stated_counts", lang))] if lang == "en" else []) \
        + [("quote", t("quote", lang)), ("period", t("period", lang)), ("where", t("where", lang))]
    return layout.macro("blocks.html.j2", "facts", t("facts", lang),
                        table_block(rows, cols, css_class="data facts", lang=lang, label=t("facts", lang),
                                    vietnamese=frozenset({"quote"})))


# --------------------------------------------------------------------------------------------------- quality

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2, "ok": 3}


@lru_cache(maxsize=4)
def _area_maps() -> dict:
    a = areas()
    return {str(app): area for app, area in zip(a["appendix"], a["area"])}


def quality_areas(ds: Dataset) -> pd.Series:
    """The reform area of every finding of ``ds.quality``: its appendix, its indicator, or its section's area."""
    q = ds.quality
    if q is None or q.empty:
        return pd.Series(dtype=str)
    ctx = W.Context(ds)
    by_indicator = dict(zip(ds.indicators["indicator_id"], ds.indicators["area"]))
    return pd.Series([W.finding_area(r, ctx, _area_maps(), by_indicator) for _, r in q.iterrows()], index=q.index)


def quality_for_area(ds: Dataset, area: str) -> pd.DataFrame:
    q = ds.quality
    if q is None or q.empty:
        return q if q is not None else pd.DataFrame()
    out = q[quality_areas(ds) == area].copy()
    out["_o"] = out["severity"].map(SEVERITY_ORDER).fillna(9)
    return out.sort_values(["_o", "check"], kind="stable").drop(columns="_o").reset_index(drop=True)


def quality_counts_text(counts: dict, lang: str) -> str:
    """"2 lỗi, 5 cảnh báo; 12 phép kiểm tra khớp" from counts by severity."""
    problems = [W.plural(s, counts[s], lang) for s in ("error", "warning") if counts.get(s)]
    text = ", ".join(problems) if problems else t("no_problem", lang)
    if counts.get("ok"):
        text += "; " + W.plural("ok", counts["ok"], lang)
    if counts.get("info"):
        text += "; " + W.plural("info", counts["info"], lang)
    return text + "."


def quality_table_html(ds: Dataset, area: str, lang: str = "vi") -> str:
    """On an area page: how many problems and agreements its checks found, and a link to the annex that lists them."""
    df = quality_for_area(ds, area)
    if df.empty:
        return render_block(message_block(t("no_quality", lang), "muted"))
    counts = df["severity"].value_counts().to_dict()
    return layout.macro("blocks.html.j2", "quality_count", quality_counts_text(counts, lang),
                        f"annex.html#annex-{area}", t("see_annex", lang))


def annex_areas(ds: Dataset, lang: str = "vi") -> list[dict]:
    """The technical annex: per area (and one for the report as a whole), its errors and warnings in plain words,
    findings that differ only by year merged into one naming its years, and the counts of the rest; and the line a
    PDF cut to the first findings of each area shows instead of the others (``more``, hidden unless so cut)."""
    from cchc_analysis.pack.plan import keep_findings

    q = ds.quality
    if q is None or q.empty:
        return []
    ctx = W.Context(ds)
    where = quality_areas(ds)
    out = []
    for area in area_ids() + [""]:
        rows = q[where == area]
        if rows.empty:
            continue
        counts = rows["severity"].value_counts().to_dict()
        shown = rows[rows["severity"].isin(W.SHOWN)].copy()
        shown["_o"] = shown["severity"].map(SEVERITY_ORDER)
        shown = shown.sort_values(["_o", "check", "indicator_id", "year"], kind="stable", na_position="first")
        findings = []
        for group in W.merged_findings(shown):
            years = W.years_of(group)
            severity = group[0]["severity"]
            findings.append({"severity": severity,
                             "severity_label": t_or(f"sev_{severity}", severity, lang).capitalize(),
                             "text": W.finding_segments(group[0], ctx, lang),
                             "years": t("in_years", lang).format(years=years) if len(group) > 1 else ""})
        more = catalog(lang)["paper"]["more_findings"]
        out.append({"id": area or "general", "title": area_label(area, lang) if area else t("whole_report", lang),
                    "counts": quality_counts_text(counts, lang), "findings": findings,
                    "none": t("no_problem_area", lang),
                    # on paper, where the PDF keeps only the first ``keep`` (pack.plan.keep_findings): how many more
                    "more": [{"keep": keep, "text": more.format(n=len(findings) - keep)}
                             for keep in keep_findings() if len(findings) > keep]})
    return out


def annex_html(ds: Dataset, lang: str = "vi") -> str:
    return layout.macro("blocks.html.j2", "annex", annex_areas(ds, lang))


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
    return html_table(quality_summary(ds, lang), cols, numeric=set(SEVERITY_ORDER), lang=lang)


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
                     "comparison": (t(comparison, lang) if comparison in ("indicative", "direct", "none")
                                    else comparison),
                     "source": tg["source"] + (f" ({tg['note']})" if tg["note"] and lang == "en" else ""),
                     "status": t_or(f"status_{tg['status']}", tg["status"], lang)})
    return rows


def targets_table_html(ds: Dataset, area: str, lang: str = "vi") -> str:
    rows = targets_for_area(ds, area, lang)
    if not rows:
        return render_block(message_block(t("no_targets", lang), "muted"))
    cols = [("target", t("target", lang)), ("evidence", t("evidence", lang)), ("comparison", t("comparison", lang)),
            ("status", t("status", lang)), ("source", t("source", lang))]
    return html_table(rows, cols, css_class="data targets", lang=lang)


# --------------------------------------------------------------------------------------------------- overview

def overview_headlines_html(ds: Dataset, lang: str = "vi", areas: list[str] | None = None) -> str:
    """A card per area: its title linking to its page (an area the pack has: ``areas``, all when None), its
    headline figures."""
    cards = [{"href": page_name(area) if areas is None or area in areas else None, "title": area_label(area, lang),
              "figures": headline_figures(ds, area, lang)} for area in area_ids()]
    return layout.macro("blocks.html.j2", "cards", cards, t("no_data", lang))



def district_line(ds: Dataset, lang: str = "vi") -> str:
    return t("district_line", lang).format(district=ds.district, province=ds.province)


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
