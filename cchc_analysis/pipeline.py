"""Reports -> the tidy dataset on disk. Load (with checksum), extract, tidy, validate, write: read top to bottom.

Outputs are written into a temporary folder and moved into place only when every report parsed, so a failed run
leaves the existing dataset untouched.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from cchc_analysis.datapackage import WORKBOOK, WORKBOOK_TABLES, write_datapackage, write_workbook
from cchc_analysis.errors import CchcError
from cchc_analysis.extract import extract
from cchc_analysis.source import SourceText, read_report
from cchc_analysis.specs import codebook_rows, load_specs
from cchc_analysis.text import fold
from cchc_analysis.tidy import ReportMeta, TidyResult, tidy_document
from cchc_analysis.validate import Finding, check_schema, findings_frame, run_checks

MANIFEST = "manifest.json"
# Below this many reports, worker processes cost more than they save.
PARALLEL_MIN_REPORTS = 12
ADMIN_UNITS = Path(__file__).parent / "data" / "admin_units.csv"
INDICATOR_COLUMNS = [
    "district", "district_code", "province", "appendix", "section", "area", "indicator_id", "indicator", "parent",
    "parent_id", "indicator_en", "unit", "period", "year", "as_of", "column_header", "value", "denominator", "raw",
    "note", "value_status", "source_file", "source_line", "source_column", "source_cell",
]
OUTPUT_FILES = ("datapackage.json", "cchc-tables.xlsx", "indicators.csv", "indicators.parquet",
                "indicators_superseded.csv", "indicators_codebook.csv", "quality.csv", "targets.csv",
                "tables.csv", "cells.csv", "districts.csv", "sections.json", "facts.csv")


@dataclass
class ReportInput:
    path: Path
    manifest: dict = field(default_factory=dict)  # the district-level manifest
    entry: dict = field(default_factory=dict)     # this file's entry in it


@dataclass
class Dataset:
    indicators: pd.DataFrame
    codebook: pd.DataFrame
    quality: pd.DataFrame
    targets: pd.DataFrame
    tables: pd.DataFrame
    cells: pd.DataFrame
    districts: pd.DataFrame
    sections: list[dict] = field(default_factory=list)
    facts: pd.DataFrame | None = None
    reports: list[str] = field(default_factory=list)
    superseded: pd.DataFrame | None = None


# -- finding the reports --------------------------------------------------------------------------------------------
def _load_manifest(path: Path) -> dict:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CchcError(f"manifest is not valid JSON: {exc.msg}", file=path, line=exc.lineno) from None
    for key in ("district", "province", "files"):
        if key not in manifest:
            raise CchcError(f"manifest lacks '{key}'", file=path)
    return manifest


def discover(paths: list[Path]) -> list[ReportInput]:
    """Report files named directly, or listed (kind "report") in the manifests found under folders."""
    inputs: list[ReportInput] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            manifests = sorted(path.rglob(MANIFEST))
            if not manifests:
                raise CchcError(f"no {MANIFEST} found under this folder; name report files directly", file=path)
            for manifest_path in manifests:
                manifest = _load_manifest(manifest_path)
                for entry in manifest["files"]:
                    if entry.get("kind", "report") == "report":
                        inputs.append(ReportInput(manifest_path.parent / entry["file"], manifest, entry))
        elif path.exists():
            manifest_path = path.parent / MANIFEST
            manifest, entry = {}, {}
            if manifest_path.exists():
                manifest = _load_manifest(manifest_path)
                entry = next((e for e in manifest["files"] if e.get("file") == path.name), {})
                if not entry:
                    manifest = {}
            inputs.append(ReportInput(path, manifest, entry))
        else:
            raise CchcError("no such file or folder", file=path)
    if not inputs:
        raise CchcError("no reports to parse", file=", ".join(map(str, paths)))
    return inputs


def verify_checksum(report: ReportInput, source: SourceText) -> None:
    expected = report.entry.get("sha256")
    if expected and expected != source.sha256:
        raise CchcError(
            f"checksum mismatch: the manifest records sha256 {expected[:12]}…, the file has {source.sha256[:12]}…; "
            f"raw files are immutable", file=report.path,
            hint="restore the original file; a corrected report is a new raw file with its own manifest entry")


@lru_cache(maxsize=1)
def _admin_units() -> tuple[dict, ...]:
    with ADMIN_UNITS.open(encoding="utf-8") as handle:
        return tuple(csv.DictReader(handle))


def lookup_unit(district: str, province: str) -> dict | None:
    for unit in _admin_units():
        if fold(unit["district"]) == fold(district) and fold(unit["province"]) == fold(province):
            return unit
    return None


_ISSUER = re.compile(r"\b(?:UBND|Ủy ban nhân dân|ỦY BAN NHÂN DÂN)\s+(huyện|thị xã|thành phố|HUYỆN|THỊ XÃ|THÀNH PHỐ)\s+"
                     r"([A-ZĐÂĂÊÔƠƯÁÀẢÃẠ][^\s,.;:]*(?:\s+[A-ZĐÂĂÊÔƠƯÁÀẢÃẠẤẦẨẪẬẮẰẲẴẶÉÈẺẼẸẾỀỂỄỆÍÌỈĨỊÓÒỎÕỌỐỒỔỖỘỚỜỞỠỢÚÙỦŨỤỨỪỬỮỰÝỲỶỸỴ]"
                     r"[^\s,.;:]*)*)")
_PROVINCE = re.compile(r"\btỉnh\s+([A-ZĐ][^\s,.;:]*(?:\s+[A-ZĐ][^\s,.;:]*)*)")


def identify(source: SourceText, report: ReportInput) -> ReportMeta:
    """District and province: from the manifest when there is one, else from the report's own opening lines."""
    district = report.manifest.get("district")
    province = report.manifest.get("province")
    head = "\n".join(source.lines[:40])
    if not district:
        match = _ISSUER.search(head)
        district = match.group(2).strip() if match else None
    if not province:
        match = _PROVINCE.search(head)
        province = match.group(1).strip() if match else None
    if not district or not province:
        raise CchcError("cannot tell which district (and province) this report is from: no manifest entry and no "
                        "'UBND huyện X' / 'tỉnh Y' in its opening lines", file=report.path,
                        hint=f"add the file to a {MANIFEST} with 'district' and 'province'")
    unit = lookup_unit(district, province)
    return ReportMeta(
        district=district, province=province, source_file=_display_path(report.path),
        district_code=report.manifest.get("district_code") or (unit["district_code"] if unit else ""),
        province_code=report.manifest.get("province_code") or (unit["province_code"] if unit else ""),
        sha256=source.sha256)


