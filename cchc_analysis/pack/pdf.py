"""The PDF: a cover, a table of contents, then the main content of each page meant for paper, as one tagged A4
document (PDF/UA-1, its language from ``<html lang>``) laid out by WeasyPrint with ``templates/cchc/print.css``.

What goes on paper is declared, not coded: a page of ``site.yaml`` with ``pdf: false`` stays on the site only, and
a block or notebook cell marked ``screen-only`` (class ``screen-only``, or the notebook cell tag ``screen-only``,
which nbconvert writes as the class ``celltag_screen-only``) is left out by the print stylesheet. The detail left
out stays on the site and in the downloads. The PDF keeps within its page budget (``site.yaml`` ``pdf_max_pages``)
by listing fewer of the technical annex's findings on paper when a dataset has more of them. The build is
deterministic: the cover states the data's as-of date and a fixed producer line, never the wall clock.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from markupsafe import Markup

from cchc_analysis.errors import CchcError
from cchc_analysis.pack import layout
from cchc_analysis.pack.catalog import catalog
from cchc_analysis.pack.plan import keep_findings, max_pages, site

PRINT_CSS = Path(__file__).resolve().parent / "templates" / "cchc" / "print.css"
_OUTSIDE_LINK = re.compile(r'<a href="(?!#)[^"]*"')
PDF_VARIANT = "pdf/ua-1"  # tagged PDF: structure tree, /Lang from <html lang>, the title shown by viewers


def on_paper(order: list[str]) -> list[str]:
    """The page files of ``order`` whose ``site.yaml`` entry does not say ``pdf: false``."""
    pages = site()["pages"]
    for p in pages:
        if not isinstance(p.get("pdf", True), bool):
            raise CchcError(f"site.yaml: page {p['name']!r}: 'pdf' must be true or false, not {p['pdf']!r}")
    left_out = [re.compile(re.escape(p["name"]).replace(re.escape("{area}"), ".+") + r"\.html")
                for p in pages if p.get("pdf", True) is False]
    return [name for name in order if not any(rx.fullmatch(name) for rx in left_out)]


def data_date(ds) -> str:
    """The date of the data (ISO): the as-of date most of the latest year's figures carry (2020-03-31 for the
    reference report); "" without a dataset or dates."""
    if ds is None or ds.indicators.empty:
        return ""
    ind = ds.indicators[ds.indicators["as_of"].fillna("") != ""]
    if ind.empty:
        return ""
    latest = ind[ind["year"] == ind["year"].max()]["as_of"].value_counts()
    return str(sorted(latest.index, key=lambda d: (-latest[d], d))[0])


def cover(ds, ds_info: dict, lang: str) -> dict:
    """What the cover says: title naming the programme, the district and the source; the data's date."""
    from cchc_analysis.pack.views import fmt_date

    text = catalog(lang)["paper"]
    if ds is not None and not ds.districts.empty:
        row = ds.districts.iloc[0]
        place = text["place"].format(district=row["district"], province=row["province"])
    else:
        place = ds_info["district_line"]
    return {"title": text["title"].format(place=place), "place": place,
            "source": text["source_text"].format(place=place), "date": fmt_date(data_date(ds), lang)}


def pdf_document(pages: dict[str, str], order: list[str], ds_info: dict, lang: str, ds=None,
                 keep: int | None = None) -> str:
    """The one HTML document the PDF is laid out from; ``keep``: the findings of each area the technical annex
    lists on paper (None: all of them)."""
    parts = pdf_parts(pages, on_paper(order))
    return layout.page("pdf.html.j2", c=catalog(lang), lang=lang, district=ds_info["district"],
                       cover=cover(ds, ds_info, lang), parts=parts, print_css=PRINT_CSS.as_uri(), keep=keep)


