"""What a build makes, from the site description (``site.yaml``): the jobs (one notebook run a page), the pages'
order, the site folder and the PDF's name.

Light on purpose (csv and yaml only): the warm path of ``cchc build`` plans, finds nothing changed and stops.
"""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import yaml

from cchc_analysis.errors import CchcError
from cchc_analysis.text import slug

PACK_DIR = Path(__file__).resolve().parent
DEFAULT_NOTEBOOKS = Path("notebooks")
DEFAULT_CACHE = Path(".build")


@dataclass(frozen=True)
class Job:
    name: str                 # overview | area-<id> | compare: also the page's file name without .html
    notebook: str             # absolute path of the source notebook
    parameters: dict          # injected by papermill
    label: str = ""           # the page's title in the navigation: a catalog key, or "area" for the area's label
    area: str = ""            # the reform area of an area page
    key: str = ""             # cache key
    district: str = ""        # the district of a district page ("" for a page reading every district)
    folder: str = ""          # the page's folder in the site ("" at its root; a district's slug in a province site)

    @property
    def id(self) -> str:
        """The page's path in the site without .html: unique in a province site."""
        return f"{self.folder}/{self.name}" if self.folder else self.name

    @property
    def where(self) -> str:
        """The page as an error names it: the district and the page."""
        return f"{self.district}: {self.name}" if self.district else self.name


@dataclass
class Unit:
    """One pack of the site: a district's pages (or the comparison), its PDF and, for a district, its index page."""
    folder: str               # "" at the site's root; the district's slug in a province site
    district: str | None      # None: the comparison
    jobs: list[Job]
    pdf_file: str
    root: str = ""            # the way back to the site's root from the folder ("" or "../")


@dataclass
class BuildPaths:
    raw: Path
    processed: Path
    out: Path
    notebooks: Path
    cache: Path
    lang: str

    @property
    def site_name(self) -> str:
        return site()["site_dir"][self.lang].format(lang=self.lang)


@cache
def site() -> dict:
    """The site description (``site.yaml``)."""
    with resources.files("cchc_analysis.pack").joinpath("site.yaml").open(encoding="utf-8") as f:
        return yaml.load(f, Loader=yaml.CSafeLoader)


def max_pages() -> int | None:
    """The PDF's page budget (``site.yaml`` ``pdf_max_pages``; None: no budget; see ``pack.pdf``)."""
    budget = site().get("pdf_max_pages")
    if budget is not None and not whole_number(budget):
        raise CchcError(f"site.yaml: 'pdf_max_pages' must be a whole number of pages, not {budget!r}")
    return budget


def keep_findings() -> list[int]:
    """How many findings of each area the technical annex keeps on paper when the PDF runs over its page budget,
    tried in turn (``site.yaml`` ``pdf_keep_findings``, largest first; see ``pack.pdf``)."""
    steps = site().get("pdf_keep_findings") or []
    if not isinstance(steps, list) or not all(whole_number(n) for n in steps) or steps != sorted(steps, reverse=True):
        raise CchcError(f"site.yaml: 'pdf_keep_findings' must list whole numbers, largest first, not {steps!r}")
    return steps


def whole_number(n) -> bool:
    """A count of at least 1 (not a bool, a float or a text)."""
    return isinstance(n, int) and not isinstance(n, bool) and n >= 1


def read_areas() -> list[str]:
    """The reform areas in report order (``cchc_analysis/data/areas.csv``)."""
    with open(PACK_DIR.parent / "data" / "areas.csv", encoding="utf-8", newline="") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: int(r["order"]))
    return [r["area"] for r in rows]


def read_districts(processed: Path) -> dict[str, tuple[str, bool]]:
    """District -> (province, synthetic) of the dataset, from districts.csv (one row a district; the csv module, no
    pandas on the warm path), or from indicators.csv for a dataset without it."""
    path = processed / "districts.csv"
    if not path.exists():
        path = processed / "indicators.csv"
    with open(path, encoding="utf-8", newline="") as f:
        return {_nfc(r["district"]): (_nfc(r.get("province", "")), r.get("synthetic", "").lower() == "true")
                for r in csv.DictReader(f)}


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def pdf_name(district: str | None, lang: str) -> str:
    """The PDF of a district's pack, or of the comparison alone (``district`` None)."""
    names = site()["pdf"]["corpus" if district is None else "district"]
    return names[lang].format(lang=lang, slug=slug(district) if district else "")


def notebooks_needed(district: str | None, compare: bool) -> list[str]:
    """The notebooks the pages of this build run (each named once)."""
    wanted = {"district": district is not None, "corpus": compare}
    return list(dict.fromkeys(p["notebook"] for p in site()["pages"] if wanted[p["for"]]))


def plan_jobs(paths: BuildPaths, district: str | None, areas: list[str], lang: str, compare: bool,
              folder: str = "", district_href: str | None = None) -> list[Job]:
    """The pages of ``site.yaml`` for this build, in order: a district's pages (when ``district``), the comparison
    (when ``compare``); one job per area for a page with ``each: area``. ``district_href``: where the comparison
    links a district's name (its pack in a province site)."""
    values = {"district": district, "areas": areas, "lang": lang, "data_dir": str(paths.processed.resolve()),
              "district_href": district_href}
    wanted = {"district": district is not None, "corpus": compare}
    jobs = []
    for page in site()["pages"]:
        if not wanted[page["for"]]:
            continue
        notebook = str((paths.notebooks / page["notebook"]).resolve())
        for area in (areas if page.get("each") == "area" else [""]):
            scope = dict(values, area=area)
            params = {name: (None if source is None else scope[source]) for name, source in page["parameters"].items()}
            jobs.append(Job(page["name"].format(area=area), notebook, params, page["label"], area,
                            district=district if page["for"] == "district" else "",
                            folder=folder if page["for"] == "district" else ""))
    return jobs


def plan_units(paths: BuildPaths, names: list[str], district: str | None, areas: list[str],
               lang: str) -> tuple[str, list[Unit]]:
    """The packs of this build. ``pack``: one district's pack at the site's root (a dataset of one district, or
    ``--district``). ``province``: the comparison at the root and every district's pack in its own folder."""
    if district is not None or len(names) == 1:
        chosen = district or names[0]
        return "pack", [Unit("", chosen, plan_jobs(paths, chosen, areas, lang, False), pdf_name(chosen, lang))]
    folders = [slug(d) for d in names]
    clash = sorted({f for f in folders if folders.count(f) > 1 or f in ("assets", "data")})
    if clash:
        raise CchcError(f"districts whose folder names clash in the site: {', '.join(clash)}")
    units = [Unit(slug(d), d, plan_jobs(paths, d, areas, lang, False, folder=slug(d)), pdf_name(d, lang), "../")
             for d in names]
    corpus = plan_jobs(paths, None, areas, lang, True, district_href=site()["district_href"])
    return "province", [Unit("", None, corpus, pdf_name(None, lang))] + units


def check_notebooks(paths: BuildPaths, district: str | None, compare: bool) -> None:
    for name in notebooks_needed(district, compare):
        if not (paths.notebooks / name).exists():
            raise CchcError(f"notebook {name} not found in {paths.notebooks}", file=paths.notebooks / name)
