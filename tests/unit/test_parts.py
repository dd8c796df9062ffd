"""A district's part of a table (Arrow and CSV bytes made from rows, without pandas) holds exactly what a frame of
the same rows in the registry's dtypes holds, and prints exactly what ``to_csv`` prints for it."""

from __future__ import annotations

import math

import pandas as pd
import pyarrow as pa
import pytest

from cchc_analysis.dataset.parts import arrow_schema, from_frame, from_rows, part_and_columns, to_frame, typed
from cchc_analysis.dataset.schema import TABLES
from cchc_analysis.tables.records import Columns, as_frame, column_values, records

TEXTS = ["plain", "", "a, b", 'say "hi"', "two\nlines", "cr\rhere", " lề ", "Tuần Giáo; 13/13", "tab\there", None]
NUMBERS = [32.0, 0.1, 1e16, 1e-7, -0.0, 123456789012.5, 2, math.inf, math.nan, None]
INTEGERS = [0, -3, 2020, 2**62, None, 7, 1, 2, 3, 4]
BOOLEANS = [True, False, None, True, False, True, None, False, True, True]
BY_TYPE = {"string": TEXTS, "date": ["2020-03-31", None] * 5, "number": NUMBERS, "integer": INTEGERS,
           "boolean": BOOLEANS}


@pytest.mark.parametrize("table", list(TABLES))
def test_the_arrow_schema_holds_the_types_pandas_gives_the_registry_dtypes(table):
    empty = pd.DataFrame({name: pd.Series([], dtype=dtype) for name, dtype in TABLES[table].dtypes().items()})
    assert arrow_schema(table).equals(pa.Schema.from_pandas(empty, preserve_index=False), check_metadata=False)


def tricky_rows(table: str) -> list[dict]:
    """Ten rows of every field of ``table`` with awkward values of its type (missing ones only where it may be)."""
    rows = [{} for _ in range(10)]
    for field in TABLES[table].fields:
        values = BY_TYPE[field.type]
        if not field.nullable:
            values = [v for v in values if v is not None and v == v] * 10
        for row, value in zip(rows, values):
            row[field.name] = value
    return rows


@pytest.mark.parametrize("table", ["indicators", "quality", "targets", "cells", "evaluation"])
def test_a_part_prints_and_holds_what_its_frame_does(table):
    rows = tricky_rows(table)
    frame = typed(pd.DataFrame(rows, columns=TABLES[table].columns), table)
    part = from_rows(rows, table)
    assert part.rows == 10 and part.dtypes == tuple(map(str, frame.dtypes))
    assert part.csv.decode("utf-8") == frame.to_csv(index=False, header=False, lineterminator="\n")
    both = to_frame([part, from_frame(frame, table)], table)
    pd.testing.assert_frame_equal(both, pd.concat([frame, frame], ignore_index=True), check_exact=True)


def test_missing_values_of_every_kind_print_empty():
    rows = tricky_rows("quality")
    rows[0].update(year=pd.NA, target=None, appendix=None)
    assert from_rows(rows, "quality").csv.decode().splitlines()[0] == \
        typed(pd.DataFrame(rows), "quality").to_csv(index=False, header=False).splitlines()[0]


def test_values_of_another_type_go_through_pandas_or_are_refused():
    rows = tricky_rows("indicators")
    rows[0]["value"] = "12.5"  # a number held as text: read as pandas reads it
    assert from_rows(rows, "indicators").csv.decode().splitlines()[0].split(",").count("12.5") >= 1
    assert to_frame([from_rows(rows, "indicators")], "indicators")["value"].iloc[0] == 12.5
    rows[0]["year"] = 2020.5  # never truncated into an integer column
    with pytest.raises((TypeError, ValueError)):
        from_rows(rows, "indicators")


def test_no_rows_no_text():
    part = from_rows([], "cells")
    assert (part.rows, part.csv) == (0, b"")
    assert list(to_frame([part], "cells").columns) == TABLES["cells"].columns


def test_a_frame_of_concatenated_frames_makes_one_part():
    rows = tricky_rows("indicators")
    frame = typed(pd.DataFrame(rows, columns=TABLES["indicators"].columns), "indicators")
    both = pd.concat([frame, frame], ignore_index=True)  # its text columns: two Arrow chunks each
    part = from_frame(both, "indicators")
    pd.testing.assert_frame_equal(to_frame([part], "indicators"), both, check_exact=True)
    assert from_frame(frame.iloc[0:0], "indicators").rows == 0


