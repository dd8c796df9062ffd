"""A verdict per criterion, on one scale, with the evidence a reader can find: the report's tables (Phụ lục N, chỉ
tiêu M, with the date the figure stands at), its prose (mục ...) and the district's own self-assessment.

The rules are those of criteria.yaml; the words those of wording.yaml. Figures that the quality checks found
inconsistent never carry a verdict, a part set for ministries or provinces is not held against a district, and what
speaks for the district (its context figures, stated results, an honest "Không đạt") is cited beside the verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from pathlib import Path

import pandas as pd

from cchc_analysis.evaluation.criteria import Criteria, Criterion, Judgement, Part
from cchc_analysis.findings import load_yaml
from cchc_analysis.tables.records import Columns, column_values
from cchc_analysis.tables.records import records as table_records
from cchc_analysis.tables.specs import IndicatorSpec, load_specs
from cchc_analysis.text import fold, format_date, format_number

LANGS = ("vi", "en")
WORDING_FILE = Path(__file__).parent / "wording.yaml"
# quality checks whose errors and warnings mean a figure cannot carry a verdict
TABLE_CHECKS = ("range", "total_vs_parts", "at_most", "repeated_label", "unreadable_value", "cross_table")


@lru_cache(maxsize=1)
def wording() -> dict[str, dict[str, str]]:
    return load_yaml(WORDING_FILE.read_text(encoding="utf-8"))


def say(key: str, lang: str, **params) -> str:
    return wording()[key][lang].format_map(params)


@dataclass(frozen=True)
class PartResult:
    criterion: str
    part: str
    status: str                                   # supported | partly | contradicted | no_evidence | not_district
    text: dict[str, str]
    citations: dict[str, tuple[str, ...]]
    context: dict[str, tuple[str, ...]] = field(default_factory=lambda: {"vi": (), "en": ()})
    indicators: tuple[str, ...] = ()
    lines: tuple[int, ...] = ()                  # sorted, each once (as _result makes them)


@dataclass(frozen=True)
class Verdict:
    district: str
    criterion: Criterion
    self_assessment: str                          # as printed (Đạt / Không đạt), "" when not a Phụ lục 8 target
    verdict: str
    parts: tuple[PartResult, ...]
    summary: dict[str, str]                      # the self-assessment, then the verdict and its reason
    target_line: int | None = None
    reason: dict[str, str] = field(default_factory=dict)  # the verdict and its reason alone


class DistrictEvidence:
    """One district's figures, findings, stated facts, sections and report lines, indexed once for the rules (plain
    records: a corpus judges hundreds of districts, and pandas per lookup would cost more than the judging)."""

    def __init__(self, indicators: pd.DataFrame | Columns | None, quality: pd.DataFrame | Columns | None,
                 facts: pd.DataFrame | None, sections: list[dict], lines: list[str],
                 judgements: dict[tuple[str, str], Judgement], read: frozenset[str] | None = None):
        """``indicators`` and ``quality``: the district's rows (None: it has none). ``read``: the indicators the
        rules read (``indicators_read``), when only those need be held (None: all)."""
        records = sorted(_indicator_records(indicators, read), key=lambda r: (r.get("as_of") or "", r["year"]))
        self.all_rows: dict[str, list[dict]] = {}
        self.series: dict[str, list[dict]] = {}  # actual figures only: no empty cell, no forecast
        for row in records:
            self.all_rows.setdefault(row["indicator_id"], []).append(row)
            if row["value"] == row["value"] and row["value"] is not None and row.get("value_status") != "forecast":
                self.series.setdefault(row["indicator_id"], []).append(row)
        severity, check, iid = ([column_values(quality, name) for name in ("severity", "check", "indicator_id")]
                                if quality is not None else ([], [], []))
        self.problems = {i for s, c, i in zip(severity, check, iid)
                         if s in ("error", "warning") and str(c).split(":")[0] in TABLE_CHECKS}
        self.errors = severity.count("error")  # every check's, for the observations
        self.facts = ({row["id"]: row for row in table_records(facts, [c for c in _FACT_COLUMNS if c in facts])}
                      if facts is not None and len(facts) and "id" in facts else {})
        self.sections = sorted((s for s in sections if s.get("first_line")), key=_FIRST_LINE)
        self.lines = lines
        self.judgements = judgements
        self.specs = _all_specs()
        self._values_text: dict[str, dict[str, str]] = {}  # several parts show the same rows

    # -- citing ------------------------------------------------------------------------------------------------
    def cite(self, iid: str, lang: str, with_label: bool = False) -> str:
        return cite(iid, lang, with_label)

    def cite_all(self, iids, lang: str) -> str:
        return f" {say('and', lang)} ".join(dict.fromkeys(self.cite(iid, lang) for iid in iids))

    def section_of(self, line: int, lang: str) -> str:
        inside = [s for s in self.sections if s["first_line"] <= line <= s.get("last_line", s["first_line"])]
        return say("cite_section", lang, heading=inside[-1]["heading"]) if inside else ""

    def quote_found(self, line: int, quote: str) -> bool:
        return 0 < line <= len(self.lines) and fold(quote) in fold(self.lines[line - 1])

    # -- figures -----------------------------------------------------------------------------------------------
    def latest(self, iid: str, year: int | None = None) -> dict | None:
        rows = [r for r in self.series.get(iid, ()) if year is None or r["year"] == year]
        return rows[-1] if rows else None

    def lines_of(self, iids: tuple[str, ...]) -> set[int]:
        return {int(r["source_line"]) for iid in iids for r in self.all_rows.get(iid, ())}

    def inconsistent(self, iids: tuple[str, ...]) -> bool:
        return any(iid in self.problems for iid in iids)

    def values_text(self, iid: str, lang: str) -> str:
        """Every figure of the row, "năm 2019: 12; năm 2020: 15" (worked out once per row, in both languages: every
        caller asks for both)."""
        texts = self._values_text.get(iid)
        if texts is None:
            rows = self.all_rows.get(iid, ())
            texts = self._values_text[iid] = values_texts(rows, self.specs[iid].unit if rows else "")
        return texts[lang]


def values_texts(rows: list[dict], unit: str) -> dict[str, str]:
    """``DistrictEvidence.values_text`` of ``rows`` in each language: each row's date and figure worked out once."""
    if not rows:
        return {"vi": "—", "en": "—"}
    vi, en = [], []
    for row in rows:
        value, note = row.get("value"), row.get("note")
        if value != value and not note:  # (NaN without a note; None is shown as "—")
            continue
        vi_when, en_when = _whens(str(row.get("period") or row.get("year")), str(row.get("year") or ""),
                                  row.get("as_of") or "")
        if (value is None or value != value) and note:
            vi_value = en_value = f"«{note}»"
        else:
            vi_value, en_value = value_texts(value, unit, row.get("denominator"))
        vi.append(f"{vi_when}: {vi_value}")
        en.append(f"{en_when}: {en_value}")
    return {"vi": "; ".join(vi), "en": "; ".join(en)}


