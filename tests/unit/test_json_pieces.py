"""A district's prose sections are printed where it is read, as one line of JSON per section; the corpus'
sections.json joins those lines. The text is json's own compact text, Vietnamese as it is, and reads back the same."""

from __future__ import annotations

import json

from cchc_analysis.dataset.io import _json_parts, json_piece, json_text

ITEMS = [
    {"district": "Tuần Giáo", "id": "P1.I.5.2", "aspect": None, "path": ["Phần thứ nhất", "I. TÌNH HÌNH"],
     "text": 'Lãnh đạo "một số" cơ quan;\nxã, thị trấn\ttab \\ slash \u0007', "first_line": 12, "ok": True,
     "hits": {"cải cách": 2, 3: 1}},
    {"district": "Mường Ảng", "id": "P2", "notes": [], "share": 0.5},
]


def test_one_section_a_line_as_compact_json_prints_it():
    count, text = json_piece(ITEMS)
    expected = ",\n".join(json.dumps(item, ensure_ascii=False, separators=(",", ":")) for item in ITEMS)
    assert count == 2 and text == expected.encode("utf-8")
    assert json.loads(json_text(ITEMS)) == json.loads(json.dumps(ITEMS))  # (the int key read back as text)
    assert json_text(ITEMS).count("\n") == len(ITEMS) + 2


def test_the_pieces_join_into_the_text_of_the_whole():
    pieces = [json_piece(ITEMS[:1]), json_piece([]), json_piece(ITEMS[1:])]
    joined = b"".join(part.encode("utf-8") if isinstance(part, str) else part for part in _json_parts(pieces))
    assert joined == json_text(ITEMS).encode("utf-8")
