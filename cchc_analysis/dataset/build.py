"""Reports -> the tidy dataset on disk. Load (with checksum), extract, tidy, validate, write: read top to bottom.

Outputs are written into a temporary folder and moved into place only when every report parsed, so a failed run
leaves the existing dataset untouched.
"""

from __future__ import annotations

import gc
import hashlib
import json
import operator
import os
import sys
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from cchc_analysis.checks.tables import run_checks
from cchc_analysis.dataset import package
from cchc_analysis.dataset.blobs import Segment, mapped_blob, read_blob
from cchc_analysis.dataset.cache import ResultCache, report_key
from cchc_analysis.dataset.io import json_piece
from cchc_analysis.dataset.model import Dataset
from cchc_analysis.dataset.package import LARGE_SHEET_TABLES, SHEET_PIECE_TABLES, WORKBOOK_TABLES
from cchc_analysis.dataset.parts import Part, from_frame, from_rows, part_and_columns, row_columns, to_frame, typed
from cchc_analysis.dataset.schema import TABLES, check_schema, columns
from cchc_analysis.dataset.yearfile import year_entries, year_file_observations
from cchc_analysis.errors import CchcError
from cchc_analysis.findings import SEVERITIES, Finding
from cchc_analysis.prose.curated import Curated, curated_for
from cchc_analysis.prose.narrative import analyse_narrative
from cchc_analysis.read.manifest import ReportInput, ReportMeta, discover, display_path, identify, verify_checksum
from cchc_analysis.read.source import SourceText, interim_path, read_source
from cchc_analysis.tables.extract import extract
from cchc_analysis.tables.records import Columns, column_values
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
    """Everything one report gives the corpus before the corpus-wide assembly: its share of every table as a
    ``Part`` (Arrow and CSV bytes: cheap to send back from a worker process and to cache), with the year files of its
    folder applied, findings (read, year files, checks, prose) and, when asked, its evaluation included; its prose
    sections as a JSON piece. A function of the report's inputs only, so it can be cached by their content hash
    (``dataset.cache``)."""
    meta: ReportMeta
    synthetic: bool
    document: dict
    parts: dict[str, Part]          # table name -> this district's rows of it
    sections: tuple[int, bytes]     # its prose sections: their count and ``json_piece`` text
    key: str = ""                   # the content hash of the report's inputs, when a cache is used
    own_findings: bool = True       # every finding concerns this district (the corpus' quality rows: district order)
    own_rows: bool = True           # so do its observations and cells (the corpus' indicators and cells: likewise)
    fresh: bool = False             # computed by this run (not found in the cache): its rows are validated
    tallies: dict[str, dict] = field(default_factory=dict)  # table -> its ``TALLIED`` column's values -> rows

    def segmented(self) -> tuple[DistrictResult, list[bytes]]:
        """This result with its bytes (Arrow, CSV, workbook rows, JSON) replaced by ``Segment``s (offsets into the
        texts returned, one after another; the Arrow batches first, one span: ``with_arrow_read``): what a cache
        entry stores, and all a worker process sends back."""
        texts: list[bytes] = []
        held = [0]

        def segment(text: bytes) -> Segment:
            texts.append(text)
            held[0] += len(text)
            return Segment("", held[0] - len(text), len(text))

        batches = replace(self, parts={name: part.with_bytes(segment(part.arrow), part.csv, _sheet_data(part))
                                       for name, part in self.parts.items()})
        return batches.with_segments(segment, arrow=False), texts

    def with_segments(self, move, arrow: bool = True) -> DistrictResult:
        """This result with every segment (or bytes, for ``segmented``) ``move(segment)``; its Arrow batches kept
        as they are unless ``arrow``."""
        parts = {name: part.with_bytes(move(part.arrow) if arrow else part.arrow, move(part.csv),
                                       None if part.sheet is None else move(part.sheet.data))
                 for name, part in self.parts.items()}
        return replace(self, parts=parts, sections=(self.sections[0], move(self.sections[1])))

    def with_arrow_read(self) -> DistrictResult:
        """This result with its Arrow batches at hand, mapped from its entry in one go (``mapped_blob``): a corpus
        builds a frame of every table, and a read per batch cost about 0.25 s more at 700 districts (measured on a
        rebuild)."""
        spans = [part.arrow for part in self.parts.values() if isinstance(part.arrow, Segment)]
        if not spans:
            return self
        start = min(span.offset for span in spans)
        whole = Segment(spans[0].path, start, max(span.offset + span.length for span in spans) - start)
        if any(span.path != whole.path for span in spans) or whole.length != sum(span.length for span in spans):
            return self  # not one span (an entry of another layout): each batch read when its frame is built
        data = mapped_blob(whole)
        parts = {name: part.with_bytes(data[part.arrow.offset - start:][:part.arrow.length], part.csv,
                                       _sheet_data(part))
                 if isinstance(part.arrow, Segment) else part for name, part in self.parts.items()}
        return replace(self, parts=parts)