_VI_MARKS = str.maketrans(",.", ".,")


def value_texts(value, unit: str, denominator=None) -> tuple[str, str]:
    """``value_text`` in Vietnamese and English: a figure is formatted once, its marks swapped for Vietnamese (what
    ``format_number`` does), unless the text holds words."""
    if unit == "dat" or unit == "percent" and value == value and value is not None and value > 100:
        return value_text(value, unit, "vi", denominator), value_text(value, unit, "en", denominator)
    en = value_text(value, unit, "en", denominator)
    return en.translate(_VI_MARKS), en


_FIRST_LINE = itemgetter("first_line")
_FACT_COLUMNS = ("id", "value", "quote", "line")  # what the rules read of a stated fact
_RECORD_COLUMNS = ("indicator_id", "period", "year", "as_of", "value", "denominator", "note", "value_status",
                   "source_line")


def _indicator_records(indicators: pd.DataFrame | Columns | None, read: frozenset[str] | None) -> list[dict]:
    """The rows of ``indicators`` as records (those of the indicators in ``read`` only, when given: the rules read
    a few dozen of a district's few hundred rows, and a record per row cost more than the judging)."""
    names = [c for c in _RECORD_COLUMNS if indicators is not None and c in indicators]
    if not names:
        return []
    if read is None or names[0] != "indicator_id":
        return table_records(indicators, names)
    keep = [i for i, iid in enumerate(column_values(indicators, "indicator_id")) if iid in read]
    if len(keep) < 2:  # (itemgetter of one index gives the value, not a tuple)
        return [{name: column_values(indicators, name)[i] for name in names} for i in keep]
    pick = itemgetter(*keep)  # the rows read, picked out of each column at C speed
    return [dict(zip(names, row)) for row in zip(*(pick(column_values(indicators, name)) for name in names))]


