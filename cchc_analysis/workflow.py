"""What `cchc parse` does, read top to bottom: find the reports, build the dataset (tables, checks, prose), judge it
against the evaluation criteria, write every table atomically. The build, the ingest of a year file and the command
line all go through here, so the processed folder always holds an evaluation that matches its data."""

from __future__ import annotations

from pathlib import Path

from cchc_analysis.dataset.build import build_dataset
from cchc_analysis.dataset.io import write_dataset
from cchc_analysis.dataset.model import Dataset
from cchc_analysis.evaluation.run import evaluate
from cchc_analysis.findings import SEVERITIES
from cchc_analysis.read.manifest import discover


def evaluated_dataset(paths: list[Path]) -> Dataset:
    """The dataset of the reports under ``paths``, with its evaluation tables."""
    reports = discover(paths)
    dataset = build_dataset(reports)
    dataset.evaluation, dataset.evaluation_parts, dataset.observations = evaluate(dataset, reports)
    return dataset


def parse_and_write(paths: list[Path], out_dir: Path) -> str:
    """Parse, evaluate and write ``out_dir``; returns a summary for the terminal."""
    dataset = evaluated_dataset(paths)
    written = write_dataset(dataset, out_dir)
    severities = dataset.quality["severity"].value_counts()
    verdicts = dataset.evaluation["verdict_en"].value_counts()
    return (f"parsed {len(dataset.reports)} report(s): {len(dataset.indicators)} observations of "
            f"{dataset.indicators['indicator_id'].nunique()} indicators, {len(dataset.targets)} targets, "
            f"{len(dataset.cells)} table cells accounted for\n"
            f"quality findings: {', '.join(f'{severities.get(s, 0)} {s}' for s in SEVERITIES)}\n"
            f"evaluation: {', '.join(f'{n} {v.lower()}' for v, n in verdicts.items())}\n"
            f"wrote {out_dir}/: {', '.join(p.name for p in written)}")
