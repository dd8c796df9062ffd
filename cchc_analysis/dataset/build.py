"""Reports -> the tidy dataset on disk. Load (with checksum), extract, tidy, validate, write: read top to bottom.

Outputs are written into a temporary folder and moved into place only when every report parsed, so a failed run
leaves the existing dataset untouched.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cchc_analysis.checks.tables import run_checks
from cchc_analysis.dataset.cache import ResultCache, report_key
from cchc_analysis.dataset.io import json_piece
from cchc_analysis.dataset.model import Dataset
from cchc_analysis.dataset.schema import TABLES, check_schema, columns
from cchc_analysis.dataset.yearfile import year_entries, year_file_observations
from cchc_analysis.errors import CchcError
from cchc_analysis.findings import SEVERITIES, Finding
from cchc_analysis.prose.curated import curated_for
from cchc_analysis.prose.narrative import analyse_narrative
from cchc_analysis.read.manifest import ReportInput, ReportMeta, discover, display_path, identify, verify_checksum
from cchc_analysis.read.source import SourceText, interim_path, read_source
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
class DistrictResult:
    """Everything one report gives the corpus before the corpus-wide assembly: its tables as DataFrames (compact,
    and cheap to send back from a worker process or to cache), with the year files of its folder applied, its
    findings (read, year files, checks, prose), sections and facts. A function of the report's inputs only, so it can
    be cached by their content hash (``dataset.cache``)."""
    meta: ReportMeta
    lines: tuple[str, ...]
    observations: pd.DataFrame      # typed and sorted as indicators.csv
    superseded: pd.DataFrame | None
    cells: pd.DataFrame             # sorted as cells.csv
    targets: pd.DataFrame
    tables: pd.DataFrame
    quality: pd.DataFrame           # its findings as quality.csv rows (``findings_frame``)
    sections: list[dict]
    facts: pd.DataFrame | None
    synthetic: bool
    document: dict
    then: object = None  # what the caller's ``then`` made of it (the evaluation: see workflow.py)
    csv: dict = None     # table -> its rows as CSV text (``csv_piece``), so a rebuild need not format them again
    key: str = ""        # the content hash of the report's inputs, when a cache is used
    own_findings: bool = True  # every finding concerns this district (the corpus' quality rows: district order)
    own_rows: bool = True      # so do its observations and cells (the corpus' indicators and cells: likewise)


INDICATOR_ORDER = ["district", "source_file", "appendix", "source_line", "source_column", "indicator_id"]
CELL_ORDER = ["district", "appendix", "source_line", "source_column"]


def district_result(task: tuple) -> DistrictResult:
    """Read one report and do all the work that stays within its district. ``task`` is (report, with_narrative,
    then): plain data and a module-level function, so it can run in a worker process. ``then(report, result)``, when
    given, runs on the result while the report's lines are at hand; they are not kept (nor sent back, nor cached)."""
    report, with_narrative, then = task
    one = parse_report(report)
    result = one.result
    updates, findings = _year_data(report)
    findings = result.findings + findings
    superseded = None
    # sorted as dicts where no year file adds rows (pandas' multi-key sort of one report's rows costs more)
    observations = pd.DataFrame(result.observations if updates else sorted_rows(result.observations, INDICATOR_ORDER),
                                columns=columns("indicators"))
    if updates:
        observations, superseded = _supersede(observations, updates)
        observations = pd.concat([observations, pd.DataFrame(updates, columns=columns("indicators"))],
                                 ignore_index=True)
    for field in TABLES["indicators"].fields:
        if field.type in ("integer", "number") and str(observations[field.name].dtype) != field.dtype:
            observations[field.name] = pd.to_numeric(observations[field.name]).astype(field.dtype)
    if updates:
        observations = observations.sort_values(INDICATOR_ORDER, kind="mergesort").reset_index(drop=True)
    cells = pd.DataFrame(sorted_rows(result.cells, CELL_ORDER))
    targets = pd.DataFrame(result.targets, columns=columns("targets"))
    curated = curated_for(report) if with_narrative else None
    more, sections, facts = _district_findings((one.meta.district, one.source.lines, one.meta.source_file,
                                                observations, targets, curated, with_narrative))
    district = DistrictResult(one.meta, one.source.lines, observations, superseded, cells, targets,
                              pd.DataFrame(result.tables), findings_frame(findings + more), sections, facts,
                              bool(report.manifest.get("synthetic", False)),
                              {key: report.entry.get(key, "") for key in DOCUMENT_FIELDS})
    own = {one.meta.district}
    district.own_findings = set(district.quality["district"].tolist()) <= own
    district.own_rows = all(set(frame["district"].tolist()) <= own for frame in (observations, cells)
                            if "district" in frame)
    district.csv = {name: csv_piece(getattr(district, attribute)) for name, attribute in _PIECES.items()
                    if getattr(district, attribute) is not None}
    district.csv["sections"] = json_piece(sections)
    district.csv["targets"] = csv_piece(targets)
    district.csv["tables"] = csv_piece(district.tables)
    if then is not None:
        district.then = then(report, district)
        district.lines = ()
    for attribute in _FRAMES:
        setattr(district, attribute, pack_frame(getattr(district, attribute)))
    district.csv = {name: (*piece[:-1], piece[-1].encode("utf-8")) for name, piece in district.csv.items()}
    return district


