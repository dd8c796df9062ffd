"""``cchc build``: parse, execute the notebooks, render the static site and the PDF into ``reports/``.

The steps, each in its own module and each skipped when nothing it depends on changed:

1. **parse** ``data/raw/`` into ``data/processed/`` (``cchc_analysis.dataset.build``; cached on the raw files and
   the package).
2. **plan** (``plan``): the pages of ``site.yaml`` for this dataset: a district's overview and area pages, and the
   comparison when the dataset holds several districts; their cache keys (``cache``). A warm rebuild with nothing
   changed stops here, having imported neither pandas nor papermill.
3. **execute** (``execute``) the notebooks whose cached run is missing, in worker processes; each worker renders
   its page at once (``render``). Meanwhile this process prepares the site folder and the downloads (``publish``).
4. **render** the index, lay out the **PDF** (``pdf``) and **publish** the site and PDF by renames. When any
   notebook failed, nothing is published and the previous pack stays as it was.

Outputs are deterministic: timing metadata and random cell ids are removed, PNGs carry no metadata, the Excel
file's zip entries and properties get fixed dates, and the PDF has no creation date.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from cchc_analysis.errors import CchcError
from cchc_analysis.pack import cache as K
from cchc_analysis.pack.catalog import LANGS
from cchc_analysis.pack.plan import (
    DEFAULT_CACHE,
    DEFAULT_NOTEBOOKS,
    BuildPaths,
    Job,
    check_notebooks,
    pdf_name,
    plan_jobs,
    read_areas,
    read_districts,
)

START_TIMEOUT = 60
EXECUTION_TIMEOUT = 300


@dataclass
class BuildReport:
    """What a build did; returned by ``build`` for tests and the benchmark."""
    status: str = ""                      # up-to-date | built | failed
    results: list = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    site: Path | None = None
    pdf: Path | None = None
    kernels_started: int = 0


class BuildFailed(CchcError):
    def __init__(self, message: str, report: BuildReport):
        super().__init__(message)
        self.report = report


def ensure_parsed(paths: BuildPaths, log) -> bool:
    """Run the parser when the raw files or the package changed; True when it ran."""
    stamp = paths.cache / "parse.json"
    key = K.sha_of({"raw": K.hash_tree(paths.raw), "package": K.package_fingerprint()})
    if stamp.exists():
        old = json.loads(stamp.read_text())
        if old.get("key") == key and old.get("processed") == K.hash_tree(paths.processed) \
                and (paths.processed / "indicators.csv").exists():
            return False
    from cchc_analysis.workflow import parse_and_write

    t0 = time.perf_counter()
    summary = parse_and_write([paths.raw], paths.processed)
    log(f"parse: {summary} ({time.perf_counter() - t0:.2f} s)")
    paths.cache.mkdir(parents=True, exist_ok=True)
    stamp.write_text(json.dumps({"key": key, "processed": K.hash_tree(paths.processed)}))
    return True


def checked_areas(areas: list[str] | None) -> list[str]:
    """The areas asked for, in report order without duplicates (all when None); ``CchcError`` for an unknown one."""
    known = read_areas()
    bad = [a for a in (areas or []) if a not in known]
    if bad:
        raise CchcError(f"unknown area {', '.join(map(repr, bad))}; use one of: {', '.join(known)}")
    return [a for a in known if a in areas] if areas else known


def choose_district(names: list[str], district: str | None) -> str | None:
    """One district in the dataset: its pack. Several: the comparison, with the pack of ``district`` if given."""
    if district is None:
        return None if len(names) > 1 else names[0]
    district = unicodedata.normalize("NFC", district)
    if district not in names:
        shown = ", ".join(names[:20]) + (f" … ({len(names)} in all)" if len(names) > 20 else "")
        raise CchcError(f"unknown district {district!r}; the dataset holds: {shown}")
    return district


def navigation(jobs: list[Job], lang: str) -> list[dict]:
    """The site's navigation: the index, then every page in ``site.yaml`` order with its title from the catalog."""
    from cchc_analysis.pack.catalog import catalog
    from cchc_analysis.pack.views import area_label

    text = catalog(lang)
    nav = [{"kind": "index", "href": "index.html", "label": text["views"]["home"]}]
    for job in jobs:
        if job.label == "area":
            label = area_label(job.area, lang)
        else:
            section, key = job.label.split(".")
            label = text[section][key]
        nav.append({"kind": job.name, "href": f"{job.name}.html", "label": label})
    return nav


