"""A small, fast writer of plain .xlsx workbooks: sheets of a header row (bold, frozen) and rows of text, numbers and
booleans. Nothing else: no formulas, links, dates or styles beyond the header.

Why not XlsxWriter: it spends about 14 µs on each cell (type dispatch, a method call, escaping), which made the
Excel workbook most of the time of writing a corpus' dataset. Here a column's cells are formatted in one list
comprehension and the sheet's XML streamed into the zip, about seven times faster. The bytes are fixed by the
content alone (entries in a fixed order, fixed dates and document properties): equal tables, equal files.
"""

from __future__ import annotations

import functools
import re
import zipfile
from pathlib import Path

import pandas as pd
import yaml

from cchc_analysis.dataset.blobs import read_blob

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
    """A column's cells, as ``_cell`` writes them; a column of text or of numbers in one comprehension."""
    text = _text_column(values)
    if text is not None:
        return [_EMPTY if value is None else
                f'<c t="inlineStr"><is><t{_PRESERVE if value[:1].isspace() or value[-1:].isspace() else ""}>'
                f"{value}</t></is></c>" for value in text]
    if all(type(value) in _NUMBERS for value in values):  # finite or not, as ``_cell`` writes them
        return [_EMPTY if value is None or value != value or value in _INFINITE else f"<c><v>{value!r}</v></c>"
                for value in values]
    return [_cell(value) for value in values]


_PRESERVE = ' xml:space="preserve"'
_NUMBERS = (int, float, type(None))
_INFINITE = (float("inf"), float("-inf"))


def _text_column(values: list) -> list | None:
    """The column's values escaped as ``_text`` escapes them, when every one is text (or None) without control
    characters and within a cell's length (else None): one search over the whole column instead of one per cell
    (most of a corpus' workbook time). Escaping changes no leading or trailing space."""
    present = [value for value in values if value is not None]
    if not present or not all(type(value) is str for value in present):
        return None
    joined = "\n".join(present)
    if max(map(len, present)) > EXCEL_MAX_CHARS or _CONTROL.search(joined):
        return None
    if not ("&" in joined or "<" in joined or ">" in joined):
        return values
    return [None if value is None else value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            for value in values]


def rows_xml(columns: list[list]) -> str:
    """The sheet rows of a table given as its columns' values (Python str, int, float, bool or None): the same text
    for the same rows wherever they are formatted."""
    return "".join(f"<row>{''.join(cells)}</row>" for cells in zip(*map(_column_cells, columns)))


def frame_columns(frame: pd.DataFrame) -> list[list]:
    """A frame's columns as the Python values ``rows_xml`` takes (missing values as None)."""
    return [frame[c].astype(object).where(frame[c].notna(), None).tolist() for c in frame.columns]


def _sheet_xml(frame: pd.DataFrame, stream, pieces: list | None = None) -> None:
    """A sheet: the header row, then the frame's rows, or ``pieces`` (its rows' XML, ``rows_xml``, in order) when
    given: texts, or segments of a cache entry (``dataset.parts``)."""
    letters = column_letters(len(frame.columns))
    last = f"{letters[-1]}{len(frame) + 1}" if letters else "A1"  # readers in read-only mode size a sheet by it
    stream.write((_HEAD + f'<worksheet xmlns="{_MAIN}"><dimension ref="A1:{last}"/>'
                  '<sheetViews><sheetView workbookViewId="0">'
                  '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                  '<selection pane="bottomLeft"/></sheetView></sheetViews><sheetData>').encode())
    header = "".join(f'<c t="inlineStr" s="1"><is><t>{_text(str(name))}</t></is></c>' for name in frame.columns)
    stream.write(f"<row>{header}</row>".encode())
    if pieces is not None:
        _write_joined(stream, (read_blob(piece) for piece in pieces))
    else:
        for start in range(0, len(frame), ROWS_PER_CHUNK):  # in chunks: a corpus' cells as strings at once would
            stream.write(rows_xml(frame_columns(frame.iloc[start:start + ROWS_PER_CHUNK])).encode())  # peak
    stream.write(b"</sheetData></worksheet>")


def _write_joined(stream, blobs, size: int = 1 << 20) -> None:
    """The blobs written into ``stream`` about ``size`` bytes at a time: a zip entry compresses and checksums each
    write (a corpus' 3,500 district pieces: a call each). zlib's output does not depend on how its input is split."""
    batch: list[bytes] = []
    held = 0
    for blob in blobs:
        batch.append(blob)
        held += len(blob)
        if held >= size:
            stream.write(b"".join(batch))
            batch, held = [], 0
    if batch:
        stream.write(b"".join(batch))


@functools.lru_cache(maxsize=1)
def _styles() -> str:
    """The styles part (xlsx_parts.yaml), its lines joined: whitespace between elements is not content."""
    parts = yaml.safe_load(PARTS_FILE.read_text(encoding="utf-8"))
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
               pieces: dict[str, list] | None = None) -> Path:
    """Write ``sheets`` (name -> table; names at most 31 characters, unique) into the workbook ``target``.
    ``pieces``: for some sheets, their rows' XML already formatted (see ``_sheet_xml``)."""
    names = [name[:31] for name in sheets]
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as book:
        for name, text in _parts(names, author).items():
            book.writestr(_info(name), text.encode("utf-8"))
        for i, (name, frame) in enumerate(sheets.items(), start=1):
            with book.open(_info(f"xl/worksheets/sheet{i}.xml"), "w") as stream:
                _sheet_xml(frame, stream, (pieces or {}).get(name))
    return target


def _info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info._compresslevel = COMPRESS_LEVEL  # (no public way to set it on an entry written as a stream)
    info.external_attr = 0o644 << 16
    return info
