"""The judgement layers' cheaper paths give what the general ones gave: the evidence of the indicators the rules
read, whole figures formatted directly, findings set in one step, an item's area ranked among its hits, a node's
title taken as cleaned."""

from __future__ import annotations

import dataclasses
import json
import string

import pandas as pd
import pytest

from cchc_analysis.evaluation.criteria import load_criteria
from cchc_analysis.evaluation.verdicts import DistrictEvidence, evaluate_district, indicators_read
from cchc_analysis.findings import Finding
from cchc_analysis.prose.outline import clean_inline, parse_outline
from cchc_analysis.prose.sections import AREA_TEXT_KEYWORDS, item_area
from cchc_analysis.text import format_number

COLUMNS = ["district", "indicator_id", "period", "year", "as_of", "value", "denominator", "note", "source_line"]


def test_evidence_of_the_indicators_read_judges_as_all_of_them():
    criteria = load_criteria()
    read = sorted(indicators_read(criteria))
    rows = [("X", iid, str(year), year, f"{year}-12-31", float(i + year % 7), None, "", 100 + i)
            for i, iid in enumerate([*read, "not_read_a", "not_read_b"]) for year in (2019, 2020)]
    indicators = pd.DataFrame(rows, columns=COLUMNS)
    quality = pd.DataFrame({"district": ["X"], "check": ["range"], "severity": ["error"], "indicator_id": [read[0]]})
    whole = DistrictEvidence(indicators, quality, None, [], [], {})
    held = DistrictEvidence(indicators, quality, None, [], [], {}, frozenset(read))
    assert "not_read_a" in whole.all_rows and "not_read_a" not in held.all_rows
    assert {iid: whole.all_rows[iid] for iid in held.all_rows} == held.all_rows
    assert held.problems == whole.problems == {read[0]} and held.errors == whole.errors == 1
    verdicts = [evaluate_district(criteria, ev, None, "X") for ev in (whole, held)]
    assert verdicts[0] == verdicts[1]


def _general_format(value, lang: str, decimals: int) -> str:
    """format_number as it was written before its fast path for whole figures."""
    if value is None or value != value:
        return ""
    rounded = round(float(value), decimals) or 0.0
    text = f"{rounded:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if lang == "vi":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


@pytest.mark.parametrize("value", [0, -0.0, 0.004, -0.004, 1, 7.0, 12, 999, 1000, 2232, -1234.5, 99.95, 99.999,
                                   1234567, 1e20, 10**25, -7.000001, True, float("inf"), float("nan"), None])
@pytest.mark.parametrize("decimals", [0, 1, 2])
def test_format_number_whole_figures_as_before(value, decimals):
    for lang in ("vi", "en"):
        assert format_number(value, lang, decimals) == _general_format(value, lang, decimals)


def test_finding_set_in_one_step_stays_frozen_and_checked():
    finding = Finding("X", "range", "error", "no_figures", {"label": "a"}, 3, ("i",), 2020, source_lines=(5, 4))
    assert dataclasses.asdict(finding)["source_lines"] == (5, 4) and finding.target is None
    assert Finding("X", "range", "info", "no_figures").params == {}
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.severity = "ok"
    with pytest.raises(ValueError, match="no wording"):
        Finding("X", "range", "error", "no_such_key")
    assert dataclasses.replace(finding, severity="ok").severity == "ok"
    assert finding.as_row()["source_lines"] == "4;5"
    assert Finding("X", "range", "info", "no_figures", {"label": "a"}, source_lines=(7,)).as_row()["source_lines"] == "7"


@pytest.mark.parametrize("text", ["", "không có từ khoá nào", "ngân sách, kinh phí; công nghệ thông tin",
                                  "thủ tục hành chính, một cửa; ngân sách, tài chính",
                                  "lãnh đạo, chỉ đạo, kiểm tra; thủ tục hành chính, một cửa, niêm yết"])