def _display_path(path: Path) -> str:
    """A stable, relative path for provenance columns (never an absolute path of this machine)."""
    path = Path(os.path.abspath(path))
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        pass
    for folder in path.parents:  # outside the working folder: from the district folder (the one with a manifest)
        if (folder / MANIFEST).exists():
            return path.relative_to(folder.parent).as_posix()
    return path.name


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
    source = read_report(report.path)
    verify_checksum(report, source)
    meta = identify(source, report)
    document = extract(source)
    result = tidy_document(document, load_specs(), meta)
    return ParsedReport(meta, source, result)


TARGET_COLUMNS = ["district", "number", "text", "assessment", "achieved", "raw", "source_file", "source_line",
                  "text_line"]


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
    return ReportFrames(one.meta, one.source.lines, pd.DataFrame(result.observations, columns=INDICATOR_COLUMNS),
                        pd.DataFrame(result.cells), pd.DataFrame(result.targets, columns=TARGET_COLUMNS),
                        pd.DataFrame(result.tables), result.findings)


def _district_findings(task: tuple) -> tuple[list[Finding], list[dict], pd.DataFrame | None]:
    """Validation findings of one district's tables, and (when asked) its prose layer (issue 3): findings,
    sections, facts.

    ``task`` is (district, report lines, source file, the district's indicators, its targets, with_narrative):
    plain data, so it can run in a worker process. Every check works within one district.
    """
    district, lines, source_file, indicators, targets, with_narrative = task
    findings = run_checks(indicators, load_specs())
    if not with_narrative:
        return findings, [], None
    try:
        from cchc_analysis.narrative import analyse_narrative
    except ImportError:
        return findings, [], None
    result = analyse_narrative(list(lines), source_file, indicators, targets)
    for row in result.findings.to_dict("records"):
        year, appendix = row.get("year"), row.get("appendix")
        findings.append(Finding(
            district=district, check=str(row["check"]), severity=str(row["severity"]),
            appendix=None if pd.isna(appendix) or appendix == "" else int(appendix),
            indicator_id="" if pd.isna(row.get("indicator_id")) else str(row.get("indicator_id")),
            year=None if year is None or pd.isna(year) or year == "" else int(year),
            message=str(row["message"]),
            source_lines=tuple(int(n) for n in str(row.get("source_lines") or "").split(";") if n.strip())))
    sections = [{"district": district, **section} for section in result.sections]
    facts = result.facts.assign(district=district) if result.facts is not None and len(result.facts) else None
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
    from cchc_analysis.updates import year_entries, year_file_observations

    rows: list[dict] = []
    findings: list[Finding] = []
    done: set[Path] = set()
    for report in inputs:
        folder = report.path.parent
        if not report.manifest or folder in done:
            continue
        done.add(folder)
        for entry in year_entries(report.manifest):
            source_file = _display_path(folder / entry["file"])
            new = year_file_observations(folder, report.manifest, entry, source_file)
            rows += new
            findings.append(Finding(report.manifest["district"], "year_data", "info", None, "", int(entry["year"]),
                                    f"{len(new)} values for {entry['year']} from {source_file} "
                                    f"({entry.get('status', 'preliminary')}, received {entry.get('received', '?')})"))
    return rows, findings