def _sheet_data(part: Part):
    return None if part.sheet is None else part.sheet.data


@dataclass
class DistrictTables:
    """One district's tables while its work is done where its report was read (``Columns``: read as their frames
    would be, the frames built only if asked): what ``then`` (see ``district_result``) judges. Not sent back, not
    cached."""
    meta: ReportMeta
    lines: tuple[str, ...]
    indicators: Columns | pd.DataFrame
    quality: Columns | pd.DataFrame
    targets: Columns | pd.DataFrame
    facts: pd.DataFrame | None
    sections: list[dict]
    curated: Curated | None  # the report's curated file, or None (looked up once: the prose layer and the evaluation)


INDICATOR_ORDER = ["district", "source_file", "appendix", "source_line", "source_column", "indicator_id"]
CELL_ORDER = ["district", "appendix", "source_line", "source_column"]
# tables whose corpus rows are in district order (each district's rows sorted already); the others: report order
# (the whole-corpus sort of each: what a table whose districts hold each other's rows is sorted by)
DISTRICT_ORDER = {
    "indicators": lambda frame: frame.sort_values(INDICATOR_ORDER, kind="mergesort").reset_index(drop=True),
    "cells": lambda frame: frame.sort_values(CELL_ORDER, kind="mergesort").reset_index(drop=True),
    "quality": lambda frame: sorted_findings(frame),  # (defined below)
}


def district_result(task: tuple) -> DistrictResult:
    """Read one report and do all the work that stays within its district. ``task`` is (report, with_narrative,
    then, corpus_size, unframed): plain data and a module-level function, so it can run in a worker process.
    ``then(report, tables)``, when given, runs on the district's ``DistrictTables`` while its lines are at hand and
    returns rows of further tables ({table name: rows}), added to its parts. ``corpus_size``: the reports of the
    corpus, which decides whether the large tables' workbook rows are formatted here too (``fits_workbook``; the
    outputs do not depend on it). ``unframed``: the tables whose frames the caller does not build (their parts get
    no Arrow batch, ``parts.NO_BATCH``; see ``assemble``)."""
    report, with_narrative, then, corpus_size, unframed = task
    one = parse_report(report)
    result = one.result
    district = one.meta.district
    updates, findings = _year_data(report)
    parts, indicators = _indicator_parts(result.observations, updates,
                                         fits_workbook(len(result.observations) + len(updates), corpus_size))
    parts["cells"], cells = part_and_columns(sorted_rows(result.cells, CELL_ORDER), "cells",
                                             batch="cells" not in unframed)
    parts["targets"], targets = part_and_columns(result.targets, "targets", sheet=True,
                                                 batch="targets" not in unframed)
    parts["tables"] = from_rows(result.tables, "tables", sheet=True, batch="tables" not in unframed)
    curated = curated_for(report) if with_narrative or then is not None else None
    more, sections, facts = _district_findings((district, one.source.lines, one.meta.source_file, indicators,
                                                targets, curated if with_narrative else None, with_narrative))
    quality = findings_rows(result.findings + findings + more)
    parts["quality"], quality_columns = part_and_columns(quality, "quality",
                                                         sheet=fits_workbook(len(quality), corpus_size),
                                                         batch="quality" not in unframed)
    if facts is not None:
        parts["facts"] = from_frame(facts, "facts", sheet=True, batch="facts" not in unframed)
    more_rows = {}
    if then is not None:
        tables = DistrictTables(one.meta, one.source.lines, indicators, quality_columns, targets, facts, sections,
                                curated)
        more_rows = then(report, tables)
        for name, rows in more_rows.items():
            parts[name] = from_rows(rows, name, sheet=name in SHEET_PIECE_TABLES, batch=name not in unframed)
    own = {district}
    return DistrictResult(
        one.meta, bool(report.manifest.get("synthetic", False)),
        {key: report.entry.get(key, "") for key in DOCUMENT_FIELDS}, parts,
        json_piece(sections),
        own_findings={row["district"] for row in quality} <= own,
        own_rows=all(set(column_values(table, "district")) <= own for table in (indicators, cells)),
        tallies=_tallies({"quality": quality, **more_rows}))


