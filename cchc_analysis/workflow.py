"""What `cchc parse` does, read top to bottom: find the reports, build the dataset (tables, checks, prose), judge it
against the evaluation criteria, write every table atomically. The build, the ingest of a year file and the command
line all go through here, so the processed folder always holds an evaluation that matches its data.

With a cache folder (``cchc parse --cache-dir``, default ``.build/parse``) each report's results and its evaluation
are kept by content hash: a rebuild after one district changed reads and judges that district only.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cchc_analysis.dataset.build import (
    DistrictTables,
    assemble,
    corpus_rows,
    corpus_table,
    corpus_tally,
    csv_pieces,
    district_results,
    sheet_pieces,
    tuned_collector,
    validate_results,
)
from cchc_analysis.dataset.cache import ResultCache
from cchc_analysis.dataset.io import DatasetWriter
from cchc_analysis.dataset.model import Dataset
from cchc_analysis.dataset.schema import TABLES
from cchc_analysis.evaluation.run import district_evaluation
from cchc_analysis.findings import SEVERITIES
from cchc_analysis.read.manifest import ReportInput, discover
from cchc_analysis.tables.records import Columns

DEFAULT_CACHE = Path(".build/parse")
# the tables `cchc parse` writes from the districts' pieces alone (their CSV rows, and their workbook rows where
# they have a sheet): their corpus frames are not built (one is, from the pieces' CSV text, should the pieces not
# hold its whole table: a corpus whose workbook holds the quality findings but whose districts did not all format
# their rows, cached at another size), so the workers make no Arrow batches of them. All but the observations
# (Parquet, the schema check) and the two tables the main process builds itself.
PIECES_ONLY = tuple(name for name in TABLES if name not in ("indicators", "indicators_codebook", "districts",
                                                             "sections"))


def evaluated_dataset(paths: list[Path], cache_dir: Path | None = None, workers: int | None = None) -> Dataset:
    """The dataset of the reports under ``paths``, with its evaluation tables (``cache_dir``: see above)."""
    with ResultCache(cache_dir) as cache:
        results = _results(paths, cache, workers)
        dataset = assemble(results)
        cache.prune()
        return dataset


def _results(paths: list[Path], cache: ResultCache, workers: int | None, unframed: tuple[str, ...] = (),
             validate: bool = True) -> list:
    """Every report's results with its evaluation (``dataset.build.district_results``)."""
    return district_results(discover(paths), True, workers, cache, then=evaluate_one, unframed=unframed,
                            validate=validate)


def evaluate_one(report: ReportInput, one: DistrictTables) -> dict[str, list[dict]]:
    """One district's evaluation rows (evaluation, evaluation_parts, observations), judged where its report was read
    (in a worker process for a corpus): a district's verdicts depend on its own tables, findings, prose and lines."""
    name = one.meta.district
    own = [_rows_of(table, name) for table in (one.indicators, one.quality, one.targets, one.facts)]
    rows = district_evaluation(name, report, one.lines, *own, sections=one.sections, curated=one.curated)
    return dict(zip(("evaluation", "evaluation_parts", "observations"), rows))


def _rows_of(table: pd.DataFrame | Columns | None, district: str) -> pd.DataFrame | Columns | None:
    """The district's rows of ``table`` (a year file may bring another district's rows into its report's tables)."""
    if table is None or "district" not in table:
        return table
    if isinstance(table, Columns):
        return table.where("district", district)
    return table if (table["district"] == district).all() else table[table["district"] == district]


def parse_and_write(paths: list[Path], out_dir: Path, cache_dir: Path | None = None,
                    workers: int | None = None) -> str:
    """Parse, evaluate and write ``out_dir``; returns a summary for the terminal. ``workers``: processes for the
    per-report work (default: one per core from 12 reports on)."""
    with ResultCache(cache_dir) as cache, tuned_collector(), DatasetWriter(out_dir, workers) as writer:
        results = _results(paths, cache, workers, unframed=PIECES_ONLY, validate=False)
        # the files made of the districts' pieces (cache entries, copied by the kernel in another process) are
        # written while the corpus tables are assembled
        writer.use_pieces(csv_pieces(results), sheet_pieces(results))
        indicators = corpus_table("indicators", results)
        writer.begin("indicators", indicators)  # its Parquet file written while they are checked and assembled
        validate_results(results, cache, indicators)
        dataset = assemble(results, with_sections=False, indicators=indicators, unframed=PIECES_ONLY)
        rows = {name: corpus_rows(name, results) for name in ("targets", "cells")}
        severities, verdicts = corpus_tally("quality", results), corpus_tally("evaluation", results)
        cache.prune()
        written = writer.write(dataset)
    return (f"parsed {len(dataset.reports)} report(s): {len(dataset.indicators)} observations of "
            f"{dataset.indicators['indicator_id'].nunique()} indicators, {rows['targets']} targets, "
            f"{rows['cells']} table cells accounted for\n"
            f"quality findings: {', '.join(f'{severities.get(s, 0)} {s}' for s in SEVERITIES)}\n"
            f"evaluation: {', '.join(f'{n} {v.lower()}' for v, n in verdicts.items())}\n"
            f"wrote {out_dir}/: {', '.join(p.name for p in written)}")
