"""How the pack words what comes from the data in its own language (issue 12).

- A finding of ``quality.csv`` is worded from its ``message_key`` and ``params`` (``cchc_analysis/messages.yaml``) in
  the pack's language, never from the English ``message`` column; a check id is never shown, a line of the text file
  becomes the section or appendix a reader can find ("mục 4.1", "Phụ lục 3"), an ISO date becomes 31/3/2020 and a
  Vietnamese number 1.982 or 79,9. Parameters that exist in English only in the check definitions (``what``, ``why``,
  ``note``, ``counts``) are left out of Vietnamese pages (``counts`` becomes the quote of the stated figure).
- Text is returned as *segments*, ``[{"text": ..., "lang": "vi" | ""}]``: on English pages every piece of Vietnamese
  source text (labels without an English gloss, quotes, raw cells, column headings) is its own segment marked
  ``lang="vi"`` by the templates (``blocks.html.j2`` ``said``). Nothing here writes markup.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources

import pandas as pd
import yaml

from cchc_analysis.findings import message_catalog
from cchc_analysis.pack.catalog import catalog

VI_START, VI_END, LINE_START, LINE_END = "\x04", "\x05", "\x02", "\x03"
# parameters that hold the report's own Vietnamese text
SOURCE_TEXT = {"label", "parent", "raw", "quote", "column", "total_column", "part_columns", "heading", "text", "named",
               "district", "verdict", "items", "cells"}
# parameters written in English only (curated check definitions and stated figures)
ENGLISH_ONLY = {"what", "why", "note", "counts"}
# parameters that hold periods: never read as numbers
PERIODS = {"period", "year", "first", "last", "previous_period", "first_period", "last_period", "years", "as_of",
           "date", "received", "left_period", "right_period"}
ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
NON_ASCII_LETTER = re.compile(r"[^\W\d_a-zA-Z]")


def text_of(value) -> str:
    """A cell as text: "" for None, NaN and pandas' NA (whose truth value is an error)."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def t(key: str, lang: str) -> str:
    return catalog(lang)["wording"][key]


@lru_cache(maxsize=1)
def rules() -> dict:
    """``text/wording.yaml``: per language, the glossary, the pack's message overrides and the period words."""
    with resources.files("cchc_analysis.pack").joinpath("text", "wording.yaml").open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def has_vietnamese(text: str) -> bool:
    """True when ``text`` holds a letter outside ASCII (every Vietnamese letter with a diacritic, đ)."""
    return bool(NON_ASCII_LETTER.search(str(text)))


def segments(text: str, lang: str) -> list[dict]:
    """One piece of text from the data as segments: on English pages, each run of Vietnamese words is marked."""
    text = "" if text is None else str(text)
    if lang != "en" or not has_vietnamese(text):
        return [{"text": text, "lang": ""}]
    out, last = [], 0
    for m in _VI_RUN.finditer(text):
        if m.start() > last:
            out.append({"text": text[last:m.start()], "lang": ""})
        out.append({"text": m.group(0), "lang": "vi"})
        last = m.end()
    if last < len(text):
        out.append({"text": text[last:], "lang": ""})
    return out


# a run of Vietnamese: from a word with a diacritic to the last such word, across short plain words ("chi", "Bo")
_VI_WORD = r"[\w./-]*[^\W\d_a-zA-Z][\w./-]*"
_VI_RUN = re.compile(_VI_WORD + r"(?:(?:[\s,]+[\w./-]{1,5}){0,3}[\s,]+" + _VI_WORD + r")*")


@lru_cache(maxsize=1)
def measure_words() -> dict[str, dict[str, str]]:
    """indicator id -> {vi, en}: the measure word of a count (``measure_words.yaml``)."""
    with resources.files("cchc_analysis.pack").joinpath("measure_words.yaml").open(encoding="utf-8") as f:
        return yaml.safe_load(f) or {}


