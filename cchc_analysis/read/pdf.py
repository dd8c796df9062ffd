"""A PDF report with a text layer -> the text export's layout, read from characters, positions and ruling lines.

pypdfium2 gives every character with its box and every drawn path; nothing else is needed (pdfplumber takes about
9 s for the text of a 29-page report, this reader well under one). On each page:

- ruling lines (thin stroked or filled paths, and the edges of stroked rectangles) are joined into tables; the
  distinct x of the vertical rules and y of the horizontal rules make a grid, and a rule missing between two grid
  cells merges them (a header cell spanning the year columns, "STT" spanning two header rows); a merged cell's text
  goes to its top-left grid cell, the others are empty, as in a text export;
- a table whose vertical rules run below its last horizontal rule is cut by the page break (the row goes on): the
  first row after the repeated header rows on the next page is joined to it, cell by cell;
- the other characters are lines of prose, joined into paragraphs (a new one after a larger gap, a short line or a
  table; a paragraph cut by a page break goes on); page numbers alone in the top or bottom margin are dropped.

Italic characters in a table cell are kept as ``<i>...</i>``. Every line keeps its page and its line on the page.
"""

from __future__ import annotations

import bisect
import ctypes
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from cchc_analysis.errors import CchcError
from cchc_analysis.read.location import ITALIC_CLOSE, ITALIC_OPEN, Location

RULE = 2.5          # a path thinner than this (pt) is a ruling line
JOIN = 2.0          # rules closer than this are one grid line; segments closer than this touch
SAME = 0.75         # segments of one drawn line lie within this of one another
SOFT = "\u00ad"      # pdfium reports a hyphen that ends a line inside a word as 2
ITALIC_FLAG = 0x40  # FXFONT_ITALIC in the font flags pdfium reports
MARGIN = 0.15       # page numbers stand in the top or bottom 15% of the page


@dataclass
class Char:
    text: str
    left: float
    top: float      # distances from the top of the page
    right: float
    bottom: float
    index: int

    @property
    def middle(self) -> tuple[float, float]:
        return (self.left + self.right) / 2, (self.top + self.bottom) / 2


@dataclass
class Line:
    chars: list[Char]
    top: float
    bottom: float

    # read once the line is complete (``_lines`` builds it first)
    @cached_property
    def left(self) -> float:
        return min((c.left for c in self.chars if c.text.strip()), default=self.chars[0].left)

    @cached_property
    def right(self) -> float:
        return max((c.right for c in self.chars if c.text.strip()), default=self.chars[0].right)

    @cached_property
    def ordered(self) -> list[Char]:
        return _ordered(self.chars)

    @cached_property
    def text(self) -> str:
        return " ".join("".join(c.text for c in self.ordered).split())


def _ordered(chars: list[Char]) -> list[Char]:
    """A line's characters in reading order: the order they were written in (which places the spaces pdfium
    infers), unless a character was written left of the one before it (then left to right)."""
    written = sorted(chars, key=lambda c: c.index)
    glyphs = [c for c in written if c.text.strip()]
    if not all(b.left >= a.left - 0.5 * (a.right - a.left) - 1 for a, b in zip(glyphs, glyphs[1:])):
        written = sorted(chars, key=lambda c: c.left)
    kept: list[Char] = []
    for k, char in enumerate(written):  # a space stands between the letters around it, or is not this line's
        if not char.text.strip():
            after = next((c for c in written[k + 1:] if c.text.strip()), None)
            before = kept[-1] if kept else None
            if before is None or after is None or not before.left <= char.left <= after.left + 1:
                continue
        kept.append(char)
    return kept


@dataclass
class Table:
    xs: list[float]
    ys: list[float]
    parent: dict = field(default_factory=dict)
    open_bottom: bool = False

    @property
    def top(self) -> float:
        return self.ys[0]

    def band(self, x: float, y: float) -> tuple[int, int] | None:
        if not (self.xs[0] <= x <= self.xs[-1] and self.ys[0] <= y <= self.ys[-1]):
            return None
        row = min(bisect.bisect(self.ys, y), len(self.ys) - 1) - 1
        return row, min(bisect.bisect(self.xs, x), len(self.xs) - 1) - 1

    def anchor(self, cell: tuple[int, int]) -> tuple[int, int]:
        while self.parent.get(cell, cell) != cell:
            cell = self.parent[cell]
        return cell