def test_item_area_ranks_the_areas_with_hits(text):
    from cchc_analysis.prose.outline import fold
    from cchc_analysis.prose.sections import AREAS, ITEM_AREA_MARGIN, ITEM_AREA_MIN_HITS

    t = fold(text)
    hits = {area: sum(map(t.count, keys)) for area, keys in AREA_TEXT_KEYWORDS.items()}
    ranked = sorted(hits.items(), key=lambda kv: (-kv[1], AREAS.index(kv[0])))
    (best, n), runner = ranked[0], ranked[1][1]
    expected = best if n >= ITEM_AREA_MIN_HITS and n - runner >= ITEM_AREA_MARGIN else "general"
    assert item_area(text) == (expected, {k: v for k, v in hits.items() if v})


def _text_cleaning_the_title(node, include_heading: bool) -> str:
    """Node.text as it was written before it took the title as cleaned."""
    from cchc_analysis.prose.outline import _continues

    pairs = node.lines()
    if include_heading or node.inline:
        pairs = [(node.line, node.title)] + [p for p in pairs if p[0] != node.line]
    paragraphs: list[str] = []
    for _, raw in pairs:
        t = clean_inline(raw)
        if t and paragraphs and _continues(paragraphs[-1], t):
            paragraphs[-1] = paragraphs[-1] + " " + t
        elif t:
            paragraphs.append(t)
    return "\n\n".join(paragraphs)


def test_node_text_takes_the_title_as_cleaned():
    lines = ["Phần thứ nhất", "KẾT QUẢ ĐẠT ĐƯỢC", "I. Kết  quả", "1. Công  tác **chỉ đạo** được tăng cường.",
             "tiếp theo dòng", "2. ***Hai* sao** còn lại.", "a) Mục\ttab;", "3. *Ba* **.", "II. Hạn chế", "nội dung"]
    outline = parse_outline(lines)
    assert any(n.inline for n in outline.nodes()) and any("*" in n.title for n in outline.nodes())
    for node in [outline.root, *outline.nodes()]:
        for include_heading in (False, True):
            assert node.text(include_heading) == _text_cleaning_the_title(node, include_heading)


# plain values of every kind a parameter may hold, nested messages of texts only (worded once per process) and of
# other values (worded each time), equal values of different types (1, 1.0, True; 0.0 and -0.0) among them
_LEAVES = ["", "Tổng số \"TTHC\" \\ đã giải quyết\n", "2019", 3, 0, -0.0, 0.0, 1.0, True, None, float("nan")]


def _some_params(key: str, seed: int) -> dict:
    from cchc_analysis.findings import message_catalog, nested

    names = sorted({name for _, name, _, _ in string.Formatter().parse(message_catalog()[key]["en"]) if name})
    values = [*_LEAVES, nested("label", label="Số hồ sơ"), nested("label_in_parent", label="a", parent="b"),
              nested("parts_blank", n=1), nested("parts_blank", n=True), nested("parts_blank", n="1"), nested("label", label=1.0),
              nested("because", why=nested("label", label="x")), [nested("label", label="c"), "d"],
              {**nested("label", label="Số hồ sơ"), "extra": "e"},
              nested("label_in_parent", label=None, parent="b")]
    return {name: values[(seed + 7 * i) % len(values)] for i, name in enumerate(reversed(names))}


@pytest.mark.parametrize("seed", range(6))
def test_row_texts_are_the_rendered_message_and_the_encoded_params(seed):
    from cchc_analysis.findings import _params_json, _row_texts, message_catalog, render

    for key in sorted(message_catalog()):
        params = _some_params(key, seed)
        for _ in range(2):  # the second time from the nested messages' cache
            assert _row_texts(key, params) == (render(key, params), _params_json(params)), (key, params)
    assert _params_json({"b": 1, "a": "ư"}) == json.dumps({"b": 1, "a": "ư"}, ensure_ascii=False, sort_keys=True,
                                                          separators=(",", ":"))


@pytest.mark.parametrize("text", ["tự chức, tổ chức bộ máy; tự chủ", "Tisoa ISO 9001:2015, 14.05 và 4.0",
                                  "phản ánh, kiến nghị; phản ánh kiến nghị của người dân", "điện tử chủ động",
                                  "dao tao dao tao: đào tạo, bồi dưỡng", "18-NQ/TW và 19-nq/tw", "CNTT\tcntt  cntt"])
