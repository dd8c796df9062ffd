"""Shared fixtures: the reference report, the dataset parsed from it once per test session, and the Vietnamese pack
built from it once per session (tests/pack/)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "raw" / "tuan-giao" / "bao-cao-tong-ket-cchc-2011-2020.txt"




@pytest.fixture(scope="session")
def processed(tmp_path_factory) -> Path:
    """The real dataset parsed and evaluated from data/raw/ into a temporary folder."""
    from cchc_analysis.workflow import parse_and_write

    out = tmp_path_factory.mktemp("processed")
    parse_and_write([ROOT / "data" / "raw"], out)
    return out


@pytest.fixture(scope="session")
def pack(tmp_path_factory, processed):
    """The Vietnamese pack, every area, built once (cold: empty cache)."""
    import time

    from cchc_analysis.dataset.io import load_dataset
    from cchc_analysis.pack.build import build

    root = tmp_path_factory.mktemp("pack")
    t0 = time.perf_counter()
    report = build(processed=processed, out=root / "reports", cache=root / "cache", notebooks=ROOT / "notebooks",
                   parse=False, quiet=True, jobs=2)
    report.timings["wall"] = time.perf_counter() - t0
    return {"root": root, "report": report, "site": report.site, "pdf": report.pdf, "processed": processed,
            "ds": load_dataset(processed).for_district()}


@pytest.fixture(scope="session")
def reference_path() -> Path:
    return REFERENCE


@pytest.fixture(scope="session")
def reference_text() -> str:
    return REFERENCE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def reference_dataset():
    """The tidy dataset of the reference report (tables only: the prose layer is tested on its own)."""
    from cchc_analysis.dataset.build import build_dataset
    from cchc_analysis.read.manifest import discover

    return build_dataset(discover([REFERENCE]), with_narrative=False)


@pytest.fixture(scope="session")
def reference_lines(reference_text) -> list[str]:
    return reference_text.split("\n")


@pytest.fixture()
def workspace(tmp_path, reference_dataset):
    """A copy of data/raw and a processed dataset built from it, as an analyst's checkout has."""
    import shutil

    from cchc_analysis.dataset.io import write_dataset

    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "data" / "raw", raw)
    processed = tmp_path / "processed"
    write_dataset(reference_dataset, processed)
    return raw, processed
