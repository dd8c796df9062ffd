"""Reading the processed dataset back (for notebooks, the site builder and researchers), with the right dtypes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from cchc_analysis.errors import CchcError
from cchc_analysis.pipeline import Dataset

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
    for column in ("appendix", "year"):
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
