"""The outline's cheaper paths give what the general ones gave: a node's lines in document order without a sort, its
line range, id and the outline's notes from one walk of the tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from cchc_analysis.prose.outline import Node, _id_segment, parse_outline
from cchc_analysis.read.source import read_source

REPORT = Path(__file__).resolve().parents[2] / "data" / "raw" / "tuan-giao" / "bao-cao-tong-ket-cchc-2011-2020.txt"
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "narrative" / "outline_slips.txt"
SLIPS = ["I. MỞ ĐẦU", "Đoạn mở đầu.", "1. Một", "Nội dung.", "", "1. Một lần nữa", "", "3. Ba", "a) điểm a", "",
         "c) điểm c", "", "Bây là: bài học", "", "", "II. HAI", "2.1. Lạc chỗ", "", "Trên đây là báo cáo."]


def _outlines():
    return [parse_outline(list(read_source(REPORT).lines)), parse_outline(FIXTURE.read_text("utf-8").split("\n")),
            parse_outline(SLIPS)]


def _close_ranges(node: Node, end: int, out: dict) -> int:
    """The ranges' walk as it was (its own walk, every line with content looked at): id(node) -> last_line."""
    lasts = [_close_ranges(c, node.children[i + 1].line - 1 if i + 1 < len(node.children) else end, out)
             for i, c in enumerate(node.children)]
    contents = [ln for ln, _ in node.body] + ([node.line] if node.line else []) + lasts
    out[id(node)] = min(end, max(contents)) if contents else end
    return out[id(node)]


def _ids(node: Node, segments: list[str], seen: dict, out: dict) -> None:
    """The ids' walk as it was: id(node) -> its id."""
    for child in node.children:
        seg = _id_segment(child)
        segs = ([*segments[:-1], seg] if child.kind == "decimal" and node.kind == "decimal" else [*segments, seg])
        base = ".".join(segs)
        seen[base] = seen.get(base, 0) + 1
        out[id(child)] = base if seen[base] == 1 else f"{base}~{seen[base]}"
        _ids(child, segs, seen, out)


@pytest.mark.parametrize("outline", _outlines())
def test_node_lines_are_sorted_without_a_sort(outline):
    assert all(n.lines() == sorted(n.lines()) for n in [outline.root, *outline.nodes()])


@pytest.mark.parametrize("outline", _outlines())
def test_one_walk_gives_the_ranges_ids_and_notes(outline):
    lasts, ids = {}, {}
    _close_ranges(outline.root, outline.body_last_line, lasts)
    _ids(outline.root, [], {}, ids)
    nodes = outline.nodes()
    assert [n.last_line for n in [outline.root, *nodes]] == [lasts[id(n)] for n in [outline.root, *nodes]]
    assert [n.id for n in nodes] == [ids[id(n)] for n in nodes]
    assert outline.notes == [f"line {n.line}: {note}" for n in nodes for note in n.notes]