# the frames of a ``DistrictResult``, kept packed (``pack_frame``) once its district's work is done
_FRAMES = ("observations", "superseded", "cells", "targets", "tables", "quality", "facts")


def pack_frame(frame: pd.DataFrame | None):
    """A district's frame as Arrow IPC bytes (("arrow", bytes)) when it comes back from them equal, dtypes included,
    else the frame itself. Why: a cached result is unpickled per district on every rebuild, and pandas frames of
    Arrow strings unpickle slowly; IPC bytes unpickle as one copy, and a corpus' tables are their Arrow
    concatenation, converted to pandas once (``_corpus_frame``)."""
    import pyarrow as pa

    if frame is None:
        return None
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        data = sink.getvalue().to_pybytes()
    except (pa.ArrowException, TypeError, ValueError):
        return frame
    back = _arrow_table(data).to_pandas()
    if not (back.dtypes.equals(frame.dtypes) and back.columns.equals(frame.columns) and back.equals(frame)):
        return frame
    return ("arrow", data, len(frame))


def _rows(packed) -> int:
    return packed[2] if isinstance(packed, tuple) else len(packed)


def _arrow_table(data: bytes):
    import pyarrow as pa

    return pa.ipc.open_stream(data).read_all()


def unpack_frame(packed) -> pd.DataFrame | None:
    """The frame ``pack_frame`` packed."""
    if isinstance(packed, tuple):
        return _arrow_table(packed[1]).to_pandas()
    return packed


def _corpus_frame(parts: list) -> pd.DataFrame:
    """``pd.concat(frames, ignore_index=True)`` of the packed frames ``parts``: when every part is Arrow of one
    schema, their Arrow concatenation converted once (the same frame, a fraction of the time), else pandas'."""
    import pyarrow as pa

    if parts and all(isinstance(part, tuple) for part in parts):
        tables = [_arrow_table(part[1]) for part in parts]
        try:
            return pa.concat_tables(tables).to_pandas()
        except pa.ArrowInvalid:  # schemas differ (a column typed otherwise in one district): pandas decides
            pass
    return pd.concat([unpack_frame(part) for part in parts], ignore_index=True)


def sorted_rows(rows: list[dict], keys: list[str]) -> list[dict]:
    """``rows`` in the order ``sort_values(keys, kind="mergesort")`` gives their frame: stable, missing values last."""
    def key(row: dict) -> list:
        return [(1, 0) if (value := row.get(name)) is None or value != value else (0, value) for name in keys]

    return sorted(rows, key=key)


# the large corpus tables, each the concatenation of every report's rows in district order (the attribute holding
# them); the small ones (a few rows a district) cost less formatted at once than a call of ``to_csv`` per report
_PIECES = {"indicators": "observations", "cells": "cells", "quality": "quality"}
# the tables concatenated in report order, their pieces as well: a district's rows formatted once, where it is read
# (the evaluation's by the caller's ``then``, see workflow.py)
IN_REPORT_ORDER = ("targets", "tables", "evaluation", "evaluation_parts", "observations", "sections")


def csv_piece(frame: pd.DataFrame) -> tuple[tuple[str, ...], int, str]:
    """A table's rows as CSV text without the header, with the dtypes and row count it was formatted from: the text
    of a row depends on its values and its columns' dtypes only, so pieces of equal dtypes joined are the CSV of
    the concatenated table (``dataset.io.write_dataset`` checks the dtypes before it trusts them)."""
    return (tuple(map(str, frame.dtypes)), len(frame),
            frame.to_csv(index=False, header=False, encoding="utf-8", lineterminator="\n"))


def csv_pieces(results: list[DistrictResult]) -> dict[str, list[tuple]]:
    """The CSV pieces of the corpus tables in the order ``assemble`` concatenates their rows."""
    by_district = sorted(results, key=lambda one: one.meta.district)
    own = {"quality": all(one.own_findings for one in results)}
    own["indicators"] = own["cells"] = all(one.own_rows for one in results)
    pieces = {}
    for name in _PIECES:
        if not own[name]:
            continue
        pieces[name] = [one.csv[name] for one in by_district if one.csv and name in one.csv]
    for name in IN_REPORT_ORDER:
        if all(one.csv and name in one.csv for one in results):
            pieces[name] = [one.csv[name] for one in results]
    return pieces


