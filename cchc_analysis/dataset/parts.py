"""A district's share of a corpus table in the two forms the corpus needs: Arrow IPC bytes (the corpus' frame is
their concatenation, converted to pandas once) and its rows as CSV text (the corpus' file is their concatenation).

Both are made from the rows a stage produces, typed by the schema registry, without a pandas frame in between: a
district's frames cost more to build, format and send back from a worker than the district's whole read. A part
is plain bytes, so it is cheap to pickle, to cache and to send from a worker process.

The CSV text is what ``DataFrame.to_csv(index=False, header=False, lineterminator="\\n")`` prints for the frame of
the same rows in the registry's dtypes (tested against it), so a corpus' CSV file is the same bytes however it was
put together.
"""

from __future__ import annotations

import csv
import io
import operator
import re
from dataclasses import dataclass
from functools import cache
from itertools import repeat

import pandas as pd
import pyarrow as pa

from cchc_analysis.dataset.blobs import Segment, read_blob
from cchc_analysis.dataset.io import table_from_csv
from cchc_analysis.dataset.schema import TABLES, csv_header, empty_frame
from cchc_analysis.dataset.xlsx import Deflated, deflated, frame_columns, rows_xml
from cchc_analysis.tables.records import Columns


@dataclass(frozen=True)
class Part:
    rows: int
    dtypes: tuple[str, ...]  # the pandas dtypes the CSV text was formatted from (``dataset.io`` checks them)
    # the rows as an Arrow IPC record batch message (``arrow_schema(table)``), or ``NO_BATCH`` for a table the build
    # writes from its pieces alone (see ``from_rows``)
    arrow: bytes | memoryview | Segment
    csv: bytes | Segment     # the rows as UTF-8 CSV without a header
    sheet: Deflated | None = None  # the rows as workbook sheet XML (``dataset.xlsx.rows_xml``), deflated, when asked

    @property
    def has_batch(self) -> bool:
        return (self.arrow.length if isinstance(self.arrow, Segment) else len(self.arrow)) > 0

    def piece(self) -> tuple[tuple[str, ...], int, bytes | Segment]:
        """The CSV piece ``dataset.io.write_dataset`` joins."""
        return self.dtypes, self.rows, self.csv

    def sheet_piece(self) -> tuple[tuple[str, ...], int, Deflated]:
        return self.dtypes, self.rows, self.sheet

    def with_bytes(self, arrow, csv, sheet) -> Part:
        """The same part with its bytes elsewhere (``arrow``, ``csv``, ``sheet``: the sheet rows' data; the caller
        moves them into or out of a cache entry). Made directly: ``dataclasses.replace`` costs several times as
        much, tens of times a district."""
        return Part(self.rows, self.dtypes, arrow, csv,
                    None if self.sheet is None else Deflated(sheet, self.sheet.crc, self.sheet.size))


@cache
def registry_dtypes(table: str) -> tuple[str, ...]:
    return tuple(TABLES[table].dtypes().values())


# the Arrow type pandas gives each registry dtype (``pa.Schema.from_pandas``: tested), written out because asking
# pandas costs about 75 ms a process for the registry's tables
ARROW_TYPES = {"str": pa.large_string(), "int64": pa.int64(), "Int64": pa.int64(), "float64": pa.float64(),
               "bool": pa.bool_(), "boolean": pa.bool_()}


@cache
def arrow_schema(table: str) -> pa.Schema:
    """The table's Arrow schema: the types of its fields as pandas converts the registry's dtypes (the frames are
    built back in those dtypes by ``to_frame``, so the schema needs no pandas metadata)."""
    return pa.schema([pa.field(name, ARROW_TYPES[dtype]) for name, dtype in TABLES[table].dtypes().items()])


_NA = type(pd.NA)
_MISSING = {type(None), _NA}
# the Python types a field's values may have (besides missing) to be formatted here; any other value (a text in a
# number column, a float in an integer one) goes through pandas' conversion, as a frame of the rows would
_KINDS = {"string": {str}, "date": {str}, "integer": {int}, "number": {int, float}, "boolean": {bool}}


def _text(values: list, missing: bool) -> list:
    return [v if type(v) is str else "" for v in values] if missing else values


