"""Validation: the checks whose results go to quality.csv (the tables' schema is in dataset/schema.py).

The report has real inconsistencies (a share of 190 %, a total that is not the sum of its parts, more procedures
published than exist). They are surfaced as findings with the numbers that disagree and the lines they stand on;
the data itself is never "fixed". Agreements are recorded too (severity ``ok``), so a reader sees what was checked.
"""

from __future__ import annotations

import math
from collections import namedtuple
from functools import lru_cache
from itertools import pairwise
from operator import attrgetter
from pathlib import Path

import pandas as pd

from cchc_analysis.checks.relations import is_jump, total_vs_parts, within_bound
from cchc_analysis.findings import Finding, load_yaml, nested
from cchc_analysis.tables.records import Columns, column_values
from cchc_analysis.text import match_key

CHECKS_FILE = Path(__file__).parent / "cross_tables.yaml"


# -- checks ------------------------------------------------------------------------------------------------------
def _fmt(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.2f}".rstrip("0")


def _name(row) -> dict:
    """How a finding names an indicator: its label, with the parent's where the label alone is ambiguous."""
    indicator, parent = row.indicator, row.parent  # (nested messages written out: a finding names one or two)
    if parent and len(indicator) < 40:
        return {"key": "label_in_parent", "params": {"label": indicator, "parent": parent}}
    return {"key": "label", "params": {"label": indicator}}


def _partial_year(as_of: str) -> bool:
    return bool(as_of) and not as_of.endswith("-12-31")


_INDEX_COLUMNS = ["district", "indicator_id", "period", "year", "as_of", "appendix", "indicator", "parent",
                  "column_header", "value", "denominator", "unit", "raw", "source_line"]
_LABEL_COLUMNS = ["parent_id", "district", "appendix", "indicator", "indicator_id", "source_line"]
# an observation with a value, as the checks read it (a tuple: a dict per row cost a third of the checks)
Record = namedtuple("Record", _INDEX_COLUMNS)


class ObservationIndex:
    """(district, indicator_id) -> {period: Record} of the observations that carry a value.

    Built once per validation run, so that every check is a dictionary walk instead of a DataFrame filter per
    district and indicator (which grows with the corpus: 700 districts would mean tens of thousands of filters).
    Each column is read out of the table once (``columns``; a district's ``Columns`` need no frame): for one
    district's few hundred rows, pandas' access costs more than the checks' own work.
    """

    def __init__(self, obs: pd.DataFrame | Columns):
        self.columns = {name: column_values(obs, name) for name in dict.fromkeys([*_INDEX_COLUMNS, *_LABEL_COLUMNS])}
        self.by_key: dict[tuple[str, str], dict[str, Record]] = {}
        value, make = _INDEX_COLUMNS.index("value"), Record._make
        # every observation with a value (neither None nor NaN), in the table's order
        self.records = [make(row) for row in zip(*(self.columns[name] for name in _INDEX_COLUMNS))
                        if row[value] is not None and row[value] == row[value]]
        for record in self.records:
            self.by_key.setdefault((record.district, record.indicator_id), {}).setdefault(record.period, record)
        self.districts = sorted(set(self.columns["district"]))

    def series(self, district: str, indicator_id: str) -> dict[str, Record]:
        return self.by_key.get((district, indicator_id), {})


def _range_problem(row: Record) -> dict:
    v = row.value
    if row.unit == "percent":
        return nested("range_percent", value=_fmt(v))
    if v < 0:
        return nested("range_negative", value=_fmt(v))
    if row.unit == "count":
        return nested("range_fraction", value=_fmt(v))
    if row.unit == "ratio":
        return nested("range_ratio", value=_fmt(v), denominator=_fmt(row.denominator))
    return nested("range_flag", value=_fmt(v))


def _out_of_range(row: Record) -> bool:
    """A figure its unit rules out: a share outside 0-100, a negative count or ratio, a fraction of a count, a
    ratio above its denominator, a flag other than 0 or 1 (``row`` carries a value)."""
    value, unit, denominator = row.value, row.unit, row.denominator
    if unit == "percent":
        return value < 0 or value > 100
    if unit in ("count", "ratio") and value < 0:
        return True
    if unit == "count":
        return value % 1 != 0
    if unit == "ratio":
        return denominator is not None and denominator == denominator and value > denominator
    return unit in ("flag", "dat") and value not in (0, 1)


