"""Reading the processed dataset back (for notebooks, the site builder and researchers), with the right dtypes."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from cchc_analysis.errors import CchcError
from cchc_analysis.dataset.model import Dataset
from cchc_analysis.dataset.package import WORKBOOK, WORKBOOK_TABLES, write_datapackage, write_workbook

REQUIRED = ("indicators.csv", "indicators_codebook.csv", "quality.csv", "targets.csv")


def _csv(path: Path, **kwargs) -> pd.DataFrame:
    # keep_default_na=False: an empty text cell stays "" (not NaN); numeric columns are converted below
    return pd.read_csv(path, encoding="utf-8", keep_default_na=False, dtype=str, **kwargs)


def load_dataset(directory: str | Path = "data/processed") -> Dataset:
    """Load what ``cchc parse`` wrote; a clear error if the folder holds no dataset."""
    directory = Path(directory)
    missing = [name for name in REQUIRED if not (directory / name).exists()]
    if missing:
        raise CchcError(f"no processed dataset here (missing {', '.join(missing)}); run `cchc parse` first",
                        file=directory)
    indicators = _csv(directory / "indicators.csv")
    for column in ("value", "denominator"):
        indicators[column] = pd.to_numeric(indicators[column].replace("", None)).astype(float)
    for column in ("appendix", "year", "source_line", "source_column"):
        indicators[column] = indicators[column].astype(int)
    codebook = _csv(directory / "indicators_codebook.csv")
    codebook["appendix"] = codebook["appendix"].astype(int)
    quality = _csv(directory / "quality.csv")
    for column in ("appendix", "year", "target"):
        quality[column] = pd.to_numeric(quality[column].replace("", None)).astype("Int64")
    targets = _csv(directory / "targets.csv")
    targets["number"] = targets["number"].astype(int)
    targets["achieved"] = targets["achieved"].map({"True": True, "False": False}).astype("boolean")
    optional = {name: _csv(directory / f"{name}.csv") if (directory / f"{name}.csv").exists() else pd.DataFrame()
                for name in ("tables", "districts", "cells")}
    sections_path = directory / "sections.json"
    sections = json.loads(sections_path.read_text(encoding="utf-8")) if sections_path.exists() else []
    facts = _csv(directory / "facts.csv") if (directory / "facts.csv").exists() else None
    return Dataset(indicators=indicators, codebook=codebook, quality=quality, targets=targets,
                   tables=optional["tables"], cells=optional["cells"], districts=optional["districts"],
                   sections=sections, facts=facts, reports=sorted(set(indicators["source_file"])))


OUTPUT_FILES = ("datapackage.json", "cchc-tables.xlsx", "indicators.csv", "indicators.parquet",
                "indicators_superseded.csv", "indicators_codebook.csv", "quality.csv", "targets.csv",
                "tables.csv", "cells.csv", "districts.csv", "sections.json", "facts.csv")


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
