"""Totals, bounds and jumps: one judgement for the dataset checks and the year files."""

from __future__ import annotations

import pytest

from cchc_analysis.checks.relations import JUMP_FACTOR, JUMP_MIN_CHANGE, is_jump, total_vs_parts, within_bound


@pytest.mark.parametrize("total,parts,expected,verdict,missing", [
    (225, [84, 141], 2, "ok", 0),
    (221, [84, 141], 2, "error", 0),        # every part given: any difference is an error
    (300, [84, 141], 3, "warning", 1),      # a part left blank may hold the rest
    (200, [84, 141], 3, "error", 1),        # the parts already exceed the total
    (0.3, [0.1, 0.2], 2, "ok", 0),          # no float noise
])
def test_total_vs_parts(total, parts, expected, verdict, missing):
    result = total_vs_parts(total, parts, expected)
    assert (result.verdict, result.missing) == (verdict, missing)
    assert result.part_sum == pytest.approx(sum(parts))


def test_within_bound():
    assert within_bound(470, 470) and within_bound(1, 2) and not within_bound(495, 470)


@pytest.mark.parametrize("previous,current,jump", [
    (16, 31, False),          # less than 3x
    (10, 31, True),           # 3.1x and +21
    (3, 9, False),            # 3x but a change of 6
    (0, 12, True),            # from nothing
    (0, 5, False),
    (120, 30, True),          # falls too
])
def test_is_jump(previous, current, jump):
    assert is_jump(previous, current) is jump


def test_constants_are_those_of_both_callers():
    from cchc_analysis.checks import tables
    from cchc_analysis.dataset import yearfile

    assert (JUMP_FACTOR, JUMP_MIN_CHANGE) == (3.0, 10)
    assert tables.is_jump is is_jump and yearfile.is_jump is is_jump
    assert tables.total_vs_parts is total_vs_parts and yearfile.total_vs_parts is total_vs_parts
