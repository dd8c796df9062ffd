"""Several districts in one dataset (fixtures derived from the reference report, marked SYNTHETIC)."""

import pickle
import shutil
from pathlib import Path

import pandas as pd
import pytest

from cchc_analysis.dataset.build import build_dataset
from cchc_analysis.errors import CchcError
from cchc_analysis.read.manifest import discover
from cchc_analysis.synthetic import MARK, write_corpus

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def two_districts(tmp_path_factory, reference_path):
    raw = tmp_path_factory.mktemp("raw")
    shutil.copytree(ROOT / "data" / "raw" / "tuan-giao", raw / "tuan-giao")
    write_corpus(reference_path, raw, 1)
    return raw


def test_synthetic_fixtures_say_so(two_districts):
    folder = two_districts / "synthetic-001"
    report = next(folder.glob("*.txt"))
    assert "synthetic" in report.name and report.read_text(encoding="utf-8").startswith(MARK)
    assert '"synthetic": true' in (folder / "manifest.json").read_text(encoding="utf-8")


def test_two_districts_one_dataset(two_districts):
    dataset = build_dataset(discover([two_districts]), with_narrative=False)
    assert sorted(dataset.districts["district"]) == ["Tuần Giáo", "Tổng Hợp 001"]
    codes = dict(zip(dataset.districts["district"], dataset.districts["district_code"]))
    assert codes == {"Tuần Giáo": "099", "Tổng Hợp 001": "S001"}
    per_district = dataset.indicators.groupby("district")["indicator_id"].nunique()
    assert per_district["Tuần Giáo"] == per_district["Tổng Hợp 001"]
    assert not dataset.indicators.duplicated(["district", "indicator_id", "period", "as_of"]).any()
    assert set(dataset.quality["district"]) == {"Tuần Giáo", "Tổng Hợp 001"}
    # the synthetic figures differ from the real ones, keyed apart
    real = dataset.indicators.set_index(["district", "indicator_id", "period"])["value"]
    assert real[("Tuần Giáo", "cbccvc_vc_duoc_giao", "2015")] == 2232
    assert real[("Tổng Hợp 001", "cbccvc_vc_duoc_giao", "2015")] != 2232


def test_district_reported_twice_in_a_corpus(two_districts, tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(two_districts, raw)
    shutil.copytree(raw / "tuan-giao", raw / "tuan-giao-copy")
    with pytest.raises(CchcError, match="Tuần Giáo .* is reported twice"):
        build_dataset(discover([raw]), with_narrative=False)


def test_worker_processes_give_the_same_dataset(tmp_path, reference_path):
    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "data" / "raw" / "tuan-giao", raw / "tuan-giao")
    write_corpus(reference_path, raw, 3)
    inputs = discover([raw])
    serial = build_dataset(inputs, workers=1)
    parallel = build_dataset(inputs, workers=2)
    assert len(serial.districts) == 4
    for name in ("indicators", "quality", "targets", "cells", "districts"):
        pd.testing.assert_frame_equal(getattr(serial, name), getattr(parallel, name), obj=name)
    assert serial.sections == parallel.sections


def test_an_error_in_a_worker_names_the_file(two_districts, tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(two_districts, raw)
    report = next((raw / "synthetic-001").glob("*.txt"))
    report.write_text(report.read_text(encoding="utf-8") + "\nchanged", encoding="utf-8")
    with pytest.raises(CchcError, match="checksum mismatch") as caught:
        build_dataset(discover([raw]), workers=2)
    assert caught.value.file and caught.value.file.endswith(report.name)


def test_errors_survive_pickling():
    error = CchcError("bad cell", file="a.txt", line=3, hint="fix it")
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is CchcError and str(again) == str(error) and again.line == 3