def build_pdf(pages: dict[str, str], order: list[str], ds_info: dict, lang: str, site_dir: Path, target: Path,
              ds=None) -> list[str]:
    """One tagged A4 PDF: cover, contents, then each page meant for paper; links between pages become links
    inside the PDF. Within the page budget (``max_pages``): when the document runs over, the technical annex keeps
    fewer findings of each area on paper (``keep_findings``; all of them stay on the website). Returns warnings (a
    PDF still over its budget)."""
    import logging
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a DeprecationWarning about the optional HarfBuzz-Subset library
        from weasyprint import HTML
        from weasyprint.text.fonts import FontConfiguration

    for name in ("weasyprint", "fontTools", "fontTools.subset", "fontTools.ttLib"):
        logging.getLogger(name).setLevel(logging.ERROR)
    budget = max_pages()
    fonts = FontConfiguration()
    options = {"pdf_variant": PDF_VARIANT, "uncompressed_pdf": False}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # WeasyPrint's notices (CSS it ignores, optional HarfBuzz-Subset)

            def laid_out(keep: int | None):
                return HTML(string=pdf_document(pages, order, ds_info, lang, ds, keep),
                            base_url=str(site_dir) + "/").render(font_config=fonts, **options)

            document = laid_out(None)
            if budget and len(document.pages) > budget:
                longest = max((len(a["findings"]) for a in _annex_areas(ds, lang)), default=0)
                for keep in keep_findings():
                    if keep < longest:  # (a step that cuts nothing would lay out the same document)
                        document = laid_out(keep)
                        if len(document.pages) <= budget:
                            break
            document.write_pdf(str(target), **options)
    finally:
        _remove_font_folder(fonts)
    if budget and len(document.pages) > budget:
        return [f"{target.name}: {len(document.pages)} pages, over the budget of {budget} (site.yaml pdf_max_pages)"]
    return []


def _annex_areas(ds, lang: str) -> list[dict]:
    if ds is None or ds.quality is None:
        return []
    from cchc_analysis.pack.views import annex_areas

    return annex_areas(ds, lang)


def _remove_font_folder(fonts) -> None:
    """Remove the temporary folder WeasyPrint copied the pack's fonts into (``weasyprint-*`` in the system's temporary
    folder, 1.4 MB a PDF): its own clean-up runs only when the configuration is garbage-collected, which a build's
    process did not live to see, so each build left one behind. The fonts are in the PDF by now."""
    import shutil

    folder = getattr(fonts, "_folder", None)  # (not public: a WeasyPrint without it is left to clean up itself)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


class _FirstHeading(HTMLParser):
    """The text of a page's first ``h1`` (its title in the contents)."""

    def __init__(self):
        super().__init__()
        self.depth, self.done, self.text = 0, False, []

    def handle_starttag(self, tag, attrs):
        if tag == "h1" and not self.done:
            self.depth += 1

    def handle_endtag(self, tag):
        if tag == "h1" and self.depth:
            self.depth, self.done = 0, True

    def handle_data(self, data):
        if self.depth:
            self.text.append(data)


def first_heading(body: str) -> str:
    parser = _FirstHeading()
    parser.feed(body)
    return " ".join("".join(parser.text).split())



def pdf_parts(pages: dict[str, str], order: list[str]) -> list[dict]:
    """The main part of each page (between the pack's markers) and its title (its first ``h1``, for the contents),
    its links to other pages turned into links inside the PDF, links out of it kept as text only, and its cell ids
    made unique in one document."""
    parts = []
    for name in order:
        body = pages[name].split("<!--cchc:main-start-->", 1)[1].split("<!--cchc:main-end-->", 1)[0]
        anchor = name[:-5]
        for other in order:
            body = body.replace(f'href="{other}"', f'href="#{other[:-5]}"')
            body = body.replace(f'href="{other}#', 'href="#')  # a link to a place in another page (annex.html#annex-x)
        body = re.sub(r'id="(cell-[^"]*)"', lambda m, a=anchor: f'id="{a}-{m.group(1).replace("=", "-")}"', body)
        body = _OUTSIDE_LINK.sub("<a", body)  # a link out of the document (a district's pack in a province site)
        title = first_heading(body) or anchor
        parts.append({"anchor": anchor, "title": title, "body": Markup(body)})  # the pack's own rendered HTML
    return parts