def unit_word(indicator_id: str, unit: str, lang: str) -> str:
    """What a figure of this indicator counts (văn bản, TTHC, người ...), or its unit's catalog word."""
    word = measure_words().get(indicator_id, {}).get(lang)
    return word or catalog(lang)["units"].get(unit, unit)


# --------------------------------------------------------------------------------------------------- numbers, dates

def iso_to_text(text: str) -> str:
    """2020-03-31 -> 31/3/2020 (both languages use day/month/year)."""
    return ISO_DATE.sub(lambda m: f"{int(m.group(3))}/{int(m.group(2))}/{m.group(1)}", str(text))


_NUMBER = re.compile(r"(?<![\w.,/-])(\d+)(?:\.(\d+))?(?![\w/-])")


def vi_numbers(text: str) -> str:
    """English-formatted numbers inside a parameter as a Vietnamese reader writes them: 79.9 -> 79,9; 1982 -> 1.982.
    A four-digit year (in brackets, or before a colon) stays as it is."""
    def one(m: re.Match) -> str:
        whole, frac = m.group(1), m.group(2)
        before = text[m.start() - 1] if m.start() else ""
        after = text[m.end()] if m.end() < len(text) else ""
        if frac is None and len(whole) == 4 and 1990 <= int(whole) <= 2100 and (after == ":" or before == "("):
            return m.group(0)
        grouped = f"{int(whole):,}".replace(",", ".") if len(whole) > 3 else whole
        return grouped + ("," + frac if frac is not None else "")
    return _NUMBER.sub(one, text)


# --------------------------------------------------------------------------------------------------- citations

class Context:
    """What wording needs from a district's dataset: sections (to cite a line), tables, facts, English labels."""

    def __init__(self, ds):
        self.sections = [s for s in (ds.sections or []) if s.get("first_line")]
        tables = ds.tables if ds.tables is not None else pd.DataFrame()
        self.tables = [(int(r["first_line"]), int(r["last_line"]), int(r["appendix"]))
                       for _, r in tables.iterrows()
                       if text_of(r.get("first_line")).strip() and text_of(r.get("last_line")).strip()
                       and text_of(r.get("appendix")).strip()]
        self.rows = _cited_rows(getattr(ds, "indicators", None))
        facts = ds.facts if ds.facts is not None else pd.DataFrame()
        self.quotes: dict[str, list[tuple[str, str]]] = {}
        for _, f in facts.iterrows():
            line = text_of(f.get("line"))
            self.quotes.setdefault(line, []).append((text_of(f.get("value")), text_of(f.get("quote"))))
        book = ds.codebook if ds.codebook is not None else pd.DataFrame(columns=["label_vi", "label_en"])
        self.label_en = {text_of(r["label_vi"]).strip(): text_of(r["label_en"]) for _, r in book.iterrows()
                         if text_of(r["label_en"])}

    def section_of(self, line: int) -> dict | None:
        for s in self.sections:
            if int(s["first_line"]) <= line <= int(s["last_line"]):
                return s
        return None

    def area_of_line(self, line: int) -> str:
        s = self.section_of(line)
        return s.get("area", "") if s else ""

    def cite(self, line: int, lang: str) -> str:
        """Where a reader finds line ``line`` of the report: its row of an appendix ("Phụ lục 6, chỉ tiêu 2", as the
        evaluation cites it), else its appendix, or its section of the prose."""
        for first, last, appendix in self.tables:
            if first <= line <= last:
                if line in self.rows:
                    return self.rows[line][lang]
                return t("appendix", lang).format(n=appendix)
        s = self.section_of(line)
        if s is None:
            return t("the_text", lang)
        number = section_number(s.get("heading", ""))
        if number is None:
            n = ordinal_of(s.get("heading", ""))
            return t("point", lang).format(n=n) if n else t("the_text", lang)
        return t("section", lang).format(section=number)

    def quote_of(self, line, value) -> str:
        for v, quote in self.quotes.get(str(line), []):
            try:
                if float(v) == float(str(value).replace(",", "")):
                    return quote
            except ValueError:
                continue
        return ""


