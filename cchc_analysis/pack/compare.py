"""Comparing districts (issue 6): the measures that mean the same in every district, side by side.

Raw counts (procedures, staff, documents issued) grow with a district's size, so only rates and shares are compared:
the ``percent`` measures of ``measures/measures.yaml``. Even those rest on each district's own reporting, and a
district's latest figure may stand at another date than its neighbour's; every cell says which.

The figures, ranks and data-quality counts are computed for the whole corpus at once by ``measures.compute`` and
``measures.compare``; this module loads the corpus and presents them. ``notebooks/compare.ipynb`` only calls these.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cchc_analysis.dataset.io import load_dataset
from cchc_analysis.dataset.model import Dataset
from cchc_analysis.measures.compare import comparable_measures, overall_rank
from cchc_analysis.pack import views as P
from cchc_analysis.pack.catalog import catalog
from cchc_analysis.text import slug

TABLES = ("indicators", "indicators_codebook", "quality", "districts")
COLUMNS = {"indicators": ["district", "area", "indicator_id", "period", "year", "as_of", "value"],
           "districts": ["district", "district_code", "province", "synthetic"]}


def t(key: str, lang: str) -> str:
    """A UI string of the comparison page (``compare`` in text/<lang>.yaml)."""
    return catalog(lang)["compare"][key]


def load_corpus(directory: str | Path, districts: list[str] | None = None) -> Dataset:
    """The part of the processed dataset a comparison needs (Parquet observations, a few columns), narrowed to
    ``districts`` (all when None), the districts in name order."""
    corpus = load_dataset(directory, tables=TABLES, columns=COLUMNS).for_districts(districts)
    corpus.districts = corpus.districts.sort_values("district").reset_index(drop=True)
    return corpus


def check_params(areas: list[str] | None, lang: str) -> list[str]:
    """The areas to compare, in report order (all when None); ``CchcError`` for an unknown area or language."""
    P.check_params(None, lang)
    known = P.area_ids()
    chosen = list(areas) if areas else known
    for area in chosen:
        P.check_params(area, lang)
    return [a for a in known if a in chosen]


# --------------------------------------------------------------------------------------------------- display

def district_links(corpus: Dataset, district_href: str | None) -> dict[str, str]:
    """District -> the address of its pack (``district_href`` with the district's slug), none without a pattern."""
    if not district_href:
        return {}
    return {name: district_href.format(slug=slug(name)) for name in corpus.districts["district"]}


def _district_cell(name: str, synthetic: bool, lang: str, links: dict[str, str] | None = None):
    """The district's name (SYNTHETIC said), a link to its pack when there is one (a table cell ``{text, href}``)."""
    text = t("synthetic_district", lang).format(name=name) if synthetic else name
    href = (links or {}).get(name)
    return {"text": text, "href": href} if href else text


def _when(row, lang: str) -> str:
    return P.when_label(row["period"], row["year"], row["as_of"], lang)


def _limit(order: list[str], max_rows: int | None) -> list[str]:
    """The first and last ``max_rows // 2`` of an ordered list of districts (all when it is short enough)."""
    if not max_rows or len(order) <= max_rows:
        return order
    half = max_rows // 2
    return order[:half] + order[-(max_rows - half):]


def districts_html(corpus: Dataset, lang: str = "vi", max_rows: int | None = 40,
                   links: dict[str, str] | None = None) -> str:
    """The districts compared (code, province, observations); beyond ``max_rows``, a count per province."""
    if max_rows and len(corpus.districts) > max_rows:
        per = corpus.districts.groupby("province").agg(n=("district", "size"), synthetic=("synthetic", "sum"))
        rows = [{"province": province, "n": P.fmt_number(r.n, lang),
                 "synthetic": P.fmt_number(r.synthetic, lang) if r.synthetic else ""}
                for province, r in per.iterrows()]
        cols = [("province", t("province", lang)), ("n", t("districts", lang)),
                ("synthetic", t("synthetic_column", lang))]
        return P.html_table(rows, cols, numeric={"n", "synthetic"}, lang=lang)
    counts = corpus.indicators.groupby("district")["value"].count()
    rows = [{"district": _district_cell(r.district, r.synthetic, lang, links), "code": r.district_code,
             "province": r.province, "n": P.fmt_number(counts.get(r.district, 0), lang)}
            for r in corpus.districts.itertuples()]
    cols = [("district", t("district", lang)), ("code", t("code", lang)), ("province", t("province", lang)),
            ("n", t("reports", lang))]
    return P.html_table(rows, cols, numeric={"n"}, lang=lang)


def side_by_side_html(latest: pd.DataFrame, ranks: pd.DataFrame, corpus: Dataset, area: str, lang: str = "vi",
                      max_rows: int | None = 40, links: dict[str, str] | None = None) -> str:
    """Districts (rows, by overall rank) x the area's comparable measures: latest figure, its date, its rank."""
    measures = [m for m in comparable_measures(area) if m.key in set(latest["measure"])]
    if not measures:
        return P.render_block(P.message_block(t("no_comparable", lang), "muted"))
    order_df = overall_rank(ranks, measures)
    ranked = list(order_df["district"])
    order = ranked + [d for d in corpus.districts["district"] if d not in set(ranked)]
    shown = _limit(order, max_rows)
    cell = {(r.measure, r.district): r for r in latest[latest["measure"].isin([m.key for m in measures])]
            .itertuples()}
    rank_of = {(r.measure, r.district): (r.rank, r.of) for r in ranks.itertuples()}
    mean_rank = dict(zip(order_df["district"], order_df["mean_rank"]))
    synthetic = dict(zip(corpus.districts["district"], corpus.districts["synthetic"]))
    # a measure whose latest figures all stand at one date says it once, in its header
    dates = latest.groupby("measure").apply(lambda g: {(p, y, a) for p, y, a in zip(g["period"], g["year"],
                                                                                    g["as_of"])},
                                            include_groups=False)
    common = {key: next(iter(when)) for key, when in dates.items() if len(when) == 1}
    rows = []
    for name in shown:
        row = {"district": _district_cell(name, synthetic.get(name, False), lang, links),
               "overall": P.fmt_number(mean_rank[name], lang, 1) if name in mean_rank else ""}
        for m in measures:
            r = cell.get((m.key, name))
            if r is None:
                continue
            text = P.fmt_value(r.value, m.unit, lang)
            if m.key not in common:
                text += f" ({P.when_label(r.period, r.year, r.as_of, lang)})"
            if r.inconsistent:
                text += f" [{t('inconsistent', lang)}]"
            elif (m.key, name) in rank_of:
                text += f" #{rank_of[(m.key, name)][0]}"
            row[m.key] = text
        rows.append(row)
    cols = [("district", t("district", lang)), ("overall", t("overall_rank", lang))] + \
        [(m.key, m.label[lang] + (f" ({P.when_label(*common[m.key], lang)})" if m.key in common else ""))
         for m in measures]
    note = t("ranking_note", lang)
    if len(shown) < len(order):
        note += " " + t("shown", lang).format(shown=len(shown), total=len(order))
    return P.render_block(P.table_block(rows, cols, css_class="data compare", numeric={"overall"}, note=note,
                                        lang=lang))


def quality_html(quality: pd.DataFrame, area: str, lang: str = "vi", max_rows: int | None = 40,
                 links: dict[str, str] | None = None) -> str:
    """Districts whose data for the area is incomplete or inconsistent, worst first."""
    q = quality[quality["area"] == area]
    q = q[(q["completeness"] < 100) | (q["errors"] > 0) | (q["warnings"] > 0)]
    if q.empty:
        return P.render_block(P.message_block(P.t("no_quality", lang), "muted"))
    q = q.sort_values(["errors", "warnings", "completeness", "district"], ascending=[False, False, True, True],
                      kind="stable")
    shown = q.head(max_rows) if max_rows else q
    rows = [{"district": _district_cell(r.district, False, lang, links),
             "completeness": P.fmt_value(r.completeness, "percent", lang, None),
             "errors": str(r.errors), "warnings": str(r.warnings)} for r in shown.itertuples()]
    cols = [("district", t("district", lang)), ("completeness", t("completeness", lang)),
            ("errors", t("errors", lang)), ("warnings", t("warnings", lang))]
    note = t("quality_note", lang)
    if len(shown) < len(q):
        note += " " + t("shown", lang).format(shown=len(shown), total=len(q))
    return P.render_block(P.table_block(rows, cols, numeric={"completeness", "errors", "warnings"}, note=note,
                                        lang=lang))


def summary_html(quality: pd.DataFrame, latest: pd.DataFrame, areas: list[str], lang: str = "vi") -> str:
    """One row per area: how many districts have a comparable figure, and their errors and warnings."""
    rows = []
    for area in areas:
        keys = [m.key for m in comparable_measures(area)]
        q = quality[quality["area"] == area]
        rows.append({"area": P.area_label(area, lang), "measures": str(len(keys)),
                     "districts": str(latest.loc[latest["measure"].isin(keys), "district"].nunique()),
                     "completeness": P.fmt_value(q["completeness"].mean(), "percent", lang) if len(q) else "",
                     "errors": str(int(q["errors"].sum())), "warnings": str(int(q["warnings"].sum()))})
    cols = [("area", P.t("area", lang)), ("measures", t("rates", lang)), ("districts", t("districts", lang)),
            ("completeness", t("completeness", lang)), ("errors", t("errors", lang)),
            ("warnings", t("warnings", lang))]
    return P.html_table(rows, cols, numeric={"measures", "districts", "completeness", "errors", "warnings"}, lang=lang)
