"""Bytes copied from a cache entry into an output arrive whole: a small segment read and written, a large one by the
kernel or, where it cannot copy (another file system, another OS), by reading and writing; a segment that is not all
there is an error, never a short file; a segment mapped (not read) stays what it was while the cache replaces or
removes its file; the files copied from are opened once when kept open."""

from __future__ import annotations

import errno
import os

import pytest

from cchc_analysis.dataset import blobs
from cchc_analysis.dataset.blobs import OpenFiles, Segment, mapped_blob, read_blob, write_blob


@pytest.fixture
def entry(tmp_path):
    path = tmp_path / "entry"
    path.write_bytes(b"header|" + "Tuần Giáo,1,2\n".encode() * 1000 + b"|tail")
    return path


@pytest.fixture(params=["read and written", "by the kernel"])
def way(request, monkeypatch) -> str:
    """How a segment is copied: small ones are read and written, large ones copied by the kernel (forced here)."""
    if request.param == "by the kernel":
        monkeypatch.setattr(blobs, "SMALL_COPY", 0)
    return request.param


def _copy(tmp_path, segments, sources=None) -> bytes:
    with open(tmp_path / "out", "wb") as out:
        out.write(b"head\n")
        for blob in segments:
            write_blob(out, blob, sources)
        out.write(b"end\n")
    return (tmp_path / "out").read_bytes()


def test_segments_text_and_bytes_are_written_in_order(entry, tmp_path, way):
    body = entry.read_bytes()[7:-5]
    segment = Segment(str(entry), 7, len(body))
    assert read_blob(segment) == body
    assert _copy(tmp_path, [segment, "ở giữa\n", b"bytes\n", segment]) == \
        b"head\n" + body + "ở giữa\n".encode() + b"bytes\n" + body + b"end\n"


@pytest.mark.parametrize("kernel", ["refuses", "copies little", "absent"])
def test_without_the_kernel_copy_the_bytes_are_the_same(entry, tmp_path, monkeypatch, kernel):
    monkeypatch.setattr(blobs, "SMALL_COPY", 0)  # (a large segment: the kernel asked first)
    body = entry.read_bytes()[7:-5]
    real = getattr(os, "copy_file_range", None)

    def refuses(*args):
        raise OSError(errno.EXDEV, "cross-device")

    def little(src, dst, count, offset):  # the kernel may copy less than asked
        return real(src, dst, min(count, 100), offset)

    if kernel == "absent":
        monkeypatch.delattr(os, "copy_file_range", raising=False)
    else:
        monkeypatch.setattr(os, "copy_file_range", refuses if kernel == "refuses" else little)
    assert _copy(tmp_path, [Segment(str(entry), 7, len(body))]) == b"head\n" + body + b"end\n"


def test_a_segment_beyond_its_file_is_an_error(entry, tmp_path, monkeypatch, way):
    size = entry.stat().st_size
    with pytest.raises(OSError):
        read_blob(Segment(str(entry), size - 3, 10))
    monkeypatch.delattr(os, "copy_file_range", raising=False)
    with pytest.raises(OSError):
        _copy(tmp_path, [Segment(str(entry), size - 3, 10)])


class Located:
    """A result without segments (``ResultCache.store`` places a result's segments in its entry)."""

    def with_segments(self, move):
        return self


def test_storing_an_entry_does_not_read_the_reports_digests(tmp_path):
    from cchc_analysis.dataset.cache import ResultCache

    (tmp_path / "hashes.json").write_text("{}")
    cache = ResultCache(tmp_path)
    cache.store("k" * 64, Located(), [b"text"])
    assert "hashes" not in vars(cache)  # read only when a build asks for the reports' keys
    assert cache.hashes is not None and "hashes" in vars(cache)


def test_a_mapped_segment_is_its_bytes_and_outlives_its_file_replaced_or_removed(tmp_path):
    entry = tmp_path / "entry"
    entry.write_bytes(b"header" + "Tuần Giáo".encode() + b"tail")
    segment = Segment(str(entry), 6, len("Tuần Giáo".encode()))
    view = mapped_blob(segment)
    assert bytes(view) == bytes(read_blob(segment)) == "Tuần Giáo".encode()
    newer = tmp_path / "newer"
    newer.write_bytes(b"x" * 100)
    os.replace(newer, entry)  # an entry written anew (the cache renames a new file over the old)
    assert bytes(view) == "Tuần Giáo".encode()
    entry.unlink()  # pruned
    assert bytes(view) == "Tuần Giáo".encode()


def test_a_segment_beyond_its_file_is_an_error_not_a_shorter_view(tmp_path):
    entry = tmp_path / "entry"
    entry.write_bytes(b"short")
    with pytest.raises(OSError, match="entry"):
        mapped_blob(Segment(str(entry), 2, 10))
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert bytes(mapped_blob(Segment(str(empty), 0, 0))) == b""


def test_files_copied_from_are_opened_once_and_closed_together(entry, tmp_path, way, monkeypatch):
    body = entry.read_bytes()[7:-5]
    segment = Segment(str(entry), 7, len(body))
    opened = []
    real_open = open

    def counting(path, *args, **kwargs):
        opened.append(str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", counting)
    with OpenFiles() as sources:
        assert _copy(tmp_path, [segment, "·", segment], sources) == b"head\n" + body + "·".encode() + body + b"end\n"
        kept = sources.get(str(entry))
        assert not kept.closed
    assert kept.closed and opened.count(str(entry)) == 1
    opened.clear()
    with OpenFiles() as none_kept:
        none_kept._room = 0  # (no room left under the process' limit on open files: each opened for its copy)
        assert _copy(tmp_path, [segment, segment], none_kept) == b"head\n" + body + body + b"end\n"
    assert opened.count(str(entry)) == 2
