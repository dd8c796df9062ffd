"""Reports -> the tidy dataset on disk. Load (with checksum), extract, tidy, validate, write: read top to bottom.

Outputs are written into a temporary folder and moved into place only when every report parsed, so a failed run
leaves the existing dataset untouched.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cchc_analysis.checks.tables import run_checks
from cchc_analysis.dataset.model import Dataset
from cchc_analysis.dataset.schema import TABLES, check_schema, columns
from cchc_analysis.dataset.yearfile import year_entries, year_file_observations
from cchc_analysis.errors import CchcError
from cchc_analysis.findings import SEVERITIES, Finding
from cchc_analysis.prose.curated import curated_for
from cchc_analysis.prose.narrative import analyse_narrative
from cchc_analysis.read.manifest import ReportInput, ReportMeta, discover, display_path, identify, verify_checksum
from cchc_analysis.read.source import SourceText, read_source
from cchc_analysis.tables.extract import extract
from cchc_analysis.tables.specs import codebook_rows, load_specs
from cchc_analysis.tables.tidy import TidyResult, tidy_document
from cchc_analysis.text import fold

# What the manifest says of the report, kept in districts.csv (the method page cites the source document).
DOCUMENT_FIELDS = ("title", "issuer", "answers_plan", "figures_as_of")
# Below this many reports, worker processes cost more than they save.
PARALLEL_MIN_REPORTS = 12


# -- one report -------------------------------------------------------------------------------------------------
@dataclass
class ParsedReport:
    meta: ReportMeta
    source: SourceText
    result: TidyResult
    narrative: object | None = None


def parse_report(report: ReportInput | Path) -> ParsedReport:
    if not isinstance(report, ReportInput):
        report = discover([Path(report)])[0]
    source = read_source(report.path)
    verify_checksum(report, source)
    meta = identify(source, report)
    document = extract(source)
    result = tidy_document(document, load_specs(), meta)
    return ParsedReport(meta, source, result)


@dataclass
class ReportFrames:
    """One parsed report as a corpus needs it: its tables as DataFrames (compact, and cheap to send back from a
    worker process) instead of lists of row dicts, which would hold a large corpus' memory at its peak."""
    meta: ReportMeta
    lines: tuple[str, ...]
    observations: pd.DataFrame
    cells: pd.DataFrame
    targets: pd.DataFrame
    tables: pd.DataFrame
    findings: list[Finding]


def _parse_to_frames(report: ReportInput) -> ReportFrames:
    one = parse_report(report)
    result = one.result
    return ReportFrames(one.meta, one.source.lines, pd.DataFrame(result.observations, columns=columns("indicators")),
                        pd.DataFrame(result.cells), pd.DataFrame(result.targets, columns=columns("targets")),
                        pd.DataFrame(result.tables), result.findings)


def _district_findings(task: tuple) -> tuple[list[Finding], list[dict], pd.DataFrame | None]:
    """Validation findings of one district's tables, and (when asked) its prose layer: findings, sections, facts.

    ``task`` is (district, report lines, source file, the district's indicators, its targets, its curated file or
    None, with_narrative): plain data, so it can run in a worker process. Every check works within one district.
    """
    district, lines, source_file, indicators, targets, curated, with_narrative = task
    findings = run_checks(indicators, load_specs())
    if not with_narrative:
        return findings, [], None
    result = analyse_narrative(list(lines), source_file, indicators, targets, curated=curated)
    findings += result.findings
    sections = [{"district": district, **section} for section in result.sections]
    facts = result.facts.assign(district=district) if len(result.facts) else None
    return findings, sections, facts


