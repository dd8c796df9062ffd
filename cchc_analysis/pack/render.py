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


def _page_context(kind: str, title: str, lang: str, nav: list[dict], ds_info: dict, pdf_href: str,
                  root: str = "") -> dict:
    """What a page's shell shows; ``root`` leads from the page's folder to the site's root (the shared assets)."""
    text = catalog(lang)["views"]
    return {"kind": kind, "title": title, "lang": lang, "pack_title": text["pack_title"],
            "district": ds_info["district"], "district_line": ds_info["district_line"],
            "nav": [dict(n, current=(n["kind"] == kind)) for n in nav], "nav_label": text["pages"],
            "css_href": f"{root}assets/pack.css", "pdf_href": pdf_href, "footer": f"{text['generated']} {__version__}"}


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


def make_render_spec(lang: str, nav: list[dict], ds_info: dict, pdf_href: str, root: str = "") -> dict:
    spec = {"lang": lang, "nav": nav, "ds_info": ds_info, "pdf_href": pdf_href, "root": root}
    spec["key"] = sha_of({**spec, "render": render_fingerprint()})
    return spec


def render_one(nb, name: str, nb_path: str, spec: dict) -> str:
    """Render one executed notebook to its page with the pack's template; cache and return the HTML."""
    titles = {n["kind"]: n["label"] for n in spec["nav"]}
    ctx = _page_context(name, titles.get(name, name), spec["lang"], spec["nav"], spec["ds_info"], spec["pdf_href"],
                        spec.get("root", ""))
    html_text, _ = _exporter().from_notebook_node(nb, resources={"cchc": ctx})
    html_text = html_text.replace("\r\n", "\n")
    target = html_cache_path(nb_path, spec)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(html_text, encoding="utf-8")
    os.replace(tmp, target)
    return html_text


def page_html(nb_path: str, name: str, spec: dict) -> str:
    """The page of an executed notebook: rendered by the worker that ran it (cached), or here."""
    cached = html_cache_path(nb_path, spec)
    if cached.exists():
        return cached.read_text(encoding="utf-8")
    import nbformat  # only here: its import takes seconds (schema validators)

    return render_one(nbformat.read(nb_path, as_version=4), name, nb_path, spec)


PDF_WARNINGS = "warnings.txt"  # in a pack's cache folder: what its PDF's layout warned of, one line each


def finish_pack(payload: dict) -> None:
    """A pack's PDF and, for a district, its index page, into the pack's cache folder (run in a worker, so that
    the PDFs of several districts are laid out in parallel). A ``done`` file says the folder is complete."""
    from cchc_analysis.pack.pdf import build_pdf

    target = Path(payload["dir"])
    target.mkdir(parents=True, exist_ok=True)
    spec = payload["spec"]
    pages = {f"{name}.html": page_html(path, name, spec) for name, path in payload["notebooks"].items()}
    ds = None
    if payload["district"]:
        from cchc_analysis.pack.data import district_dataset

        ds = district_dataset(payload["processed"], payload["district"])
    pdf = target / payload["pdf_file"]
    warnings = build_pdf(pages, [f"{name}.html" for name in payload["order"]], spec["ds_info"], spec["lang"],
                         Path(payload["base"]), pdf, ds=ds)
    (target / PDF_WARNINGS).write_text("".join(f"{w}\n" for w in warnings), encoding="utf-8")
    if payload["index"]:
        index = payload["index"]
        html_text = render_index(ds, spec["lang"], spec["nav"], spec["ds_info"], spec["pdf_href"],
                                 pdf.stat().st_size, index.get("downloads"), index.get("downloads_href"),
                                 spec.get("root", ""))
        (target / "index.html").write_text(html_text, encoding="utf-8")
    (target / "done").write_text("", encoding="utf-8")


def render_pages(results: list, site: Path, spec: dict) -> dict[str, str]:
    """The page of each executed notebook written into ``site`` (a result named folder/page goes into the folder);
    returns {file name: html}."""
    pages = {}
    for r in results:
        name = r.name.rsplit("/", 1)[-1]
        html_text = page_html(r.path, name, spec)
        (site / f"{name}.html").write_text(html_text, encoding="utf-8")
        pages[f"{name}.html"] = html_text
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


def _environment():
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR / TEMPLATE_NAME)), autoescape=True,
                              keep_trailing_newline=True)


def render_index(ds, lang: str, nav: list[dict], ds_info: dict, pdf_href: str, pdf_size: int,
                 downloads: list[dict] | None, downloads_href: str | None = None, root: str = "") -> str:
    """A district's index page (the comparison's without ``ds``): cards of the areas, the pages, the PDF and the
    downloads, listed here or (``downloads_href``, in a province site) on the province's index."""
    from cchc_analysis.pack import views as P
    from cchc_analysis.pack import wording as W

    text = catalog(lang)
    page = _page_context("index", text["views"]["home"], lang, nav, ds_info, pdf_href, root)
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
                 "downloads_label": text["views"]["downloads"], "downloads_href": downloads_href,
                 "downloads_elsewhere": text["site"]["downloads_elsewhere"]})
    return _environment().get_template("site_index.html.j2").render(
        page=page, cards=cards, downloads=downloads or [], downloads_header=text["site"]["downloads_header"])


def render_province_index(ds, lang: str, nav: list[dict], ds_info: dict, packs: list[dict],
                          compare: dict, downloads: list[dict]) -> str:
    """The province site's index: every district's scorecard side by side (its verdicts counted as on its summary
    page, and its self-assessment), links to its pack and PDF, to the comparison and its PDF, the downloads.
    ``packs``: per district {district, href, pdf_href, pdf_size}; ``compare``: {href, pdf_href, pdf_size}."""
    from cchc_analysis.pack import evaluation_views as E

    text = catalog(lang)
    page = _page_context("index", text["site"]["province_home"], lang, nav, ds_info, compare["pdf_href"])
    rows = []
    for pack in packs:
        one = ds.for_district(pack["district"])
        claimed, of = E.self_assessed(one)
        rows.append({**pack, "pdf_size": human_size(pack["pdf_size"]),
                     "counts": [c["count"] for c in E.scorecard(one, lang)],
                     "self": text["site"]["self_assessed"].format(claimed=claimed, of=of) if of else ""})
    verdicts = [c["label"] for c in E.scorecard(ds.for_district(packs[0]["district"]), lang)] if packs else []
    page.update({"lead": text["site"]["province_lead"], "pdf_label": text["views"]["pdf"],
                 "downloads_label": text["views"]["downloads"], "site": text["site"],
                 "compare_title": text["compare"]["title"], "compare": dict(compare, size=human_size(
                     compare["pdf_size"]))})
    return _environment().get_template("province_index.html.j2").render(
        page=page, rows=rows, verdicts=verdicts, downloads=downloads,
        downloads_header=text["site"]["downloads_header"])
