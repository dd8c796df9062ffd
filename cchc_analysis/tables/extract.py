"""Report text -> document structure: the appendix tables (Phụ lục), each row and cell with its source line.

This layer knows the provincial template's *shape*, not its content: an appendix heading, a title, optional
sub-sections ("I. ...", "II. ..."), tables whose rows are tab-separated, header rows that repeat after a page break,
labels split across a page break, and footnotes ("Ghi chú:"). What the rows *mean* lives in the specs (tidy.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cchc_analysis.errors import CchcError
from cchc_analysis.read.source import SourceText
from cchc_analysis.text import clean, fold, starts_lowercase

SEPARATOR = "\t"
_APPENDIX = re.compile(r"^phu luc\s+(\d+)\s*(?:\((.*)\))?\s*[:.]?$")
_SECTION = re.compile(r"^([IVX]+)\s*[.)]\s+(\S.*)$")
_NOTES = re.compile(r"^ghi chu\s*:?$")
_NUMERIC = re.compile(r"^[\d.,\s%/]+$")
_PERIOD_HEADER = re.compile(r"^(nam|giai doan)\s+\d{4}")


@dataclass
class Cell:
    """One non-structural cell as it stands in the file (``text`` is raw: tags and spacing kept)."""

    text: str
    line: int
    column: int  # 0-based position in its row

    @property
    def clean(self) -> str:
        return clean(self.text)


@dataclass
class TableRow:
    line: int
    cells: list[Cell]
    label_continuations: list[Cell] = field(default_factory=list)

    def text(self, column: int) -> str:
        return self.cells[column].clean if column < len(self.cells) else ""

    def cell(self, column: int) -> Cell | None:
        return self.cells[column] if column < len(self.cells) else None

    def label(self, column: int = 1) -> str:
        """The row's label, rejoined with any part continued after a page break."""
        parts = [self.text(column)] + [c.clean for c in self.label_continuations]
        return clean(" ".join(p for p in parts if p))

    def all_cells(self) -> list[Cell]:
        return [c for c in self.cells if c.clean] + list(self.label_continuations)

    @property
    def is_blank(self) -> bool:
        return not any(c.clean for c in self.cells)


@dataclass
class TableSection:
    """One table of an appendix; ``key`` is "" for a single-table appendix, else its roman numeral."""

    key: str
    title: str
    title_line: int | None
    header: list[TableRow] = field(default_factory=list)
    repeated_headers: list[list[TableRow]] = field(default_factory=list)
    rows: list[TableRow] = field(default_factory=list)

    def column_headers(self) -> dict[int, str]:
        """Column index -> header text, the lowest non-empty header row winning (the year row under a merged cell)."""
        headers: dict[int, str] = {}
        for row in self.header:
            for cell in row.cells:
                if cell.clean:
                    headers[cell.column] = cell.clean
        return headers


@dataclass
class Appendix:
    number: int
    heading_line: int
    office: str
    title: str
    title_lines: list[int]
    sections: list[TableSection]
    notes: list[tuple[int, str]]
    other_text: list[tuple[int, str]]
    first_line: int
    last_line: int

    def section(self, key: str) -> TableSection | None:
        return next((s for s in self.sections if s.key == key), None)


@dataclass
class Document:
    source: SourceText
    narrative_lines: tuple[int, int]  # first and last line before the appendices
    appendices: dict[int, Appendix]


def _split(line_text: str, line: int) -> TableRow:
    return TableRow(line=line, cells=[Cell(text, line, i) for i, text in enumerate(line_text.split(SEPARATOR))])


def _is_header_start(row: TableRow, first_cell_key: str | None) -> bool:
    key = fold(row.text(0))
    if first_cell_key is not None:
        return key == first_cell_key and not any(_NUMERIC.match(c.clean) for c in row.cells[1:] if c.clean)
    return key == "stt"


def _is_header_continuation(row: TableRow) -> bool:
    """A second header row: no row number, no figures, no label that continues a sentence."""
    if row.text(0):
        return False
    filled = [c.clean for c in row.cells if c.clean]
    if not filled:
        return False
    return not any(_NUMERIC.match(t) or starts_lowercase(t) for t in filled)


def _period_signature(rows: list[TableRow]) -> list[tuple[int, str]]:
    return sorted((c.column, fold(c.text)) for r in rows for c in r.cells if _PERIOD_HEADER.match(fold(c.text)))


def _merge_continuation(previous: TableRow, row: TableRow, path: str) -> None:
    """Rejoin a label split by a page break: the continuation's label is appended, its figures fill blanks."""
    label_column = 1
    previous_label = previous.cell(label_column)
    continuation = row.cell(label_column)
    if previous_label is None or continuation is None:
        raise CchcError("cannot rejoin a label continued after a page break", file=path, line=row.line)
    previous.label_continuations.append(continuation)
    for cell in row.cells:
        if cell.column <= label_column or not cell.clean:
            continue
        while len(previous.cells) <= cell.column:
            previous.cells.append(Cell("", previous.line, len(previous.cells)))
        if previous.cells[cell.column].clean:
            raise CchcError(
                f"the row continued after the page break has a figure in column {cell.column + 1} "
                f"where line {previous.line} already has one",
                file=path, line=row.line)
        previous.cells[cell.column] = cell