def same(a, b) -> bool:
    """Equal values of the same type (NaN equals NaN)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("table", ["indicators", "quality", "targets", "cells", "evaluation", "facts"])
def test_columns_read_as_the_frame_of_the_same_rows(table):
    rows = tricky_rows(table)
    part, columns = part_and_columns(rows, table)
    assert isinstance(columns, Columns) and len(columns) == 10 and columns.names == TABLES[table].columns
    frame = to_frame([part], table)
    for name in TABLES[table].columns:
        by_columns, by_frame = column_values(columns, name), column_values(frame, name)
        assert all(map(same, by_columns, by_frame)), (name, by_columns, by_frame)
    assert len(records(columns)) == 10 and "nope" not in columns
    pd.testing.assert_frame_equal(as_frame(columns), frame, check_exact=True)


def test_columns_of_one_district():
    rows = tricky_rows("quality")
    for row, district in zip(rows, "AABABAAAAA"):
        row["district"] = district
    _, columns = part_and_columns(rows, "quality")
    assert columns.where("district", "C").names == columns.names and len(columns.where("district", "C")) == 0
    only_b = columns.where("district", "B")
    assert len(only_b) == 2 and column_values(only_b, "district") == ["B", "B"]
    assert list(only_b.frame()["district"]) == ["B", "B"]
    only_a = columns.where("district", "A")
    assert len(only_a) == 8 and only_a.where("district", "A") is only_a
    everyone = [dict(row, district="A") for row in rows]
    _, all_a = part_and_columns(everyone, "quality")
    assert all_a.where("district", "A") is all_a


def test_values_of_another_type_are_judged_from_their_frame():
    rows = tricky_rows("indicators")
    rows[0]["value"] = "12.5"
    part, table = part_and_columns(rows, "indicators")
    assert isinstance(table, pd.DataFrame) and table["value"].iloc[0] == 12.5


def test_a_district_without_rows_of_a_sheet_table_keeps_the_others_pieces():
    from types import SimpleNamespace

    from cchc_analysis.dataset.build import sheet_pieces

    rows = tricky_rows("observations")
    some, none = from_rows(rows, "observations", sheet=True), from_rows([], "observations", sheet=True)
    assert none.sheet is not None and none.sheet.size == 0  # formatted: no rows (None: not formatted)
    results = [SimpleNamespace(parts={"observations": part}) for part in (some, none, some)]
    assert [n for _, n, _ in sheet_pieces(results)["observations"]] == [10, 0, 10]
    results.append(SimpleNamespace(parts={"observations": from_rows(rows, "observations")}))  # no sheet rows
    assert "observations" not in sheet_pieces(results)


def test_large_tables_sheet_rows_come_in_district_order_and_only_from_districts_that_keep_to_their_own():
    from types import SimpleNamespace

    from cchc_analysis.dataset.build import sheet_pieces

    def result(district: str, rows: int, own: bool = True):
        part = from_rows(tricky_rows("quality")[:rows], "quality", sheet=True)
        return SimpleNamespace(meta=SimpleNamespace(district=district), parts={"quality": part}, own_findings=own)

    results = [result("Điện Biên Đông", 3), result("Mường Ảng", 1), result("Mường Chà", 2)]
    by_district = sorted(results, key=lambda one: one.meta.district)  # the order of the corpus' quality table
    assert [n for _, n, _ in sheet_pieces(results)["quality"]] == [one.parts["quality"].rows for one in by_district]
    results[1].own_findings = False  # a finding about another district: the corpus table is sorted again, whole
    assert "quality" not in sheet_pieces(results)


def test_a_large_table_is_formatted_for_the_workbook_only_where_the_corpus_would_fit_it():
    from cchc_analysis.dataset.build import fits_workbook
    from cchc_analysis.dataset.package import WORKBOOK_ROW_BUDGET

    assert fits_workbook(100, WORKBOOK_ROW_BUDGET // 100)
    assert not fits_workbook(100, WORKBOOK_ROW_BUDGET // 100 + 1)
    assert fits_workbook(0, 10**6)


@pytest.mark.parametrize("texts", [
    ["Số lượng các cơ quan, đơn vị", "line 5, column 3", "", " lề ", "a,b,,c", ","],  # commas only
    ['a "quoted", word', "x,y", "plain"], ["two\nlines, here", "x"], ["carriage\r", "x,y"], ["plain", "words"]])
def test_text_columns_print_as_to_csv_prints_them(texts):
    rows = [{"district": text, "indicator_id": "x", "message": text} for text in texts]
    frame = typed(pd.DataFrame(rows, columns=TABLES["quality"].columns), "quality")
    expected = frame.to_csv(index=False, header=False, lineterminator="\n")
    assert from_rows(rows, "quality").csv.decode("utf-8") == expected


@pytest.mark.parametrize("table", ["cells", "evaluation_parts", "indicators"])
def test_a_part_without_its_batch_prints_the_same_and_its_frame_reads_back_from_its_text(table):
    rows = tricky_rows(table)
    with_batch, without = from_rows(rows, table), from_rows(rows, table, batch=False)
    assert with_batch.has_batch and not without.has_batch
    assert (without.rows, without.dtypes, without.csv) == (with_batch.rows, with_batch.dtypes, with_batch.csv)
    frame = typed(pd.DataFrame(rows, columns=TABLES[table].columns), table)
    expected = pd.concat([frame, frame], ignore_index=True)
    read_back = to_frame([with_batch, without], table)  # one part without a batch: both read from their text
    assert tuple(map(str, read_back.dtypes)) == tuple(map(str, expected.dtypes))
    to_text = dict(index=False, header=False, lineterminator="\n")
    assert read_back.to_csv(**to_text) == expected.to_csv(**to_text)
    # the text does not tell an empty text from a missing one: read back, both are "" (as load_dataset reads them)
    for name, dtype in TABLES[table].dtypes().items():
        if dtype == "str":
            assert list(read_back[name].fillna("")) == list(read_back[name])
    frame_part = from_frame(frame, table, batch=False)
    assert not frame_part.has_batch and frame_part.csv == with_batch.csv


@pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")  # (pandas, as it refuses)
@pytest.mark.parametrize("table, field", [("cells", "source_line"), ("quality", "year")])  # quality.year: one missing
def test_an_integer_beyond_64_bits_is_refused_without_a_batch_too(table, field):
    rows = tricky_rows(table)
    rows[0][field] = 2**64
    for batch in (True, False):
        with pytest.raises((TypeError, ValueError, OverflowError)):
            from_rows(rows, table, batch=batch)


@pytest.mark.parametrize("batch", [True, False])
def test_a_text_column_holding_another_type_goes_through_pandas(batch):
    rows = tricky_rows("cells")
    rows[2]["raw"] = 12  # not a text: the frame of the rows prints it, as to_csv would
    frame = typed(pd.DataFrame(rows, columns=TABLES["cells"].columns), "cells")
    part = from_rows(rows, "cells", batch=batch)
    assert part.csv.decode("utf-8") == frame.to_csv(index=False, header=False, lineterminator="\n")


@pytest.mark.parametrize("table", ["targets", "quality"])
def test_columns_of_a_part_without_its_batch_give_the_frame_of_the_rows(table):
    rows = tricky_rows(table)
    _, framed = part_and_columns(rows, table)
    part, columns = part_and_columns(rows, table, batch=False)
    assert not part.has_batch
    pd.testing.assert_frame_equal(columns.frame(), framed.frame(), check_exact=True)  # (None stays None)


def test_values_of_another_type_without_a_batch_are_judged_from_their_frame_too():
    rows = tricky_rows("indicators")
    rows[0]["value"] = "12.5"  # through pandas
    del rows[1]["note"]  # a row without one of the fields: empty
    part, table = part_and_columns(rows, "indicators", batch=False)
    _, framed = part_and_columns(rows, "indicators")
    assert not part.has_batch and isinstance(table, pd.DataFrame)
    pd.testing.assert_frame_equal(table, framed, check_exact=True)


@pytest.mark.parametrize("values", [[0, 1, 9999], [9999, 10_000], [-1, 5], [2 ** 40, 3], [7]])
def test_integers_print_as_to_csv_prints_them(values):
    """Small integers' texts come from a table made once; any other integer from ``str``: the same text."""
    rows = [{"district": "Tuần Giáo", "number": i, "text": "x", "assessment": "", "achieved": None, "raw": "",
             "source_file": "r.txt", "source_line": v, "source_location": "", "text_line": 1}
            for i, v in enumerate(values)]
    part = from_rows(rows, "targets")
    frame = typed(pd.DataFrame(rows, columns=TABLES["targets"].columns), "targets")
    assert part.csv == frame.to_csv(index=False, header=False, lineterminator="\n").encode()