def _district_findings(task: tuple) -> tuple[list[Finding], list[dict], pd.DataFrame | None]:
    """Validation findings of one district's tables, and (when asked) its prose layer: findings, sections, facts.

    ``task`` is (district, report lines, source file, the district's indicators, its targets, its curated file or
    None, with_narrative). Every check works within one district.
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


def _workers(n_items: int, workers: int | None) -> int:
    if workers is None:
        workers = (os.cpu_count() or 1) if n_items >= PARALLEL_MIN_REPORTS else 1
    return max(1, min(workers, n_items))


@contextmanager
def _mapper(n_items: int, workers: int | None):
    """``map(function, items)`` in report order: in this process, or in worker processes for a large corpus.

    A ``CchcError`` raised in a worker reaches the caller unchanged (it pickles with its file and line).
    """
    workers = _workers(n_items, workers)
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


def _year_data(report: ReportInput) -> tuple[list[dict], list[Finding]]:
    """Observations of the year files ingested for the district of ``report`` (see updates.py)."""
    rows: list[dict] = []
    findings: list[Finding] = []
    if not report.manifest:
        return rows, findings
    folder = report.path.parent
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


_FINDING_ORDER = ("district", "_order", "appendix", "indicator_id", "year", "check", "message")


def findings_frame(findings: list[Finding]) -> pd.DataFrame:
    """The quality table: findings in the registry's columns, errors first, without repeats.

    Sorted and de-duplicated as rows (a report's hundred findings: a fraction of pandas' cost), in the order of
    ``sorted_findings``: the same keys, empty values first, stable."""
    order = {s: i for i, s in enumerate(SEVERITIES)}
    names = columns("quality")
    rows = [f.as_row() for f in findings]

    def key(row: dict) -> tuple:
        values = (order.get(row["severity"]) if name == "_order" else row[name] for name in _FINDING_ORDER)
        return tuple((0,) if value is None else (1, value) for value in values)

    seen: set[tuple] = set()
    unique = []
    for row in sorted(rows, key=key):
        values = tuple(row[name] for name in names)
        if values not in seen:
            seen.add(values)
            unique.append(row)
    dtypes = TABLES["quality"].dtypes()  # column by column, each in its dtype: a third of rows-then-astype's cost
    return pd.DataFrame({name: pd.Series([row[name] for row in unique], dtype=dtypes[name]) for name in names})


def sorted_findings(frame: pd.DataFrame) -> pd.DataFrame:
    """Errors first, then warnings ... per district; repeats dropped (stable: equal keys keep their order)."""
    order = {s: i for i, s in enumerate(SEVERITIES)}
    frame["_order"] = frame["severity"].map(order)
    frame = frame.sort_values(["district", "_order", "appendix", "indicator_id", "year", "check", "message"],
                              kind="mergesort", na_position="first")
    return frame.drop(columns="_order").drop_duplicates().reset_index(drop=True)


# -- many reports -> dataset ------------------------------------------------------------------------------------
def build_dataset(inputs: list[ReportInput], with_narrative: bool = True, workers: int | None = None,
                  cache: ResultCache | None = None) -> Dataset:
    """Parse, validate and (``with_narrative``) read the prose of every report into one dataset.

    ``workers``: processes for the per-report work; default one per core for a corpus of ``PARALLEL_MIN_REPORTS``
    reports (not found in ``cache``) or more, else this process only. ``cache``: per-report results by content hash
    (``dataset.cache.ResultCache``): a report whose inputs did not change is not read again. The result depends on
    neither.
    """
    results = district_results(inputs, with_narrative, workers, cache)
    return assemble(inputs, results)


def district_results(inputs: list[ReportInput], with_narrative: bool, workers: int | None = None,
                     cache: ResultCache | None = None, then=None) -> list[DistrictResult]:
    """The per-report results, in report order: from ``cache`` where it holds them, else computed (and stored).
    ``then``: see ``district_result`` (its name is part of the cache key)."""
    from concurrent.futures.process import BrokenProcessPool

    cache = cache or ResultCache(None)
    kind = f"district:{with_narrative}:{then.__module__}.{then.__qualname__}" if then else f"district:{with_narrative}"
    keys = [report_key(r, kind) if cache.folder else "" for r in inputs]
    results = [cache.get(key) if key else None for key in keys]
    results = [one if one is None or _interim_intact(report, one) else None for report, one in zip(inputs, results)]
    todo = [i for i, one in enumerate(results) if one is None]
    ship = _workers(len(todo), workers) > 1
    tasks = [(inputs[i], with_narrative, then, cache.folder if keys[i] else None, keys[i], ship) for i in todo]
    try:
        with _mapper(len(tasks), workers) as map_reports:
            computed = map_reports(_district_task, tasks)
    except BrokenProcessPool:  # workers could not start (e.g. a __main__ they cannot import): same work, here
        computed = [_district_task((*task[:-1], False)) for task in tasks]
    for i, one in zip(todo, computed):
        results[i] = pickle.loads(one)[1] if isinstance(one, bytes) else one
        if keys[i]:
            cache.used.add(keys[i])
    for key, one in zip(keys, results):
        one.key = key
    return results


def _interim_intact(report: ReportInput, one: DistrictResult) -> bool:
    """A Word or PDF report's line numbers point into its extracted text (data/interim/): a cached result is used
    only while that file is there as it was written, else the report is read again (which writes it)."""
    if one.meta.format == "text":
        return True
    try:
        return hashlib.sha256(interim_path(report.path).read_bytes()).hexdigest() == one.meta.text_sha256
    except OSError:
        return False


def _district_task(task: tuple) -> DistrictResult | bytes:
    """``district_result``, stored in the cache by the process that computed it; from a worker process, sent back
    as the entry's bytes (encoded once, for both)."""
    report, with_narrative, then, folder, key, ship = task
    one = district_result((report, with_narrative, then))
    if folder is None and not ship:
        return one
    cache = ResultCache(folder)
    data = cache.encode(key, one)
    cache.store(key, data)
    return data if ship else one


