"""A small, fast writer of plain .xlsx workbooks: sheets of a header row (bold, frozen) and rows of text, numbers and
booleans. Nothing else: no formulas, links, dates or styles beyond the header.

Why not XlsxWriter: it spends about 14 µs on each cell (type dispatch, a method call, escaping), which made the
Excel workbook most of the time of writing a corpus' dataset. Here a column's cells are formatted in one list
comprehension, about seven times faster. A sheet's rows are deflated in pieces (a district's rows each, where its
report is read, for a corpus: ``Deflated``) and the zip written from them (``_ZipWriter``): the writer of a
700-district workbook neither formats, reads nor compresses its rows, it joins them. The bytes are fixed by the
content alone (entries in a fixed order, fixed dates and document properties, rows deflated per district however
the table was put together): equal tables, equal files. Pieces compressed apart make a file about a fifth larger.
"""

from __future__ import annotations

import functools
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cchc_analysis.dataset.blobs import OpenFiles, Segment, read_blob, write_blob
from cchc_analysis.findings import load_yaml

PARTS_FILE = Path(__file__).with_name("xlsx_parts.yaml")
EXCEL_MAX_CHARS = 32_767  # what one cell holds; Excel refuses a file with more (XlsxWriter truncates too)
ROWS_PER_CHUNK = 5_000
# zlib's fastest level: the sheets' XML is most of a corpus workbook's writing time at the default (6), for a file
# about a quarter larger
COMPRESS_LEVEL = 1
_DATE = (2020, 1, 1, 0, 0, 0)
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SPACES = re.compile(r"^\s|\s$")


def column_letters(n: int) -> list[str]:
    """A, B, ..., Z, AA, ... for the first ``n`` columns."""
    letters = []
    for i in range(n):
        name, i = "", i + 1
        while i:
            i, rest = divmod(i - 1, 26)
            name = chr(65 + rest) + name
        letters.append(name)
    return letters


def _text(value: str) -> str:
    value = value[:EXCEL_MAX_CHARS].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if _CONTROL.search(value):  # not allowed in XML: written as Excel's escape _xHHHH_, as XlsxWriter does
        value = _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", value)
    return value


_EMPTY = "<c/>"


def _cell(value) -> str:
    """One cell's XML. Cells and rows carry no reference (A5): they follow one another, so a row's XML depends on its
    values only and a district's rows can be formatted where it is read (``rows_xml``), then joined."""
    if value is None or value is pd.NA:
        return _EMPTY
    if isinstance(value, bool):
        return f'<c t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float)):
        if value != value or value in _INFINITE:
            return _EMPTY
        return f"<c><v>{value!r}</v></c>"
    text = _text(str(value))
    space = _PRESERVE if _SPACES.search(text) else ""
    return f'<c t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _column_cells(values: list) -> list[str]:
    """A column's cells, as ``_cell`` writes them; a column of text or of numbers in one comprehension (a column of
    texts none of which begins or ends with a space, most of them, without asking each)."""
    text, missing = _text_column(values)
    if text is not None:
        present = [value for value in text if value is not None] if missing else text
        if list(map(str.strip, present)) == present:  # (strip gives the very text back when it has no such space)
            return [_EMPTY if value is None else f'<c t="inlineStr"><is><t>{value}</t></is></c>' for value in text]
        return [_EMPTY if value is None else
                f'<c t="inlineStr"><is><t{_PRESERVE if value[:1].isspace() or value[-1:].isspace() else ""}>'
                f"{value}</t></is></c>" for value in text]
    if set(map(type, values)) <= _NUMBERS:  # finite or not, as ``_cell`` writes them
        return [_EMPTY if value is None or value != value or value in _INFINITE else f"<c><v>{value!r}</v></c>"
                for value in values]
    return [_cell(value) for value in values]


_PRESERVE = ' xml:space="preserve"'
_NUMBERS = {int, float, type(None)}
_INFINITE = (float("inf"), float("-inf"))