class _BlockReader:
    """Reads one appendix line by line: title, sections, header rows (and their repeats after page breaks), data
    rows (rejoining labels split by a page break) and footnotes."""

    def __init__(self, path: str):
        self.path = path
        self.title_parts: list[str] = []
        self.title_lines: list[int] = []
        self.sections: list[TableSection] = []
        self.notes: list[tuple[int, str]] = []
        self.other: list[tuple[int, str]] = []
        self.current: TableSection | None = None
        self.header_key: str | None = None
        self.in_notes = False
        self.expect_continuation = False

    def text_line(self, line: int, text: str) -> None:
        """A line with no tab: a footnote, a section title, the table's title or other text."""
        if _NOTES.match(fold(text)):
            self.in_notes = True
            return
        if self.in_notes:
            self.notes.append((line, text))
            return
        current = self.current
        section = _SECTION.match(text)
        if section and (current is None or current.rows or current.key):
            self.current = TableSection(key=section.group(1), title=section.group(2).strip(), title_line=line)
            self.sections.append(self.current)
            self.header_key = None
        elif current is None or (not current.header and not current.rows):
            self.title_parts.append(text)
            self.title_lines.append(line)
        else:
            self.other.append((line, text))

    def table_row(self, row: TableRow) -> None:
        self.in_notes = False
        if self.current is None:
            self.current = TableSection(key="", title="", title_line=None)
            self.sections.append(self.current)
        current = self.current
        if not current.header:
            if current.rows:
                raise CchcError("table row before the table's header row", file=self.path, line=row.line)
            current.header.append(row)
            self.header_key = fold(row.text(0))
        elif len(current.header) < 3 and not current.rows and _is_header_continuation(row):
            current.header.append(row)
        elif _is_header_start(row, self.header_key):
            current.repeated_headers.append([row])
            self.expect_continuation = True
        elif not self._continues_repeated_header(row):
            self._data_row(row)

    def _continues_repeated_header(self, row: TableRow) -> bool:
        current = self.current
        repeat = current.repeated_headers[-1] if current.repeated_headers else None
        if not (self.expect_continuation and repeat is not None and len(repeat) < len(current.header)
                and _is_header_continuation(row)):
            return False
        repeat.append(row)
        if len(repeat) == len(current.header) and _period_signature(repeat) != _period_signature(current.header):
            raise CchcError(
                f"the header repeated after a page break has other year columns than the header at line "
                f"{current.header[0].line}", file=self.path, line=repeat[0].line)
        return True

    def _data_row(self, row: TableRow) -> None:
        self.expect_continuation = False
        rows = self.current.rows
        if rows and not row.text(0) and starts_lowercase(row.text(1)):
            _merge_continuation(rows[-1], row, self.path)
        else:
            rows.append(row)


def _parse_block(source: SourceText, number: int, start: int, end: int) -> Appendix:
    """Lines ``start``..``end`` (1-based, inclusive) are one appendix, its heading at ``start``."""
    path = str(source.path)
    heading = clean(source.line(start))
    office_match = re.search(r"\((.*)\)\s*[:.]?$", heading)
    office = office_match.group(1).strip() if office_match else ""
    reader = _BlockReader(path)
    for line in range(start + 1, end + 1):
        raw = source.line(line)
        text = clean(raw)
        if not text:
            continue
        if SEPARATOR not in raw:
            reader.text_line(line, text)
            continue
        row = _split(raw, line)
        if not row.is_blank:
            reader.table_row(row)

    if not reader.sections:
        raise CchcError(f"Phụ lục {number} has no table (no tab-separated rows)", file=path, line=start)
    for section in reader.sections:
        if not section.rows:
            name = f"Phụ lục {number}" + (f" section {section.key}" if section.key else "")
            raise CchcError(f"{name} has a header but no data rows (table cut short?)", file=path,
                            line=section.header[-1].line if section.header else start)
    return Appendix(number=number, heading_line=start, office=office, title=" ".join(reader.title_parts),
                    title_lines=reader.title_lines, sections=reader.sections, notes=reader.notes,
                    other_text=reader.other, first_line=start, last_line=end)


def extract(source: SourceText) -> Document:
    """Find every appendix of the report and read its tables."""
    headings: list[tuple[int, int]] = []
    for index, raw in enumerate(source.lines, start=1):
        if SEPARATOR in raw or raw.lstrip()[:2].lower() != "ph":
            continue
        match = _APPENDIX.match(fold(raw))
        if match:
            headings.append((index, int(match.group(1))))
    if not headings:
        raise CchcError("no appendix tables found (no line 'Phụ lục N'); is this a CCHC report?",
                        file=source.path)
    seen: dict[int, int] = {}
    for line, number in headings:
        if number in seen:
            raise CchcError(f"Phụ lục {number} appears twice (first at line {seen[number]})",
                            file=source.path, line=line)
        seen[number] = line
    last_line = len(source.lines)
    while last_line > 0 and not source.lines[last_line - 1].strip():
        last_line -= 1
    appendices: dict[int, Appendix] = {}
    for i, (line, number) in enumerate(headings):
        end = headings[i + 1][0] - 1 if i + 1 < len(headings) else last_line
        while end > line and not source.lines[end - 1].strip():
            end -= 1
        appendices[number] = _parse_block(source, number, line, end)
    return Document(source=source, narrative_lines=(1, headings[0][0] - 1), appendices=appendices)