def dataset_line(units: dict[str, tuple[str, bool]], district: str | None, lang: str) -> dict:
    """What every page header and the PDF cover say the pack is about; SYNTHETIC data is always said."""
    from cchc_analysis.pack.catalog import catalog

    text = catalog(lang)
    if district:
        info = {"district": district,
                "district_line": text["views"]["district_line"].format(district=district, province=units[district][0])}
    else:
        n_prov = len({province for province, _ in units.values()})
        counts = text["site"]["corpus_counts" if n_prov > 1 else "corpus_counts_one_province"]
        info = {"district": text["compare"]["title"],
                "district_line": f"{text['compare']['title']}: "
                                 + counts.format(districts=len(units), provinces=n_prov)}
    if any(synthetic for _, synthetic in units.values()):
        info["district_line"] += f" | {text['compare']['synthetic']}"
    return info


def make_pack(paths: BuildPaths, planned: list[Job], units: dict, district: str | None, pdf_file: str, jobs: int,
              force: bool, timeouts: tuple[int, int], report: BuildReport, log) -> None:
    """Execute what is not cached, render every page, lay out the PDF and publish; ``BuildFailed`` when a notebook
    failed (nothing published then)."""
    from cchc_analysis.pack import execute, render
    from cchc_analysis.pack.publish import write_downloads

    env = execute.build_environment(paths.cache)
    os.environ["SOURCE_DATE_EPOCH"] = env["SOURCE_DATE_EPOCH"]
    execute.ensure_kernelspec(env)
    cache_dir = paths.cache / "cache" / paths.site_name
    cache_dir.mkdir(parents=True, exist_ok=True)
    if force:
        for p in cache_dir.glob("*.ipynb"):
            p.unlink()
    n_run = sum(1 for j in planned if not K.cached_notebook(cache_dir, j).exists())
    log(f"cchc build: {len(planned)} notebooks ({n_run} to execute, {len(planned) - n_run} cached), "
        f"{min(jobs, max(n_run, 1))} worker(s), lang={paths.lang}, "
        + (f"district={district}" if district else "") + (", " if district and len(units) > 1 else "")
        + (f"comparison of {len(units)} districts" if len(units) > 1 else ""))

    def progress(r, done: int, total: int) -> None:
        state = "cached" if r.cached else ("ok" if r.ok else "FAILED")
        extra = "" if r.cached else f" {r.seconds:5.1f} s"
        log(f"  [{done}/{total}] {state:6} {r.name}{extra}" + (f"  {r.error}" if r.error else ""))

    nav = navigation(planned, paths.lang)
    ds_info = dataset_line(units, district, paths.lang)
    spec = render.make_render_spec(paths.lang, nav, ds_info, pdf_file)
    paths.out.mkdir(parents=True, exist_ok=True)
    tmp_root = Path(tempfile.mkdtemp(prefix=".cchc-build-", dir=paths.out))
    site = tmp_root / paths.site_name
    prepared: dict = {}

    def while_waiting() -> None:
        """Work that needs no executed notebook, done while the kernels run."""
        t1 = time.perf_counter()
        from cchc_analysis.dataset.io import load_dataset

        site.mkdir()
        render.copy_assets(site)
        prepared["ds"] = load_dataset(paths.processed).for_district(district) if district else None
        prepared["downloads"] = write_downloads(paths.processed, site / "data", paths.lang)
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import weasyprint  # noqa: F401 - warm the import for the PDF step
        report.timings["prepare"] = time.perf_counter() - t1

    try:
        t0 = time.perf_counter()
        results = execute.execute_jobs(planned, cache_dir, env, jobs, *timeouts, progress, spec, while_waiting)
        report.results = results
        report.kernels_started = sum(1 for r in results if not r.cached)
        report.timings["execute"] = time.perf_counter() - t0
        failed = [r for r in results if not r.ok]
        if failed:
            report.status = "failed"
            details = "; ".join(f"{r.name} ({r.error})" for r in failed)
            raise BuildFailed(f"{len(failed)} of {len(results)} notebooks failed: {details}. Nothing was published; "
                              f"the previous pack in {paths.out} is unchanged.", report)
        render_and_publish(paths, results, planned, site, tmp_root, spec, ds_info, pdf_file, prepared, report)
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)