# -- characters and rules ---------------------------------------------------------------------------------------
def _chars(textpage, height: float) -> list[Char]:
    """The page's characters (combining marks joined to their letter; line ends dropped), top-down coordinates."""
    import pypdfium2.raw as raw

    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    chars: list[Char] = []
    for i in range(raw.FPDFText_CountChars(textpage)):
        code = raw.FPDFText_GetUnicode(textpage, i)
        if code in (0, 10, 13, 0xFFFE, 0xFFFF):
            continue
        text = SOFT if code == 2 else chr(code) if code < 0xD800 or code > 0xDFFF else "\ufffd"
        if chars and unicodedata.combining(text):
            chars[-1].text += text
            continue
        raw.FPDFText_GetCharBox(textpage, i, left, right, bottom, top)
        chars.append(Char(" " if text.isspace() else text, left.value, height - top.value, right.value,
                          height - bottom.value, i))
    return chars


def _segments(page, height: float) -> tuple[list, list]:
    """Horizontal (y, x0, x1) and vertical (x, y0, y1) ruling segments drawn on the page."""
    import pypdfium2.raw as raw

    horizontal, vertical = [], []
    fill, stroke = ctypes.c_int(), ctypes.c_int()
    for obj in page.get_objects(filter=[raw.FPDF_PAGEOBJ_PATH], max_depth=4):
        x0, y0, x1, y1 = obj.get_bounds()
        y0, y1 = height - y1, height - y0
        width, tall = x1 - x0, y1 - y0
        if tall <= RULE and width > JOIN:
            horizontal.append(((y0 + y1) / 2, x0, x1))
        elif width <= RULE and tall > JOIN:
            vertical.append(((x0 + x1) / 2, y0, y1))
        elif width > RULE and tall > RULE:
            raw.FPDFPath_GetDrawMode(obj.raw, ctypes.byref(fill), ctypes.byref(stroke))
            if stroke.value and not fill.value and raw.FPDFPath_CountSegments(obj.raw) <= 6:
                horizontal += [(y0, x0, x1), (y1, x0, x1)]
                vertical += [(x0, y0, y1), (x1, y0, y1)]
    return _merge(horizontal), _merge(vertical)


