"""The PDF: a cover, then each page's main content as one A4 document laid out by WeasyPrint."""

from __future__ import annotations

import re
from pathlib import Path

from markupsafe import Markup

from cchc_analysis.pack import layout
from cchc_analysis.pack.catalog import catalog


def build_pdf(pages: dict[str, str], order: list[str], ds_info: dict, lang: str, site: Path, target: Path) -> None:
    """One A4 PDF: a cover, then each page's main content; links between pages become links inside the PDF."""
    import logging
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a DeprecationWarning about the optional HarfBuzz-Subset library
        from weasyprint import HTML

    for name in ("weasyprint", "fontTools", "fontTools.subset", "fontTools.ttLib"):
        logging.getLogger(name).setLevel(logging.ERROR)
    doc = layout.page("pdf.html.j2", c=catalog(lang), lang=lang, district=ds_info["district"],
                      district_line=ds_info["district_line"], parts=pdf_parts(pages, order))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # WeasyPrint's notices (CSS it ignores, optional HarfBuzz-Subset)
        HTML(string=doc, base_url=str(site) + "/").write_pdf(str(target), uncompressed_pdf=False)


def pdf_parts(pages: dict[str, str], order: list[str]) -> list[dict]:
    """The main part of each page (between the pack's markers), its links to other pages turned into links inside
    the PDF and its cell ids made unique in one document."""
    parts = []
    for name in order:
        body = pages[name].split("<!--cchc:main-start-->", 1)[1].split("<!--cchc:main-end-->", 1)[0]
        anchor = name[:-5]
        for other in order:
            body = body.replace(f'href="{other}"', f'href="#{other[:-5]}"')
            body = body.replace(f'href="{other}#', 'href="#')  # a link to a place in another page (annex.html#annex-x)
        body = re.sub(r'id="(cell-\d+)"', lambda m, a=anchor: f'id="{a}-{m.group(1)}"', body)
        parts.append({"anchor": anchor, "body": Markup(body)})  # the pack's own rendered HTML
    return parts
