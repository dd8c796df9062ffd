"""The dataset: every table of the processed output, as built from reports or loaded from disk."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


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
