"""What `cchc parse` does, read top to bottom: find the reports, build the dataset (tables, checks, prose), judge it
against the evaluation criteria, write every table atomically. The build, the ingest of a year file and the command
line all go through here, so the processed folder always holds an evaluation that matches its data.

With a cache folder (``cchc parse --cache-dir``, default ``.build/parse``) each report's results and its evaluation
are kept by content hash: a rebuild after one district changed reads and judges that district only.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cchc_analysis.dataset.build import DistrictResult, assemble, csv_piece, csv_pieces, district_results
from cchc_analysis.dataset.cache import ResultCache
from cchc_analysis.dataset.io import write_dataset
from cchc_analysis.dataset.model import Dataset
from cchc_analysis.evaluation.run import evaluate_districts, evaluation_frames
from cchc_analysis.findings import SEVERITIES
from cchc_analysis.read.manifest import ReportInput, discover

DEFAULT_CACHE = Path(".build/parse")


def evaluated_dataset(paths: list[Path], cache_dir: Path | None = None, workers: int | None = None) -> Dataset:
    """The dataset of the reports under ``paths``, with its evaluation tables (``cache_dir``: see above)."""
    return _evaluated(paths, cache_dir, workers)[0]


def _evaluated(paths: list[Path], cache_dir: Path | None, workers: int | None) -> tuple[Dataset, dict]:
    """The dataset, and its tables' rows already formatted as CSV per report (see ``write_dataset``)."""
    reports = discover(paths)
    cache = ResultCache(cache_dir)
    results = district_results(reports, True, workers, cache, then=evaluate_one)
    dataset = assemble(reports, results)
    dataset.evaluation, dataset.evaluation_parts, dataset.observations = evaluation_frames(
        one.then for one in results)
    cache.prune()
    pieces = csv_pieces(results)
    for one in results:
        one.csv = one.then = None  # held once, in ``pieces`` (consumed by the writer)
    return dataset, pieces


def evaluate_one(report: ReportInput, one: DistrictResult) -> tuple[list, list, list]:
    """One district's evaluation rows, judged where its report was read (in a worker process for a corpus): a
    district's verdicts depend on its own tables, findings, prose and lines only."""
    view = Dataset(indicators=one.observations, quality=one.quality, targets=one.targets,
                   facts=one.facts, sections=one.sections,
                   districts=pd.DataFrame({"district": [one.meta.district], "source_file": [one.meta.source_file]}))
    rows = evaluate_districts(view, [report], None, {one.meta.source_file: one.lines})[one.meta.district]
    for table, frame in zip(("evaluation", "evaluation_parts", "observations"), evaluation_frames([rows])):
        one.csv[table] = csv_piece(frame)  # its CSV rows, joined by the writer when their dtypes are the table's
    return rows


def parse_and_write(paths: list[Path], out_dir: Path, cache_dir: Path | None = None,
                    workers: int | None = None) -> str:
    """Parse, evaluate and write ``out_dir``; returns a summary for the terminal. ``workers``: processes for the
    per-report work (default: one per core from 12 reports on)."""
    dataset, pieces = _evaluated(paths, cache_dir, workers)
    written = write_dataset(dataset, out_dir, pieces=pieces)
    severities = dataset.quality["severity"].value_counts()
    verdicts = dataset.evaluation["verdict_en"].value_counts()
    return (f"parsed {len(dataset.reports)} report(s): {len(dataset.indicators)} observations of "
            f"{dataset.indicators['indicator_id'].nunique()} indicators, {len(dataset.targets)} targets, "
            f"{len(dataset.cells)} table cells accounted for\n"
            f"quality findings: {', '.join(f'{severities.get(s, 0)} {s}' for s in SEVERITIES)}\n"
            f"evaluation: {', '.join(f'{n} {v.lower()}' for v, n in verdicts.items())}\n"
            f"wrote {out_dir}/: {', '.join(p.name for p in written)}")
