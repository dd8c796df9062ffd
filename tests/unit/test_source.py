"""Bytes that are not a UTF-8 text report are refused with the file and line named."""

import pytest

from cchc_analysis.errors import CchcError
from cchc_analysis.read.source import decode_report

SAMPLE = "Phụ lục 1\nTuần Giáo\tĐạt\n"


@pytest.mark.parametrize("data, message, line", [
    (b"", "empty", None),
    (b"  \n\n", "empty", None),
    (b"abc\n\x00\x01\x02binary", "binary", 2),
    (SAMPLE.encode("utf-16"), "UTF-16", 1),
    (SAMPLE.encode("utf-16-le"), "UTF-16", 1),
])
def test_refused(data, message, line):
    with pytest.raises(CchcError, match=message) as err:
        decode_report(data, "r.txt")
    assert err.value.file == "r.txt" and err.value.line == line


def test_windows_1258_is_recognised_and_the_line_named():
    data = "Báo cáo\nTu\u00e2\u0300n Giáo\n".encode("cp1258")  # cp1258 writes tones as combining marks
    with pytest.raises(CchcError, match="not valid UTF-8") as err:
        decode_report(data, "r.txt")
    assert err.value.line == 1 and "Windows-1258" in err.value.hint


def test_bom_crlf_and_nfd_are_normalised():
    import unicodedata
    data = b"\xef\xbb\xbf" + unicodedata.normalize("NFD", SAMPLE).replace("\n", "\r\n").encode("utf-8")
    assert decode_report(data) == SAMPLE.split("\n")


def test_a_bounded_read_gives_the_whole_file_and_no_more_than_the_limit(tmp_path):
    from cchc_analysis.read.source import read_bounded

    path = tmp_path / "r.txt"
    path.write_bytes(b"x" * 1000)
    assert read_bounded(path, 1000) == b"x" * 1000
    assert read_bounded(path, 5000) == b"x" * 1000
    with pytest.raises(CchcError, match="more than a file of this kind can have") as err:
        read_bounded(path, 999)
    assert err.value.file == str(path)


def test_a_file_grown_since_its_size_was_taken_is_read_to_its_end_within_the_limit(tmp_path, monkeypatch):
    import os

    from cchc_analysis.read import source

    path = tmp_path / "r.txt"
    path.write_bytes(b"y" * 3000)
    real_fstat = os.fstat

    class Smaller:  # the size the file had when it was opened, before it grew
        def __init__(self, info):
            self.st_size, self.st_mode = 100, info.st_mode

    monkeypatch.setattr(source.os, "fstat", lambda fd: Smaller(real_fstat(fd)))
    assert source.read_bounded(path, 5000) == b"y" * 3000
    assert source.read_bounded(path, 2000 + 1000) == b"y" * 3000
