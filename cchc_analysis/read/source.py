"""Reading a report file: bytes -> NFC text lines, refusing what is not a UTF-8 text report with a clear message."""

from __future__ import annotations

import hashlib
import os
import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from cchc_analysis.errors import CchcError

MAX_REPORT_BYTES = 20 << 20  # the reference report has 103,585 bytes


@dataclass(frozen=True)
class SourceText:
    """A report as lines of NFC text; ``lines[0]`` is line 1 of the file."""

    path: Path
    lines: tuple[str, ...]
    sha256: str

    def line(self, number: int) -> str:
        return self.lines[number - 1]


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
            return handle.read(limit + 1)[:limit]
    except FileNotFoundError:
        raise CchcError("no such file", file=path) from None
    except OSError as exc:
        raise CchcError(f"cannot read: {exc.strerror or exc}", file=path) from None


def read_report(path: str | Path) -> SourceText:
    path = Path(path)
    data = read_bounded(path, MAX_REPORT_BYTES)
    lines = decode_report(data, path)
    return SourceText(path=path, lines=tuple(lines), sha256=hashlib.sha256(data).hexdigest())