# the columns whose values a build counts per district (``corpus_tally``), so that its summary needs no frame
TALLIED = {"quality": "severity", "evaluation": "verdict_en"}


def _tallies(rows: dict[str, list[dict]]) -> dict[str, dict]:
    return {name: dict(Counter(row.get(column) for row in rows[name])) for name, column in TALLIED.items()
            if name in rows}


def fits_workbook(rows: int, corpus_size: int) -> bool:
    """Were every district's share of a large workbook table (``LARGE_SHEET_TABLES``) ``rows`` rows, the table would
    fit the workbook: then a district formats its sheet rows where it is read (in a worker process for a corpus), not
    the writer the whole table after them."""
    return package.in_workbook(rows * corpus_size)


def _indicator_parts(observations: list[dict], updates: list[dict],
                     sheet: bool = False) -> tuple[dict[str, Part], Columns | pd.DataFrame]:
    """The district's indicators (sorted as indicators.csv; with their workbook rows when ``sheet``) and, when year
    files replace some of its figures, those replaced (``indicators_superseded``); and its indicators as the judges
    read them."""
    if not updates:  # sorted as dicts (pandas' multi-key sort of one report's rows costs more)
        part, indicators = part_and_columns(sorted_rows(observations, INDICATOR_ORDER), "indicators", sheet)
        return {"indicators": part}, indicators
    names = columns("indicators")
    frame = typed(pd.DataFrame(observations, columns=names), "indicators")
    frame, superseded = _supersede(frame, updates)
    frame = pd.concat([frame, typed(pd.DataFrame(updates, columns=names), "indicators")], ignore_index=True)
    frame = frame.sort_values(INDICATOR_ORDER, kind="mergesort").reset_index(drop=True)
    parts = {"indicators": from_frame(frame, "indicators", sheet)}
    if len(superseded):
        parts["indicators_superseded"] = from_frame(superseded, "indicators")
    return parts, to_frame([parts["indicators"]], "indicators")


def sorted_rows(rows: list[dict], keys: list[str]) -> list[dict]:
    """``rows`` in the order ``sort_values(keys, kind="mergesort")`` gives their frame: stable, missing values last."""
    columns = row_columns(rows, keys)
    if all(len(set(map(type, column))) == 1 and type(column[0]) in (str, int) for column in columns if column):
        return [rows[i] for i in sorted(range(len(rows)), key=list(zip(*columns)).__getitem__)]  # nothing missing

    def key(row: dict) -> list:
        return [(1, 0) if (value := row.get(name)) is None or value != value else (0, value) for name in keys]

    return sorted(rows, key=key)


def csv_pieces(results: list[DistrictResult]) -> dict[str, list[tuple]]:
    """The CSV pieces of the corpus tables in the order ``assemble`` concatenates their rows (a table in district
    order whose rows must be sorted again has none: it is formatted whole)."""
    pieces = {}
    for name in {name for one in results for name in one.parts}:
        order = in_corpus_order(name, results)
        if order is not None:
            pieces[name] = [one.parts[name].piece() for one in order]
    pieces["sections"] = [one.sections for one in results]
    return pieces


def sheet_pieces(results: list[DistrictResult]) -> dict[str, list[tuple]]:
    """The workbook rows of the tables whose districts formatted them all (``SHEET_PIECE_TABLES``; the
    ``LARGE_SHEET_TABLES`` of a small corpus), in the table's row order."""
    pieces = {}
    for name in SHEET_PIECE_TABLES + LARGE_SHEET_TABLES:
        order = in_corpus_order(name, results)
        if order and all(one.parts[name].sheet is not None for one in order):
            pieces[name] = [one.parts[name].sheet_piece() for one in order]
    return pieces