def _text_column(values: list) -> tuple[list | None, bool]:
    """The column's values escaped as ``_text`` escapes them, when every one is text (or None) without control
    characters and within a cell's length (else None), and whether one is None: one search over the whole column
    instead of one per cell (most of a corpus' workbook time). Escaping changes no leading or trailing space. A column
    of texts alone (most) is told by joining it, which fails at anything else (a subclass of str counts as text)."""
    try:
        joined, present, missing = "".join(values), values, False
    except TypeError:
        present = [value for value in values if value is not None]
        missing = len(present) < len(values)
        if not set(map(type, present)) <= _TEXT:
            return None, missing
        joined = "".join(present)
    if not present:
        return None, missing
    # (a printable text holds no control character: one scan, where the pattern's is far slower on Vietnamese text)
    if max(map(len, present)) > EXCEL_MAX_CHARS or not joined.isprintable() and _CONTROL.search(joined):
        return None, missing
    if not ("&" in joined or "<" in joined or ">" in joined):
        return values, missing
    return [None if value is None else value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            for value in values], missing


_TEXT = {str}


def rows_xml(columns: list[list]) -> str:
    """The sheet rows of a table given as its columns' values (Python str, int, float, bool or None): the same text
    for the same rows wherever they are formatted."""
    return "".join(f"<row>{''.join(cells)}</row>" for cells in zip(*map(_column_cells, columns)))


def frame_columns(frame: pd.DataFrame) -> list[list]:
    """A frame's columns as the Python values ``rows_xml`` takes (missing values as None): each column's
    ``tolist()`` (the Python values ``astype(object)`` gives), its missing ones (``isna``) replaced, a column without
    any as it is (a tenth of the cost of pandas' ``where`` a column: the small tables a workbook formats whole)."""
    columns = []
    for _, column in frame.items():
        values = column.tolist()
        missing = column.isna()
        if missing.any():
            values = [None if gone else value for value, gone in zip(values, missing.tolist())]
        columns.append(values)
    return columns


@dataclass(frozen=True)
class Deflated:
    """Bytes of a zip entry compressed on their own: raw deflate ended by a sync flush (pieces one after another are
    one deflate stream, the last one ending it), with the CRC-32 and length of what they hold, which is all an entry
    needs to join them without reading them back (``_ZipWriter``). ``data`` may be a segment of a cache entry."""
    data: bytes | memoryview | Segment
    crc: int
    size: int


def deflated(data: bytes, last: bool = False) -> Deflated:
    """``data`` compressed as a piece of a zip entry (``last``: the piece that ends it)."""
    if not data and not last:
        return Deflated(b"", 0, 0)
    compressor = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -15)
    return Deflated(compressor.compress(data) + compressor.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH),
                    zlib.crc32(data), len(data))


