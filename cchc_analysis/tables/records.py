"""A small table's rows as plain dicts, the way the checks, the prose layer and the rules walk them.

A table comes as a pandas frame (a loaded dataset) or as ``Columns``: one district's rows as a stage produced them,
read the way its frame would give them, without building the frame (for a district's few hundred rows, building
frames and reading them back cost more than the judging done on them).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

_NAN = float("nan")
_NA = pd.NA  # (looked up once: these run over every value of a district's columns)


_MISSING = frozenset({type(None), type(_NA)})


def _missing_as_nan(values: list) -> list:
    """The values with None and NA as NaN (the list itself when it holds neither: most text columns; never
    mutated)."""
    if _MISSING.isdisjoint(map(type, values)):
        return values
    return [_NAN if v is None or v is _NA else v for v in values]


def _floats(values: list) -> list:
    return [_NAN if v is None or v is _NA else float(v) for v in values]


def _missing_as_none(values: list) -> list:
    return [None if v is _NA else v for v in values]


# a column's Python values as the frame in the registry's dtype gives them (``tolist``, ``pd.NA`` as None): pandas'
# text dtype and float64 hold a missing value as NaN, the nullable integer and flag dtypes as NA
_AS_LOADED: dict[str, Callable[[list], list]] = {"str": _missing_as_nan, "float64": _floats,
                                                 "Int64": _missing_as_none, "boolean": _missing_as_none}


class Columns:
    """One table's rows column by column (``values``: name -> the rows' values, of the field's Python type or
    missing; ``dtypes``: name -> its pandas dtype), read as its frame in those dtypes would be (``column``), and the
    frame itself (``frame()``, built once by ``make_frame``) for a caller that needs pandas."""

    def __init__(self, values: dict[str, list], dtypes: dict[str, str], make_frame: Callable[[], pd.DataFrame]):
        self._raw = values
        self._dtypes = dtypes
        self._make_frame = make_frame
        self._loaded: dict[str, list] = {}
        self._frame: pd.DataFrame | None = None
        self._rows = len(next(iter(values.values()))) if values else 0

    def __len__(self) -> int:
        return self._rows

    def __contains__(self, name: object) -> bool:
        return name in self._raw

    @property
    def names(self) -> list[str]:
        return list(self._raw)

    def column(self, name: str) -> list:
        if name not in self._loaded:
            convert = _AS_LOADED.get(self._dtypes[name])
            self._loaded[name] = convert(self._raw[name]) if convert else self._raw[name]
        return self._loaded[name]

    def frame(self) -> pd.DataFrame:
        if self._frame is None:
            self._frame = self._make_frame()
        return self._frame

    def where(self, name: str, value) -> Columns:
        """The rows whose ``name`` equals ``value`` (this table when they all do)."""
        keep = [i for i, v in enumerate(self._raw[name]) if v == value]
        if len(keep) == self._rows:
            return self
        values = {key: [column[i] for i in keep] for key, column in self._raw.items()}
        return Columns(values, self._dtypes, lambda: self.frame().iloc[keep].reset_index(drop=True))


def as_frame(table: pd.DataFrame | Columns | None) -> pd.DataFrame | None:
    """The table as a pandas frame (for the few callers that compute with pandas)."""
    return table.frame() if isinstance(table, Columns) else table


def column_values(table: pd.DataFrame | Columns, name: str) -> list:
    """The column's Python values as ``to_dict`` gives them: a missing value of a nullable column is None, of
    pandas' text dtype or a float column NaN."""
    if isinstance(table, Columns):
        return table.column(name)
    column = table[name]
    values = column.tolist()
    if isinstance(column.dtype, np.dtype):
        return values
    return _missing_as_none(values)


def column_names(table: pd.DataFrame | Columns) -> list[str]:
    return table.names if isinstance(table, Columns) else list(table.columns)


def records(table: pd.DataFrame | Columns, columns: list[str] | None = None) -> list[dict]:
    """``frame[columns].to_dict("records")`` (the same Python values), column by column: for one district's few
    hundred rows pandas' row-wise conversion costs several times the walk the caller then does over them."""
    names = column_names(table) if columns is None else list(columns)
    return [dict(zip(names, row)) for row in zip(*(column_values(table, name) for name in names))]
