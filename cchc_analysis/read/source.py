"""Reading a report file: bytes -> NFC text lines, refusing what cannot be read with a clear message.

A report comes as a UTF-8 text export (tables as tab-separated rows), a Word file (.docx) or a PDF with a text layer.
``read_source`` dispatches on the format; Word and PDF are read for their structure (read/docx.py, read/pdf.py) into
the same layout as the text export, so every later stage reads lines whatever the format, and each line keeps where
it came from in the document (``SourceText.location``). The extracted text is kept as an interim file with its
sha256 (``interim_path``), so that every line number in the dataset points into a file a person can open.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from cchc_analysis.errors import CchcError
from cchc_analysis.read.location import ITALIC_CLOSE, ITALIC_OPEN, Location

__all__ = ["ITALIC_CLOSE", "ITALIC_OPEN", "Location", "SourceText", "read_report", "read_source"]

MAX_REPORT_BYTES = 20 << 20  # the reference report has 103,585 bytes
FORMATS = ("text", "docx", "pdf")
TEXT_SUFFIXES = ("", ".txt", ".tsv", ".text")
FORMAT_OF_SUFFIX = {**{suffix: "text" for suffix in TEXT_SUFFIXES}, ".docx": "docx", ".pdf": "pdf"}


@dataclass(frozen=True)
class SourceText:
    """A report as lines of NFC text; ``lines[0]`` is line 1 of the file.

    ``path`` is the file the lines are: the report itself for a text export, the interim text extracted from a
    Word or PDF report (``document`` is then the report, ``sha256`` the report's bytes, ``text_sha256`` the
    extracted text's bytes, and ``locations`` one ``Location`` per line).
    """

    path: Path
    lines: tuple[str, ...]
    sha256: str
    format: str = "text"
    document: Path | None = None
    text_sha256: str = ""
    locations: tuple[Location | None, ...] = ()

    def line(self, number: int) -> str:
        return self.lines[number - 1]

    def location(self, line: int, column: int | None = None) -> str:
        """Where a line (and its tab-separated ``column``, 1-based) stands in the document a person opens."""
        if self.format == "text" or not 1 <= line <= len(self.locations) or self.locations[line - 1] is None:
            return f"line {line}" + (f", column {column}" if column is not None and self.format == "text" else "")
        return self.locations[line - 1].describe(column)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _line_of_offset(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def decode_report(data: bytes, path: str | Path = "<report>") -> list[str]:
    """Decode and normalise a report's bytes; raise CchcError naming the file and line of the first problem."""
    if not data.strip():
        raise CchcError("the file is empty", file=path)
    head = data[:400]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or head.count(b"\x00") > len(head) // 4:
        raise CchcError("the file is UTF-16 encoded, not UTF-8", file=path, line=1,
                        hint="save it as UTF-8 (e.g. `iconv -f UTF-16 -t UTF-8 in.txt > out.txt`)")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise CchcError("this is a binary file, not a text report (NUL byte found)", file=path,
                        line=_line_of_offset(data, nul))
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = _line_of_offset(data, exc.start)
        hint = "convert it to UTF-8"
        try:
            data.decode("cp1258")
            hint = ("it looks like Windows-1258 (legacy Vietnamese); convert it: "
                    "`iconv -f CP1258 -t UTF-8 in.txt > out.txt`")
        except UnicodeDecodeError:
            pass
        raise CchcError(f"the file is not valid UTF-8 (byte 0x{data[exc.start]:02x})", file=path, line=line,
                        hint=hint) from None
    text = nfc(text.replace("\r\n", "\n").replace("\r", "\n"))
    return text.split("\n")


def read_bounded(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (a FIFO or device would hang or never end)."""
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise CchcError("is a folder, not a file", file=path)
        if not stat.S_ISREG(info.st_mode):
            raise CchcError("is not a regular file (a pipe, socket or device?)", file=path)
        if info.st_size > limit:
            raise CchcError(f"has {info.st_size:,} bytes, more than a file of this kind can have "
                            f"({limit:,})", file=path)
        with open(path, "rb") as handle:
            # a buffer of the file's size (a byte more: a file grown since is read on): one of the limit's size is a
            # large allocation each read, four times the cost of reading a 100 KB report
            size = min(os.fstat(handle.fileno()).st_size, limit)
            data = handle.read(size + 1)
            if len(data) > size:
                data += handle.read(limit + 1 - len(data))
            return data[:limit]
    except FileNotFoundError:
        raise CchcError("no such file", file=path) from None
    except OSError as exc:
        raise CchcError(f"cannot read: {exc.strerror or exc}", file=path) from None


def file_sha256(path: str | Path) -> str:
    """The sha256 of a file of any size, read in chunks (the one file hash of the package: caches and keys)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_report(path: str | Path) -> SourceText:
    """A UTF-8 text export of a report (the lines are the file's own)."""
    path = Path(path)
    data = read_bounded(path, MAX_REPORT_BYTES)
    lines = decode_report(data, path)
    sha256 = hashlib.sha256(data).hexdigest()
    return SourceText(path=path, lines=tuple(lines), sha256=sha256, text_sha256=sha256)


def format_of(path: str | Path) -> str:
    """The report format a file name says (text, docx, pdf); any other kind of document is refused."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMAT_OF_SUFFIX:
        raise CchcError(f"'{suffix}' files are not read; a report is a UTF-8 text export (.txt), a Word file (.docx) "
                        f"or a PDF with a text layer (.pdf)", file=path,
                        hint="save the report as .docx or PDF (a .doc or .odt: 'Save as' Word .docx)")
    return FORMAT_OF_SUFFIX[suffix]


def interim_path(document: str | Path) -> Path:
    """Where the text extracted from a Word or PDF report is kept: ``<data>/interim/<district>/<file>.txt`` beside
    ``<data>/raw/`` when the report is under a folder named ``raw``, else ``data/interim/<folder>/<file>.txt``."""
    document = Path(os.path.abspath(document))
    for folder in document.parents:
        if folder.name == "raw":
            return folder.parent / "interim" / document.relative_to(folder).parent / f"{document.name}.txt"
    return Path("data/interim") / document.parent.name / f"{document.name}.txt"


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file (unchanged files are not rewritten)."""
    try:
        if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".cchc-", dir=path.parent)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except OSError as exc:
        raise CchcError(f"cannot write the extracted text: {exc.strerror or exc}", file=path) from None


def _extracted(path: Path, kind: str, data: bytes) -> SourceText:
    """A Word or PDF report read into lines, the lines kept as its interim text file."""
    if kind == "docx":
        from cchc_analysis.read.docx import read_docx as reader
    else:
        from cchc_analysis.read.pdf import read_pdf as reader
    lines, locations = reader(data, path)
    lines = [nfc(line) for line in lines]
    text = ("\n".join(lines) + "\n").encode("utf-8")
    target = interim_path(path)
    _write_atomically(target, text)
    return SourceText(path=target, lines=tuple(lines), sha256=hashlib.sha256(data).hexdigest(), format=kind,
                      document=path, text_sha256=hashlib.sha256(text).hexdigest(), locations=tuple(locations))


def read_source(path: str | Path) -> SourceText:
    """Any report, by its format: a text export as it is; a Word or PDF report read for its structure into the
    text export's layout (narrative lines, then table rows as tab-separated cells)."""
    path = Path(path)
    kind = format_of(path)
    if kind == "text":
        return read_report(path)
    return _extracted(path, kind, read_bounded(path, MAX_REPORT_BYTES))
