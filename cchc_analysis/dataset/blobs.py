"""Bytes an output is made of: in memory, or a ``Segment`` of a file (a cache entry, ``dataset.cache``) copied into
the output where it is written (``write_blob``), never held with the rest of the corpus."""

from __future__ import annotations

import mmap
import os


class Segment:
    """Bytes kept in a file (a cache entry: ``dataset.cache``): copied from it into an output (``write_blob``), never
    held with the rest of the corpus nor sent between processes. Immutable; a plain class, not a dataclass:
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


def write_blob(out, blob: str | bytes | Segment, sources: OpenFiles | None = None) -> None:
    """Append ``blob`` to the open binary file ``out`` (a text as UTF-8): a segment read and written when small
    (``SMALL_COPY``), else copied file to file by the kernel (``os.copy_file_range``), or read and written where that
    is not possible. ``sources``: the files segments are copied from, kept open for the next segment of the same
    file."""
    if isinstance(blob, (str, bytes)):
        out.write(blob.encode("utf-8") if isinstance(blob, str) else blob)
        return
    if sources is not None and (source := sources.get(blob.path)) is not None:
        _copy(source, out, blob)
        return
    with open(blob.path, "rb") as source:
        _copy(source, out, blob)


# a segment of at most this many bytes is read and written (one read, the writes buffered); a larger one is copied
# by the kernel. A corpus' pieces are a few KB each: a copy by the kernel cost about 25 us apiece, a third more than
# reading and writing it (the copier's 7,000 pieces of a 700-district corpus: 0.22 s, then 0.18 s)
SMALL_COPY = 1 << 20


class OpenFiles:
    """Files opened for reading once and kept open (up to a quarter of the process' limit on open files), closed
    together: a corpus' output files are copied from the same cache entries, one range of each per table, so an
    entry is opened once instead of once a table."""

    def __init__(self):
        self._files: dict[str, object] = {}
        self._room = 0  # (elsewhere than POSIX: each file opened for its copy)
        if os.name == "posix":
            import resource

            self._room = max(0, resource.getrlimit(resource.RLIMIT_NOFILE)[0] // 4 - 16)

    def get(self, path: str):
        """The file at ``path``, opened now if it was not and there is room; None if there is none."""
        if path in self._files:
            return self._files[path]
        if len(self._files) >= self._room:
            return None
        self._files[path] = source = open(path, "rb")
        return source

    def __enter__(self) -> OpenFiles:
        return self

    def __exit__(self, *exc) -> None:
        for source in self._files.values():
            source.close()
        self._files.clear()


def _copy(source, out, blob: Segment) -> None:
    offset, left = blob.offset, blob.length
    if left <= SMALL_COPY:
        data = os.pread(source.fileno(), left, offset)
        if len(data) == left:
            out.write(data)
            return
    out.flush()
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