def _integer(values: list, missing: bool) -> list:
    if missing:
        return [str(v) if type(v) is int else "" for v in values]
    if values and min(values) >= 0 and max(values) < len(_INTEGER_TEXTS):  # (line and column numbers, years ...)
        return list(map(_INTEGER_TEXTS.__getitem__, values))
    return list(map(str, values))


_INTEGER_TEXTS = tuple(map(str, range(10_000)))  # the texts of the small integers, made once: half of str()'s cost


def _number(values: list, missing: bool) -> list:
    # as numpy prints a float64 (the shortest repr); NaN is missing
    return ["" if v is None or v is pd.NA or v != v else repr(float(v)) for v in values]


def _boolean(values: list, missing: bool) -> list:
    return ["" if v is None or v is pd.NA else str(v) for v in values]


# how ``to_csv`` prints a column of each registry type
_FORMATS = {"string": _text, "date": _text, "integer": _integer, "number": _number, "boolean": _boolean}


def _cells(values: list, kind: str, types: set[type]) -> list | None:
    """A column's values (of ``types``) as ``to_csv`` prints them, or None when one is not of the field's Python
    type."""
    if not types - _MISSING <= _KINDS[kind]:
        return None
    return _FORMATS[kind](values, bool(types & _MISSING))


def _csv_probe(text: str) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([text, "x"])
    return out.getvalue()


# the characters that make the csv module (pandas' writer) quote a field, found by asking it (the delimiter among
# them); and those of them but the delimiter
_QUOTE_CHARS = "".join(c for c in ',"\n\r\t ;|' if _csv_probe(f"a{c}b").startswith('"'))
_QUOTE_IF = re.compile("[" + re.escape(_QUOTE_CHARS) + "]")
_QUOTE_CHARS_BUT_COMMA = _QUOTE_CHARS.replace(",", "")


def _holds_any(text: str, characters: str) -> bool:
    """Whether ``text`` holds one of ``characters``: a substring search each (a character-class pattern scans a
    Vietnamese text, held as 2 bytes a character, about fifty times slower)."""
    return any(character in text for character in characters)


def _quoted(column: list[str], joined: str | None = None) -> list[str]:
    """A column's cells as the csv module writes them (minimal quoting): a column without a character to quote (most
    of them) is checked in one search of its joined text (``joined``, when the caller has it); one whose only such
    character is the comma (most texts that have one) by a membership test a cell; one without a quote mark needs no
    escaping."""
    joined = "".join(column) if joined is None else joined
    if not _holds_any(joined, _QUOTE_CHARS):
        return column
    if not _holds_any(joined, _QUOTE_CHARS_BUT_COMMA):
        return [f'"{v}"' if "," in v else v for v in column]
    needs = map(_QUOTE_IF.search, column)
    if '"' in joined:
        return ['"' + v.replace('"', '""') + '"' if quote else v for v, quote in zip(column, needs)]
    return [f'"{v}"' if quote else v for v, quote in zip(column, needs)]


def _csv_lines(cells: list[list[str]], joined: list[str | None] | None = None) -> str:
    """The rows of the columns' ``cells`` as CSV lines (``joined``: each column's cells joined, or None, where the
    caller has them)."""
    if len(cells) == 1:  # a lone empty cell is written "" by the csv module: let it
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(zip(*cells))
        return out.getvalue()
    lines = "\n".join(map(",".join, zip(*map(_quoted, cells, joined or repeat(None)))))
    return lines + "\n" if lines else ""


# a part's Arrow batch when none was made: a table whose frame the build never reads (``dataset.build``: a corpus'
# cells are written from the districts' CSV pieces alone); its frame, should it be asked, is read from its CSV text
NO_BATCH = b""


def from_rows(rows: list[dict], table: str, sheet: bool = False, batch: bool = True) -> Part:
    """A part from rows (dicts by field name: a missing field is empty), with its workbook rows when ``sheet`` and
    its Arrow batch unless not ``batch``. Values of another type than their field's go through pandas' conversion
    (``from_frame``), as a frame of them would."""
    return _from_rows(rows, table, sheet, batch)[0]


