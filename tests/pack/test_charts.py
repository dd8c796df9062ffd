"""Charts that say something (issue 12), on tiny hand-made series: no constant, all-zero or flat series, no series
twice, a few panels, part-year points alone and named by a legend, whole-number axes for counts, SVG with text as
text and no date, alt text in the page's language."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from matplotlib.figure import Figure

from cchc_analysis.pack import charts as C


def frame(values, part=None):
    """Years 2015.. with the given values; ``part`` adds a 2020 point as of 31/3/2020."""
    rows = [{"year": 2015 + i, "period": str(2015 + i), "as_of": f"{2015 + i}-12-31", "value": float(v)}
            for i, v in enumerate(values)]
    if part is not None:
        rows.append({"year": 2020, "period": "2020", "as_of": "2020-03-31", "value": float(part)})
    return pd.DataFrame(rows)


def series(key, values, part=None, unit="count", kind="flow"):
    return C.Series(f"Chỉ tiêu {key}", frame(values, part), unit, kind, key)


def test_constant_all_zero_flat_and_short_series_are_left_out():
    assert not C.informative(series("c", [5, 5, 5, 5]))
    assert not C.informative(series("z", [0, 0, 0, 0]))
    assert not C.informative(series("f", [100, 101, 100, 101]))  # within 5%: flat
    assert not C.informative(series("s", [1, 9]))  # two points: the table says as much
    assert not C.informative(series("p", [3, 3, 3], part=1))  # only the part year differs
    assert C.informative(series("ok", [1, 4, 9]))


def test_no_series_twice_and_a_few_panels_in_the_given_order():
    same = [series("a", [1, 2, 3]), C.Series("Nhãn khác", frame([1, 2, 3]), "count", "flow", "b")]
    assert [s.key for s in C.pick_series(same)] == ["a"]
    many = [series(str(i), [1, 2 + i, 3 + 2 * i]) for i in range(8)] + [series("flat", [7, 7, 7])]
    picked = C.pick_series(many, max_panels=3)
    assert len(picked) == 3 and "flat" not in [s.key for s in picked]
    assert [s.key for s in picked] == sorted((s.key for s in picked), key=int)  # report order kept
    assert [s.key for s in C.pick_series([series("r", [1, 2, 3], unit="ratio")])] == []


@pytest.mark.parametrize("kind", ["flow", "stock", "rate"])
def test_part_year_point_is_never_joined(kind):
    ax = Figure().subplots()
    s = series("x", [2, 4, 8, 6, 5], part=1, kind=kind, unit="percent" if kind == "rate" else "count")
    assert C.draw_panel(ax, s, "#000000", "vi")
    line, point = ax.get_lines()
    assert list(line.get_xdata()) == [0, 1, 2, 3, 4]  # the full years only
    assert list(point.get_xdata()) == [5] and point.get_linestyle() == "None"
    assert point.get_markerfacecolor() == "white"


def test_counts_get_whole_number_ticks():
    ax = Figure().subplots()
    C.draw_panel(ax, series("n", [1, 2, 3]), "#000000", "vi")
    ticks = [t for t in ax.get_yticks() if 0 <= t <= ax.get_ylim()[1]]
    assert ticks and all(float(t).is_integer() for t in ticks)


def test_svg_keeps_text_has_legend_for_part_years_and_is_deterministic():
    s = [series("a", [1, 5, 9], part=2), series("b", [10, 6, 3])]
    svg = C.series_figure(s, "vi")
    assert svg == C.series_figure(s, "vi")
    text = svg.decode("utf-8")
    assert "<text" in text and "Chỉ tiêu a" in text  # text as text, Vietnamese letters intact
    assert "DejaVu Sans" in text
    assert "chưa trọn năm" in text.lower() or "Số liệu chưa trọn năm" in text
    assert "31/3/2020" in text
    assert not re.search(r"<dc:date>|Matplotlib v", text)
    assert "chưa trọn năm" not in C.series_figure([series("b", [10, 6, 3])], "vi").decode("utf-8")


def test_alt_text_says_what_is_shown_in_the_page_language():
    s = [series("a", [1200, 5, 9], part=2)]
    vi, en = C.alt_text(s, "vi"), C.alt_text(s, "en")
    assert "Chỉ tiêu a" in vi and "1.200 (2015)" in vi and "9 (2017)" in vi and "31/3/2020" in vi
    assert "chưa trọn năm" in vi and "part year" not in vi
    assert "1,200 (2015)" in en and "part year" in en and "chưa" not in en.replace("Chỉ tiêu a", "")


def test_area_chart_on_the_reference_dataset(reference_dataset):
    from cchc_analysis.pack import views as P

    for area in P.area_ids():
        chart = C.area_chart(reference_dataset, area, "vi")
        if chart is None:
            continue
        assert chart["src"].startswith("data:image/svg+xml;base64,")
        assert chart["alt"].startswith("Biểu đồ")
        assert chart["svg"].count(b'id="axes_') <= C.MAX_PANELS
