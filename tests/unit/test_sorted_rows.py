"""A district's rows sorted as dicts are in the order pandas' stable sort gives their frame, missing values last."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from cchc_analysis.dataset.build import sorted_rows


@pytest.mark.parametrize("missing", [0.0, 0.2])
def test_rows_sort_as_their_frame(missing):
    rng = random.Random(7)
    rows = [{"district": rng.choice(["Tuần Giáo", "Mường Ảng"]), "line": rng.randint(1, 9),
             "column": None if rng.random() < missing else rng.randint(1, 4), "n": i} for i in range(300)]
    expected = pd.DataFrame(rows).sort_values(["district", "line", "column"], kind="mergesort")["n"].tolist()
    assert [row["n"] for row in sorted_rows(rows, ["district", "line", "column"])] == expected


@pytest.mark.parametrize("keys", [["district", "line", "column"], ["line"]])
def test_rows_lacking_a_key_field_sort_as_if_it_were_missing(keys):
    rng = random.Random(11)
    rows = [{"district": rng.choice(["Tuần Giáo", "Mường Ảng"]), "line": rng.randint(1, 9), "n": i,
             **({} if rng.random() < 0.3 else {"column": rng.randint(1, 4)})} for i in range(300)]
    expected = pd.DataFrame(rows).sort_values(keys, kind="mergesort")["n"].tolist()
    assert [row["n"] for row in sorted_rows(rows, keys)] == expected