def part_and_columns(rows: list[dict], table: str, sheet: bool = False,
                     batch: bool = True) -> tuple[Part, Columns | pd.DataFrame]:
    """``from_rows``, and the rows as the checks, prose and rules read them: ``Columns`` of the same values (their
    frame, from the part's batch or else from the rows, only if a caller asks), or the frame when the values went
    through pandas."""
    part, values = _from_rows(rows, table, sheet, batch)
    if values is None:
        return part, to_frame([part], table) if part.has_batch else \
            typed(pd.DataFrame(rows, columns=TABLES[table].columns), table)
    frame = (lambda: to_frame([part], table)) if part.has_batch else \
        (lambda: typed(pd.DataFrame(rows, columns=TABLES[table].columns), table))
    return part, Columns(dict(zip(TABLES[table].columns, values)), TABLES[table].dtypes(), frame)


def _from_rows(rows: list[dict], table: str, sheet: bool, batch: bool = True) -> tuple[Part, list[list] | None]:
    """The part, and the rows' values column by column when they were of their fields' types (else None)."""
    fields = TABLES[table].fields
    values = row_columns(rows, TABLES[table].columns)
    types, joined = zip(*map(_column_types, values)) if values else ((), ())
    cells = [_cells(column, field.type, kinds) for column, field, kinds in zip(values, fields, types)]
    if any(column is None for column in cells) or not (batch or _within_int64(values, fields, types)):
        return from_frame(pd.DataFrame(rows, columns=TABLES[table].columns), table, sheet, batch), None
    arrow = NO_BATCH
    if batch:
        schema = arrow_schema(table)
        try:  # (pandas' reading, NaN as missing, for numbers and where pd.NA is: it costs a third more)
            arrow = _ipc(pa.record_batch([pa.array(column, arrow.type,
                                                   from_pandas=field.type == "number" or _NA in kinds)
                                          for column, arrow, field, kinds in zip(values, schema, fields, types)],
                                         schema=schema))
        except (pa.ArrowInvalid, OverflowError):  # an integer beyond 64 bits: pandas says what is wrong
            return from_frame(pd.DataFrame(rows, columns=TABLES[table].columns), table, sheet), None
    xml = rows_xml([_sheet_values(column, field.type) for column, field in zip(values, fields)]) if sheet else None
    text = _csv_lines(cells, [whole if cell is column else None for cell, column, whole in zip(cells, values, joined)])
    return Part(len(rows), registry_dtypes(table), arrow, text.encode("utf-8"),
                deflated(xml.encode("utf-8")) if sheet else None), values


_INT64 = (-(2 ** 63), 2 ** 63 - 1)


def _within_int64(values: list[list], fields: list, types: list[set[type]]) -> bool:
    """Every integer fits the registry's 64-bit columns (what building the Arrow batch checks, when there is one)."""
    for column, field, kinds in zip(values, fields, types):
        if field.type != "integer" or int not in kinds:
            continue
        present = column if kinds == _INT_ONLY else [v for v in column if type(v) is int]
        if min(present) < _INT64[0] or max(present) > _INT64[1]:
            return False
    return True


_INT_ONLY = {int}


def _column_types(column: list) -> tuple[set[type], str | None]:
    """The types of a column's values (a subclass of str counted as text), and its values joined when they are all
    texts: most columns are, which the join tells at a third of the cost of asking each value (it fails at anything
    but a text), and ``_quoted`` searches the joined text."""
    try:
        joined = "".join(column)
    except TypeError:
        return set(map(type, column)), None
    return ({str} if column else set()), joined


def row_columns(rows: list[dict], names: list[str]) -> list:
    """The rows' values column by column (a field a row lacks: None)."""
    if not rows or len(names) < 2:  # (itemgetter of one name gives the value, not a tuple)
        return [[row.get(name) for row in rows] for name in names]
    try:  # every row has every field (most tables): one C-level pass
        return [list(column) for column in zip(*map(operator.itemgetter(*names), rows))]
    except KeyError:
        return [[row.get(name) for row in rows] for name in names]


def _sheet_values(values: list, kind: str) -> list:
    """A column's values as ``xlsx.frame_columns`` gives them from its frame in the registry's dtypes (what
    ``rows_xml`` takes): numbers as floats, every missing value None. (The judges' reading of the same values, NaN
    for missing text and numbers, is ``tables.records.Columns``.)"""
    if kind == "number":
        return [None if v is None or v is pd.NA or v != v else float(v) for v in values]
    return [None if v is pd.NA else v for v in values]