@contextmanager
def _mapper(n_items: int, workers: int | None):
    """``map(function, items)`` in report order: in this process, or in worker processes for a large corpus.

    A ``CchcError`` raised in a worker reaches the caller unchanged (it pickles with its file and line).
    """
    if workers is None:
        workers = (os.cpu_count() or 1) if n_items >= PARALLEL_MIN_REPORTS else 1
    workers = max(1, min(workers, n_items))
    if workers == 1:
        yield lambda function, items: [function(item) for item in items]
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork on Linux: workers start at once with the package imported, and never re-run the caller's script (a
    # script without a __main__ guard works); Arrow re-creates its thread pools after a fork
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield lambda function, items: list(pool.map(function, items,
                                                     chunksize=max(1, len(items) // (workers * 8))))


def _year_data(inputs: list[ReportInput]) -> tuple[list[dict], list[Finding]]:
    """Observations of the year files ingested for the districts of ``inputs`` (see updates.py)."""
    rows: list[dict] = []
    findings: list[Finding] = []
    done: set[Path] = set()
    for report in inputs:
        folder = report.path.parent
        if not report.manifest or folder in done:
            continue
        done.add(folder)
        for entry in year_entries(report.manifest):
            source_file = display_path(folder / entry["file"])
            new = year_file_observations(folder, report.manifest, entry, source_file)
            rows += new
            findings.append(Finding(report.manifest["district"], "year_data", "info", "year_data",
                                    {"n": len(new), "year": entry["year"], "file": source_file,
                                     "status": entry.get("status", "preliminary"),
                                     "received": entry.get("received", "?")}, year=int(entry["year"])))
    return rows, findings


def _supersede(observations: pd.DataFrame, updates: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A year file's value replaces the report's for the same district, indicator and year (kept aside)."""
    replaced = {(r["district"], r["indicator_id"], int(r["year"])) for r in updates}
    keys = zip(observations["district"], observations["indicator_id"], observations["year"].astype(int))
    gone = pd.Series([key in replaced for key in keys], index=observations.index, dtype=bool)
    return observations[~gone], observations[gone]


def findings_frame(findings: list[Finding]) -> pd.DataFrame:
    """The quality table: findings in the registry's columns, errors first, without repeats."""
    frame = pd.DataFrame([f.as_row() for f in findings], columns=columns("quality"))
    frame = frame.astype(TABLES["quality"].dtypes())
    order = {s: i for i, s in enumerate(SEVERITIES)}
    frame["_order"] = frame["severity"].map(order)
    frame = frame.sort_values(["district", "_order", "appendix", "indicator_id", "year", "check", "message"],
                              kind="mergesort", na_position="first")
    return frame.drop(columns="_order").drop_duplicates().reset_index(drop=True)


# -- many reports -> dataset ------------------------------------------------------------------------------------
def build_dataset(inputs: list[ReportInput], with_narrative: bool = True, workers: int | None = None) -> Dataset:
    """Parse, validate and (``with_narrative``) read the prose of every report into one dataset.

    ``workers``: processes for parsing and the prose layer; default one per core for a corpus of
    ``PARALLEL_MIN_REPORTS`` reports or more, else this process only. The result does not depend on it.
    """
    from concurrent.futures.process import BrokenProcessPool

    try:
        with _mapper(len(inputs), workers) as map_reports:
            return _build_dataset(inputs, with_narrative, map_reports)
    except BrokenProcessPool:  # workers could not start (e.g. a __main__ they cannot import): same work, here
        with _mapper(len(inputs), 1) as map_reports:
            return _build_dataset(inputs, with_narrative, map_reports)


def _build_dataset(inputs: list[ReportInput], with_narrative: bool, map_reports) -> Dataset:
    parsed: list[ReportFrames] = []
    seen: dict[str, Path] = {}
    same_bytes: dict[str, Path] = {}  # sha256 -> report
    synthetic: dict[str, bool] = {}
    documents: dict[str, dict] = {}
    for report, one in zip(inputs, map_reports(_parse_to_frames, inputs)):
        key = f"{fold(one.meta.province)}/{fold(one.meta.district)}"
        if key in seen:
            raise CchcError(f"district {one.meta.district} ({one.meta.province}) is reported twice "
                            f"(also in {seen[key]})", file=report.path)
        seen[key] = report.path
        if one.meta.sha256 in same_bytes:
            raise CchcError(f"the same report is listed for two districts ({one.meta.district} and the district "
                            f"of {same_bytes[one.meta.sha256]})", file=report.path,
                            hint="each report belongs to one district folder; remove the copy")
        same_bytes[one.meta.sha256] = report.path
        synthetic[one.meta.district] = bool(report.manifest.get("synthetic", False))
        documents[one.meta.district] = {key: report.entry.get(key, "") for key in DOCUMENT_FIELDS}
        parsed.append(one)

    specs = load_specs()
    observations = pd.concat([one.observations for one in parsed], ignore_index=True)
    for one in parsed:
        one.observations = None  # held once, in the concatenated frame
    updates, update_findings = _year_data(inputs)
    superseded = None
    if updates:
        observations, superseded = _supersede(observations, updates)
        observations = pd.concat([observations, pd.DataFrame(updates, columns=columns("indicators"))],
                                 ignore_index=True)
    indicators = observations
    for field in TABLES["indicators"].fields:
        if field.type in ("integer", "number"):
            indicators[field.name] = pd.to_numeric(indicators[field.name]).astype(field.dtype)
    indicators = indicators.sort_values(["district", "source_file", "appendix", "source_line", "source_column",
                                         "indicator_id"],
                                        kind="mergesort").reset_index(drop=True)
    check_schema(indicators, ", ".join(one.meta.source_file for one in parsed))

    targets = pd.concat([one.targets for one in parsed], ignore_index=True)
    findings: list[Finding] = [f for one in parsed for f in one.findings] + update_findings

    # per district, in the workers: the checks of its tables, then its prose (split once: a filter per district
    # would scan the whole corpus for each of them)
    indicators_of = {name: frame for name, frame in indicators.groupby("district", sort=False)}
    targets_of = {name: frame for name, frame in targets.groupby("district", sort=False)}
    tasks = [(one.meta.district, one.lines, one.meta.source_file,
              indicators_of.get(one.meta.district, indicators.iloc[0:0]),
              targets_of.get(one.meta.district, targets.iloc[0:0]),
              curated_for(report) if with_narrative else None, with_narrative)
             for report, one in zip(inputs, parsed)]
    sections: list[dict] = []
    facts_frames = []
    for district_findings, district_sections, district_facts in map_reports(_district_findings, tasks):
        findings += district_findings
        sections += district_sections
        if district_facts is not None:
            facts_frames.append(district_facts)

    districts = pd.DataFrame([{
        "district": one.meta.district, "district_code": one.meta.district_code, "province": one.meta.province,
        "province_code": one.meta.province_code, "source_file": one.meta.source_file, "sha256": one.meta.sha256,
        **one.meta.text_provenance(),
        "synthetic": synthetic[one.meta.district], **documents[one.meta.district],
    } for one in parsed], columns=columns("districts"))
    return Dataset(
        indicators=indicators,
        codebook=pd.DataFrame(codebook_rows(specs)),
        quality=findings_frame(findings),
        targets=targets,
        tables=pd.concat([one.tables for one in parsed], ignore_index=True),
        cells=pd.concat([one.cells for one in parsed], ignore_index=True).sort_values(
            ["district", "appendix", "source_line", "source_column"], kind="mergesort").reset_index(drop=True),
        districts=districts,
        sections=sections,
        facts=pd.concat(facts_frames, ignore_index=True) if facts_frames else None,
        superseded=superseded.reset_index(drop=True) if superseded is not None and len(superseded) else None,
    )
