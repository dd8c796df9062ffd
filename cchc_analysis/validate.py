"""Validation: the tidy tables' schema (pandera) and the checks whose results go to quality.csv.

The report has real inconsistencies (a share of 190 %, a total that is not the sum of its parts, more procedures
published than exist). They are surfaced as findings with the numbers that disagree and the lines they stand on;
the data itself is never "fixed". Agreements are recorded too (severity ``ok``), so a reader sees what was checked.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
import yaml

from cchc_analysis.errors import CchcError
from cchc_analysis.text import match_key

SEVERITIES = ("error", "warning", "info", "ok")
QUALITY_COLUMNS = ["district", "check", "severity", "appendix", "indicator_id", "year", "message", "source_lines"]
CHECKS_FILE = Path(__file__).parent / "specs" / "checks.yaml"


@dataclass(frozen=True)
class Finding:
    district: str
    check: str
    severity: str
    appendix: int | None
    indicator_id: str
    year: int | None
    message: str
    source_lines: tuple[int, ...] = ()

    def as_row(self) -> dict:
        row = asdict(self)
        row["source_lines"] = ";".join(str(n) for n in sorted(set(self.source_lines)))
        return row


def findings_frame(findings: list[Finding]) -> pd.DataFrame:
    frame = pd.DataFrame([f.as_row() for f in findings], columns=QUALITY_COLUMNS)
    frame["appendix"] = frame["appendix"].astype("Int64")
    frame["year"] = frame["year"].astype("Int64")
    order = {s: i for i, s in enumerate(SEVERITIES)}
    frame["_order"] = frame["severity"].map(order)
    frame = frame.sort_values(["district", "_order", "appendix", "indicator_id", "year", "check", "message"],
                              kind="mergesort", na_position="first")
    return frame.drop(columns="_order").drop_duplicates().reset_index(drop=True)


# -- schema ------------------------------------------------------------------------------------------------------
INDICATORS_SCHEMA = pa.DataFrameSchema(
    {
        "district": pa.Column(str, pa.Check.str_length(min_value=1)),
        "district_code": pa.Column(str),
        "province": pa.Column(str),
        "appendix": pa.Column(int, pa.Check.in_range(1, 8)),
        "section": pa.Column(str),
        "area": pa.Column(str, pa.Check.str_length(min_value=1)),
        "indicator_id": pa.Column(str, pa.Check.str_matches(r"^[a-z0-9_]+$")),
        "indicator": pa.Column(str, pa.Check.str_length(min_value=1)),
        "parent": pa.Column(str),
        "parent_id": pa.Column(str),
        "indicator_en": pa.Column(str, pa.Check.str_length(min_value=1)),
        "unit": pa.Column(str, pa.Check.isin(["count", "percent", "flag", "dat", "ratio", "none"])),
        "period": pa.Column(str, pa.Check.str_matches(r"^\d{4}(-\d{4})?$")),
        "year": pa.Column(int, pa.Check.in_range(1990, 2100)),
        "as_of": pa.Column(str, pa.Check.str_matches(r"^(\d{4}-\d{2}-\d{2})?$")),
        "column_header": pa.Column(str),
        "value": pa.Column(float, nullable=True),
        "denominator": pa.Column(float, nullable=True),
        "raw": pa.Column(str, pa.Check.str_length(min_value=1)),
        "note": pa.Column(str),
        "value_status": pa.Column(str, pa.Check.isin(
            ["number", "text_zero", "number_in_text", "assessment", "text", "unparsed"])),
        "source_file": pa.Column(str, pa.Check.str_length(min_value=1)),
        "source_line": pa.Column(int, pa.Check.ge(1)),
        "source_column": pa.Column(int, pa.Check.ge(1)),
        "source_cell": pa.Column(str),
    },
    unique=["district", "indicator_id", "period", "as_of"],
    strict=True,
    ordered=True,
    coerce=False,
)


def check_schema(indicators: pd.DataFrame, source: str) -> None:
    """Raise CchcError naming the offending rows if the tidy table breaks its schema."""
    try:
        INDICATORS_SCHEMA.validate(indicators, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases.head(5)
        details = "; ".join(f"{row.column}: {row.check} (failure: {row.failure_case!r}, row {row.index})"
                            for row in cases.itertuples())
        raise CchcError(f"the tidy table breaks its schema: {details}", file=source) from None


# -- checks ------------------------------------------------------------------------------------------------------
def _fmt(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.2f}".rstrip("0")


def _lines(frame: pd.DataFrame) -> tuple[int, ...]:
    return tuple(int(n) for n in frame["source_line"])


def _name(row) -> str:
    """How a finding names an indicator: its label, with the parent's where the label alone is ambiguous."""
    indicator, parent = row["indicator"], row["parent"]
    return f"'{parent} / {indicator}'" if parent and len(indicator) < 40 else f"'{indicator}'"


