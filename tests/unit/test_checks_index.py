"""The validation checks' observation index: the rows with a value, as plain Python values, whatever the dtypes."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from cchc_analysis.checks.tables import _INDEX_COLUMNS, ObservationIndex, check_repeated_labels

ROWS = [
    # district, indicator_id, period, year, as_of, appendix, indicator, parent, column_header, value, denominator,
    # unit, raw, source_line, parent_id
    ("A", "x", "2019", 2019, "", 1, "Tổng số", "", "Năm 2019", 5.0, None, "count", "5", 10, ""),
    ("A", "x", "2020", 2020, "2020-06-30", 1, "Tổng số", "", "Năm 2020", None, None, "count", "-", 10, ""),
    ("A", "y", "2019", 2019, "", 1, "Tổng số.", "", "Năm 2019", 7.0, None, "count", "7", 12, ""),
    ("A", "z", "2019", 2019, None, 1, "Trong đó", "Tổng số", None, 1.0, 2.0, "ratio", "1/2", 13, "x"),
]


def frame(string_dtype: str) -> pd.DataFrame:
    obs = pd.DataFrame(ROWS, columns=[*_INDEX_COLUMNS, "parent_id"])
    for name in obs.columns:
        if name not in ("year", "appendix", "value", "denominator", "source_line"):
            obs[name] = obs[name].astype(string_dtype)
    return obs.astype({"value": "float64", "denominator": "float64"})


def plain(value):
    return None if value is pd.NA or (isinstance(value, float) and math.isnan(value)) else value


@pytest.mark.parametrize("string_dtype", ["object", "str", "string"])
def test_records_are_the_rows_with_a_value_as_to_dict_gives_them(string_dtype):
    obs = frame(string_dtype)
    index = ObservationIndex(obs)
    expected = obs[obs["value"].notna()][_INDEX_COLUMNS].to_dict("records")
    assert [{k: plain(v) for k, v in r._asdict().items()} for r in index.records] == \
        [{k: plain(v) for k, v in r.items()} for r in expected]
    assert not any(v is pd.NA for r in index.records for v in r)
    assert index.districts == ["A"] and set(index.series("A", "x")) == {"2019"}


@pytest.mark.parametrize("string_dtype", ["object", "str", "string"])
def test_repeated_labels_from_a_frame_or_the_index(string_dtype):
    obs = frame(string_dtype)
    for source in (obs, ObservationIndex(obs)):
        [finding] = check_repeated_labels(source)
        assert finding.indicator_ids == ("y", "x") and finding.source_lines == (10, 12)
