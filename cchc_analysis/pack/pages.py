"""What each cell of the notebooks displays: one call a cell, its HTML from ``templates/views/<page>.html.j2``.

The notebooks stay thin (parameters, load, one ``display`` a cell); the figures come from ``views`` and ``compare``,
the words from the catalog, the markup from the templates.
"""

from __future__ import annotations

from IPython.display import HTML

from cchc_analysis.dataset.model import Dataset
from cchc_analysis.pack import compare as C
from cchc_analysis.pack import layout
from cchc_analysis.pack import views as P
from cchc_analysis.pack.catalog import catalog


def _cell(page: str, cell: str, lang: str, **fragments) -> HTML:
    return HTML(str(layout.macro(f"{page}.html.j2", cell, catalog(lang), **fragments)))


def _charts(ds: Dataset, area: str, lang: str) -> list[dict]:
    from cchc_analysis.pack import charts  # matplotlib: only for the cell that draws

    return charts.area_charts(ds, area, lang)


def area(cell: str, ds: Dataset, area: str, lang: str) -> HTML:
    """A cell of an area page: title | headline | indicators | charts | change | derived | report_text | quality
    | targets."""
    fragments = {
        "title": lambda: {"area_label": P.area_label(area, lang), "district_line": P.district_line(ds, lang)},
        "headline": lambda: {"figures": P.headline_html(ds, area, lang)},
        "indicators": lambda: {"note": P.asof_note(ds, area, lang), "table": P.indicators_table_html(ds, area, lang)},
        "charts": lambda: {"charts": _charts(ds, area, lang)},
        "change": lambda: {"table": P.change_table_html(ds, area, lang)},
        "derived": lambda: {"table": P.derived_table_html(ds, area, lang)},
        "report_text": lambda: {"sections": P.sections_html(ds, area, lang),
                                "facts": P.facts_table_html(ds, area, lang)},
        "quality": lambda: {"table": P.quality_table_html(ds, area, lang)},
        "targets": lambda: {"table": P.targets_table_html(ds, area, lang)},
    }
    return _cell("area", cell, lang, **fragments[cell]())


def overview(cell: str, ds: Dataset, lang: str) -> HTML:
    """A cell of the overview page: title | headline | self_assessment | quality_summary | how_to_read."""
    fragments = {
        "title": lambda: {"district_line": P.district_line(ds, lang)},
        "headline": lambda: {"cards": P.overview_headlines_html(ds, lang)},
        "self_assessment": lambda: {"table": P.self_assessment_html(ds, lang)},
        "quality_summary": lambda: {"table": P.quality_summary_html(ds, lang)},
        "how_to_read": dict,
    }
    return _cell("overview", cell, lang, **fragments[cell]())


def compare_title(corpus: Dataset, lang: str) -> HTML:
    """The comparison's title, the SYNTHETIC warning when a district is synthetic, the lead and the caveat."""
    return _cell("compare", "title", lang, synthetic=bool(corpus.districts["synthetic"].any()))


def compare_districts(corpus: Dataset, quality, latest, areas: list[str], lang: str, max_rows: int | None) -> HTML:
    return _cell("compare", "districts", lang, districts=C.districts_html(corpus, lang, max_rows),
                 summary=C.summary_html(quality, latest, areas, lang))


def compare_area(area: str, latest, ranks, corpus: Dataset, lang: str, max_rows: int | None) -> HTML:
    return _cell("compare", "area", lang, area=area, area_label=P.area_label(area, lang),
                 side_by_side=C.side_by_side_html(latest, ranks, corpus, area, lang, max_rows))


def compare_quality(quality, area: str, lang: str, max_rows: int | None) -> HTML:
    return _cell("compare", "quality", lang, table=C.quality_html(quality, area, lang, max_rows))