def _partial_year(as_of: str) -> bool:
    return bool(as_of) and not as_of.endswith("-12-31")


def check_ranges(obs: pd.DataFrame) -> list[Finding]:
    findings = []
    for row in obs[obs["value"].notna()].itertuples():
        problem = None
        if row.unit == "percent" and not 0 <= row.value <= 100:
            problem = f"is {_fmt(row.value)} %: a share must lie between 0 and 100 (the cell may hold a count)"
        elif row.unit in ("count", "ratio") and row.value < 0:
            problem = f"is {_fmt(row.value)}: a count cannot be negative"
        elif row.unit == "count" and row.value != int(row.value):
            problem = f"is {_fmt(row.value)}: a count must be a whole number"
        elif row.unit == "ratio" and pd.notna(row.denominator) and row.value > row.denominator:
            problem = f"is {_fmt(row.value)}/{_fmt(row.denominator)}: the part exceeds the whole"
        elif row.unit in ("flag", "dat") and row.value not in (0, 1):
            problem = f"is {_fmt(row.value)}: a yes/no indicator must be 0 or 1"
        if problem:
            when = f"{row.period}" + (f" (as of {row.as_of})" if _partial_year(row.as_of) else "")
            findings.append(Finding(row.district, "range", "error", row.appendix, row.indicator_id, row.year,
                                    f"{_name(row._asdict())} in {when} {problem}; raw '{row.raw}'",
                                    (row.source_line,)))
    return findings


def _by_period(obs: pd.DataFrame, indicator_id: str) -> dict[str, pd.DataFrame]:
    rows = obs[(obs["indicator_id"] == indicator_id) & obs["value"].notna()]
    return {period: group for period, group in rows.groupby("period", sort=True)}


def check_totals(obs: pd.DataFrame, specs) -> list[Finding]:
    """Each ``sum_of`` total against the sum of its parts, period by period."""
    findings = []
    for table in specs.values():
        for spec in table.indicators.values():
            if not spec.sum_of:
                continue
            for district, dist_obs in obs.groupby("district"):
                totals = _by_period(dist_obs, spec.id)
                parts = {pid: _by_period(dist_obs, pid) for pid in spec.sum_of}
                for period, total_rows in totals.items():
                    present = {pid: rows[period] for pid, rows in parts.items() if period in rows}
                    if not present:
                        continue
                    total = total_rows.iloc[0]
                    part_sum = sum(float(rows.iloc[0]["value"]) for rows in present.values())
                    terms = " + ".join(_fmt(float(rows.iloc[0]["value"])) for rows in present.values())
                    missing = [pid for pid in spec.sum_of if pid not in present]
                    lines = _lines(total_rows) + tuple(n for rows in present.values() for n in _lines(rows))
                    columns = {str(total["column_header"])} | {str(r.iloc[0]["column_header"])
                                                               for r in present.values()}
                    where = (f" (total from column '{total['column_header']}', parts from "
                             f"'{', '.join(sorted(columns - {str(total['column_header'])}))}')"
                             if len(columns) > 1 else "")
                    gap = f"; {len(missing)} part(s) left blank" if missing else ""
                    if abs(part_sum - float(total["value"])) < 1e-9:
                        severity, verb = "ok", "equals"
                    elif part_sum > float(total["value"]) or not missing:
                        severity, verb = "error", "does not equal"
                    else:
                        severity, verb = "warning", "is more than"
                    findings.append(Finding(
                        district, "total_vs_parts", severity, spec.appendix, spec.id, int(total["year"]),
                        f"{_name(total)} {period}: total {_fmt(float(total['value']))} {verb} the sum of "
                        f"its parts {terms} = {_fmt(part_sum)}{gap}{where}", lines))
    return findings


def check_limits(obs: pd.DataFrame, specs) -> list[Finding]:
    """Each ``at_most``: an indicator cannot exceed another in the same period."""
    findings = []
    for table in specs.values():
        for spec in table.indicators.values():
            for limit in spec.at_most:
                for district, dist_obs in obs.groupby("district"):
                    mine, theirs = _by_period(dist_obs, spec.id), _by_period(dist_obs, limit.other)
                    for period in sorted(set(mine) & set(theirs)):
                        a, b = mine[period].iloc[0], theirs[period].iloc[0]
                        ok = float(a["value"]) <= float(b["value"])
                        message = (f"{_name(a)} {period}: {_fmt(float(a['value']))} "
                                   f"{'≤' if ok else '>'} {_name(b)} {_fmt(float(b['value']))}")
                        if not ok and limit.why:
                            message += f" ({limit.why})"
                        findings.append(Finding(district, "at_most", "ok" if ok else limit.severity, spec.appendix,
                                                spec.id, int(a["year"]), message,
                                                _lines(mine[period]) + _lines(theirs[period])))
    return findings