def check_ranges(obs: pd.DataFrame | ObservationIndex) -> list[Finding]:
    index = obs if isinstance(obs, ObservationIndex) else ObservationIndex(obs)
    findings = []
    for row in filter(_out_of_range, index.records):
        as_of = nested("as_of_clause", as_of=row.as_of) if _partial_year(row.as_of) else ""
        findings.append(Finding(row.district, "range", "error", "range",
                                {"name": _name(row), "period": row.period, "as_of": as_of,
                                 "problem": _range_problem(row), "raw": row.raw},
                                row.appendix, (row.indicator_id,), row.year,
                                source_lines=(row.source_line,)))
    return findings


_TOTAL_VERB = {"ok": "verb_equals", "error": "verb_differs", "warning": "verb_exceeds"}


def check_totals(index: ObservationIndex, specs) -> list[Finding]:
    """Each ``sum_of`` total against the sum of its parts, period by period."""
    findings = []
    relations = [spec for table in specs.values() for spec in table.indicators.values() if spec.sum_of]
    for district in index.districts:
        for spec in relations:
            parts = [(pid, index.series(district, pid)) for pid in spec.sum_of]
            for period, total in sorted(index.series(district, spec.id).items()):
                present = [series[period] for _, series in parts if period in series]
                if not present:
                    continue
                result = total_vs_parts(total.value, [p.value for p in present], len(spec.sum_of))
                other_columns = sorted({p.column_header for p in present} - {total.column_header})
                findings.append(Finding(
                    district, "total_vs_parts", result.verdict, "total_vs_parts",
                    {"name": _name(total), "period": period, "total": _fmt(total.value),
                     "verb": nested(_TOTAL_VERB[result.verdict]),
                     "terms": " + ".join([_fmt(p.value) for p in present]), "sum": _fmt(result.part_sum),
                     "blank": nested("parts_blank", n=result.missing) if result.missing else "",
                     "columns": nested("total_columns", total_column=total.column_header,
                                       part_columns=", ".join(other_columns)) if other_columns else ""},
                    spec.appendix, (spec.id, *spec.sum_of), total.year,
                    source_lines=(total.source_line, *(p.source_line for p in present))))
    return findings


def check_limits(index: ObservationIndex, specs) -> list[Finding]:
    """Each ``at_most``: an indicator cannot exceed another in the same period."""
    findings = []
    limits = [(spec, limit) for table in specs.values() for spec in table.indicators.values()
              for limit in spec.at_most]
    for district in index.districts:
        for spec, limit in limits:
            theirs = index.series(district, limit.other)
            for period, a in sorted(index.series(district, spec.id).items()):
                b = theirs.get(period)
                if b is None:
                    continue
                ok = within_bound(a.value, b.value)
                why = nested("because", why=limit.why) if not ok and limit.why else ""
                findings.append(Finding(district, "at_most", "ok" if ok else limit.severity, "at_most",
                                        {"name": _name(a), "period": period, "value": _fmt(a.value),
                                         "sign": "≤" if ok else ">", "other": _name(b), "bound": _fmt(b.value),
                                         "why": why},
                                        spec.appendix, (spec.id, limit.other), a.year,
                                        source_lines=(a.source_line, b.source_line)))
    return findings


_year = attrgetter("year")


def check_jumps(index: ObservationIndex) -> list[Finding]:
    """Year-over-year changes by a factor of JUMP_FACTOR or more (warnings; info where the later year is partial)."""
    findings = []
    for (district, indicator_id), series in index.by_key.items():
        years = [r for r in series.values() if r.unit == "count" and "-" not in r.period]
        if len(years) < 2:  # (most series: no two yearly counts to compare)
            continue
        years.sort(key=_year)
        for previous, row in pairwise(years):
            if row.year != previous.year + 1 or not is_jump(previous.value, row.value):
                continue
            partial = _partial_year(row.as_of)
            findings.append(Finding(district, "year_over_year", "info" if partial else "warning", "year_over_year",
                                    {"name": _name(row), "previous": _fmt(previous.value),
                                     "previous_period": previous.period, "value": _fmt(row.value),
                                     "period": row.period,
                                     "partial": nested("partial_year", period=row.period, as_of=row.as_of)
                                     if partial else ""},
                                    row.appendix, (indicator_id,), row.year,
                                    source_lines=(previous.source_line, row.source_line)))
    return findings


