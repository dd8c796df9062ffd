"""What `cchc parse` does, read top to bottom: find the reports, build the dataset (tables, checks, prose), judge it
against the evaluation criteria, write every table atomically. The build, the ingest of a year file and the command
line all go through here, so the processed folder always holds an evaluation that matches its data.

With a cache folder (``cchc parse --cache-dir``, default ``.build/parse``) each report's results and its evaluation
are kept by content hash: a rebuild after one district changed reads and judges that district only.
"""

from __future__ import annotations

from hashlib import sha256
from pathlib import Path

from cchc_analysis.dataset.build import assemble, district_results
from cchc_analysis.dataset.cache import ResultCache
from cchc_analysis.dataset.io import write_dataset
from cchc_analysis.dataset.model import Dataset
from cchc_analysis.evaluation.run import evaluate_districts, evaluation_frames
from cchc_analysis.findings import SEVERITIES
from cchc_analysis.read.manifest import ReportInput, discover

DEFAULT_CACHE = Path(".build/parse")


def evaluated_dataset(paths: list[Path], cache_dir: Path | None = None, workers: int | None = None) -> Dataset:
    """The dataset of the reports under ``paths``, with its evaluation tables (``cache_dir``: see above)."""
    reports = discover(paths)
    cache = ResultCache(cache_dir)
    results = district_results(reports, True, workers, cache)
    dataset = assemble(reports, results)
    lines_of = {one.meta.source_file: one.lines for one in results}
    keys_of = {one.meta.district: one.key for one in results}
    dataset.evaluation, dataset.evaluation_parts, dataset.observations = _evaluate(dataset, reports, lines_of,
                                                                                   keys_of, cache)
    cache.prune()
    return dataset


def _evaluate(dataset: Dataset, reports: list[ReportInput], lines_of: dict, keys_of: dict, cache: ResultCache):
    """The evaluation tables, each district's rows from the cache when its report's inputs did not change."""
    names = list(dataset.districts["district"])
    keys = {name: sha256(f"evaluation:{key}".encode()).hexdigest() for name, key in keys_of.items() if key}
    per_district = {name: cache.get(keys[name]) if keys else None for name in names}
    missing = {name for name, rows in per_district.items() if rows is None}
    if missing:
        view = dataset if len(missing) == len(names) else dataset.for_districts(sorted(missing))
        for name, rows in evaluate_districts(view, reports, missing, lines_of).items():
            per_district[name] = rows
            if keys:
                cache.put(keys[name], rows)
    return evaluation_frames(per_district[name] for name in names)


def parse_and_write(paths: list[Path], out_dir: Path, cache_dir: Path | None = None) -> str:
    """Parse, evaluate and write ``out_dir``; returns a summary for the terminal."""
    dataset = evaluated_dataset(paths, cache_dir)
    written = write_dataset(dataset, out_dir)
    severities = dataset.quality["severity"].value_counts()
    verdicts = dataset.evaluation["verdict_en"].value_counts()
    return (f"parsed {len(dataset.reports)} report(s): {len(dataset.indicators)} observations of "
            f"{dataset.indicators['indicator_id'].nunique()} indicators, {len(dataset.targets)} targets, "
            f"{len(dataset.cells)} table cells accounted for\n"
            f"quality findings: {', '.join(f'{severities.get(s, 0)} {s}' for s in SEVERITIES)}\n"
            f"evaluation: {', '.join(f'{n} {v.lower()}' for v, n in verdicts.items())}\n"
            f"wrote {out_dir}/: {', '.join(p.name for p in written)}")
