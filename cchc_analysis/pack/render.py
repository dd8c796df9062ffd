"""Render the site: each executed notebook to its page (nbconvert with the pack's page shell, code hidden, images
embedded), the index page, the assets. Page shells are Jinja2 templates under ``templates/cchc/``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from cchc_analysis import __version__
from cchc_analysis.pack.cache import render_fingerprint, sha_of
from cchc_analysis.pack.catalog import catalog
from cchc_analysis.pack.publish import human_size

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAME = "cchc"


def _page_context(kind: str, title: str, lang: str, nav: list[dict], ds_info: dict, pdf_href: str) -> dict:
    text = catalog(lang)["views"]
    return {"kind": kind, "title": title, "lang": lang, "pack_title": text["pack_title"],
            "district": ds_info["district"], "district_line": ds_info["district_line"],
            "nav": [dict(n, current=(n["kind"] == kind)) for n in nav], "nav_label": text["pages"],
            "css_href": "assets/pack.css", "pdf_href": pdf_href, "footer": f"{text['generated']} {__version__}"}


_EXPORTER = None


def _exporter():
    global _EXPORTER
    if _EXPORTER is None:
        from nbconvert import HTMLExporter
        from nbconvert.preprocessors import TagRemovePreprocessor

        exp = HTMLExporter(template_name=TEMPLATE_NAME, extra_template_basedirs=[str(TEMPLATES_DIR)],
                           exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
                           embed_images=True, sanitize_html=False)
        exp.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={"remove"}, enabled=True), enabled=True)
        _EXPORTER = exp
    return _EXPORTER


def html_cache_path(nb_path: str, spec: dict) -> Path:
    """Where the page rendered from an executed notebook with this render spec is cached."""
    return Path(nb_path[:-len(".ipynb")] + f".{spec['key'][:16]}.html")


def make_render_spec(lang: str, nav: list[dict], ds_info: dict, pdf_href: str) -> dict:
    spec = {"lang": lang, "nav": nav, "ds_info": ds_info, "pdf_href": pdf_href}
    spec["key"] = sha_of({**spec, "render": render_fingerprint()})
    return spec


def render_one(nb, name: str, nb_path: str, spec: dict) -> str:
    """Render one executed notebook to its page with the pack's template; cache and return the HTML."""
    titles = {n["kind"]: n["label"] for n in spec["nav"]}
    ctx = _page_context(name, titles.get(name, name), spec["lang"], spec["nav"], spec["ds_info"], spec["pdf_href"])
    html_text, _ = _exporter().from_notebook_node(nb, resources={"cchc": ctx})
    html_text = html_text.replace("\r\n", "\n")
    target = html_cache_path(nb_path, spec)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(html_text, encoding="utf-8")
    os.replace(tmp, target)
    return html_text


def render_pages(results: list, site: Path, spec: dict) -> dict[str, str]:
    """The page of each executed notebook (rendered by its worker, or here); returns {file name: html}."""
    pages = {}
    for r in results:
        cached = html_cache_path(r.path, spec)
        if cached.exists():
            html_text = cached.read_text(encoding="utf-8")
        else:
            import nbformat  # only here: its import takes seconds (schema validators)

            html_text = render_one(nbformat.read(r.path, as_version=4), r.name, r.path, spec)
        name = f"{r.name}.html"
        (site / name).write_text(html_text, encoding="utf-8")
        pages[name] = html_text
    return pages


def copy_assets(site: Path) -> None:
    """The stylesheet and the DejaVu Sans fonts (matplotlib's bundled copy, found without importing matplotlib)."""
    from importlib.util import find_spec

    assets = site / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(TEMPLATES_DIR / TEMPLATE_NAME / "pack.css", assets / "pack.css")
    fonts = Path(find_spec("matplotlib").origin).parent / "mpl-data" / "fonts" / "ttf"
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        shutil.copyfile(fonts / name, assets / name)


def render_index(site: Path, ds, lang: str, nav: list[dict], ds_info: dict, pdf_href: str, pdf_size: int,
                 downloads: list[dict]) -> str:
    import jinja2

    from cchc_analysis.pack import views as P
    from cchc_analysis.pack import wording as W

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR / TEMPLATE_NAME)), autoescape=True,
                             keep_trailing_newline=True)
    text = catalog(lang)
    page = _page_context("index", text["views"]["home"], lang, nav, ds_info, pdf_href)
    cards = []
    summary = {} if ds is None else {
        a: P.quality_for_area(ds, a)["severity"].value_counts().to_dict() if not ds.quality.empty else {}
        for a in P.area_ids()}
    for item in nav:
        if ds is None or not item["kind"].startswith("area-"):
            continue
        area = item["kind"][5:]
        counts = summary.get(area, {})
        qtext = ", ".join(W.plural(s, counts[s], lang) for s in ("error", "warning") if counts.get(s))
        cards.append({"href": item["href"], "title": item["label"], "figures": P.headline_figures(ds, area, lang),
                      "quality": (P.t("quality", lang) + ": " + qtext) if qtext else ""})
    lead = text["views"]["more_pages"] if ds is not None else \
        " ".join(text["compare"][k] for k in ("lead", "caveat", "per_district"))
    page.update({"lead": lead, "no_data": text["views"]["no_data"], "pages_label": text["views"]["pages"],
                 "pdf_label": text["views"]["pdf"], "pdf_size": human_size(pdf_size),
                 "downloads_label": text["views"]["downloads"]})
    html_text = env.get_template("site_index.html.j2").render(page=page, cards=cards, downloads=downloads,
                                                              downloads_header=text["site"]["downloads_header"])
    (site / "index.html").write_text(html_text, encoding="utf-8")
    return html_text


