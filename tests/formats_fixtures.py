"""Word and PDF versions of a report made at test time from its text export (nothing downloaded or committed).

The text is cut into blocks: paragraphs (consecutive lines: one paragraph with manual line breaks), tables
(consecutive tab-separated lines; one block per page of the export), and the blank lines between them. A table's
first two rows, when the second has no row number, are its header: a cell followed by empty cells over which the
row below has the years spans them (``gridSpan``/``colspan``), a cell with nothing under it is merged down
(``vMerge``/``rowspan``); header rows are marked to repeat. An appendix printed over several pages is one table
(the header repeats and the label split by the page break rejoined, as an author's Word file has it), except those
named in ``split``, kept as several tables, one a page, as in the export. Italic is ``<i>`` in the export.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

_TAG = re.compile(r"(<i>.*?</i>)")
_APPENDIX = re.compile(r"^Phụ lục\s+(\d+)")


@dataclass
class Block:
    kind: str                      # "paragraph" | "table" | "blank"
    lines: list[str] = field(default_factory=list)
    appendix: int = 0


def blocks_of(text: str) -> list[Block]:
    """The export's lines as blocks: paragraphs, tables (one a page) and the blank lines between them."""
    blocks: list[Block] = []
    appendix = 0
    previous_blank = True
    for line in text.split("\n"):
        match = _APPENDIX.match(line)
        if match and "\t" not in line:
            appendix = int(match.group(1))
        kind = "blank" if not line.strip() else "table" if "\t" in line else "paragraph"
        if kind == "blank":
            blocks.append(Block("blank", appendix=appendix))
        elif blocks and blocks[-1].kind == kind and not previous_blank:
            blocks[-1].lines.append(line)
        else:
            blocks.append(Block(kind, [line], appendix))
        previous_blank = kind == "blank"
    return blocks


def _cells(line: str) -> list[str]:
    return line.split("\t")


def _is_header_pair(rows: list[list[str]]) -> bool:
    return len(rows) >= 2 and rows[0][0].strip() != "" and rows[1][0].strip() == "" and any(
        c.strip() for c in rows[1])


def header_spans(rows: list[list[str]], width: int) -> tuple[int, list[tuple[int, int, int, int]]]:
    """(number of header rows, cells as (row, column, colspan, rowspan)) for the first rows of a table."""
    if not _is_header_pair(rows):
        return 0, []
    top = rows[0] + [""] * (width - len(rows[0]))
    below = rows[1] + [""] * (width - len(rows[1]))
    cells, covered = [], set()
    column = 0
    while column < width:
        span = 1
        if top[column].strip():
            while column + span < width and not top[column + span].strip() and below[column + span].strip():
                span += 1
        rowspan = 2 if top[column].strip() and span == 1 and not below[column].strip() else 1
        cells.append((0, column, span, rowspan))
        if rowspan == 2:
            covered.add(column)
        column += span
    cells += [(1, c, 1, 1) for c in range(width) if c not in covered]
    return 2, cells


def _is_continuation(row: list[str]) -> bool:
    label = row[1].strip() if len(row) > 1 else ""
    plain = re.sub(r"</?i>", "", label)
    return not row[0].strip() and plain[:1].islower()


def merge_pages(pages: list[list[str]]) -> list[str]:
    """The pages of one table as one: the repeated header rows dropped, a row split by the break rejoined."""
    first = [_cells(line) for line in pages[0]]
    width = max(len(r) for r in first)
    n_header, _ = header_spans(first, width)
    n_header = n_header or 1
    rows = [list(r) for r in first]
    for page in pages[1:]:
        page_rows = [_cells(line) for line in page][n_header:]
        for row in page_rows:
            if _is_continuation(row):
                previous = rows[-1]
                previous += [""] * (len(row) - len(previous))
                previous[1] = previous[1] + " " + row[1]
                for i, text in enumerate(row[2:], start=2):
                    if text.strip():
                        previous[i] = text
            else:
                rows.append(row)
    return ["\t".join(r) for r in rows]


def document_blocks(text: str, split: tuple[int, ...] = ()) -> list[Block]:
    """Blocks with each appendix's pages joined into one table, except the appendices in ``split``."""
    out: list[Block] = []
    pending: list[Block] = []  # the blank blocks after a table, until we know whether the table goes on
    for block in blocks_of(text):
        if block.kind == "blank" and out and out[-1].kind == "table":
            pending.append(block)
            continue
        if (block.kind == "table" and out and out[-1].kind == "table" and out[-1].appendix == block.appendix
                and block.appendix not in split and block.appendix):
            previous = out[-1]
            pages = getattr(previous, "pages", [previous.lines])
            pages.append(block.lines)
            previous.pages = pages
            previous.lines = merge_pages(pages)
            pending = []
            continue
        out += pending
        pending = []
        out.append(block)
    return out + pending


