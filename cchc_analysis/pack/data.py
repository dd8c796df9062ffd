"""The processed dataset as a district's pages read it, loaded once per process.

A worker's kernel runs many pages one after the other (``execute.Kernel``), and in a province site each of them would
otherwise read every district's rows to keep one district's: a cost that grows with the province, paid by every page.
The modules of a kernel outlive the reset between notebooks, so the whole dataset read once is kept here, keyed by
the folder and the size, time and inode of each of its files (a new parse writes new files), and each page gets its
own copy of its district's view.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

from cchc_analysis.dataset.io import load_dataset
from cchc_analysis.dataset.model import Dataset

_LOADED: dict = {}


def _stamp(directory: Path) -> tuple:
    return (str(directory), tuple(sorted((p.name, s.st_mtime_ns, s.st_size, s.st_ino)
                                         for p in directory.iterdir() if p.is_file() for s in [p.stat()])))


def district_dataset(data_dir: str | Path, district: str | None = None) -> Dataset:
    """``load_dataset(data_dir).for_district(district)``, the whole dataset read once per process; the tables
    shared by every district are copied, so a page cannot change what the next page reads."""
    directory = Path(data_dir).resolve()
    stamp = _stamp(directory)
    if _LOADED.get("stamp") != stamp:
        _LOADED.clear()
        _LOADED.update(stamp=stamp, ds=load_dataset(directory))
    view = _LOADED["ds"].for_district(district)
    return replace(view, codebook=None if view.codebook is None else view.codebook.copy(),
                   sections=copy.deepcopy(view.sections))
