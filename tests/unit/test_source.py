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