def _cited_rows(indicators: pd.DataFrame | None) -> dict[int, dict[str, str]]:
    """{line of a table row: its citation per language}, for the lines whose indicators all cite alike (a line of a
    table by periods holds several indicators of one part, "Phụ lục 4, mục I"); a line they cite apart is left out
    (cited by its appendix)."""
    from cchc_analysis.evaluation.verdicts import cite
    from cchc_analysis.tables.specs import load_specs

    if indicators is None or indicators.empty or not {"source_line", "indicator_id"} <= set(indicators.columns):
        return {}
    known = {i for table in load_specs().values() for i in table.indicators}
    ids: dict[int, set[str]] = {}
    for line, iid in zip(indicators["source_line"], indicators["indicator_id"]):
        line = text_of(line).strip()
        if line.isdigit():
            ids.setdefault(int(line), set()).add(text_of(iid))
    rows = {}
    for line, found in ids.items():
        if found <= known:
            said = {lang: {cite(iid, lang) for iid in found} for lang in ("vi", "en")}
            if all(len(texts) == 1 for texts in said.values()):
                rows[line] = {lang: texts.pop() for lang, texts in said.items()}
    return rows


def section_number(heading: str) -> str | None:
    """"4.1. Kết quả ..." -> "4.1"; None for a heading with no number ("Một là: ...")."""
    m = re.match(r"^\s*([\dIVX]+(?:\.\d+)*)\.?\s", str(heading))
    return m.group(1) if m else None


ORDINALS = {"một": 1, "hai": 2, "ba": 3, "bốn": 4, "năm": 5, "sáu": 6, "bảy": 7, "bây": 7, "tám": 8, "chín": 9}


def ordinal_of(heading: str) -> int | None:
    """"Bốn là: ..." (the report's way of numbering its lessons) -> 4."""
    m = re.match(r"^\s*(\w+)\s+là\b", str(heading))
    return ORDINALS.get(m.group(1).lower()) if m else None


# --------------------------------------------------------------------------------------------------- findings

def finding_segments(row, ctx: Context, lang: str) -> list[dict]:
    """A finding of quality.csv worded in ``lang`` from its message key and parameters, as segments."""
    key = text_of(row.get("message_key"))
    if key not in message_catalog():  # a dataset written before findings had keys: its message as it is
        return segments(str(row.get("message", "")), lang)
    params = row.get("params")
    params = dict(params) if isinstance(params, dict) else json.loads(text_of(params) or "{}")
    text = _render(key, params, ctx, lang)
    text = _LINES.sub(lambda m: "; ".join(dict.fromkeys(
        ctx.cite(int(n), lang) for n in re.findall(LINE_START + r"(\d+)" + LINE_END, m.group(0)))), text)
    text = _tidy(text)
    out = []
    for i, piece in enumerate(re.split(VI_START + "|" + VI_END, text)):
        if piece:
            out.append({"text": piece, "lang": "vi" if i % 2 else ""})
    return out


# a run of the report's lines in a message ("dòng 12, 15"): cited where a reader finds them, each place once
_LINES = re.compile(r"(?:(?:dòng|lines?)\s+)?" + LINE_START + r"\d+" + LINE_END
                    + r"(?:,\s*" + LINE_START + r"\d+" + LINE_END + r")*")


def plural(key: str, n: int, lang: str) -> str:
    """"1 error" / "2 errors" (catalog ``plurals``: [one, other]; Vietnamese has one form)."""
    one, other = catalog(lang)["plurals"][key]
    return (one if n == 1 else other).format(n=n)


def plain(segs: list[dict]) -> str:
    return "".join(s["text"] for s in segs)


def _render(key: str, params: dict, ctx: Context, lang: str) -> str:
    overrides = rules()[lang]["messages"] or {}
    template = overrides[key] if key in overrides else message_catalog()[key][lang]
    for source, said in (rules()[lang]["glossary"] or {}).items():
        template = template.replace(source, said)
    return template.format_map({name: _leaf(name, value, params, ctx, lang) for name, value in params.items()})


