"""The finding record and its message catalog: every key worded in both languages with the same parameters."""

from __future__ import annotations

import json
import string

import pytest

from cchc_analysis.dataset.build import findings_frame
from cchc_analysis.dataset.schema import columns
from cchc_analysis.findings import LANGUAGES, Finding, message_catalog, nested, render

QUALITY_COLUMNS = columns("quality")


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("key", sorted(message_catalog()))
def test_every_key_has_both_languages_with_the_same_parameters(key):
    entry = message_catalog()[key]
    assert set(entry) == set(LANGUAGES), key
    en, vi = entry["en"], entry["vi"]
    # clauses are glued into other messages: both wordings start and end alike (" (as of ...)", "more than ")
    assert (en[:1].isspace(), en[-1:].isspace(), en[:1] == ";") == (vi[:1].isspace(), vi[-1:].isspace(),
                                                                       vi[:1] == ";"), key
    assert placeholders(entry["en"]) == placeholders(entry["vi"]), key


def test_total_vs_parts_is_worded_in_each_language():
    finding = Finding("D", "total_vs_parts", "error", "total_vs_parts",
                      {"name": nested("label", label="Tổng số TTHC"), "period": "2019", "total": "221",
                       "verb": nested("verb_differs"), "terms": "84 + 141", "sum": "225",
                       "blank": nested("parts_blank", n=1), "columns": ""},
                      appendix=3, indicator_ids=("tthc_tong", "tthc_a", "tthc_b"), year=2019, source_lines=(30, 29))
    assert finding.message() == ("'Tổng số TTHC' 2019: total 221 does not equal the sum of its parts 84 + 141 = 225; "
                                 "1 part(s) left blank")
    assert finding.message("vi") == ("'Tổng số TTHC' 2019: tổng 221 khác tổng các phần 84 + 141 = 225; "
                                     "1 phần để trống")
    assert finding.indicator_id == "tthc_tong"


def test_row_of_quality_csv():
    finding = Finding("D", "unreadable_assessment", "error", "unreadable_assessment",
                      {"target": 16, "verdict": "Đạ t"}, appendix=8, target=16, source_lines=(651, 651))
    row = finding.as_row()
    assert list(row) == QUALITY_COLUMNS
    assert row["target"] == 16 and row["message_key"] == "unreadable_assessment" and row["source_lines"] == "651"
    assert row["message"] == "target 16: assessment 'Đạ t' is neither 'Đạt' nor 'Không đạt'"
    params = json.loads(row["params"])
    assert render(row["message_key"], params) == row["message"]
    assert "16" in render(row["message_key"], params, "vi")


def test_lists_are_joined_and_frame_is_typed():
    finding = Finding("D", "narrative_prose_totals", "ok", "equal_ok", {"facts": ["45 (a, line 1)", "45 (b, line 2)"]})
    assert finding.message() == "the same figure each time: 45 (a, line 1); 45 (b, line 2)"
    frame = findings_frame([finding, finding])
    assert len(frame) == 1 and str(frame["target"].dtype) == "Int64"


def test_unknown_key_is_refused_when_the_finding_is_made():
    with pytest.raises(ValueError, match="no wording"):
        Finding("D", "x", "info", "no_such_key")
