"""A Word report (.docx) -> the text export's layout, read from the document's structure (python-docx).

The body is read in order: a paragraph is a line (a manual line break starts another) followed by a blank line, an
empty paragraph is a blank line, a table is one line per row, its cells tab-separated, then a blank line. A row has
one cell per column of the table's grid: a cell spanning several columns (``gridSpan``) gives its text in its first
column and empty cells after it, the continuation of a vertical merge (``vMerge``) is empty, as a text export has
them; header rows marked to repeat on each page (``tblHeader``) are in the file once, and read once. Italic runs in a
table cell are kept as ``<i>...</i>`` (the export's markup). Every line keeps where it came from: paragraph p, or
table t, row r and the cell under each column.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from cchc_analysis.errors import CchcError
from cchc_analysis.read.location import ITALIC_CLOSE, ITALIC_OPEN, Location

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_BREAKS = {W + "br", W + "cr"}
_CONTAINERS = {W + "hyperlink", W + "smartTag", W + "ins", W + "fldSimple", W + "customXml", W + "sdtContent",
               W + "sdt", W + "moveTo", W + "dir", W + "bdo"}
_SKIPPED = {W + "del", W + "moveFrom", W + "pPr", W + "rPr", W + "sdtPr", W + "sdtEndPr", W + "proofErr",
            W + "bookmarkStart", W + "bookmarkEnd"}


def _val(element, name: str, default: str | None = None) -> str | None:
    child = element.find(W + name) if element is not None else None
    if child is None:
        return default
    return child.get(W + "val", "")


def _on(element, name: str) -> bool | None:
    """A toggle property (w:i): None when absent, else whether it is on."""
    value = _val(element, name)
    if value is None:
        return None
    return value.lower() not in ("0", "false", "off")


class _Styles:
    """Italic as set by a character or paragraph style (resolved through ``basedOn``)."""

    def __init__(self, document):
        self.italic: dict[str, bool] = {}
        try:
            styles = document.styles.element
        except Exception:  # a document without a styles part
            return
        based: dict[str, str] = {}
        own: dict[str, bool | None] = {}
        for style in styles.iter(W + "style"):
            style_id = style.get(W + "styleId", "")
            own[style_id] = _on(style.find(W + "rPr"), "i")
            based[style_id] = _val(style, "basedOn") or ""
        for style_id in own:
            seen, current, value = set(), style_id, None
            while current and current not in seen and value is None:
                seen.add(current)
                value = own.get(current)
                current = based.get(current, "")
            self.italic[style_id] = bool(value)

    def of(self, style_id: str | None) -> bool:
        return self.italic.get(style_id or "", False)


class _Reader:
    def __init__(self, document):
        self.styles = _Styles(document)
        self.lines: list[str] = []
        self.locations: list[Location] = []
        self.paragraphs = 0
        self.tables = 0

    # -- text of runs -------------------------------------------------------------------------------------------
    def _runs(self, element, italic_default: bool, parts: list[tuple[str, bool]]) -> None:
        """(text, italic) pieces of a paragraph in reading order; a line break is the piece ("\\n", False)."""
        for child in element:
            tag = child.tag
            if tag == W + "r":
                props = child.find(W + "rPr")
                italic = _on(props, "i")
                if italic is None:
                    italic = self.styles.of(_val(props, "rStyle")) or italic_default
                for piece in child:
                    if piece.tag == W + "t":
                        parts.append((piece.text or "", italic))
                    elif piece.tag in (W + "tab", W + "ptab"):
                        parts.append((" ", False))
                    elif piece.tag in _BREAKS:
                        parts.append(("\n", False))
                    elif piece.tag == W + "noBreakHyphen":
                        parts.append(("-", italic))
            elif tag in _CONTAINERS:
                self._runs(child, italic_default, parts)

    def paragraph_lines(self, paragraph, markup: bool) -> list[str]:
        """The lines of a paragraph (split at manual line breaks), italic runs marked when ``markup``."""
        props = paragraph.find(W + "pPr")
        italic_default = self.styles.of(_val(props, "pStyle"))
        parts: list[tuple[str, bool]] = []
        self._runs(paragraph, italic_default, parts)
        lines, current, open_italic = [], [], False
        for text, italic in parts + [("\n", False)]:
            if text == "\n" or (markup and italic != open_italic and text.strip()):
                if open_italic:
                    current.append(ITALIC_CLOSE)
                    open_italic = False
            if text == "\n":
                lines.append("".join(current).replace("\t", " "))
                current = []
                continue
            if markup and italic and not open_italic and text.strip():
                current.append(ITALIC_OPEN)
                open_italic = True
            current.append(text)
        return lines

    # -- body ---------------------------------------------------------------------------------------------------
    def block(self, element) -> None:
        if element.tag == W + "p":
            self.paragraphs += 1
            where = Location("paragraph", (self.paragraphs,))
            lines = [line.strip() for line in self.paragraph_lines(element, markup=False)]
            if any(lines):
                for line in lines:
                    self._emit(line, where)
            self._emit("", where)
        elif element.tag == W + "tbl":
            self.tables += 1
            self.table(element, self.tables)
            self._emit("", self.locations[-1] if self.locations else Location("paragraph", (1,)))
        elif element.tag in (W + "sdt", W + "sdtContent", W + "customXml"):
            for child in element:
                self.block(child)

    def _emit(self, line: str, where: Location) -> None:
        self.lines.append(line)
        self.locations.append(where)

    def cell_text(self, cell) -> str:
        """A cell's paragraphs (and nested tables) as one line of text."""
        pieces = []
        for child in cell.iter(W + "p"):
            pieces += [line.strip() for line in self.paragraph_lines(child, markup=True)]
        return " ".join(p for p in pieces if p)

    def table(self, table, number: int) -> None:
        grid = len(table.findall(f"{W}tblGrid/{W}gridCol"))
        for r, row in enumerate(table.findall(W + "tr"), start=1):
            props = row.find(W + "trPr")
            texts: list[str] = [""] * int(_val(props, "gridBefore", "0") or 0)
            cells: list[int] = [0] * len(texts)
            for c, cell in enumerate(row.findall(W + "tc"), start=1):
                cell_props = cell.find(W + "tcPr")
                span = max(1, int(_val(cell_props, "gridSpan", "1") or 1))
                merged = _val(cell_props, "vMerge") == "" or _val(cell_props, "hMerge") == ""
                text = self.cell_text(cell)
                texts += [text if not merged or text else ""] + [""] * (span - 1)
                cells += [c] * span
            if len(texts) < grid:
                cells += [0] * (grid - len(texts))
                texts += [""] * (grid - len(texts))
            self._emit("\t".join(t.replace("\t", " ") for t in texts), Location("row", (number, r), tuple(cells)))


def read_docx(data: bytes, path: str | Path) -> tuple[list[str], list[Location]]:
    """The lines of a Word report and where each came from; a file that is no Word document is refused."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            names = set(package.namelist())
    except zipfile.BadZipFile:
        raise CchcError("this is not a Word .docx file (not a zip package); an old .doc must be saved as .docx",
                        file=path) from None
    if "[Content_Types].xml" not in names or not any(n.startswith("word/") for n in names):
        raise CchcError("this is not a Word .docx file (no word/document.xml in the package)", file=path)
    try:
        import docx

        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several types for a damaged package
        raise CchcError(f"this Word file cannot be read ({type(exc).__name__}: {exc})", file=path) from None
    reader = _Reader(document)
    for element in document.element.body:
        reader.block(element)
    while reader.lines and not reader.lines[-1]:
        reader.lines.pop()
        reader.locations.pop()
    if not any(line.strip() for line in reader.lines):
        raise CchcError("the Word file has no text", file=path)
    return reader.lines, reader.locations