def _runs(text: str) -> list[tuple[str, bool]]:
    return [(part[3:-4], True) if part.startswith("<i>") else (part, False) for part in _TAG.split(text) if part]


# -- Word --------------------------------------------------------------------------------------------------------
def _mark_header(row) -> None:
    from docx.oxml import OxmlElement

    row._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))


def _fill(cell, text: str) -> None:
    paragraph = cell.paragraphs[0]
    for part, italic in _runs(text):
        run = paragraph.add_run(part)
        run.italic = italic or None


def _word_table(document, lines: list[str]) -> None:
    """One table with a grid as wide as its widest row; merged header cells made by Word's own merge."""
    rows = [_cells(line) for line in lines]
    width = max(len(r) for r in rows)
    n_header, spans = header_spans(rows, width)
    table = document.add_table(rows=0, cols=width)
    table.style = "Table Grid"
    for r, row in enumerate(rows):
        tr = table.add_row()
        if r < n_header:
            _mark_header(tr)
        for c, text in enumerate(row):
            _fill(tr.cells[c], text)
    for row, column, colspan, rowspan in spans:
        if colspan > 1 or rowspan > 1:
            table.cell(row, column).merge(table.cell(row + rowspan - 1, column + colspan - 1))


def write_docx(text: str, path, split: tuple[int, ...] = (8,)) -> None:
    """A Word file of the report: the narrative as paragraphs, each appendix a table (several for ``split``)."""
    import docx

    document = docx.Document()
    implicit = False  # a paragraph or table is followed by one blank line of its own
    for block in document_blocks(text, split):
        if block.kind == "blank":
            if not implicit:
                document.add_paragraph()
            implicit = False
            continue
        implicit = True
        if block.kind == "paragraph":
            paragraph = document.add_paragraph()
            for i, line in enumerate(block.lines):
                run = paragraph.add_run(line)
                if i + 1 < len(block.lines):
                    run.add_break()
        else:
            _word_table(document, block.lines)
    document.save(str(path))



# -- comparing two datasets --------------------------------------------------------------------------------------
PROVENANCE = {"source_file", "source_line", "source_column", "source_location", "sha256", "format", "text_file",
              "text_sha256", "source_lines", "first_line", "last_line", "line", "text_line", "header_lines",
              "repeated_header_lines", "notes_lines"}
_LINE_REF = re.compile(r"\b(lines?|dòng)\s+\d+(?:\s*[-–,;]\s*\d+)*", re.IGNORECASE)


def without_line_numbers(value):
    """A message or parameter with its line numbers masked ("line 273" -> "line #")."""
    if isinstance(value, str):
        value = _LINE_REF.sub(lambda m: m.group(1) + " #", value)
        return re.sub(r'"(lines?|source_lines?)"\s*:\s*("[^"]*"|\[[^\]]*\]|\d+)', r'"\1": "#"', value)
    if isinstance(value, list):
        return [without_line_numbers(v) for v in value]
    return value


def comparable(frame):
    """A dataset table without its provenance columns, line numbers masked, in a stable order."""
    frame = frame.drop(columns=[c for c in frame.columns if c in PROVENANCE]).astype(str)
    frame = frame.apply(lambda column: column.map(without_line_numbers))
    return frame.sort_values(list(frame.columns), kind="mergesort").reset_index(drop=True)


# -- PDF (printed from HTML by WeasyPrint) ------------------------------------------------------------------------
PAGE_CSS = """
@page { size: A4; margin: 18mm 16mm 20mm 22mm; @bottom-center { content: counter(page); font-size: 9pt; } }
@page wide { size: A4 landscape; margin: 15mm; @bottom-center { content: counter(page); font-size: 9pt; } }
body { font-family: 'DejaVu Sans'; font-size: 10.5pt; line-height: 1.35; }
p { margin: 0 0 7pt 0; text-align: left; }
table { border-collapse: collapse; width: 100%; margin: 4pt 0 10pt 0; font-size: 8.5pt; }
td, th { border: 0.6pt solid #000; padding: 2pt 3pt; vertical-align: middle; text-align: left; font-weight: normal; }
th { vertical-align: middle; }
table.wide { page: wide; }
"""


