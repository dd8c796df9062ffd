"""What each cell of the notebooks displays: one call a cell, its HTML from ``templates/views/<page>.html.j2``.

The notebooks stay thin (parameters, load, one ``display`` a cell); the figures come from ``views`` and ``compare``,
the words from the catalog, the markup from the templates.
"""

from __future__ import annotations

from IPython.display import HTML

from cchc_analysis.dataset.model import Dataset
from cchc_analysis.pack import compare as C
from cchc_analysis.pack import evaluation_views as E
from cchc_analysis.pack import layout
from cchc_analysis.pack import views as P
from cchc_analysis.pack.catalog import catalog


def _cell(page: str, cell: str, lang: str, **fragments) -> HTML:
    return HTML(str(layout.macro(f"{page}.html.j2", cell, catalog(lang), **fragments)))


def _charts(ds: Dataset, area: str, lang: str) -> list[dict]:
    from cchc_analysis.pack import charts  # matplotlib: only for the cell that draws

    return charts.area_charts(ds, area, lang)


def area(cell: str, ds: Dataset, area: str, lang: str) -> HTML:
    """A cell of an area page: title | conclusion | headline | indicators | charts | change | derived | report_text
    | quality | targets."""
    fragments = {
        "title": lambda: {"area_label": P.area_label(area, lang), "district_line": P.district_line(ds, lang)},
        "conclusion": lambda: {"conclusion": E.area_conclusion(ds, area, lang)},
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


def overview(cell: str, ds: Dataset, lang: str, areas: list[str] | None = None) -> HTML:
    """A cell of the overview page: title | headline | self_assessment | quality_summary | report_text |
    how_to_read. ``areas``: the area pages the pack has (all when None), the only ones linked."""
    fragments = {
        "title": lambda: {"district_line": P.district_line(ds, lang)},
        "headline": lambda: {"cards": P.overview_headlines_html(ds, lang, areas)},
        "self_assessment": lambda: {"rows": [r for r in E.verdict_rows(ds, lang) if r["reference"]]},
        "quality_summary": lambda: {"table": P.quality_summary_html(ds, lang)},
        "report_text": lambda: {"sections": P.general_sections_html(ds, lang)},
        "how_to_read": dict,
    }
    return _cell("overview", cell, lang, **fragments[cell]())


def annex(cell: str, ds: Dataset, lang: str) -> HTML:
    """A cell of the technical annex: title | findings (every area's problems and the counts of its checks)."""
    fragments = {
        "title": lambda: {"district_line": P.district_line(ds, lang)},
        "findings": lambda: {"areas": P.annex_html(ds, lang)},
    }
    return _cell("annex", cell, lang, **fragments[cell]())


def compare_title(corpus: Dataset, lang: str) -> HTML:
    """The comparison's title, the SYNTHETIC warning when a district is synthetic, the lead and the caveat."""
    return _cell("compare", "title", lang, synthetic=bool(corpus.districts["synthetic"].any()))


def compare_districts(corpus: Dataset, quality, latest, areas: list[str], lang: str, max_rows: int | None,
                      links: dict[str, str] | None = None) -> HTML:
    return _cell("compare", "districts", lang, districts=C.districts_html(corpus, lang, max_rows, links),
                 summary=C.summary_html(quality, latest, areas, lang))


def compare_area(area: str, latest, ranks, corpus: Dataset, lang: str, max_rows: int | None,
                 links: dict[str, str] | None = None) -> HTML:
    return _cell("compare", "area", lang, area=area, area_label=P.area_label(area, lang),
                 side_by_side=C.side_by_side_html(latest, ranks, corpus, area, lang, max_rows, links))


def compare_quality(quality, area: str, lang: str, max_rows: int | None, links: dict[str, str] | None = None) -> HTML:
    return _cell("compare", "quality", lang, table=C.quality_html(quality, area, lang, max_rows, links))


def summary(cell: str, ds: Dataset, lang: str) -> HTML:
    """A cell of the summary page: title | judgement | findings | recommendations | verdicts | context."""
    as_of = ds.districts["figures_as_of"].iloc[0] if ds.districts is not None and len(ds.districts) else ""
    fragments = {
        "title": lambda: {"district_line": P.district_line(ds, lang),
                          "source_line": E.words(lang)["source_line"].format(as_of=P.fmt_date(as_of or "", lang))},
        "judgement": lambda: {"sentences": E.overall_judgement(ds, lang), "cards": E.scorecard(ds, lang)},
        "findings": lambda: {"strengths": E.observations(ds, "strength", lang, n=3),
                             "weaknesses": E.observations(ds, "weakness", lang, n=3)},
        "recommendations": lambda: {"items": E.recommendations(ds, lang), "own": E.district_recommendations(ds)},
        "verdicts": lambda: {"rows": E.verdict_rows(ds, lang)},
        "context": lambda: {"ranking": E.ranking_context(ds, lang), "indices": E.index_rows(ds, lang)},
    }
    return _cell("summary", cell, lang, **fragments[cell]())


def method(cell: str, ds: Dataset, lang: str) -> HTML:
    """A cell of the method page: title | source | criteria | scale | rules."""
    fragments = {
        "title": lambda: {"district_line": P.district_line(ds, lang)},
        "source": lambda: {"document": E.source_document(ds, lang)},
        "criteria": lambda: {"sources": E.criteria_sources(ds, lang)},
        "scale": lambda: {"items": E.scale_rules(lang)},
        "rules": lambda: {"figure_rules": [E.said(x, lang) for x in catalog(lang)["method"]["figure_rules"]]},
    }
    return _cell("method", cell, lang, **fragments[cell]())
