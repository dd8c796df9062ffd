"""Where a line of extracted text came from in its document, and the inline markup the text export uses; shared by
read/source.py and the Word and PDF readers (which source.py loads only when a report needs them)."""

from __future__ import annotations

from dataclasses import dataclass

# The text export marks italic words of a table cell with <i> ... </i> (text.strip_tags removes them for display);
# the Word and PDF readers write the same markers. They are the report's source markup, not HTML for a page (the
# no-HTML-in-Python test of the pack names this one exemption).
ITALIC_OPEN, ITALIC_CLOSE = "<i>", "</i>"


@dataclass(frozen=True)
class Location:
    """Where one line of the extracted text stands in the document it came from.

    ``kind`` is "paragraph" (Word: ``numbers`` = (paragraph,)), "row" (Word: (table, row) and ``cells``, the
    document's cell number under each tab-separated column) or "page" (PDF: (page, line on the page)); all 1-based.
    """

    kind: str
    numbers: tuple[int, ...]
    cells: tuple[int, ...] = ()

    def describe(self, column: int | None = None) -> str:
        if self.kind == "paragraph":
            return f"paragraph {self.numbers[0]}"
        if self.kind == "row":
            table, row = self.numbers
            where = f"table {table}, row {row}"
            if column is not None and 1 <= column <= len(self.cells):
                where += f", cell {self.cells[column - 1]}"
            return where
        return f"page {self.numbers[0]}, line {self.numbers[1]}"