def _leaf(name: str, value, params: dict, ctx: Context, lang: str) -> str:
    if isinstance(value, dict):
        return _render(value["key"], value["params"], ctx, lang)
    if isinstance(value, list):
        return "; ".join(_leaf(name, v, params, ctx, lang) for v in value)
    value = text_of(value)
    if name == "check":
        return ""
    if name in ("line", "lines"):
        return ", ".join(f"{LINE_START}{n.strip()}{LINE_END}" for n in re.split(r"[,;]", value) if n.strip().isdigit())
    if name in ENGLISH_ONLY:
        return _english_only(name, value, params, ctx, lang)
    if name in SOURCE_TEXT:
        return _source_text(name, value, ctx, lang)
    value = iso_to_text(value)
    if lang == "vi" and name not in PERIODS:
        value = vi_numbers(value)
    return value


def _english_only(name: str, value: str, params: dict, ctx: Context, lang: str) -> str:
    if lang == "en":
        for source, said in (rules()[lang]["glossary"] or {}).items():
            value = value.replace(source, said)
        return _mark(value)
    if name == "counts":
        quote = ctx.quote_of(params.get("line", ""), params.get("value", ""))
        return f"«{quote}»" if quote else ""
    return ""


def _source_text(name: str, value: str, ctx: Context, lang: str) -> str:
    if lang == "vi" or not has_vietnamese(value):
        return value
    if name == "label" and value.strip() in ctx.label_en:
        return ctx.label_en[value.strip()]
    return VI_START + value + VI_END


def _mark(text: str) -> str:
    """English text with Vietnamese runs inside (names of offices, quoted terms): each run marked."""
    return "".join(VI_START + s["text"] + VI_END if s["lang"] else s["text"] for s in segments(text, "en"))


def _tidy(text: str) -> str:
    """What leaving a parameter out leaves behind: empty brackets, a leading ": ", doubled spaces and stops."""
    for _ in range(2):
        text = re.sub(r"\(\s*[,;]?\s*\)", "", text)
        text = re.sub(r"\(\s*[,;]\s*", "(", text)
        text = re.sub(r"^\s*\[\s*\]\s*", "", text)
        text = re.sub(r"^\s*:\s*", "", text)
        text = re.sub(r"\s+([,.;:)])", r"\1", text)
        text = re.sub(r"\.\s*\.", ".", text)
        text = re.sub(r"[ \t]{2,}", " ", text)
    return text.strip()


# --------------------------------------------------------------------------------------------------- the annex

SHOWN = ("error", "warning")


def finding_area(row, ctx: Context, area_of_appendix: dict, area_of_indicator: dict) -> str:
    """The reform area a finding belongs to: its appendix, its indicator, or the section of its first line."""
    app = text_of(row.get("appendix")).split(".")[0]
    if app and app in area_of_appendix:
        return area_of_appendix[app]
    iid = text_of(row.get("indicator_id"))
    if iid and iid in area_of_indicator:
        return area_of_indicator[iid]
    for n in text_of(row.get("source_lines")).split(";"):
        if n.strip().isdigit() and ctx.area_of_line(int(n)):
            return ctx.area_of_line(int(n))
    return ""


def merged_findings(rows: pd.DataFrame) -> list[list[dict]]:
    """Findings of one area that differ only by year (the same check on the same indicator) as one group each."""
    groups: dict[tuple, list[dict]] = {}
    for _, r in rows.iterrows():
        key = (text_of(r.get("severity")), text_of(r.get("check")), text_of(r.get("message_key")),
               text_of(r.get("indicator_id")))
        if not key[3] or text_of(r.get("year")).strip() in ("", "<NA>"):
            key = key + (len(groups),)  # a prose finding stands alone
        groups.setdefault(key, []).append(r.to_dict())
    return list(groups.values())


def years_of(group: list[dict]) -> str:
    years = sorted({text_of(r.get("year")).split(".")[0] for r in group
                    if text_of(r.get("year")).strip() not in ("", "<NA>")})
    return ", ".join(years)