def _check_distinct(inputs: list[ReportInput], results: list[DistrictResult]) -> None:
    """One report per district, and no report listed for two districts."""
    seen: dict[str, Path] = {}
    same_bytes: dict[str, Path] = {}  # sha256 -> report
    for report, one in zip(inputs, results):
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


def _concat(frames: list) -> pd.DataFrame | None:
    frames = [f for f in frames if f is not None]
    return _corpus_frame(frames) if frames else None


def _quality(results: list[DistrictResult], by_district: list[DistrictResult]) -> pd.DataFrame:
    """The corpus' quality table from each report's (already sorted, without repeats). When each report's findings
    concern its own district only, that is their concatenation in district order; else the rows are sorted again
    (stable, so the same order as sorting every finding at once)."""
    if all(one.own_findings for one in results):
        return _corpus_frame([one.quality for one in by_district])
    return sorted_findings(_corpus_frame([one.quality for one in results]))


def _in_order(frames: list, by_district: list, order: list[str],
              results: list[DistrictResult]) -> pd.DataFrame:
    """A corpus table sorted by ``order``: each report's rows (sorted already) in district order, or, should a report
    hold rows of another district, all of them sorted again (stable: the same order)."""
    if all(one.own_rows for one in results):
        return _corpus_frame(by_district)
    return _corpus_frame(frames).sort_values(order, kind="mergesort").reset_index(drop=True)


def assemble(inputs: list[ReportInput], results: list[DistrictResult]) -> Dataset:
    """The corpus-wide tables from the per-report results: concatenated (indicators and cells in district order,
    each district's rows already sorted), validated against the schema, findings sorted. The results' frames are
    released (their CSV pieces and ``then`` are kept)."""
    _check_distinct(inputs, results)
    by_district = sorted(results, key=lambda one: one.meta.district)  # stable: the corpus-wide sort, done per district
    indicators = _in_order([one.observations for one in results], [one.observations for one in by_district],
                           INDICATOR_ORDER, results)
    check_schema(indicators, ", ".join(one.meta.source_file for one in results))
    superseded = _concat([one.superseded for one in results if one.superseded is not None and _rows(one.superseded)])
    districts = pd.DataFrame([{
        "district": one.meta.district, "district_code": one.meta.district_code, "province": one.meta.province,
        "province_code": one.meta.province_code, "source_file": one.meta.source_file, "sha256": one.meta.sha256,
        **one.meta.text_provenance(),
        "synthetic": one.synthetic, **one.document,
    } for one in results], columns=columns("districts"))
    dataset = Dataset(
        indicators=indicators,
        codebook=pd.DataFrame(codebook_rows(load_specs())),
        quality=_quality(results, by_district),
        targets=_corpus_frame([one.targets for one in results]),
        tables=_corpus_frame([one.tables for one in results]),
        cells=_in_order([one.cells for one in results], [one.cells for one in by_district], CELL_ORDER, results),
        districts=districts,
        sections=[section for one in results for section in one.sections],
        facts=_concat([one.facts for one in results]),
        superseded=superseded,
    )
    for one in results:  # held once, in the dataset: a corpus' frames twice would double the peak memory
        one.observations = one.cells = one.quality = one.targets = one.tables = one.facts = one.superseded = None
    return dataset