def _supersede(observations: pd.DataFrame, updates: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A year file's value replaces the report's for the same district, indicator and year (kept aside)."""
    replaced = {(r["district"], r["indicator_id"], int(r["year"])) for r in updates}
    keys = zip(observations["district"], observations["indicator_id"], observations["year"].astype(int))
    gone = pd.Series([key in replaced for key in keys], index=observations.index, dtype=bool)
    return observations[~gone], observations[gone]


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
    synthetic: dict[str, bool] = {}
    for report, one in zip(inputs, map_reports(_parse_to_frames, inputs)):
        key = f"{fold(one.meta.province)}/{fold(one.meta.district)}"
        if key in seen:
            raise CchcError(f"district {one.meta.district} ({one.meta.province}) is reported twice "
                            f"(also in {seen[key]})", file=report.path)
        seen[key] = report.path
        synthetic[one.meta.district] = bool(report.manifest.get("synthetic", False))
        parsed.append(one)

    specs = load_specs()
    observations = pd.concat([one.observations for one in parsed], ignore_index=True)
    for one in parsed:
        one.observations = None  # held once, in the concatenated frame
    updates, update_findings = _year_data(inputs)
    superseded = None
    if updates:
        observations, superseded = _supersede(observations, updates)
        observations = pd.concat([observations, pd.DataFrame(updates, columns=INDICATOR_COLUMNS)],
                                 ignore_index=True)
    indicators = observations
    for column in ("value", "denominator"):
        indicators[column] = pd.to_numeric(indicators[column]).astype(float)
    for column in ("appendix", "year", "source_line", "source_column"):
        indicators[column] = indicators[column].astype(int)
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
              targets_of.get(one.meta.district, targets.iloc[0:0]), with_narrative) for one in parsed]
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
        "synthetic": synthetic[one.meta.district],
    } for one in parsed], columns=["district", "district_code", "province", "province_code", "source_file", "sha256",
                                   "synthetic"])
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
        reports=[one.meta.source_file for one in parsed],
        superseded=superseded.reset_index(drop=True) if superseded is not None and len(superseded) else None,
    )


# -- writing ----------------------------------------------------------------------------------------------------
def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def write_dataset(dataset: Dataset, out_dir: Path) -> list[Path]:
    """Write every table into ``out_dir`` atomically (all files or none)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".cchc-", dir=out_dir))
    try:
        _write_csv(dataset.indicators, staging / "indicators.csv")
        dataset.indicators.to_parquet(staging / "indicators.parquet", index=False, engine="pyarrow")
        _write_csv(dataset.codebook, staging / "indicators_codebook.csv")
        _write_csv(dataset.quality, staging / "quality.csv")
        _write_csv(dataset.targets, staging / "targets.csv")
        _write_csv(dataset.tables, staging / "tables.csv")
        _write_csv(dataset.cells, staging / "cells.csv")
        _write_csv(dataset.districts, staging / "districts.csv")
        if dataset.superseded is not None:
            _write_csv(dataset.superseded, staging / "indicators_superseded.csv")
        if dataset.sections:
            (staging / "sections.json").write_text(
                json.dumps(dataset.sections, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        if dataset.facts is not None:
            _write_csv(dataset.facts, staging / "facts.csv")
        frames = {name: frame for name, frame in [
            ("indicators", dataset.indicators), ("indicators_codebook", dataset.codebook),
            ("districts", dataset.districts), ("quality", dataset.quality), ("targets", dataset.targets),
            ("tables", dataset.tables), ("cells", dataset.cells), ("facts", dataset.facts),
            ("indicators_superseded", dataset.superseded)] if frame is not None}
        write_datapackage(frames, staging)
        write_workbook({k: v for k, v in frames.items() if k in WORKBOOK_TABLES}, staging / WORKBOOK)
        written = []
        for name in OUTPUT_FILES:
            target = out_dir / name
            if (staging / name).exists():
                os.replace(staging / name, target)
                written.append(target)
            elif target.exists():
                target.unlink()  # a stale output of an earlier run would no longer match the data
        return written
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def parse_and_write(paths: list[Path], out_dir: Path) -> str:
    """What ``cchc parse`` does; returns a summary for the terminal."""
    dataset = build_dataset(discover(paths))
    written = write_dataset(dataset, out_dir)
    severities = dataset.quality["severity"].value_counts()
    counts = ", ".join(f"{severities.get(s, 0)} {s}" for s in ("error", "warning", "info", "ok"))
    names = ", ".join(p.name for p in written)
    return (f"parsed {len(dataset.reports)} report(s): {len(dataset.indicators)} observations of "
            f"{dataset.indicators['indicator_id'].nunique()} indicators, {len(dataset.targets)} targets, "
            f"{len(dataset.cells)} table cells accounted for\n"
            f"quality findings: {counts}\n"
            f"wrote {out_dir}/: {names}")