def indicators_read(criteria: Criteria) -> frozenset[str]:
    """Every indicator the criteria's rules and context read."""
    return frozenset(iid for criterion in criteria.criteria for part in criterion.parts
                     for iid in (*part.indicators(), *part.context))


def _stt(spec: IndicatorSpec) -> str:
    """The row number a reader finds in the printed table: the row's own, else its parent's."""
    specs = _all_specs()
    while spec.stt is None and spec.parent_id:
        spec = specs[spec.parent_id]
    return (spec.stt or spec.section or "").rstrip(".")


@lru_cache(maxsize=4096)
def cite(iid: str, lang: str, with_label: bool = False) -> str:
    """"Phụ lục 3, chỉ tiêu 1" (a row of a yearly table), "Phụ lục 4, mục I" (a part of a table by periods) or, for a
    row the table leaves unnumbered (a total), "Phụ lục 2, chỉ tiêu “Tổng số ...”": the same in every district (the
    table specs and wording.yaml), so written once per process."""
    spec = _all_specs()[iid]
    label = spec.label if lang == "vi" else spec.label_en
    stt = _stt(spec)
    key = "cite_part" if spec.section and stt == spec.section else "cite_row"
    if not stt:  # (named by its label already)
        key, with_label = "cite_unnumbered", False
    return say(key + ("_label" if with_label else ""), lang, appendix=spec.appendix, stt=stt, section=stt,
               label=label)


def _shown(row: dict, unit: str, lang: str) -> str:
    """A figure as printed for a reader; a cell that holds words instead is quoted (in the report's words)."""
    value = row.get("value")
    if (value is None or value != value) and row.get("note"):
        return f"«{row['note']}»"
    return value_text(value, unit, lang, row.get("denominator"))


def value_text(value, unit: str, lang: str, denominator=None) -> str:
    if value is None or value != value:
        return "—"
    if unit == "percent":
        if value > 100:  # a count typed into a percentage row: never shown as a percentage
            return say("count_in_percent_row", lang, value=format_number(value, lang))
        return f"{format_number(value, lang, 1)}%"
    if unit == "dat":
        return ("Đạt" if value else "Không đạt") if lang == "vi" else ("met" if value else "not met")
    if unit == "ratio" and denominator is not None and denominator == denominator:
        return f"{format_number(value, lang)}/{format_number(denominator, lang)}"
    return format_number(value, lang)


def when(row: dict, lang: str) -> str:
    """"năm 2020, đến 31/3/2020" where the figure stands before the year's end; "năm 2019" otherwise."""
    return _when(str(row.get("period") or row.get("year")), str(row.get("year") or ""), row.get("as_of") or "", lang)


@lru_cache(maxsize=1024)
def _whens(period: str, year: str, as_of: str) -> tuple[str, str]:
    """``when`` of a report column in Vietnamese and English."""
    return _when(period, year, as_of, "vi"), _when(period, year, as_of, "en")


@lru_cache(maxsize=1024)
def _when(period: str, year: str, as_of: str, lang: str) -> str:
    """``when`` of a report column (period, year, as-of date): a report has a few, each shown for many rows."""
    head = say("span" if "-" in period else "year", lang, period=period)
    if as_of and (not as_of.startswith(year) or as_of[5:] != "12-31"):
        return f"{head}, {say('as_of', lang, date=format_date(as_of))}"
    return head


def _texts(key: str, part: Part, **params) -> dict[str, str]:
    if not params:  # ("no figure", "not for a district": the same in every district)
        return dict(_fixed_texts(key, part.measure["vi"], part.measure["en"]))
    out = {}
    for lang in LANGS:
        values = {k: (v[lang] if isinstance(v, dict) else v) for k, v in params.items()}
        out[lang] = say(key, lang, measure=part.measure[lang], **values)
    return out