def _merge(segments: list) -> list:
    """Collinear segments that touch, as one (segments of one line share its position within SAME)."""
    merged: list[tuple] = []
    group: list = []
    for segment in sorted(segments) + [(float("inf"), 0.0, 0.0)]:
        if group and segment[0] - group[0][0] > SAME:
            position = group[len(group) // 2][0]
            spans: list[list[float]] = []
            for _, start, end in sorted(group, key=lambda g: g[1]):
                if spans and start <= spans[-1][1] + JOIN:
                    spans[-1][1] = max(spans[-1][1], end)
                else:
                    spans.append([start, end])
            merged += [(position, start, end) for start, end in spans]
            group = []
        group.append(segment)
    return merged


def _clusters(values: list[float]) -> list[float]:
    out: list[float] = []
    for value in sorted(values):
        if not out or value - out[-1] > JOIN:
            out.append(value)
    return out


def _covered(segments: list, position: float, point: float) -> bool:
    return any(abs(p - position) <= JOIN and s - JOIN <= point <= e + JOIN for p, s, e in segments)


def _grids(horizontal: list, vertical: list) -> list[tuple[list, list]]:
    """Rules that touch one another, grouped: one group per table."""
    items = [("h", s) for s in horizontal] + [("v", s) for s in vertical]
    group = list(range(len(items)))

    def root(i: int) -> int:
        while group[i] != i:
            group[i] = group[group[i]]
            i = group[i]
        return i

    for i, (kind, (p, s, e)) in enumerate(items):
        for j in range(i + 1, len(items)):
            other, (q, t, f) = items[j]
            if kind != other and s - JOIN <= q <= e + JOIN and t - JOIN <= p <= f + JOIN:
                group[root(i)] = root(j)
    found: dict[int, tuple[list, list]] = {}
    for i, (kind, segment) in enumerate(items):
        found.setdefault(root(i), ([], []))[0 if kind == "h" else 1].append(segment)
    return [g for g in found.values() if len(g[0]) >= 2 and len(g[1]) >= 2]


def _table(horizontal: list, vertical: list) -> Table:
    """The grid of one table and its merged cells (a rule missing between two grid cells)."""
    xs = _clusters([x for x, _, _ in vertical])
    ys = _clusters([y for y, _, _ in horizontal])
    lowest = max(e for _, _, e in vertical)
    table = Table(xs, ys)
    if lowest - ys[-1] > 3 * JOIN:  # the verticals go on below the last rule: the page break cut a row
        table.ys.append(lowest)
        table.open_bottom = True
    for i in range(len(table.ys) - 1):
        middle_y = (table.ys[i] + table.ys[i + 1]) / 2
        for j in range(len(xs) - 1):
            middle_x = (xs[j] + xs[j + 1]) / 2
            if j + 1 < len(xs) - 1 and not _covered(vertical, xs[j + 1], middle_y):
                _union(table, (i, j), (i, j + 1))
            if i + 1 < len(table.ys) - 1 and not _covered(horizontal, table.ys[i + 1], middle_x):
                _union(table, (i, j), (i + 1, j))
    return table


def _union(table: Table, a: tuple[int, int], b: tuple[int, int]) -> None:
    ra, rb = table.anchor(a), table.anchor(b)
    if ra != rb:
        first, second = sorted([ra, rb])
        table.parent[second] = first


def join_wrapped(parts: list[str]) -> str:
    """Lines wrapped by the layout, as one text: a space between them, but none after a slash or a hyphen that
    ended the line inside a word (``01/2018/`` + ``TT-VPCP``, ``QĐ-`` + ``UBND``, ``2018-`` + ``2021``)."""
    out = ""
    for part in parts:
        if out.endswith(SOFT) or (out[-1:] in ("/", "-") and out[-2:-1].strip()):
            out += part
        else:
            out += (" " if out else "") + part
    return out.replace(SOFT, "-")


# -- lines ------------------------------------------------------------------------------------------------------
def _lines(chars: list[Char]) -> list[Line]:
    """Characters grouped into lines: a character belongs to the line its vertical middle falls in."""
    lines: list[Line] = []
    for char in sorted(chars, key=lambda c: (c.top, c.left)):
        middle = char.middle[1]
        line = next((ln for ln in reversed(lines[-4:]) if ln.top - 0.5 <= middle <= ln.bottom + 0.5), None)
        if line is None:
            lines.append(Line([char], char.top, char.bottom))
        else:
            line.chars.append(char)
            if char.text.strip():
                line.top, line.bottom = min(line.top, char.top), max(line.bottom, char.bottom)
    return [ln for ln in lines if ln.text]


def _marked(line: Line, italic: set[int]) -> str:
    """A cell line with its italic characters between <i> and </i>."""
    out, open_ = [], False
    for char in line.ordered:
        slanted = char.index in italic
        if char.text.strip() and slanted != open_:
            out.append(ITALIC_OPEN if slanted else ITALIC_CLOSE)
            open_ = slanted
        out.append(char.text)
    if open_:
        out.append(ITALIC_CLOSE)
    return " ".join("".join(out).replace(" " + ITALIC_CLOSE, ITALIC_CLOSE + " ").split())


# -- one page ---------------------------------------------------------------------------------------------------
@dataclass
class _Item:
    top: float
    kind: str                      # "line" | "table"
    line: Line | None = None
    rows: list[list[str]] = field(default_factory=list)
    table: Table | None = None
    row_tops: list[float] = field(default_factory=list)


def _italic_chars(textpage, chars: list[Char]) -> set[int]:
    import pypdfium2.raw as raw

    flags = ctypes.c_int()
    slanted = set()
    for char in chars:
        if char.text.strip():
            raw.FPDFText_GetFontInfo(textpage, char.index, None, 0, ctypes.byref(flags))
            if flags.value & ITALIC_FLAG:
                slanted.add(char.index)
    return slanted


def _table_item(table: Table, chars: list[Char], textpage) -> _Item:
    cells: dict[tuple[int, int], list[Char]] = {}
    for char in chars:
        cells.setdefault(table.anchor(table.band(*char.middle)), []).append(char)
    italic = _italic_chars(textpage, chars)
    width = len(table.xs) - 1
    rows, tops = [], []
    for i in range(len(table.ys) - 1):
        texts = [join_wrapped([_marked(ln, italic) for ln in _lines(cells.get((i, j), []))])
                 if table.anchor((i, j)) == (i, j) else "" for j in range(width)]
        rows.append([t.replace("\t", " ").replace(ITALIC_CLOSE + " " + ITALIC_OPEN, " ")
                     .replace(ITALIC_CLOSE + ITALIC_OPEN, "") for t in texts])
        tops.append(table.ys[i])
    return _Item(table.top, "table", rows=rows, table=table, row_tops=tops)


def _page_items(page, textpage, number: int) -> tuple[list[_Item], list[float]]:
    """The page's prose lines and tables, top to bottom, and the tops of all its text lines (for line numbers)."""
    width, height = page.get_size()
    chars = _chars(textpage, height)
    tables = [_table(h, v) for h, v in _grids(*_segments(page, height))]
    inside: dict[int, list[Char]] = {}
    prose: list[Char] = []
    for char in chars:
        where = next((k for k, t in enumerate(tables) if t.band(*char.middle) is not None), None)
        (inside.setdefault(where, []) if where is not None else prose).append(char)
    items = [_table_item(t, inside.get(k, []), textpage) for k, t in enumerate(tables)]
    items += [_Item(line.top, "line", line=line) for line in _lines(prose)]
    items.sort(key=lambda item: item.top)
    for end in (-1, 0):  # a page number: a number alone, first or last on the page, in its top or bottom part
        item = items[end] if items else None
        if item is not None and item.kind == "line" and _is_page_number(item.line, height):
            items.remove(item)
    return items, _line_tops(chars)


def _line_tops(chars: list[Char]) -> list[float]:
    """The top of each line of text on the page, prose and table cells alike (to count lines from the top)."""
    tops: list[float] = []
    for top in sorted(c.top for c in chars if c.text.strip()):
        if not tops or top - tops[-1] > 4 * JOIN:
            tops.append(top)
    return tops


def _is_page_number(line: Line, height: float) -> bool:
    in_margin = line.top < height * MARGIN or line.bottom > height * (1 - MARGIN)
    words = line.text.lower().replace("trang", "").replace("-", " ").replace("/", " ").split()
    return in_margin and 0 < len(words) <= 2 and all(w.isdigit() for w in words)


# -- the document -----------------------------------------------------------------------------------------------
@dataclass
class _Metrics:
    """The prose's measures on one page: line height, line pitch, left and right edges."""
    size: float = 10.0
    pitch: float = 14.0
    left: float = 0.0
    right: float = 0.0

    @classmethod
    def of(cls, lines: list[Line]) -> _Metrics:
        if not lines:
            return cls()
        sizes = sorted(ln.bottom - ln.top for ln in lines)
        size = sizes[len(sizes) // 2]
        steps = sorted(b.top - a.top for a, b in zip(lines, lines[1:]) if 0 < b.top - a.top < 2.2 * size)
        pitch = steps[len(steps) // 2] if steps else 1.4 * size
        return cls(size, pitch, min(ln.left for ln in lines), max(ln.right for ln in lines))


def _first_word(line: Line) -> float:
    chars = line.ordered
    start = next((c.left for c in chars if c.text.strip()), 0.0)
    end = start
    for char in chars:
        if char.left > start and not char.text.strip():
            break
        end = max(end, char.right)
    return end - start


class _Writer:
    """Pages' items -> lines of text in the export's layout, with the location of each line."""

    def __init__(self):
        self.lines: list[str] = []
        self.locations: list[Location] = []
        self.paragraph: list[str] = []
        self.paragraph_at: Location | None = None
        self.previous: Line | None = None     # the last prose line, while its paragraph is open
        self.previous_right = 0.0             # the right edge of the prose on that line's page
        self.metrics = _Metrics()
        self.open_table: tuple[_Item, int] | None = None  # a table cut by the page break, its last row's line

    def _emit(self, text: str, where: Location) -> None:
        self.lines.append(text)
        self.locations.append(where)

    def end_paragraph(self) -> None:
        if self.paragraph:
            self._emit(join_wrapped(self.paragraph), self.paragraph_at)
            self._emit("", self.paragraph_at)
        self.paragraph, self.previous = [], None

    def page(self, items: list[_Item], tops: list[float], page: int) -> None:
        self.metrics = _Metrics.of([it.line for it in items if it.kind == "line"])

        def line_of(top: float) -> int:
            return bisect.bisect_left(tops, top - 0.5) + 1

        for position, item in enumerate(items):
            if item.kind == "table":
                self.table(item, page, line_of)
            else:
                self.prose(item.line, Location("page", (page, line_of(item.line.top))), position == 0)

    def _continues(self, line: Line, first_on_page: bool) -> bool:
        """Whether a prose line goes on with the paragraph before it (wrapped, not a new paragraph)."""
        previous, m = self.previous, self.metrics
        if previous is None or line.left > m.left + 1.5 * m.size:
            return False
        if not first_on_page and line.top - previous.top > 1.3 * m.pitch:
            return False
        return self.previous_right - previous.right < _first_word(line) + 0.5 * m.size

    def prose(self, line: Line, where: Location, first_on_page: bool) -> None:
        self.open_table = None
        if not self._continues(line, first_on_page):
            self.end_paragraph()
            self.paragraph_at = where
        self.paragraph.append(line.text)
        self.previous, self.previous_right = line, self.metrics.right

    def table(self, item: _Item, page: int, line_of) -> None:
        self.end_paragraph()
        rows, tops, first = item.rows, item.row_tops, item
        if self.open_table is not None:  # the table goes on from the page before: compare with its first page
            first = self.open_table[0]
            rows, tops = self._continue(self.open_table, item)
        for row, top in zip(rows, tops):
            self._emit("\t".join(row), Location("page", (page, line_of(top))))
        if rows:
            self._emit("", self.locations[-1])
        self.open_table = (first, len(self.lines) - 2) if item.table.open_bottom and rows else None

    def _continue(self, previous: tuple[_Item, int], item: _Item) -> tuple[list, list]:
        """The rows of a table's next page, its first row after the repeated header (the rows its first page begins
        with) joined to the row the page break cut."""
        first, at = previous
        header = 0
        while header < min(len(item.rows), len(first.rows), 3) and item.rows[header] == first.rows[header]:
            header += 1
        cut = self.lines[at].split("\t")
        if header >= len(item.rows) or len(cut) != len(item.rows[header]):
            return item.rows, item.row_tops
        self.lines[at] = "\t".join(" ".join(p for p in (a, b) if p) for a, b in zip(cut, item.rows[header]))
        keep = [k for k in range(len(item.rows)) if k != header]
        return [item.rows[k] for k in keep], [item.row_tops[k] for k in keep]


def read_pdf(data: bytes, path: str | Path) -> tuple[list[str], list[Location]]:
    """The lines of a PDF report and the page and line each came from; a scan, an encrypted or a broken PDF is
    refused."""
    document = _open(data, path)
    writer = _Writer()
    try:
        for number in range(len(document)):
            page = document[number]
            textpage = page.get_textpage()
            items, tops = _page_items(page, textpage.raw, number + 1)
            writer.page(items, tops, number + 1)
    finally:
        document.close()
    writer.end_paragraph()
    if not any(line.strip() for line in writer.lines):
        raise CchcError("this PDF has no text layer (a scanned image?): it needs OCR first, e.g. `ocrmypdf -l vie "
                        "in.pdf out.pdf`", file=path)
    while writer.lines and not writer.lines[-1]:
        writer.lines.pop()
        writer.locations.pop()
    return writer.lines, writer.locations


def _open(data: bytes, path: str | Path):
    import pypdfium2 as pdfium

    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise CchcError("this is not a PDF file (it does not begin with %PDF)", file=path)
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise CchcError("this PDF is encrypted (a password is needed to open it); save an unprotected copy",
                            file=path) from None
        raise CchcError(f"this PDF cannot be read: it is damaged or incomplete ({exc})", file=path) from None