def check_jumps(obs: pd.DataFrame, factor: float = 3.0, min_change: float = 10) -> list[Finding]:
    """Year-over-year changes by a factor of ``factor`` or more (warnings; info where the later year is partial)."""
    findings = []
    counts = obs[(obs["unit"] == "count") & obs["value"].notna() & ~obs["period"].str.contains("-")]
    for (district, indicator_id), rows in counts.groupby(["district", "indicator_id"]):
        rows = rows.sort_values("year")
        previous = None
        for row in rows.itertuples():
            if previous is not None and row.year == previous.year + 1:
                low, high = sorted([previous.value, row.value])
                if abs(row.value - previous.value) >= min_change and (low == 0 or high / low >= factor):
                    partial = _partial_year(row.as_of)
                    message = (f"{_name(row._asdict())} goes from {_fmt(previous.value)} ({previous.period}) to "
                               f"{_fmt(row.value)} ({row.period})")
                    if partial:
                        message += f"; {row.period} counts only to {row.as_of}"
                    findings.append(Finding(district, "year_over_year", "info" if partial else "warning",
                                            row.appendix, indicator_id, row.year, message,
                                            (previous.source_line, row.source_line)))
            previous = row
    return findings


def check_coverage(obs: pd.DataFrame, specs, districts: list[str]) -> list[Finding]:
    """Indicators of the spec for which the report gives no figure at all (info)."""
    findings = []
    for district in districts:
        have = set(obs.loc[(obs["district"] == district) & obs["value"].notna(), "indicator_id"])
        for table in specs.values():
            for spec in table.indicators.values():
                if spec.unit in ("none", "ratio") or spec.id in have:
                    continue
                findings.append(Finding(district, "no_figures", "info", spec.appendix, spec.id, None,
                                        f"'{spec.label}': no figure for any period"))
    return findings


def check_repeated_labels(obs: pd.DataFrame) -> list[Finding]:
    """Two top-level rows of one table with the same label but different ids (e.g. a copy-paste slip)."""
    findings = []
    top = obs[obs["parent_id"] == ""].copy()
    top["_key"] = top["indicator"].map(match_key)
    for (district, appendix, _), rows in top.groupby(["district", "appendix", "_key"]):
        ids = sorted(rows["indicator_id"].unique())
        if len(ids) < 2:
            continue
        lines = tuple(int(rows[rows["indicator_id"] == i]["source_line"].min()) for i in ids)
        label = rows.iloc[0]["indicator"]
        findings.append(Finding(district, "repeated_label", "warning", int(appendix), ids[-1], None,
                                f"{len(ids)} rows carry the same label '{label}' (lines "
                                f"{', '.join(map(str, lines))}) with different figures; which units each counts "
                                f"is not said", lines))
    return findings


@lru_cache(maxsize=2)
def load_cross_checks(path: Path = CHECKS_FILE) -> tuple[dict, ...]:
    if not path.exists():
        return ()
    return tuple(yaml.safe_load(path.read_text(encoding="utf-8")) or ())


def _pick(obs: pd.DataFrame, ref: dict) -> pd.Series | None:
    rows = obs[(obs["indicator_id"] == ref["indicator"]) & (obs["period"] == str(ref["period"]))]
    field = ref.get("field", "value")
    rows = rows[rows[field].notna()]
    return rows.iloc[0] if len(rows) else None


def check_cross_tables(obs: pd.DataFrame, checks: tuple[dict, ...]) -> list[Finding]:
    """Declared comparisons between tables (specs/checks.yaml): the same measure, or one bounded by another."""
    findings = []
    for check in checks:
        for district, dist_obs in obs.groupby("district"):
            left, right = _pick(dist_obs, check["left"]), _pick(dist_obs, check["right"])
            if left is None or right is None:
                continue
            a = float(left[check["left"].get("field", "value")])
            b = float(right[check["right"].get("field", "value")])
            ok = a == b if check["kind"] == "equal" else a <= b
            sign = ("=" if ok else "≠") if check["kind"] == "equal" else ("≤" if ok else ">")
            message = (f"{check['message']}: Phụ lục {left['appendix']} {_name(left)} "
                       f"{left['period']} = {_fmt(a)} {sign} Phụ lục {right['appendix']} {_name(right)} "
                       f"{right['period']} = {_fmt(b)}")
            if not ok and check.get("why"):
                message += f" ({check['why']})"
            findings.append(Finding(district, f"cross_table:{check['id']}", "ok" if ok else check["severity"],
                                    int(left["appendix"]), str(left["indicator_id"]), int(left["year"]), message,
                                    (int(left["source_line"]), int(right["source_line"]))))
    return findings


def run_checks(obs: pd.DataFrame, specs) -> list[Finding]:
    districts = sorted(obs["district"].unique())
    return [
        *check_ranges(obs), *check_totals(obs, specs), *check_limits(obs, specs), *check_jumps(obs),
        *check_coverage(obs, specs, districts), *check_repeated_labels(obs),
        *check_cross_tables(obs, load_cross_checks()),
    ]