@lru_cache(maxsize=1024)
def _fixed_texts(key: str, *measures: str) -> dict[str, str]:
    """A part's text without parameters but its measure, in each language, worded once per process."""
    return {lang: say(key, lang, measure=measure) for lang, measure in zip(LANGS, measures)}


def _result(criterion: Criterion, part: Part, status: str, text: dict[str, str], ev: DistrictEvidence,
            cited: tuple[str, ...] = (), lines: tuple[int, ...] = ()) -> PartResult:
    if cited:
        citations = {lang: tuple(dict.fromkeys(cite(iid, lang) for iid in cited)) for lang in LANGS}
        lines = tuple(sorted(set(lines) | ev.lines_of(cited)))
    else:  # (most parts: no figure cited)
        citations, lines = {"vi": (), "en": ()}, tuple(sorted(set(lines)))
    return PartResult(criterion.id, part.id, status, text, citations, _context(part, ev, criterion), cited, lines)


def _context(part: Part, ev: DistrictEvidence, criterion: Criterion) -> dict[str, tuple[str, ...]]:
    """What bears on the part without deciding it: context rows, stated figures, the district's quotes."""
    judgement = ev.judgements.get((criterion.id, part.id)) if ev.judgements else None
    if not (part.context or part.facts or judgement):
        return {"vi": (), "en": ()}
    out: dict[str, list[str]] = {lang: [] for lang in LANGS}
    for iid in part.context:
        if iid in ev.all_rows:
            for lang in LANGS:
                out[lang].append(say("context_series", lang, cite=ev.cite(iid, lang, with_label=True),
                                     values=ev.values_text(iid, lang)))
    for fid in part.facts:
        fact = ev.facts.get(fid)
        if fact is not None:
            for lang in LANGS:
                out[lang].append(say("context_fact", lang, quote=fact["quote"],
                                     cite=ev.section_of(int(fact["line"]), lang)))
    for line, quote in judgement.quotes if judgement else ():
        if ev.quote_found(line, quote):
            for lang in LANGS:
                out[lang].append(say("context_quote", lang, quote=quote, cite=ev.section_of(line, lang)))
    return {lang: tuple(items) for lang, items in out.items()}


# -- the rules -----------------------------------------------------------------------------------------------------
def _threshold(criterion: Criterion, part: Part, ev: DistrictEvidence) -> PartResult:
    rule = part.rule
    iid, per = rule["indicator"], rule.get("per")
    used = part.indicators()
    row = ev.latest(iid, rule.get("year"))
    base = ev.latest(per, row["year"] if row else rule.get("year")) if per else None
    if ev.inconsistent(used):
        return _inconsistent(criterion, part, ev, used)
    if row is None or (per and (base is None or not base["value"])):
        return _result(criterion, part, "no_evidence", _texts("part_no_figure", part), ev, ())
    unit = ev.specs[iid].unit
    bound = rule.get("min", rule.get("max"))
    if per:
        value = 100.0 * row["value"] / base["value"]
        shown = {lang: say("part_ratio_value", lang, value=f"{format_number(value, lang, 1)}%",
                           num=value_text(row["value"], unit, lang), den=value_text(base["value"], "count", lang))
                 for lang in LANGS}
        target = {lang: f"{format_number(bound, lang)}%" for lang in LANGS}
    else:
        value = row["value"]
        shown = {lang: value_text(value, unit, lang) for lang in LANGS}
        target = {lang: value_text(bound, unit, lang) for lang in LANGS}
    met = value >= bound if "min" in rule else value <= bound
    kind = "threshold" if "min" in rule else "at_most"
    text = _texts(f"part_{'supported' if met else 'contradicted'}_{kind}", part, value=shown,
                  cite={lang: ev.cite_all(used, lang) for lang in LANGS},
                  when={lang: when(row, lang) for lang in LANGS}, target=target)
    return _result(criterion, part, "supported" if met else "contradicted", text, ev, used)


def _inconsistent(criterion: Criterion, part: Part, ev: DistrictEvidence, used: tuple[str, ...]) -> PartResult:
    """Figures the quality checks found inconsistent carry no verdict; the part says which and why."""
    bad = tuple(iid for iid in used if iid in ev.problems)
    text = _texts("part_inconsistent", part, cite={lang: ev.cite_all(bad, lang) for lang in LANGS},
                  values={lang: "; ".join(ev.values_text(iid, lang) for iid in bad) for lang in LANGS})
    return _result(criterion, part, "no_evidence", text, ev, used)