def in_corpus_order(table: str, results: list[DistrictResult]) -> list[DistrictResult] | None:
    """The districts with rows of ``table`` in the order the corpus table holds their rows one after another: report
    order, or district order for the tables of ``DISTRICT_ORDER``; None when the corpus table is not their
    concatenation (a district holding rows of another: the table is sorted again, ``corpus_table``)."""
    having = [one for one in results if table in one.parts]
    if table not in DISTRICT_ORDER:
        return having
    if not _own(table, having):
        return None
    return sorted(having, key=lambda one: one.meta.district)  # stable: the corpus-wide sort, per district


def _own(table: str, results: list[DistrictResult]) -> bool:
    """Every district's rows of ``table`` concern that district only (so their concatenation is in order)."""
    return all(one.own_findings if table == "quality" else one.own_rows for one in results)


def _district_findings(task: tuple) -> tuple[list[Finding], list[dict], pd.DataFrame | None]:
    """Validation findings of one district's tables, and (when asked) its prose layer: findings, sections, facts.

    ``task`` is (district, report lines (NFC, as ``read.source`` gives them), source file, the district's
    indicators, its targets, its curated file or None, with_narrative). Every check works within one district.
    """
    district, lines, source_file, indicators, targets, curated, with_narrative = task
    findings = run_checks(indicators, load_specs())
    if not with_narrative:
        return findings, [], None
    result = analyse_narrative(list(lines), source_file, indicators, targets, curated=curated, lines_are_nfc=True)
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

    ``map_items(function, items, then=None, meanwhile=None)``: ``then(result)``, when given, runs in this process on
    each result as soon as its chunk is back, and ``meanwhile()`` once the items are sent out, so that work on the
    results overlaps the workers' (else it waits for the last of them, with a core idle). ``items`` may be an
    iterator, ``n_items`` then at least their number: its items are sent out in chunks as they come, so the workers
    start while the caller still finds what is to be done; until there are enough of them for the workers
    (``_workers``) they are held back, and if there never are, done here. A ``CchcError`` raised in a worker
    reaches the caller unchanged (it pickles with its file and line).
    """
    wanted, workers = workers, _workers(n_items, workers)
    if workers == 1:
        with tuned_collector():
            yield _map_here
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork on Linux: workers start at once with the package imported, and never re-run the caller's script (a
    # script without a __main__ guard works); Arrow re-creates its thread pools after a fork. (Processes are
    # started when the first chunk is sent.)
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_worker_started)
    try:
        def map_items(function, items, then=None, meanwhile=None):
            futures, chunk, sent = [], [], 0
            for item in items:
                chunk.append(item)
                if not futures and _workers(len(chunk), wanted) < workers:
                    continue  # (held back)
                while len(chunk) >= (size := _chunk_size(n_items - sent, workers)):
                    futures.append(pool.submit(_apply, function, chunk[:size]))
                    sent, chunk = sent + size, chunk[size:]
            if not futures and _workers(len(chunk), wanted) == 1:  # too few after all
                with tuned_collector():
                    return _map_here(function, chunk, then, meanwhile)
            futures += [pool.submit(_apply, function, part) for part in _chunks(chunk, workers)]
            if meanwhile is not None:
                meanwhile()
            return [one if then is None else then(one) for future in futures for one in future.result()]

        yield map_items
    finally:
        # the workers left to exit by themselves (waiting for them cost 5-8 ms a build); after an error, the chunks
        # not begun are dropped
        pool.shutdown(wait=False, cancel_futures=True)


def _map_here(function, items, then=None, meanwhile=None) -> list:
    items = list(items)  # (an iterator's items all found first, as when they are sent out)
    if meanwhile is not None:
        meanwhile()
    return [function(item) if then is None else then(function(item)) for item in items]


def _apply(function, items: list) -> list:
    return [function(item) for item in items]


def _worker_started() -> None:
    """A worker process reads reports all its life: the collector tuned for it (``tuned_collector``) for good."""
    _tune_collector()


_TUNED = [0]  # how many ``tuned_collector`` blocks this process is in


@contextmanager
def tuned_collector():
    """The cyclic garbage collector tuned for reading reports and building a corpus in this process
    (``_tune_collector``) while the block runs, as it was afterwards (nested blocks: the outermost restores it)."""
    threshold, frozen = gc.get_threshold(), gc.get_freeze_count()
    if not _TUNED[0]:
        _tune_collector()
    _TUNED[0] += 1
    try:
        yield
    finally:
        _TUNED[0] -= 1
        if not _TUNED[0]:
            if not frozen:  # (a process that froze objects itself keeps them frozen, ours with them)
                gc.unfreeze()
            gc.set_threshold(*threshold)


def _tune_collector() -> None:
    """What the process holds already (modules, loaded rules) outlives the reports: frozen out of the cyclic
    collector's sight, so its full collections walk only what the reports create; and the young generation is
    collected every ``YOUNG_GC_THRESHOLD`` allocations instead of 700 (a report makes tens of thousands of
    short-lived rows and cells). The bare read of a 700-district corpus about a quarter faster, the whole build about
    a tenth; results are the same."""
    gc.freeze()
    gc.set_threshold(YOUNG_GC_THRESHOLD, *gc.get_threshold()[1:])


YOUNG_GC_THRESHOLD = 10_000


def _chunks(items: list, workers: int) -> list[list]:
    """The items in consecutive chunks sent to a worker at a time, shrinking as the work left shrinks (guided
    scheduling, ``_chunk_size``)."""
    chunks, start = [], 0
    while start < len(items):
        size = _chunk_size(len(items) - start, workers)
        chunks.append(items[start:start + size])
        start += size
    return chunks


def _chunk_size(left: int, workers: int) -> int:
    """A few reports a message while much is left, one at a time at the end, so no worker is still busy with a long
    chunk while the others wait (fixed chunks of 6 could leave one idle for 6 reports' time: 0.2 s of a 100-report
    build)."""
    return max(1, min(MAX_CHUNK, left // (workers * 4)))


MAX_CHUNK = 8


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
_FINDING_KEY = operator.itemgetter(*(name if name != "_order" else "severity" for name in _FINDING_ORDER))


_SEVERITY_RANK = {severity: i for i, severity in enumerate(SEVERITIES)}


def _finding_key(row: dict) -> tuple:
    """A quality row's sort key (``_FINDING_ORDER``; ``_order``: its severity's rank): each value preceded by
    whether it is there, so an empty one (None) comes first and is never compared with a value."""
    district, severity, appendix, indicator, year, check, message = _FINDING_KEY(row)
    rank = _SEVERITY_RANK.get(severity)
    return (district is not None, district, rank is not None, rank, appendix is not None, appendix,
            indicator is not None, indicator, year is not None, year, check is not None, check,
            message is not None, message)


def findings_rows(findings: list[Finding]) -> list[dict]:
    """The quality table's rows: findings in the registry's columns, errors first, without repeats.

    Sorted and de-duplicated as rows (a report's hundred findings: a fraction of pandas' cost), in the order of
    ``sorted_findings``: the same keys, empty values first, stable."""
    values_of = operator.itemgetter(*columns("quality"))
    rows = [f.as_row() for f in findings]
    rows.sort(key=_finding_key)
    seen: set[tuple] = set()
    unique = []
    for row in rows:
        values = values_of(row)
        if values not in seen:
            seen.add(values)
            unique.append(row)
    return unique


def findings_frame(findings: list[Finding]) -> pd.DataFrame:
    """The quality table of ``findings`` (``findings_rows``) in the registry's dtypes."""
    return to_frame([from_rows(findings_rows(findings), "quality")], "quality")


