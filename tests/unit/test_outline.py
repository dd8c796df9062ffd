"""The report's heading tree: nesting, line ranges, and numbering slips that must not break it."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from cchc_analysis.prose.narrative import analyse_narrative
from cchc_analysis.prose.outline import narrative_bounds, parse_outline

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "narrative" / "outline_slips.txt"
REPORT = ROOT / "data" / "raw" / "tuan-giao" / "bao-cao-tong-ket-cchc-2011-2020.txt"


def read_lines(path: Path) -> list[str]:
    return unicodedata.normalize("NFC", path.read_text(encoding="utf-8")).splitlines()


@pytest.fixture(scope="module")
def fixture_lines() -> list[str]:
    return read_lines(FIXTURE)


@pytest.fixture(scope="module")
def fixture_outline(fixture_lines):
    return parse_outline(fixture_lines)


@pytest.fixture(scope="module")
def report_outline():
    return parse_outline(read_lines(REPORT))


def line_of(lines: list[str], text: str, start: int = 1) -> int:
    for i in range(start, len(lines) + 1):
        if lines[i - 1].strip().startswith(text):
            return i
    raise AssertionError(f"{text!r} not in fixture")


# ------------------------------------------------------------------ fixture with slips
def test_parts_and_titles(fixture_outline):
    parts = fixture_outline.root.children
    assert [p.id for p in parts] == ["P1", "P2", "P3"]
    assert parts[0].title == "TÌNH HÌNH TRIỂN KHAI VÀ KẾT QUẢ THỰC HIỆN"
    # title on two upper-case lines right under "Phần thứ hai"
    assert parts[1].title == "ĐỀ XUẤT NHIỆM VỤ CẢI CÁCH HÀNH CHÍNH NHÀ NƯỚC GIAI ĐOẠN 2021 - 2030"
    # title in bold on the same line
    assert parts[2].title == "KIẾN NGHỊ, ĐỀ XUẤT"
    assert [r.label for r in parts[0].children] == ["I", "II", "III"]


def test_duplicate_number_becomes_next_sibling(fixture_outline, fixture_lines):
    org = fixture_outline.find("P1.II.2")
    assert [c.label for c in org.children] == ["2.1", "2.2", "2.2"]
    first, dup = org.children[1], org.children[2]
    assert dup.id == "P1.II.2.2~2" and first.id == "P1.II.2.2"
    assert dup.title == "Nguyên nhân"
    assert any("expected 2.3" in n for n in dup.notes)
    assert first.last_line < dup.first_line
    assert first.text() == "Phối hợp chưa hiệu quả."


def test_wrong_prefix_is_nested_by_depth_with_a_note(fixture_outline):
    node = fixture_outline.find("P1.II.4.1.1")
    assert node is not None and node.parent.id == "P1.II.2.2~2"
    assert any("is under 2.2" in n for n in node.notes)


def test_bay_la_slip_read_as_seven(fixture_outline):
    lessons = fixture_outline.find("P1.III.3")
    assert [c.number[0] for c in lessons.children] == [1, 2, 7]
    seventh = lessons.children[-1]
    assert seventh.label == "Bây là" and seventh.id == "P1.III.3.o7"
    assert any("Bảy là" in n for n in seventh.notes)
    assert seventh.text().startswith("Bố trí nguồn ngân sách")


def test_letter_d_with_stroke(fixture_outline):
    kids = fixture_outline.find("P1.II.1.1").children
    assert [k.label for k in kids] == ["a", "đ"]
    assert kids[1].number == (5,) and kids[1].id == "P1.II.1.1.dd"
    assert any("expected b)" in n for n in kids[1].notes)


def test_number_at_start_of_line_is_not_a_heading(fixture_outline, fixture_lines):
    ln = line_of(fixture_lines, "2.232 người")
    node = fixture_outline.node_at(ln)
    assert node.id == "P1.II.2.1"
    # the page break inside the sentence is rejoined
    assert "Tổng số cán bộ là 2.232 người được rà soát" in node.text()


def test_numbered_paragraphs_are_items_and_page_breaks_rejoined(fixture_outline):
    rec = fixture_outline.find("P3.1")
    assert rec.inline
    assert rec.text() == ("Đề nghị UBND tỉnh quan tâm chỉ đạo xây dựng trục dữ liệu thống nhất, kết nối các hệ "
                          "thống phần mềm dữ liệu điện tử, công nghệ thông tin của các cơ quan nhà nước.")
    assert fixture_outline.find("P2.1.1").inline
    assert not fixture_outline.find("P2.1").inline


def test_narrative_stops_before_closing_and_appendix(fixture_outline, fixture_lines):
    closing = line_of(fixture_lines, "Trên đây là")
    assert fixture_outline.body_last_line < closing
    ids = [n.id for n in fixture_outline.nodes()]
    assert all(not i.startswith("P3.I") for i in ids)  # "I. Số lượng" in Phụ lục 1 is not a heading
    assert fixture_outline.root.children[-1].last_line == closing - 2  # last content line of recommendation 2


def assert_well_formed(outline):
    ids = [n.id for n in outline.nodes()]
    assert len(ids) == len(set(ids)), "ids must be unique"
    for n in outline.nodes():
        assert n.first_line <= n.last_line
        for c in n.children:
            assert n.first_line < c.first_line and c.last_line <= n.last_line, (n.id, c.id)
        for a, b in zip(n.children, n.children[1:]):
            assert a.last_line < b.first_line, (a.id, b.id)
    # every body line belongs to exactly one node
    seen = [ln for n in outline.nodes() for ln, _ in n.body]
    assert len(seen) == len(set(seen))


def test_fixture_tree_is_well_formed(fixture_outline):
    assert_well_formed(fixture_outline)


def test_nfd_input_gives_the_same_tree(fixture_lines):
    nfd = [unicodedata.normalize("NFD", x) for x in fixture_lines]
    a, b = parse_outline(fixture_lines), parse_outline(nfd)
    assert [(n.id, n.first_line, n.last_line) for n in a.nodes()] == [(n.id, n.first_line, n.last_line)
                                                                       for n in b.nodes()]


def test_nfd_lines_give_the_same_prose_layer(fixture_lines):
    nfd = [unicodedata.normalize("NFD", x) for x in fixture_lines]
    assert nfd != fixture_lines
    a, b = analyse_narrative(fixture_lines, "f.txt", None, None), analyse_narrative(nfd, "f.txt", None, None)
    assert a.sections == b.sections and [f.as_row() for f in a.findings] == [f.as_row() for f in b.findings]
    c = analyse_narrative(fixture_lines, "f.txt", None, None, lines_are_nfc=True)  # (as read.source gives them)
    assert c.sections == a.sections and [f.as_row() for f in c.findings] == [f.as_row() for f in a.findings]


def test_empty_and_headingless_input():
    o = parse_outline([])
    assert o.nodes() == []
    o = parse_outline(["Một đoạn văn không có đề mục.", "", "Đoạn thứ hai."])
    assert o.nodes() == []


# ------------------------------------------------------------------ the reference report
def test_report_structure(report_outline):
    assert_well_formed(report_outline)
    parts = report_outline.root.children
    assert [p.id for p in parts] == ["P1", "P2", "P3"]
    assert [c.id for c in report_outline.find("P1.II").children] == [f"P1.II.{i}" for i in range(1, 7)]
    assert [c.title for c in report_outline.find("P1.II.3").children] == [
        "Kết quả chủ yếu đã đạt được", "Những tồn tại, hạn chế", "Nguyên nhân"]
    assert report_outline.find("P1.II.3.2~2").first_line == 201
    assert len(report_outline.find("P1.III.3").children) == 7
    assert report_outline.find("P1.III.3.o7").line == 381
    assert len(report_outline.find("P2.1").children) == 9
    assert len(report_outline.find("P2.2").children) == 7
    assert len(report_outline.find("P3").children) == 3
    assert [c.label for c in report_outline.find("P1.II.2.1").children] == ["a", "b", "c", "d", "đ", "e"]


def test_report_slips_are_recorded(report_outline):
    notes = " | ".join(report_outline.notes)
    assert "line 201" in notes and "expected 3.3" in notes
    assert "line 381" in notes and "Bảy là" in notes
    assert len(report_outline.notes) == 2


def test_report_bounds(report_outline):
    lines = read_lines(REPORT)
    first, last = narrative_bounds(lines)
    assert lines[first - 1].startswith("Phần thứ nhất")
    assert lines[last].strip() == "" and lines[last + 1].startswith("Trên đây là")


@pytest.mark.parametrize("text", ["Cải cách THỦ TỤC hành chính", "  Đổi   mới\tđội ngũ  ", "a \u0301 b", "\u0301",
                                  "ΟΔΟΣ ΟΔΟΣ. ΑΣ", "İstanbul ĐIỆN BIÊN",
                                  "Ω ά й 한 ﬁ", "", "Tỉnh\u00a0Điện Biên; 2.232 người"])
def test_fold_word_by_word_is_folding_the_text(text):
    from cchc_analysis.prose.outline import FOLD_TABLE, fold, nfc

    expected = " ".join(nfc(text).lower().translate(FOLD_TABLE).split())
    assert fold(text) == expected
    assert fold(text) == expected  # the second time from the per-process word cache


def test_fold_table_maps_no_character_to_or_from_a_space():
    from cchc_analysis.prose.outline import FOLD_TABLE

    assert not any(chr(code).isspace() or (value or "x").isspace() for code, value in FOLD_TABLE.items())


@pytest.mark.parametrize("text", ["Một dòng đã gọn.", " đầu", "cuối ", "hai  dấu cách", "tab\there", "nbsp\u00a0x",
                                  "em\u2003space", "dòng\u2028mới", "", " ", "**đậm** và *nghiêng*", "x\u200by",
                                  "văn bản (*trong đó có 256 văn bản*). Tiếp", "*đầu*", "a*b *c* d*", "***y***z",
                                  "w*(*)*", "**a *b* c**", "(*) chú thích", "cuối *", "*"])
def test_clean_inline_is_split_and_join_after_emphasis(text):
    from cchc_analysis.prose.outline import _EMPHASIS, clean_inline

    assert clean_inline(text) == " ".join(_EMPHASIS.sub(r"\2", text).split())


def test_every_whitespace_character_is_unprintable_but_the_space():
    assert all(not chr(code).isprintable() for code in range(0x110000) if chr(code).isspace() and code != 0x20)


@pytest.mark.parametrize("text", ["Một dòng.", "  thụt lề", "\tđầu tab", "*nghiêng* đầu", " ** đậm**", "**", "",
                                  "*(*) chú thích", "\u2003chữ"])
def test_first_character_is_that_of_the_cleaned_line(text):
    from cchc_analysis.prose.outline import _first_character, clean_inline

    assert _first_character(text) == clean_inline(text)[:1]


@pytest.mark.parametrize("line, kind", [("**Phần thứ hai** NHIỆM VỤ", "part"), ("phần thứ ba: KIẾN NGHỊ", "part"),
                                        ("* I. Kết quả", "roman"), ("** 2.1. Cải cách thể chế", "decimal"),
                                        ("3.2 Không có dấu chấm", "decimal"), ("*đ) Hiện đại hóa", "letter"),
                                        ("- *Bây là:* Bố trí", "ordinal"), ("Phòng Nội vụ chủ trì", None),
                                        ("Việc kiểm tra", None), ("2.232 người", None), ("*", None)])
def test_heading_kinds_after_emphasis_and_spaces(line, kind):
    from cchc_analysis.prose.outline import _heading_at

    heading = _heading_at(line)
    assert (heading[0] if heading else None) == kind


@pytest.mark.parametrize("end", ["Trên đây là báo cáo", "trên đây là báo cáo", "Nơi nhận:", "**Phụ lục 1**",
                                 "* Phụ lục II", "phụ lục 3"])
def test_narrative_ends_at_any_closing_or_appendix(end):
    lines = ["I. Mở đầu", "Nội dung.", "", end, "Sau đó."]
    assert narrative_bounds(lines) == (1, 2)