def _every_year(criterion: Criterion, part: Part, ev: DistrictEvidence) -> PartResult:
    rule = part.rule
    iid = rule["indicator"]
    rows = [r for r in ev.series.get(iid, ()) if r["year"] in rule["years"]]
    if ev.inconsistent((iid,)):
        return _inconsistent(criterion, part, ev, (iid,))
    if not rows:
        return _result(criterion, part, "no_evidence", _texts("part_no_figure", part), ev, ())
    failing = [int(r["year"]) for r in rows if not r["value"] > rule["above"]]
    missing = [y for y in rule["years"] if y not in {int(r["year"]) for r in rows}]
    cite = {lang: ev.cite(iid, lang) for lang in LANGS}
    if not failing and not missing:
        years = ", ".join(str(y) for y in rule["years"])
        return _result(criterion, part, "supported", _texts("part_supported_every_year", part, years=years,
                                                               cite=cite), ev, (iid,))
    status = "contradicted" if failing else "partly"
    years = ", ".join(str(y) for y in failing + missing)
    text = _texts("part_contradicted_every_year", part, years=years, cite=cite,
                  values={lang: ev.values_text(iid, lang) for lang in LANGS})
    return _result(criterion, part, status, text, ev, (iid,))


def _summed(ev: DistrictEvidence, iids: tuple[str, ...], year: int | None) -> tuple[float, dict] | None:
    rows = [ev.latest(iid, year) for iid in iids]
    if any(r is None for r in rows):
        return None
    return sum(r["value"] for r in rows), max(rows, key=lambda r: r["as_of"] or "")


def _change(criterion: Criterion, part: Part, ev: DistrictEvidence) -> PartResult:
    rule = part.rule
    iids = tuple(rule["indicators"])
    if ev.inconsistent(iids):
        return _inconsistent(criterion, part, ev, iids)
    base, last = _summed(ev, iids, rule["base_year"]), _summed(ev, iids, None)
    if base is None or last is None:
        if not any(iid in ev.all_rows for iid in iids):
            return _result(criterion, part, "no_evidence", _texts("part_no_figure", part), ev, ())
        return _result(criterion, part, "no_evidence", _texts(
            "part_no_base", part, year=rule["base_year"], cite={lang: ev.cite_all(iids, lang) for lang in LANGS},
            values={lang: "; ".join(ev.values_text(iid, lang) for iid in iids) for lang in LANGS}), ev, iids)
    (base_value, base_row), (last_value, last_row) = base, last
    pct = 100.0 * (last_value - base_value) / base_value if base_value else 0.0
    goal = rule["target_pct"]
    met = pct <= goal if goal < 0 else pct >= goal
    status = "supported" if met else ("partly" if pct * goal > 0 else "contradicted")
    unit = ev.specs[iids[0]].unit

    def moved(amount: float, lang: str, at_least: bool = False) -> str:
        pct = ("" if not at_least else say("at_least", lang)) + f"{format_number(abs(amount), lang, 1)}%"
        return say("cut" if amount < 0 else "rise", lang, pct=pct)

    text = _texts("part_change", part, base={lang: value_text(base_value, unit, lang) for lang in LANGS},
                  base_when={lang: when(base_row, lang) for lang in LANGS},
                  last={lang: value_text(last_value, unit, lang) for lang in LANGS},
                  last_when={lang: when(last_row, lang) for lang in LANGS},
                  change={lang: moved(pct, lang) for lang in LANGS},
                  target={lang: moved(goal, lang, at_least=True) for lang in LANGS})
    if rule.get("by") and last_row.get("as_of"):
        for lang in LANGS:
            text[lang] += " " + say("deadline_note", lang, year=rule["by"], date=format_date(last_row["as_of"]))
    return _result(criterion, part, status, text, ev, iids)


def _judged(criterion: Criterion, part: Part, ev: DistrictEvidence) -> PartResult:
    judgement = ev.judgements.get((criterion.id, part.id))
    if judgement is None or not judgement.judgement:
        return _result(criterion, part, "no_evidence", _texts("part_no_figure", part), ev, ())
    status = {"supported": "supported", "not_evidenced": "no_evidence", "contradicted": "contradicted"}
    lines = tuple(line for line, quote in judgement.quotes if ev.quote_found(line, quote))
    text = _texts(f"part_judgement_{judgement.judgement}", part, why=judgement.why)
    return _result(criterion, part, status[judgement.judgement], text, ev, part.context, lines)


