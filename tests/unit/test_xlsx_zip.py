"""The workbook's zip is written from deflated pieces (a district's sheet rows compressed where its report is read):
joined, they are a zip any reader opens, holding exactly the pieces' bytes; a sheet formatted whole is cut into the
same pieces (a district's rows each), so the file's bytes do not depend on how it was put together."""

from __future__ import annotations

import zipfile

import pandas as pd
import pytest

from cchc_analysis.dataset import xlsx
from cchc_analysis.dataset.blobs import Segment
from cchc_analysis.dataset.xlsx import _sheet_pieces, _ZipWriter, deflated, frame_columns, rows_xml

TEXTS = [b"<row>" + "Tuần Giáo".encode() * n + b"</row>" for n in (1, 40, 0, 7)]


def write(path, entries: dict[str, list]) -> None:
    with open(path, "wb") as out:
        book = _ZipWriter(out)
        for name, pieces in entries.items():
            book.add(name, pieces)
        book.close()


def test_pieces_deflated_apart_are_one_entry_any_reader_opens(tmp_path):
    pieces = [deflated(text) for text in TEXTS] + [deflated(b"<end/>", last=True)]
    write(tmp_path / "a.zip", {"one.xml": pieces, "two.xml": [deflated(b"", last=True)]})
    with zipfile.ZipFile(tmp_path / "a.zip") as book:
        assert book.testzip() is None  # every entry's CRC-32 checks
        assert book.read("one.xml") == b"".join(TEXTS) + b"<end/>" and book.read("two.xml") == b""
        assert [info.date_time for info in book.infolist()] == [(2020, 1, 1, 0, 0, 0)] * 2


def test_pieces_kept_in_a_file_are_copied_from_it(tmp_path):
    kept = [deflated(text) for text in TEXTS]
    (tmp_path / "entry").write_bytes(b"header" + b"".join(piece.data for piece in kept))
    offset, segments = len(b"header"), []
    for piece in kept:
        segments.append(xlsx.Deflated(Segment(str(tmp_path / "entry"), offset, len(piece.data)), piece.crc, piece.size))
        offset += len(piece.data)
    write(tmp_path / "a.zip", {"one.xml": [*segments, deflated(b"", last=True)]})
    write(tmp_path / "b.zip", {"one.xml": [*kept, deflated(b"", last=True)]})
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    assert zipfile.ZipFile(tmp_path / "a.zip").read("one.xml") == b"".join(TEXTS)


def test_without_zlibs_crc_combine_the_pieces_are_read_back_for_the_same_bytes(tmp_path, monkeypatch):
    pieces = [deflated(text) for text in TEXTS] + [deflated(b"<end/>", last=True)]
    write(tmp_path / "a.zip", {"one.xml": pieces})
    monkeypatch.setattr(xlsx, "_zlib_combine", lambda: None)
    write(tmp_path / "b.zip", {"one.xml": pieces})
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()


def test_a_sheet_formatted_whole_has_the_bytes_of_its_districts_pieces():
    frame = pd.DataFrame({"district": ["A", "A", "B", "C", "C", "C"], "value": [1.5, None, 3.0, 4.0, 5.0, 6.0]})
    runs = [frame.iloc[0:2], frame.iloc[2:3], frame.iloc[3:6]]
    pieces = [deflated(rows_xml(frame_columns(run)).encode()) for run in runs]
    assert _sheet_pieces(frame, split_by="district") == _sheet_pieces(frame, pieces)
    assert _sheet_pieces(frame) != _sheet_pieces(frame, pieces)  # (cut otherwise, other bytes: hence the split)


def test_an_entry_beyond_what_a_plain_zip_holds_is_refused(tmp_path):
    import pytest

    huge = xlsx.Deflated(b"", 0, 2**32)  # (its size only: nothing that large is written)
    with open(tmp_path / "a.zip", "wb") as out, pytest.raises(ValueError, match="zip64"):
        _ZipWriter(out).add("big.xml", [huge])


@pytest.mark.parametrize("column", [
    ["Tuần Giáo", "a & <b>", ""], [" lề", "phải ", "giữa"], ["x", None, "y"], [None, "\u00a0nbsp", "em\u2003"],
    [" ", "\t", "ok"], ["x\x01y", "z"], [1.5, None, float("nan")], [True, False, None], [1, 2.5, "text"], [None, None],
    [], ["a & b", None, " c"], [None, "x\x02", None], [2, None, float("inf")]])
def test_a_columns_cells_are_the_cells_of_its_values(column):
    from cchc_analysis.dataset.xlsx import _cell, _column_cells

    assert _column_cells(column) == [_cell(value) for value in column]


def test_a_frames_columns_are_its_python_values_with_none_for_missing():
    """``frame_columns`` gives what pandas' ``astype(object).where(notna, None)`` gives, value and type, for every
    dtype a table holds (and Python objects of any kind)."""
    import numpy as np

    frame = pd.DataFrame({
        "objects": pd.Series([1, None, "x", np.nan, pd.NA], dtype=object),
        "counts": pd.array([1, None, 3, 4, 5], dtype="Int64"),
        "integers": pd.Series([1, 2, 3, 4, 5], dtype="int64"),
        "flags": pd.array([True, None, False, True, True], dtype="boolean"),
        "bools": [True, False, True, True, False],
        "numbers": [1.0, np.nan, 2.5, np.inf, 0.0],
        "texts": pd.Series(["Tuần Giáo", None, "c", "", " e "], dtype="str"),
    })
    expected = [frame[c].astype(object).where(frame[c].notna(), None).tolist() for c in frame.columns]
    got = frame_columns(frame)
    assert got == expected
    assert [list(map(type, column)) for column in got] == [list(map(type, column)) for column in expected]
