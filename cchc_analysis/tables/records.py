"""A small table's rows as plain dicts, the way the checks, the prose layer and the rules walk them."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _values(column: pd.Series) -> list:
    """The column's Python values as ``to_dict`` gives them: a missing value of a nullable column is None."""
    values = column.tolist()
    if isinstance(column.dtype, np.dtype):
        return values
    return [None if value is pd.NA else value for value in values]


def records(frame: pd.DataFrame, columns: list[str] | None = None) -> list[dict]:
    """``frame[columns].to_dict("records")`` (the same Python values), column by column: for one district's few
    hundred rows pandas' row-wise conversion costs several times the walk the caller then does over them."""
    names = list(frame.columns) if columns is None else list(columns)
    return [dict(zip(names, row)) for row in zip(*(_values(frame[name]) for name in names))]