def _html_cell(text: str, tag: str, colspan: int = 1, rowspan: int = 1) -> str:
    attributes = (f' colspan="{colspan}"' if colspan > 1 else "") + (f' rowspan="{rowspan}"' if rowspan > 1 else "")
    inner = "".join(f"<i>{html.escape(part)}</i>" if italic else html.escape(part) for part, italic in _runs(text))
    return f"<{tag}{attributes}>{inner}</{tag}>"


def _html_table(lines: list[str], wide: bool) -> str:
    rows = [_cells(line) for line in lines]
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    n_header, spans = header_spans(rows, width)
    head = []
    if n_header:
        for r in range(n_header):
            head.append("<tr>" + "".join(_html_cell(rows[r][c], "th", cs, rs) for row, c, cs, rs in spans
                                         if row == r) + "</tr>")
    else:
        n_header = 1
        head.append("<tr>" + "".join(_html_cell(t, "th") for t in rows[0]) + "</tr>")
    body = ["<tr>" + "".join(_html_cell(t, "td") for t in row) + "</tr>" for row in rows[n_header:]]
    return (f'<table class="{"wide" if wide else ""}"><thead>{"".join(head)}</thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def report_html(text: str, landscape: tuple[int, ...] = (7,)) -> str:
    """The report as a web page: paragraphs, and each appendix one table whose header repeats on every page."""
    parts = []
    for block in document_blocks(text, split=()):
        if block.kind == "paragraph":
            parts.append("<p>" + "<br>".join(html.escape(line) for line in block.lines) + "</p>")
        elif block.kind == "table":
            parts.append(_html_table(block.lines, block.appendix in landscape))
    return (f'<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><style>{PAGE_CSS}</style></head>'
            f'<body>{"".join(parts)}</body></html>')


def write_pdf(text: str, path, landscape: tuple[int, ...] = (7,)) -> None:
    """A PDF of the report printed by WeasyPrint (ruled tables, header repeated per page, wrapped cells)."""
    from weasyprint import HTML

    HTML(string=report_html(text, landscape)).write_pdf(str(path))


def line_map(old: list[str], new: list[str]) -> dict[int, int]:
    """Old line number -> new line number, for the lines whose text is the same in both (1-based)."""
    import difflib

    mapping: dict[int, int] = {}
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            mapping[block.a + k + 1] = block.b + k + 1
    return mapping


def remap_curated(curated: str, old: list[str], new: list[str]) -> str:
    """A curated file's ``line:`` references moved to where the same text stands in another text of the report
    (a curated file describes one text: the PDF's extracted text has its own line numbers)."""
    mapping = line_map(old, new)
    return re.sub(r"\bline: (\d+)", lambda m: f"line: {mapping[int(m.group(1))]}", curated)


def district_folder(reference_folder, root, kind: str, writer=None):
    """``root/raw/<district>/`` holding the reference report as a ``kind`` (docx or pdf) file (made by ``writer``,
    by default ``write_docx`` or ``write_pdf``), its manifest (format and sha256 recorded) and its curated file with
    the line numbers of that file's extracted text."""
    import hashlib
    import json
    from pathlib import Path

    from cchc_analysis.read.source import read_source

    reference_folder = Path(reference_folder)
    manifest = json.loads((reference_folder / "manifest.json").read_text(encoding="utf-8"))
    report_entry = next(e for e in manifest["files"] if e.get("kind", "report") == "report")
    curated_entry = next(e for e in manifest["files"] if e.get("kind") == "curated")
    text = (reference_folder / report_entry["file"]).read_text(encoding="utf-8")
    folder = Path(root) / "raw" / reference_folder.name
    folder.mkdir(parents=True)
    name = Path(report_entry["file"]).stem + "." + kind
    (writer or {"docx": write_docx, "pdf": write_pdf}[kind])(text, folder / name)
    report_entry.update(file=name, format=kind, sha256=hashlib.sha256((folder / name).read_bytes()).hexdigest())
    report_entry.pop("format_note", None)
    curated = (reference_folder / curated_entry["file"]).read_text(encoding="utf-8")
    curated = remap_curated(curated, text.split("\n"), list(read_source(folder / name).lines))
    (folder / curated_entry["file"]).write_text(curated, encoding="utf-8")
    curated_entry.update(report=name, sha256=hashlib.sha256(curated.encode("utf-8")).hexdigest())
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return folder / name


def write_pdf_chromium(text: str, path) -> None:
    """The same web page printed by headless Chromium (another PDF producer: other text and path objects)."""
    import shutil
    import subprocess
    import tempfile
    from pathlib import Path

    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "report.html"
        page.write_text(report_html(text), encoding="utf-8")
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                        f"--user-data-dir={folder}/profile", f"--print-to-pdf={path}", page.as_uri()],
                       check=True, capture_output=True, timeout=120)