def render_and_publish(paths: BuildPaths, results: list, planned: list[Job], site: Path, tmp_root: Path, spec: dict,
                       ds_info: dict, pdf_file: str, prepared: dict, report: BuildReport) -> None:
    from cchc_analysis.pack import render
    from cchc_analysis.pack.pdf import build_pdf
    from cchc_analysis.pack.publish import publish

    t0 = time.perf_counter()
    pages = render.render_pages(results, site, spec)
    report.timings["html"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    build_pdf(pages, [f"{j.name}.html" for j in planned], ds_info, paths.lang, site, tmp_root / pdf_file,
              ds=prepared.get("ds"))
    shutil.copyfile(tmp_root / pdf_file, site / pdf_file)
    report.timings["pdf"] = time.perf_counter() - t1
    render.render_index(site, prepared["ds"], paths.lang, spec["nav"], ds_info, pdf_file,
                        (tmp_root / pdf_file).stat().st_size, prepared["downloads"])
    publish(tmp_root, paths, pdf_file)
    report.timings["render"] = time.perf_counter() - t0


def build(raw: Path | str = "data/raw", processed: Path | str = "data/processed", out: Path | str = "reports",
          lang: str = "vi", jobs: int = 2, force: bool = False, areas: list[str] | None = None,
          district: str | None = None, notebooks: Path | str | None = None, cache: Path | str | None = None,
          parse: bool = True, start_timeout: int = START_TIMEOUT, execution_timeout: int = EXECUTION_TIMEOUT,
          quiet: bool = False) -> BuildReport:
    """Build the pack; raises ``CchcError`` for bad parameters or failed notebooks (nothing published then)."""
    t_start = time.perf_counter()
    report = BuildReport()

    def log(msg: str) -> None:
        if not quiet:
            print(msg, file=sys.stderr, flush=True)

    # ---- parameters: checked before anything is touched
    if lang not in LANGS:
        raise CchcError(f"unknown language {lang!r}; use one of: {', '.join(LANGS)}")
    areas = checked_areas(areas)
    if jobs < 1:
        raise CchcError("--jobs must be at least 1")
    paths = BuildPaths(Path(raw), Path(processed), Path(out), Path(notebooks) if notebooks else DEFAULT_NOTEBOOKS,
                       Path(cache) if cache else DEFAULT_CACHE, lang)

    t0 = time.perf_counter()
    if parse:
        ensure_parsed(paths, log)
    if not (paths.processed / "indicators.csv").exists():
        raise CchcError("no dataset: indicators.csv is missing; run `cchc parse` first",
                        file=paths.processed / "indicators.csv")
    report.timings["parse"] = time.perf_counter() - t0

    # ---- plan and cache keys (csv and yaml only: no pandas on the warm path)
    units = read_districts(paths.processed)
    compare = len(units) > 1
    district = choose_district(sorted(units), district)
    check_notebooks(paths, district, compare)
    data_hash = K.hash_tree(paths.processed)
    pkg = K.package_fingerprint()
    planned = [Job(j.name, j.notebook, j.parameters, j.label, j.area, K.job_key(j, data_hash, pkg))
               for j in plan_jobs(paths, district, areas, lang, compare)]
    pdf_file = pdf_name(district, lang)
    publish_key = K.sha_of({"jobs": [j.key for j in planned], "render": K.render_fingerprint(), "lang": lang,
                            "district": district, "site": paths.site_name, "pdf": pdf_file})
    report.site = paths.out / paths.site_name
    report.pdf = paths.out / pdf_file
    if not force and K.is_published(paths, publish_key, pdf_file):
        report.status = "up-to-date"
        report.timings["total"] = time.perf_counter() - t_start
        log(f"cchc build: up to date ({len(planned)} pages, {report.timings['total']:.2f} s); "
            f"{report.site}/index.html, {report.pdf}")
        return report

    make_pack(paths, planned, units, district, pdf_file, jobs, force, (start_timeout, execution_timeout), report, log)
    K.record_published(paths, publish_key, pdf_file)
    report.status = "built"
    report.timings["total"] = time.perf_counter() - t_start
    t = report.timings
    log(f"cchc build: done in {t['total']:.1f} s (execute {t['execute']:.1f} s, html {t['html']:.1f} s, "
        f"pdf {t['pdf']:.1f} s); {report.site}/index.html, {report.pdf}")
    return report


def run_build(args) -> int:
    """Entry point of ``cchc build`` (see cli.py); returns the exit code."""
    build(raw=args.raw, processed=args.processed, out=args.out, lang=args.lang, jobs=args.jobs, force=args.force,
          areas=getattr(args, "area", None), district=getattr(args, "district", None),
          notebooks=getattr(args, "notebooks", None), cache=getattr(args, "cache_dir", None),
          parse=not getattr(args, "no_parse", False),
          execution_timeout=getattr(args, "timeout", None) or EXECUTION_TIMEOUT)
    return 0