def _sheet_pieces(frame: pd.DataFrame, pieces: list[Deflated] | None = None,
                  split_by: str | None = None, rows: int | None = None) -> list[Deflated]:
    """A sheet's entry as deflated pieces: the header row, then the frame's rows, or ``pieces`` (its rows' XML,
    ``rows_xml``, deflated per district where it was read: ``dataset.parts``) when given, then the end. Rows are
    deflated in runs of one value of ``split_by`` (a district's rows) when given, so that a table formatted here has
    the bytes of the same table joined from its districts' pieces; else in chunks of ``ROWS_PER_CHUNK``."""
    letters = column_letters(len(frame.columns))
    rows = len(frame) if rows is None else rows  # (given: the frame holds the columns only, the rows are ``pieces``)
    last = f"{letters[-1]}{rows + 1}" if letters else "A1"  # readers in read-only mode size a sheet by it
    header = "".join(f'<c t="inlineStr" s="1"><is><t>{_text(str(name))}</t></is></c>' for name in frame.columns)
    head = deflated((_HEAD + f'<worksheet xmlns="{_MAIN}"><dimension ref="A1:{last}"/>'
                     '<sheetViews><sheetView workbookViewId="0">'
                     '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                     f'<selection pane="bottomLeft"/></sheetView></sheetViews><sheetData><row>{header}</row>').encode())
    if pieces is None:  # in chunks: a corpus' cells as strings at once would peak
        bounds = _runs(frame[split_by]) if split_by in frame else range(0, len(frame), ROWS_PER_CHUNK)
        ends = [*bounds[1:], len(frame)]
        pieces = [deflated(rows_xml(frame_columns(frame.iloc[start:end])).encode()) for start, end in zip(bounds, ends)]
    return [head, *pieces, deflated(b"</sheetData></worksheet>", last=True)]


def _runs(column: pd.Series) -> list[int]:
    """Where each run of equal values of ``column`` starts."""
    values = column.tolist()
    return [i for i, value in enumerate(values) if i == 0 or value != values[i - 1]]


class _ZipWriter:
    """A zip file written entry by entry from deflated pieces (``Deflated``), which zipfile cannot do (it compresses
    what it is given): a district's sheet rows are compressed where they are read, and joined here by the kernel's
    copy from the cache entries. Fixed dates and attributes: equal entries, equal bytes. No zip64: a workbook stays
    far below 4 GB."""

    def __init__(self, out, sources: OpenFiles | None = None):
        self.out = out
        self.sources = sources  # (the cache entries pieces are copied from: each opened once)
        self.written = 0
        self.central: list[bytes] = []

    def add(self, name: str, pieces: list[Deflated]) -> None:
        crc, size, length = 0, 0, 0
        for piece in pieces:
            crc, size = _crc32_combine(crc, piece, size), size + piece.size
            length += piece.data.length if isinstance(piece.data, Segment) else len(piece.data)
        if max(size, length, self.written) > _ZIP32_MAX:  # (the workbook's row budget keeps it far below)
            raise ValueError(f"{name}: a workbook entry beyond 4 GB needs zip64, which this writer does not write")
        encoded = name.encode("utf-8")
        fields = (_VERSION, 0, zipfile.ZIP_DEFLATED, _DOS_TIME, _DOS_DATE, crc, length, size, len(encoded), 0)
        self.central.append(struct.pack("<IH", 0x02014B50, _MADE_BY) + struct.pack("<HHHHHIIIHH", *fields)
                            + struct.pack("<HHHII", 0, 0, 0, _ATTRIBUTES, self.written) + encoded)
        self._write(struct.pack("<I", 0x04034B50) + struct.pack("<HHHHHIIIHH", *fields) + encoded)
        for piece in pieces:
            if isinstance(piece.data, Segment):
                write_blob(self.out, piece.data, self.sources)
                self.written += piece.data.length
            else:
                self._write(piece.data)

    def close(self) -> None:
        start = self.written
        self._write(b"".join(self.central))
        self._write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(self.central), len(self.central),
                                self.written - start, start, 0))

    def _write(self, data: bytes) -> None:
        self.out.write(data)
        self.written += len(data)


_ZIP32_MAX = 0xFFFFFFFF
_VERSION = 20  # deflate
_MADE_BY = (3 << 8) | _VERSION  # on Unix, as zipfile writes it
_ATTRIBUTES = 0o644 << 16
_DOS_DATE = (_DATE[0] - 1980) << 9 | _DATE[1] << 5 | _DATE[2]
_DOS_TIME = _DATE[3] << 11 | _DATE[4] << 5 | _DATE[5] // 2


def _crc32_combine(crc: int, piece: Deflated, before: int) -> int:
    """The CRC-32 of what came before (``crc``, of ``before`` bytes) followed by ``piece``'s bytes: zlib's
    ``crc32_combine`` where the C library is at hand, else the piece read back and inflated (slower, same result)."""
    combine = _zlib_combine()
    if combine is not None:
        return combine(crc, piece.crc, piece.size)
    return zlib.crc32(zlib.decompressobj(-15).decompress(read_blob(piece.data)), crc)


