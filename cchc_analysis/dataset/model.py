"""The dataset: every table of the processed output, as built from reports or loaded from disk, and narrowed to
some districts (the comparison page) or to one (a district's pages) by ``for_districts`` / ``for_district``."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from cchc_analysis.errors import CchcError

# tables whose rows belong to one district; "" marks a row that concerns none in particular
_BY_DISTRICT = ("indicators", "quality", "targets", "tables", "cells", "districts", "facts", "superseded",
                "evaluation", "evaluation_parts", "observations")


@dataclass
class Dataset:
    """The tables of ``dataset.schema.TABLES`` (by their attribute names); a table not built or not loaded is None.

    ``sections`` is None when there is no sections.json. ``district`` and ``province`` are set on the view of one
    district (``for_district``); ``directory`` is the folder a loaded dataset came from.
    """
    indicators: pd.DataFrame
    codebook: pd.DataFrame | None = None
    quality: pd.DataFrame | None = None
    targets: pd.DataFrame | None = None
    tables: pd.DataFrame | None = None
    cells: pd.DataFrame | None = None
    districts: pd.DataFrame | None = None
    sections: list[dict] | None = None
    facts: pd.DataFrame | None = None
    superseded: pd.DataFrame | None = None
    evaluation: pd.DataFrame | None = None        # one verdict per criterion (cchc_analysis.evaluation)
    evaluation_parts: pd.DataFrame | None = None  # its measurable parts
    observations: pd.DataFrame | None = None      # strengths and weaknesses found by rule
    directory: Path | None = None
    district: str = ""
    province: str = ""

    @property
    def reports(self) -> list[str]:
        """The report of each district, in the order they were parsed."""
        return list(self.districts["source_file"])

    def district_names(self) -> list[str]:
        return sorted(self.indicators["district"].unique())

    def for_districts(self, names: list[str] | None = None) -> Dataset:
        """The tables narrowed to ``names`` (all districts when None or empty); CchcError naming an unknown one."""
        if not names:
            return self
        wanted = [unicodedata.normalize("NFC", name) for name in names]
        known = self.district_names()
        unknown = [name for name in wanted if name not in set(known)]
        if unknown:
            shown = ", ".join(known[:20]) + (f" … ({len(known)} in all)" if len(known) > 20 else "")
            raise CchcError(f"unknown district {', '.join(map(repr, unknown))}; the dataset holds: {shown}",
                            file=self.directory)
        keep = set(wanted) | {""}
        narrowed = {name: _rows_of(getattr(self, name), keep) for name in _BY_DISTRICT}
        sections = self.sections
        if sections is not None:
            sections = [s for s in sections if s.get("district", "") in keep]
        return replace(self, **narrowed, sections=sections)

    def for_district(self, name: str | None = None) -> Dataset:
        """The view of one district (``name``, or the only one the dataset holds), with ``district`` and
        ``province`` set; CchcError when the name is unknown, or none is given and there are several."""
        known = self.district_names()
        if not known:
            raise CchcError("indicators.csv holds no rows", file=self.directory and self.directory / "indicators.csv")
        if name is None:
            if len(known) > 1:
                raise CchcError(f"the dataset holds several districts ({', '.join(known)}); choose one",
                                file=self.directory)
            name = known[0]
        view = self.for_districts([name])
        return replace(view, district=view.indicators["district"].iloc[0], province=view.indicators["province"].iloc[0])


def _rows_of(frame: pd.DataFrame | None, keep: set[str]) -> pd.DataFrame | None:
    if frame is None or "district" not in frame:
        return frame
    return frame[frame["district"].isin(keep)].reset_index(drop=True)