def test_item_area_counts_only_keywords_whose_words_it_has_as_all(text):
    from cchc_analysis.prose.outline import fold

    t = fold(text)
    hits = {area: sum(map(t.count, keys)) for area, keys in AREA_TEXT_KEYWORDS.items()}
    assert item_area(text)[1] == {k: v for k, v in hits.items() if v}


@pytest.mark.parametrize("lines", [[], [""], ["", "  "], ["Đoạn văn.", "", "Trên đây là báo cáo", ""],
                                   ["Mở đầu", "I. Kết quả", "Nội dung.", "", "", "Phụ lục 1", "x"],
                                   ["I. Kết quả", "Nội dung.", "  ", ""], ["Phần thứ nhất", "Nơi nhận:", "x"],
                                   ["x", "**Phần thứ hai** NHIỆM VỤ", "", "1. Việc", "trên đây là hết", ""]])
def test_narrative_scan_keeps_the_bounds(lines):
    from cchc_analysis.prose.outline import _narrative, narrative_bounds

    first, last, kept = _narrative(lines)
    assert (first, last) == narrative_bounds(lines)
    assert kept == [(i, lines[i - 1], lines[i - 1].strip()) for i in range(first, last + 1) if lines[i - 1].strip()]


def _values_text_as_before(rows: list[dict], unit: str, lang: str) -> str:
    """DistrictEvidence.values_text as it was written before it worked out both languages at once."""
    from cchc_analysis.evaluation.verdicts import _shown, when

    return "; ".join(f"{when(r, lang)}: {_shown(r, unit, lang)}" for r in rows
                     if r.get("value") == r.get("value") or r.get("note")) if rows else "—"


@pytest.mark.parametrize("unit", ["count", "percent", "ratio", "dat", "flag", "money"])
def test_values_texts_in_both_languages_as_each_one(unit):
    from cchc_analysis.evaluation.verdicts import value_text, value_texts, values_texts

    values = [None, float("nan"), 0, -0.0, 1.0, 0.5, 12, 99.95, 100, 100.04, 150, 2232, -1234.5, 1234567.891]
    rows = [{"period": period, "year": year, "as_of": as_of, "value": value, "denominator": denominator,
             "note": note}
            for i, value in enumerate(values)
            for period, year, as_of in [("2019", 2019, "2019-12-31"), ("2020", 2020, "2020-03-31"),
                                        ("2011-2020", 2020, None), (None, 2018, "")][i % 4:i % 4 + 1]
            for denominator in (None, float("nan"), 3, 2500.5)
            for note in ("", "Chưa đến kỳ báo cáo, 1.5")]
    for lang in ("vi", "en"):
        assert values_texts(rows, unit)[lang] == _values_text_as_before(rows, unit, lang)
        assert values_texts(rows[:1], unit)[lang] == _values_text_as_before(rows[:1], unit, lang)
        assert values_texts([], unit)[lang] == _values_text_as_before([], unit, lang)
    for row in rows:
        assert value_texts(row["value"], unit, row["denominator"]) == tuple(
            value_text(row["value"], unit, lang, row["denominator"]) for lang in ("vi", "en"))


@pytest.mark.parametrize("wanted", [0, 1, 2, 5])
def test_records_of_the_indicators_read_are_those_of_all_rows(wanted):
    from cchc_analysis.evaluation.verdicts import _indicator_records

    ids = ["a", "b", "c", "a", "d", "b", "e"]
    indicators = pd.DataFrame({"indicator_id": ids, "period": [str(2015 + i) for i in range(7)],
                               "year": range(2015, 2022), "value": [1.0, None, 3.5, 4, 5, 6, float("nan")],
                               "note": ["", "x", "", "", "y", "", ""], "source_line": range(10, 17)})
    read = frozenset(sorted(set(ids))[:wanted])
    everything = _indicator_records(indicators, None)
    expected = [row for row in everything if row["indicator_id"] in read]
    assert len(expected) >= wanted and repr(_indicator_records(indicators, read)) == repr(expected)  # (NaN)