def sorted_findings(frame: pd.DataFrame) -> pd.DataFrame:
    """Errors first, then warnings ... per district; repeats dropped (stable: equal keys keep their order)."""
    order = {s: i for i, s in enumerate(SEVERITIES)}
    frame["_order"] = frame["severity"].map(order)
    frame = frame.sort_values(list(_FINDING_ORDER), kind="mergesort", na_position="first")
    return frame.drop(columns="_order").drop_duplicates().reset_index(drop=True)


# -- many reports -> dataset ------------------------------------------------------------------------------------
def build_dataset(inputs: list[ReportInput], with_narrative: bool = True, workers: int | None = None,
                  cache_dir: Path | None = None) -> Dataset:
    """Parse, validate and (``with_narrative``) read the prose of every report into one dataset.

    ``workers``: processes for the per-report work; default one per core for a corpus of ``PARALLEL_MIN_REPORTS``
    reports (not found in the cache) or more, else this process only. ``cache_dir``: per-report results by content
    hash (``dataset.cache.ResultCache``): a report whose inputs did not change is not read again. The result
    depends on neither.
    """
    with ResultCache(cache_dir) as cache:
        return assemble(district_results(inputs, with_narrative, workers, cache))


def district_results(inputs: list[ReportInput], with_narrative: bool, workers: int | None, cache: ResultCache,
                     then=None, unframed: tuple[str, ...] = (), validate: bool = True) -> list[DistrictResult]:
    """The per-report results, in report order: from ``cache`` where it holds them, else computed, stored, their
    observations validated against the schema and their entries marked valid (unless not ``validate``: the caller
    then calls ``validate_results`` before it uses them). Their CSV and JSON texts stay in the cache's entries
    (``Segment``s), so ``cache`` must stay open while they are written. ``then``, ``unframed``: see
    ``district_result`` (both are part of the cache key)."""
    from concurrent.futures.process import BrokenProcessPool

    kind = f"district:{with_narrative}:{then.__module__}.{then.__qualname__}" if then else f"district:{with_narrative}"
    kind += f":unframed={','.join(sorted(unframed))}" if unframed else ""
    keys: list[str] = [""] * len(inputs)
    results: list[DistrictResult | None] = [None] * len(inputs)
    todo: list[int] = []
    tasks: list[tuple] = []

    def to_compute():
        """The reports to read (not in the cache), as their keys are found: the workers start on the first ones
        while the others' files are hashed."""
        for i, report in enumerate(inputs):
            key = keys[i] = f"scratch-{i:06d}" if cache.scratch else \
                report_key(report, kind, cache.hashes) or f"uncached-{i:06d}"
            one = None if key.startswith("uncached-") else cache.get(key)
            results[i] = one if one is None or _interim_intact(report, one) else None
            if results[i] is None:
                cache.invalidate([key])  # (before its entry is written anew: valid only once its rows pass)
                todo.append(i)
                tasks.append(((report, with_narrative, then, len(inputs), frozenset(unframed)), cache.folder, key))
                yield tasks[-1]

    pending = to_compute()
    load_specs()  # (loaded once here, where the corpus is assembled, not in every worker: they are forked after it)
    try:
        with _mapper(len(inputs), workers) as map_reports:  # (the batches read while the workers go on)
            computed = map_reports(_district_task, pending, then=DistrictResult.with_arrow_read,
                                   meanwhile=lambda: _read_cached(results))
    except BrokenProcessPool:  # workers could not start (e.g. a __main__ they cannot import): same work, here
        for _ in pending:  # (the reports not looked up yet)
            pass
        _read_cached(results)  # (reading them again is nothing: a result read already has no span left)
        computed = [_district_task(task).with_arrow_read() for task in tasks]
    for i, one in zip(todo, computed):
        results[i] = one
        one.fresh = True
    for key, one in zip(keys, results):
        one.key = key
    _check_distinct(inputs, results)
    cache.used.update(keys)
    if cache.hashes:
        cache.hashes.save({os.path.abspath(report.path) for report in inputs})
    if validate:
        validate_results(results, cache)
    return results