def check_coverage(index: ObservationIndex, specs) -> list[Finding]:
    """Indicators of the spec for which the report gives no figure at all (info)."""
    findings = []
    for district in index.districts:
        have = {indicator_id for (d, indicator_id) in index.by_key if d == district}
        for table in specs.values():
            for spec in table.indicators.values():
                if spec.unit in ("none", "ratio") or spec.id in have:
                    continue
                findings.append(Finding(district, "no_figures", "info", "no_figures", {"label": spec.label},
                                        spec.appendix, (spec.id,)))
    return findings


# a label's matching key, once per process: the same template labels recur in every district's tables
_label_key = lru_cache(maxsize=8192)(match_key)


def check_repeated_labels(obs: pd.DataFrame | ObservationIndex) -> list[Finding]:
    """Two top-level rows of one table with the same label but different ids (e.g. a copy-paste slip)."""
    index = obs if isinstance(obs, ObservationIndex) else ObservationIndex(obs)
    groups: dict[tuple, list[tuple]] = {}  # (district, appendix, label key) -> its rows, in table order
    for parent_id, district, appendix, indicator, indicator_id, line in zip(
            *(index.columns[name] for name in _LABEL_COLUMNS)):
        if parent_id == "":
            groups.setdefault((district, appendix, _label_key(indicator)), []).append(
                (indicator, indicator_id, line))
    findings = []
    for (district, appendix, _), rows in sorted(groups.items(), key=lambda item: item[0]):
        ids = sorted({indicator_id for _, indicator_id, _ in rows})
        if len(ids) < 2:
            continue
        lines = tuple(int(min(line for _, i, line in rows if i == indicator_id)) for indicator_id in ids)
        findings.append(Finding(district, "repeated_label", "warning", "repeated_label",
                                {"n": len(ids), "label": rows[0][0], "lines": ", ".join(map(str, lines))},
                                int(appendix), (ids[-1], *ids[:-1]), source_lines=lines))
    return findings


@lru_cache(maxsize=2)
def load_cross_checks(path: Path = CHECKS_FILE) -> tuple[dict, ...]:
    if not path.exists():
        return ()
    return tuple(load_yaml(path.read_text(encoding="utf-8")) or ())


def check_cross_tables(index: ObservationIndex, checks: tuple[dict, ...]) -> list[Finding]:
    """Declared comparisons between tables (specs/checks.yaml): the same measure, or one bounded by another."""
    findings = []
    for check in checks:
        for district in index.districts:
            left = index.series(district, check["left"]["indicator"]).get(str(check["left"]["period"]))
            right = index.series(district, check["right"]["indicator"]).get(str(check["right"]["period"]))
            if left is None or right is None:
                continue
            a = getattr(left, check["left"].get("field", "value"))
            b = getattr(right, check["right"].get("field", "value"))
            if a is None or b is None or math.isnan(a) or math.isnan(b):
                continue
            ok = a == b if check["kind"] == "equal" else within_bound(a, b)
            sign = ("=" if ok else "≠") if check["kind"] == "equal" else ("≤" if ok else ">")
            why = nested("because", why=check["why"]) if not ok and check.get("why") else ""
            findings.append(Finding(district, f"cross_table:{check['id']}", "ok" if ok else check["severity"],
                                    "cross_table",
                                    {"what": check["message"], "left_appendix": left.appendix,
                                     "left": _name(left), "left_period": left.period, "left_value": _fmt(a),
                                     "sign": sign, "right_appendix": right.appendix, "right": _name(right),
                                     "right_period": right.period, "right_value": _fmt(b), "why": why},
                                    left.appendix, (left.indicator_id, right.indicator_id),
                                    left.year, source_lines=(left.source_line, right.source_line)))
    return findings


def run_checks(obs: pd.DataFrame | Columns, specs) -> list[Finding]:
    index = ObservationIndex(obs)
    return [
        *check_ranges(index), *check_totals(index, specs), *check_limits(index, specs), *check_jumps(index),
        *check_coverage(index, specs), *check_repeated_labels(index),
        *check_cross_tables(index, load_cross_checks()),
    ]
