"""The written dataset reads back with the same content (CSV and Parquet alike)."""

import pandas as pd
import pytest

from cchc_analysis.dataset.io import load_dataset
from cchc_analysis.errors import CchcError
from cchc_analysis.dataset.io import write_dataset


def test_round_trip(reference_dataset, tmp_path):
    write_dataset(reference_dataset, tmp_path)
    loaded = load_dataset(tmp_path)
    pd.testing.assert_frame_equal(loaded.indicators.astype(object).where(loaded.indicators.notna(), None),
                                  reference_dataset.indicators.astype(object).where(
                                      reference_dataset.indicators.notna(), None).replace({pd.NA: None}),
                                  check_dtype=False)
    parquet = pd.read_parquet(tmp_path / "indicators.parquet")
    assert parquet["value"].sum() == pytest.approx(reference_dataset.indicators["value"].sum())
    assert len(parquet) == len(reference_dataset.indicators)
    assert loaded.targets["achieved"].sum() == 15


def test_missing_dataset_is_a_clear_error(tmp_path):
    with pytest.raises(CchcError, match="run `cchc parse` first"):
        load_dataset(tmp_path)