def _read_cached(results: list[DistrictResult | None]) -> None:
    """The cached results with their Arrow batches mapped (every table's frame is built from them)."""
    results[:] = [None if one is None else one.with_arrow_read() for one in results]


def validate_results(results: list[DistrictResult], cache: ResultCache,
                     indicators: pd.DataFrame | None = None) -> None:
    """The observations of the results computed by this run checked against the schema, then their cache entries
    marked valid. ``indicators``: the corpus table of all the results' observations when built already (it is the
    one checked when every result is fresh: a cold build)."""
    fresh = [one for one in results if one.fresh]
    if not fresh:
        return
    if indicators is None or len(fresh) < len(results):
        indicators = corpus_table("indicators", fresh)
    check_schema(indicators, ", ".join(one.meta.source_file for one in fresh))
    cache.commit([one.key for one in fresh if not one.key.startswith("uncached-")])


def _interim_intact(report: ReportInput, one: DistrictResult) -> bool:
    """A Word or PDF report's line numbers point into its extracted text (data/interim/): a cached result is used
    only while that file is there as it was written, else the report is read again (which writes it)."""
    if one.meta.format == "text":
        return True
    try:
        return hashlib.sha256(interim_path(report.path).read_bytes()).hexdigest() == one.meta.text_sha256
    except OSError:
        return False