@functools.cache
def _zlib_combine():
    """zlib's ``crc32_combine`` from the C library by its usual names (not ``ctypes.util.find_library``, which runs
    ``ldconfig`` in a forked copy of this process), or None."""
    import ctypes

    for name in ("libz.so.1", "libz.dylib", "zlib1.dll"):
        try:
            function = ctypes.CDLL(name).crc32_combine
        except (OSError, AttributeError):
            continue
        function.argtypes, function.restype = [ctypes.c_ulong, ctypes.c_ulong, ctypes.c_long], ctypes.c_ulong
        return function
    return None


@functools.lru_cache(maxsize=1)
def _styles() -> str:
    """The styles part (xlsx_parts.yaml), its lines joined: whitespace between elements is not content."""
    parts = load_yaml(PARTS_FILE.read_text(encoding="utf-8"))
    return parts["styles"].replace("> <", "><")


def _parts(names: list[str], author: str) -> dict[str, str]:
    """Every part of the package but the sheets."""
    n = len(names)
    sheets = "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
                     f'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' for i in range(1, n + 1))
    return {
        "[Content_Types].xml": _HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>' + sheets +
        '<Override PartName="/xl/styles.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '<Override PartName="/docProps/core.xml" ContentType="application/'
        'vnd.openxmlformats-package.core-properties+xml"/>'
        '<Override PartName="/docProps/app.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>',
        "_rels/.rels": _HEAD + f'<Relationships xmlns="{_PKG_REL}">'
        f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
        f'<Relationship Id="rId2" Type="{_PKG_REL}/metadata/core-properties" Target="docProps/core.xml"/>'
        f'<Relationship Id="rId3" Type="{_REL}/extended-properties" Target="docProps/app.xml"/></Relationships>',
        "docProps/app.xml": _HEAD + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
        'extended-properties"><Application>cchc-analysis</Application></Properties>',
        "docProps/core.xml": _HEAD + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
        'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/'
        'terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f'<dc:creator>{_text(author)}</dc:creator>'
        '<dcterms:created xsi:type="dcterms:W3CDTF">2020-01-01T00:00:00Z</dcterms:created>'
        '<dcterms:modified xsi:type="dcterms:W3CDTF">2020-01-01T00:00:00Z</dcterms:modified>'
        '</cp:coreProperties>',
        "xl/workbook.xml": _HEAD + f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>' + "".join(
            f'<sheet name="{_text(name)}" sheetId="{i}" r:id="rId{i}"/>' for i, name in enumerate(names, start=1))
        + "</sheets></workbook>",
        "xl/_rels/workbook.xml.rels": _HEAD + f'<Relationships xmlns="{_PKG_REL}">' + "".join(
            f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, n + 1))
        + f'<Relationship Id="rId{n + 1}" Type="{_REL}/styles" Target="styles.xml"/></Relationships>',
        "xl/styles.xml": _HEAD + _styles(),
    }


def write_xlsx(sheets: dict[str, pd.DataFrame], target: Path, author: str = "cchc-analysis",
               pieces: dict[str, list[Deflated]] | None = None, split_by: dict[str, str] | None = None,
               rows: dict[str, int] | None = None) -> Path:
    """Write ``sheets`` (name -> table; names at most 31 characters, unique) into the workbook ``target``.
    ``pieces``: for some sheets, their rows' XML already formatted and deflated; ``split_by``: for some sheets, the
    column whose runs were deflated apart (see ``_sheet_pieces``); ``rows``: for some sheets given as their columns
    only, their row counts (their rows: ``pieces``)."""
    names = [name[:31] for name in sheets]
    with open(target, "wb") as out, OpenFiles() as sources:
        book = _ZipWriter(out, sources)
        for name, text in _parts(names, author).items():
            book.add(name, [deflated(text.encode("utf-8"), last=True)])
        for i, (name, frame) in enumerate(sheets.items(), start=1):
            book.add(f"xl/worksheets/sheet{i}.xml",
                     _sheet_pieces(frame, (pieces or {}).get(name), (split_by or {}).get(name), (rows or {}).get(name)))
        book.close()
    return target