RULES = {"threshold": _threshold, "every_year": _every_year, "change": _change, "judgement": _judged,
         "none": lambda criterion, part, ev: _result(criterion, part, "no_evidence",
                                                      _texts("part_no_figure", part), ev)}


def judge_part(criterion: Criterion, part: Part, ev: DistrictEvidence) -> PartResult:
    result = RULES[part.rule["type"]](criterion, part, ev)
    if part.district_level:
        return result
    return PartResult(criterion.id, part.id, "not_district", _texts("part_not_district", part), result.citations,
                      result.context, result.indicators, result.lines)


# -- the verdict ---------------------------------------------------------------------------------------------------
def combine(statuses: list[str], self_not_met: bool) -> str:
    """The criterion's verdict from its parts' statuses (see criteria.yaml)."""
    applicable = [s for s in statuses if s != "not_district"]
    if not applicable:
        return "khong_danh_gia"
    if all(s == "supported" for s in applicable):
        return "dat"
    if any(s in ("supported", "partly") for s in applicable):
        return "dat_mot_phan"
    if "contradicted" in applicable or self_not_met:
        return "chua_dat"
    return "chua_du_can_cu"


def _target_row(criterion: Criterion, targets: dict[str, dict]) -> dict | None:
    """The report's Phụ lục 8 target of this number, when its wording matches the criterion's."""
    row = targets.get(str(criterion.target)) if criterion.target is not None else None
    if row is None:
        return None
    text = _template_fold(str(row.get("text", "")))
    return row if all(word in text for word in _folded(criterion.match)) else None


@lru_cache(maxsize=256)
def _folded(words: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(fold(word) for word in words)


# the matching key of a Phụ lục 8 target's wording and of a self-assessment, once per process: both come from the
# provincial template ("Đạt", "Không đạt"), the same in most districts' reports
_template_fold = lru_cache(maxsize=4096)(fold)


def judge(criterion: Criterion, criteria: Criteria, ev: DistrictEvidence, targets: dict[str, dict],
          district: str) -> Verdict:
    target = _target_row(criterion, targets)
    self_text = str(target.get("assessment", "")) if target else ""
    folded = _template_fold(self_text)
    self_not_met = bool(target) and folded in ("khong dat", "chua dat")
    parts = tuple(judge_part(criterion, part, ev) for part in criterion.parts)
    if criterion.target is not None and target is None:
        verdict = "chua_du_can_cu"
        summary = {lang: say("verdict_missing_target", lang) for lang in LANGS}
        return Verdict(district, criterion, "", verdict, parts, summary, reason=summary)
    verdict = combine([p.status for p in parts], self_not_met)
    key = f"verdict_{verdict}"
    if verdict == "chua_dat" and target:
        key += "_own" if self_not_met and all(p.status != "contradicted" for p in parts) else "_claimed"
    self_shown = {"vi": self_text, "en": {"dat": "met", "khong dat": "not met"}.get(folded, self_text)}
    reason = {lang: say(key, lang) for lang in LANGS}
    summary = {lang: ((say("self_assessment", lang, self=self_shown[lang]) + " ") if target else "") + reason[lang]
               for lang in LANGS}
    line = int(target["source_line"]) if target and target.get("source_line") == target.get("source_line") else None
    return Verdict(district, criterion, self_text, verdict, parts, summary, line, reason)


def evaluate_district(criteria: Criteria, ev: DistrictEvidence, targets: pd.DataFrame | Columns | None,
                      district: str) -> list[Verdict]:
    wanted = [c for c in ("number", "text", "assessment", "source_line") if targets is not None and c in targets]
    by_number = ({str(row["number"]): row for row in table_records(targets, wanted)}
                 if wanted and len(targets) else {})
    return [judge(criterion, criteria, ev, by_number, district) for criterion in criteria.criteria]


@lru_cache(maxsize=1)
def _all_specs() -> dict[str, IndicatorSpec]:
    return {iid: spec for table in load_specs().values() for iid, spec in table.indicators.items()}