def _ipc(data: pa.RecordBatch) -> bytes:
    """The batch as an IPC message without its schema (the registry's): a third of a stream's cost to write and to
    read, for a district's few hundred rows of every table."""
    return data.serialize().to_pybytes()


def from_frame(frame: pd.DataFrame, table: str, sheet: bool = False, batch: bool = True) -> Part:
    """A part from a frame of the table's columns: cast to the registry's dtypes (a value that does not fit is an
    error), its CSV text printed by pandas; its workbook rows when ``sheet``; its Arrow batch unless not ``batch``."""
    frame = typed(frame, table)
    text = frame.to_csv(index=False, header=False, encoding="utf-8", lineterminator="\n")
    arrow = NO_BATCH
    if batch:
        schema = arrow_schema(table)
        # through a table: a column of a concatenated frame can be several Arrow chunks, which one batch cannot hold
        batches = pa.Table.from_pandas(frame, schema=schema, preserve_index=False).combine_chunks().to_batches()
        arrow = _ipc(batches[0] if batches else pa.RecordBatch.from_pylist([], schema=schema))
    xml = deflated(rows_xml(frame_columns(frame)).encode("utf-8")) if sheet else None
    return Part(len(frame), registry_dtypes(table), arrow, text.encode("utf-8"), xml)


def typed(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """``frame`` with the registry's columns and dtypes (numbers held as text read as ``pd.to_numeric`` reads them;
    a fraction in an integer column is an error, never truncated)."""
    fields = TABLES[table].fields
    if list(frame.columns) != TABLES[table].columns:
        frame = frame[TABLES[table].columns]
    if tuple(map(str, frame.dtypes)) == registry_dtypes(table):
        return frame
    frame = frame.copy()
    for field in fields:
        if str(frame[field.name].dtype) == field.dtype:
            continue
        column = frame[field.name]
        if field.type in ("integer", "number"):
            column = pd.to_numeric(column)
        if field.type == "integer" and (column.dropna() % 1 != 0).any():  # numpy's cast would truncate it
            raise ValueError(f"{table}.{field.name}: not a whole number: {column[column % 1 != 0].iloc[0]!r}")
        frame[field.name] = column.astype(field.dtype)
    return frame


def to_frame(parts: list[Part], table: str) -> pd.DataFrame:
    """The frame of the parts' rows one after another, in the registry's dtypes (one Arrow conversion; read from
    their CSV text, as ``load_dataset`` reads the table's file, when a part has no batch: ``NO_BATCH``)."""
    if not parts:
        return empty_frame(table)
    if not all(part.has_batch for part in parts):
        text = b"".join(bytes(read_blob(part.csv)) for part in parts)
        header = csv_header(table).encode("utf-8")
        return table_from_csv(io.BytesIO(header + text), TABLES[table], f"the CSV pieces of {table}", as_written=True)
    schema = arrow_schema(table)
    data = pa.Table.from_batches([pa.ipc.read_record_batch(pa.py_buffer(read_blob(part.arrow)), schema)
                                  for part in parts],
                                 schema=schema)
    return pd.DataFrame({name: _column(column, dtype) for (name, dtype), column
                         in zip(TABLES[table].dtypes().items(), data.columns)},
                        index=pd.RangeIndex(data.num_rows), copy=False)


def _column(column: pa.ChunkedArray, dtype: str):
    """An Arrow column as a pandas column of the registry's dtype, built directly (``Table.to_pandas`` reads the
    pandas metadata and casts: twice the time for a district's few hundred rows)."""
    if dtype == "str":
        return pd.array(column, dtype=_STR)
    if dtype in _MASKED:  # values and mask from Arrow's buffers (pandas' own conversion goes value by value)
        values = column.fill_null(False if dtype == "boolean" else 0).to_numpy()
        return _MASKED[dtype](values, column.is_null().to_numpy())
    if column.null_count and dtype != "float64":
        raise ValueError(f"an empty value in a column of {dtype}")
    return column.to_numpy()


_STR = pd.StringDtype("pyarrow", na_value=float("nan"))  # pandas' "str"
_MASKED = {"Int64": pd.arrays.IntegerArray, "boolean": pd.arrays.BooleanArray}