def _district_task(task: tuple) -> DistrictResult:
    """``district_result`` of ``task[0]``, its entry written into the cache folder by the process that computed it;
    what goes back (from a worker process: pickled) is the result without its texts (``DistrictResult.segmented``)."""
    work, folder, key = task
    stub, texts = district_result(work).segmented()
    return ResultCache(folder).store(key, stub, texts)


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


def corpus_table(name: str, results: list[DistrictResult]) -> pd.DataFrame | None:
    """A corpus table from the districts' parts (None when no district has rows of it): in report order, or for the
    tables of ``DISTRICT_ORDER`` each district's rows (sorted already) in district order; should a district hold rows
    of another (a year file naming another district), all of them sorted again (stable: the same order)."""
    if not any(name in one.parts for one in results):
        return None
    order = in_corpus_order(name, results)
    if order is not None:
        return to_frame([one.parts[name] for one in order], name)
    return DISTRICT_ORDER[name](to_frame([one.parts[name] for one in results if name in one.parts], name))


def _pieces_hold(name: str, results: list[DistrictResult]) -> bool:
    """The districts' pieces hold the whole table: its CSV rows one district after another in the corpus' order
    (``csv_pieces``), and its workbook rows where the workbook has its sheet (``sheet_pieces``; a table beyond the
    workbook's budget has none: its frame would be built for nothing)."""
    order = in_corpus_order(name, results)
    return order is not None and (name not in WORKBOOK_TABLES or not package.in_workbook(corpus_rows(name, order))
                                  or all(one.parts[name].sheet is not None for one in order))


def corpus_tally(name: str, results: list[DistrictResult]) -> pd.Series:
    """The corpus table's ``TALLIED`` column's ``value_counts()``, counted from the districts' tallies (the same
    counts in the same order: the values as they first come in the table, then sorted as ``value_counts`` sorts)."""
    total: Counter = Counter()
    for one in in_corpus_order(name, results) or results:
        total.update(one.tallies.get(name, {}))
    return pd.Series(total, dtype="int64").sort_values(ascending=False)


def corpus_rows(name: str, results: list[DistrictResult]) -> int:
    """The rows of a corpus table (whether or not its frame is built)."""
    return sum(one.parts[name].rows for one in results if name in one.parts)


def sections_of(results: list[DistrictResult]) -> list[dict]:
    """Every district's prose sections, decoded from their JSON pieces."""
    return [section for one in results if one.sections[0]
            for section in json.loads(b"[" + read_blob(one.sections[1]) + b"]")]


def assemble(results: list[DistrictResult], with_sections: bool = True,
             indicators: pd.DataFrame | None = None, unframed: tuple[str, ...] = ()) -> Dataset:
    """The corpus-wide tables from the per-report results (``corpus_table``), the observations validated against
    the schema. ``with_sections``: decode the prose sections (a writer that joins their JSON pieces does not need
    them). ``indicators``: their corpus table, when built already. ``unframed``: tables left None, to be written
    from the districts' pieces alone, where those hold them (``_pieces_hold``; else built anyway)."""
    indicators = corpus_table("indicators", results) if indicators is None else indicators
    if not _own("indicators", results):  # rows of one district in another's report: keys unique across them too
        check_schema(indicators, ", ".join(one.meta.source_file for one in results))
    districts = pd.DataFrame([{
        "district": one.meta.district, "district_code": one.meta.district_code, "province": one.meta.province,
        "province_code": one.meta.province_code, "source_file": one.meta.source_file, "sha256": one.meta.sha256,
        **one.meta.text_provenance(),
        "synthetic": one.synthetic, **one.document,
    } for one in results], columns=columns("districts"))
    tables = {TABLES[name].dataset_attribute:
              None if name in unframed and _pieces_hold(name, results) else corpus_table(name, results)
              for name in TABLES if name not in ("indicators", "indicators_codebook", "districts", "sections")}
    return Dataset(indicators=indicators, codebook=pd.DataFrame(codebook_rows(load_specs())), districts=districts,
                   sections=sections_of(results) if with_sections else None, **tables)
