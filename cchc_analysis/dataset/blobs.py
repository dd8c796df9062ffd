"""Bytes an output is made of: in memory, or a ``Segment`` of a file (a cache entry, ``dataset.cache``) that the
kernel copies into the output without the bytes passing through Python."""

from __future__ import annotations

import mmap
import os


class Segment:
    """Bytes kept in a file (a cache entry: ``dataset.cache``): copied from it into an output by the kernel
    (``write_blob``), never held in memory nor sent between processes. Immutable; a plain class, not a dataclass:
    the copier process imports this module, and ``dataclasses`` alone would cost it a quarter of its start."""
    __slots__ = ("path", "offset", "length")

    def __init__(self, path: str, offset: int, length: int):
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "offset", offset)
        object.__setattr__(self, "length", length)

    def __setattr__(self, name: str, value) -> None:
        raise AttributeError(f"a Segment is immutable (cannot set {name})")

    def _fields(self) -> tuple[str, int, int]:
        return self.path, self.offset, self.length

    def __eq__(self, other) -> bool:
        return self._fields() == other._fields() if type(other) is Segment else NotImplemented

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return f"Segment(path={self.path!r}, offset={self.offset!r}, length={self.length!r})"

    def __reduce__(self):
        return Segment, self._fields()


def read_blob(blob: bytes | memoryview | Segment) -> bytes | memoryview:
    if not isinstance(blob, Segment):
        return blob
    with open(blob.path, "rb") as f:
        data = os.pread(f.fileno(), blob.length, blob.offset)
    if len(data) != blob.length:
        raise OSError(f"{blob.path}: {blob.length} bytes expected at {blob.offset}, {len(data)} found")
    return data


def mapped_blob(blob: Segment) -> memoryview:
    """A segment's bytes as they are in the kernel's page cache, mapped, not copied (a rebuild maps the Arrow
    batches of 700 cache entries, 280 MB: reading them cost a sixth of its CPU time). Only where a mapped file may
    be removed or replaced (POSIX: an entry written anew is another file, renamed over; the mapped one stays intact
    while mapped); elsewhere read."""
    if os.name != "posix":
        return memoryview(read_blob(blob))
    with open(blob.path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if blob.offset + blob.length > size or not blob.length:
            return memoryview(read_blob(blob))  # (says what is missing; an empty file cannot be mapped)
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    return memoryview(mapped)[blob.offset:blob.offset + blob.length]


def write_blob(out, blob: str | bytes | Segment) -> None:
    """Append ``blob`` to the open binary file ``out`` (a text as UTF-8): a segment is copied file to file by the
    kernel (``os.copy_file_range``), or read and written where that is not possible."""
    if isinstance(blob, (str, bytes)):
        out.write(blob.encode("utf-8") if isinstance(blob, str) else blob)
        return
    out.flush()
    with open(blob.path, "rb") as source:
        offset, left = blob.offset, blob.length
        try:
            while left:
                copied = os.copy_file_range(source.fileno(), out.fileno(), left, offset)
                if copied <= 0:
                    break
                offset, left = offset + copied, left - copied
        except (AttributeError, OSError):  # another OS, or file systems the kernel does not copy between
            pass
        while left:
            data = os.pread(source.fileno(), min(left, 1 << 22), offset)
            if not data:
                raise OSError(f"{blob.path}: ends before {blob.offset + blob.length} bytes")
            out.write(data)
            out.flush()
            offset, left = offset + len(data), left - len(data)
