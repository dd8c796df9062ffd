"""The relations the specs declare between indicators, as pure functions over plain values.

Both the dataset validation (``checks.tables``: quality.csv) and the year files an analyst fills in
(``dataset.yearfile``: sheet and cell, in Vietnamese) judge totals, bounds and year-over-year jumps here, each
caller wording the result its own way.
"""

from __future__ import annotations

from dataclasses import dataclass

# A change from one year to the next is a jump when the larger value is JUMP_FACTOR times the smaller one (or the
# smaller is 0) and the values differ by at least JUMP_MIN_CHANGE (3 -> 9 is noise, 300 -> 900 is not).
JUMP_FACTOR = 3.0
JUMP_MIN_CHANGE = 10
EPSILON = 1e-9


@dataclass(frozen=True)
class TotalResult:
    """A total against its parts: ``ok`` they agree; ``error`` they disagree (the parts add to more, or every part
    is given); ``warning`` the parts add to less while some are blank (the blanks may hold the rest)."""
    verdict: str
    part_sum: float
    missing: int


def total_vs_parts(total: float, parts: list[float], expected_parts: int) -> TotalResult:
    part_sum = sum(parts)
    missing = expected_parts - len(parts)
    if abs(part_sum - total) < EPSILON:
        verdict = "ok"
    elif part_sum > total or not missing:
        verdict = "error"
    else:
        verdict = "warning"
    return TotalResult(verdict, part_sum, missing)


def within_bound(value: float, bound: float) -> bool:
    """An ``at_most`` relation: the value does not exceed the other indicator's."""
    return value <= bound


def is_jump(previous: float, current: float, factor: float = JUMP_FACTOR,
            min_change: float = JUMP_MIN_CHANGE) -> bool:
    low, high = (current, previous) if current < previous else (previous, current)  # = sorted([previous, current])
    return abs(current - previous) >= min_change and (low == 0 or high / low >= factor)
