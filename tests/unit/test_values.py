"""Reading cells the way a Vietnamese reader does, by the row's unit."""

import pytest

from cchc_analysis.tables.values import read_count, read_parts, read_percent, read_value


@pytest.mark.parametrize("raw, expected", [
    ("2.232", 2232), ("2090", 2090), ("1.990", 1990), ("4833", 4833), ("07", 7), ("1 319", 1319),
])
def test_counts_use_dots_between_thousands(raw, expected):
    cell = read_value(raw, "count")
    assert cell.value == expected and cell.status == "number"


@pytest.mark.parametrize("raw", ["2,5", "2.5", "12.34", "1.2345"])
def test_count_that_is_not_a_whole_number_is_flagged_not_guessed(raw):
    cell = read_value(raw, "count")
    assert cell.value is None and cell.status == "unparsed" and cell.note == raw


@pytest.mark.parametrize("raw, expected", [
    ("99.95", 99.95), ("99.76%", 99.76), ("100%", 100), ("100", 100), ("99,5", 99.5), ("50 %", 50),
])
def test_percent_rows_read_dot_or_comma_as_decimal(raw, expected):
    assert read_value(raw, "percent").value == pytest.approx(expected)


def test_percent_with_three_decimals_is_ambiguous():
    assert read_percent("1.319") is None
    assert read_value("1.319", "percent").status == "unparsed"


def test_text_coded_zero():
    cell = read_value("Không có PAKN", "count")
    assert (cell.value, cell.status, cell.note) == (0, "text_zero", "Không có PAKN")


def test_number_inside_text_is_read_with_its_note():
    cell = read_value("Đợt I-2020 tinh giản 17 người", "count")
    assert cell.value == 17 and cell.status == "number_in_text"
    assert cell.note == "Đợt I-2020 tinh giản 17 người"


def test_text_without_a_number_keeps_no_value_and_keeps_its_note():
    cell = read_value("Chưa đến thời gian quy định rà soát", "count")
    assert cell.value is None and cell.status == "text" and cell.note == "Chưa đến thời gian quy định rà soát"


def test_two_numbers_in_text_are_not_guessed():
    cell = read_value("12 người năm 2019, 15 người năm 2020", "count")
    assert cell.value is None and cell.status == "unparsed"


@pytest.mark.parametrize("raw, expected", [("Đạt", 1), ("Không đạt", 0), ("không  đạt", 0), ("Chưa đạt", 0)])
def test_assessments(raw, expected):
    assert read_value(raw, "dat").value == expected


def test_assessment_that_is_neither():
    assert read_value("Đạt một phần", "dat").value is None


@pytest.mark.parametrize("raw, expected", [("1", 1), ("0", 0), ("Có", 1), ("Không", 0)])
def test_flags(raw, expected):
    assert read_value(raw, "flag").value == expected


def test_italic_tags_and_spacing_do_not_matter():
    assert read_value("<i> 2.046 </i>", "count").value == 2046


def test_cell_with_two_measures():
    parts = [{"id": "dept", "keyword": "phòng ban"}, {"id": "commune", "keyword": "ĐV cấp xã"}]
    read = read_parts("13/13 phòng ban và 07 ĐV cấp xã", parts)
    assert (read["dept"].value, read["dept"].denominator) == (13, 13)
    assert (read["commune"].value, read["commune"].denominator) == (7, None)
    assert all(v.status == "number" for v in read.values())


def test_measure_inside_a_sentence_carries_the_sentence_as_note():
    parts = [{"id": "dept", "keyword": "phòng ban"}, {"id": "commune", "keyword": "ĐV cấp xã"}]
    read = read_parts("Cuối Quý II năm 2020 đạt 19/19 ĐV cấp xã", parts)
    assert list(read) == ["commune"]
    assert read["commune"].status == "number_in_text" and "Quý II" in read["commune"].note


def test_read_count_rejects_garbage():
    assert read_count("12a") is None and read_count("") is None
