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
from dataclasses import dataclass, field, replace
from pathlib import Path

from cchc_analysis.errors import CchcError
from cchc_analysis.pack import cache as K
from cchc_analysis.pack.catalog import LANGS
from cchc_analysis.pack.fingerprint import district_fingerprints
from cchc_analysis.pack.plan import (
    DEFAULT_CACHE,
    DEFAULT_NOTEBOOKS,
    BuildPaths,
    Job,
    Unit,
    check_notebooks,
    plan_units,
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
    finished: list = field(default_factory=list)   # the PDFs (and index pages) laid out
    timings: dict[str, float] = field(default_factory=dict)
    site: Path | None = None
    pdf: Path | None = None
    kernels_started: int = 0
    warnings: list[str] = field(default_factory=list)  # e.g. a PDF over its page budget


class BuildFailed(CchcError):
    def __init__(self, message: str, report: BuildReport):
        super().__init__(message)
        self.report = report


def ensure_parsed(paths: BuildPaths, log) -> bool:
    """Run the parser when the raw files or the package changed; True when it ran. The parse keeps its per-report
    cache in the build's cache folder (``<cache>/parse``, as ``cchc parse`` does), so after one district changed
    only that district's report is read again."""
    stamp = paths.cache / "parse.json"
    key = K.sha_of({"raw": K.hash_tree(paths.raw), "package": K.package_fingerprint()})
    old = _read_stamp(stamp)
    if old.get("key") == key and old.get("processed") == K.hash_tree(paths.processed) \
            and (paths.processed / "indicators.csv").exists():
        return False
    from cchc_analysis.workflow import parse_and_write

    t0 = time.perf_counter()
    summary = parse_and_write([paths.raw], paths.processed, cache_dir=paths.cache / "parse")
    log(f"parse: {summary} ({time.perf_counter() - t0:.2f} s)")
    paths.cache.mkdir(parents=True, exist_ok=True)
    partial = stamp.with_name(stamp.name + ".tmp")  # written whole, then renamed: a killed build leaves no half stamp
    partial.write_text(json.dumps({"key": key, "processed": K.hash_tree(paths.processed)}))
    partial.replace(stamp)
    return True


def _read_stamp(stamp: Path) -> dict:
    """What the last parse recorded, or {} when there is no stamp or it cannot be read (a damaged cache file means
    only that the parse runs again)."""
    try:
        old = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return old if isinstance(old, dict) else {}


def checked_areas(areas: list[str] | None) -> list[str]:
    """The areas asked for, in report order without duplicates (all when None); ``CchcError`` for an unknown one."""
    known = read_areas()
    bad = [a for a in (areas or []) if a not in known]
    if bad:
        raise CchcError(f"unknown area {', '.join(map(repr, bad))}; use one of: {', '.join(known)}")
    return [a for a in known if a in areas] if areas else known


def choose_district(names: list[str], district: str | None) -> str | None:
    """The district whose pack alone is built: the one given (checked), the only one, or None for a province site."""
    if district is None:
        return None if len(names) > 1 else names[0]
    district = unicodedata.normalize("NFC", district)
    if district not in names:
        shown = ", ".join(names[:20]) + (f" … ({len(names)} in all)" if len(names) > 20 else "")
        raise CchcError(f"unknown district {district!r}; the dataset holds: {shown}")
    return district


def navigation(jobs: list[Job], lang: str, province: bool = False) -> list[dict]:
    """The navigation of a pack: its index, then every page in ``site.yaml`` order with its title from the catalog.
    A district's pack in a province site (``province``) leads up to the province's index and to the comparison."""
    from cchc_analysis.pack.catalog import catalog
    from cchc_analysis.pack.views import area_label

    text = catalog(lang)
    up = "../" if province and any(j.district for j in jobs) else ""
    nav = [{"kind": "province", "href": "../index.html", "label": text["site"]["province_home"]}] if up else []
    home = text["site"]["province_home"] if province and not up else text["views"]["home"]
    nav.append({"kind": "index", "href": "index.html", "label": home})
    for job in jobs:
        if job.label == "area":
            label = area_label(job.area, lang)
        else:
            section, key = job.label.split(".")
            label = text[section][key]
        nav.append({"kind": job.name, "href": f"{job.name}.html", "label": label})
    if up:
        nav.append({"kind": "compare", "href": "../compare.html", "label": text["compare"]["title"]})
    return nav


def dataset_line(units: dict[str, tuple[str, bool]], district: str | None, lang: str) -> dict:
    """What every page header and the PDF cover say the pack is about. SYNTHETIC data is always said: on a
    district's pages when that district is synthetic, on the pages of every district when any of them is."""
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
    if units[district][1] if district else any(synthetic for _, synthetic in units.values()):
        info["district_line"] += f" | {text['compare']['synthetic']}"
    return info


@dataclass
class Prepared:
    """A pack of the site as the build makes it: its unit, render spec, cache folder, and whether it is cached."""
    unit: Unit
    spec: dict
    dir: Path
    key: str


def prepare_units(paths: BuildPaths, mode: str, units: list[Unit], districts: dict, cache_dir: Path,
                  fingerprints: dict[str, str], downloads: list[dict]) -> list[Prepared]:
    """Each pack's render spec and the key of its PDF and index page (its pages' keys, the spec, its data)."""
    from cchc_analysis.pack import render

    out = []
    for unit in units:
        nav = navigation(unit.jobs, paths.lang, mode == "province")
        spec = render.make_render_spec(paths.lang, nav, dataset_line(districts, unit.district, paths.lang),
                                       unit.pdf_file, unit.root)
        index = None if unit.district is None else (
            {"downloads_href": "../index.html#downloads"} if mode == "province" else {"downloads": downloads})
        key = K.sha_of({"spec": spec["key"], "jobs": [j.key for j in unit.jobs], "index": index,
                        "data": fingerprints.get(unit.district or "", ""), "pdf": unit.pdf_file})
        out.append(Prepared(unit, dict(spec, index=index), cache_dir / "packs" / f"{unit.folder or '_root'}-{key[:20]}",
                            key))
    return out


def finishers(prepared: list[Prepared], paths: BuildPaths, base: Path) -> list:
    """The PDF (and index) of each pack not cached yet, to run once its pages are executed."""
    from cchc_analysis.pack.execute import Finisher
    from cchc_analysis.pack.render import finish_pack

    todo = []
    for p in prepared:
        if (p.dir / "done").exists():
            continue
        payload = {"dir": str(p.dir), "spec": p.spec, "district": p.unit.district, "pdf_file": p.unit.pdf_file,
                   "order": [j.name for j in p.unit.jobs], "processed": str(paths.processed), "base": str(base),
                   "index": p.spec["index"]}
        todo.append(Finisher(f"{p.unit.district or p.unit.jobs[0].name}: PDF", [j.id for j in p.unit.jobs],
                             finish_pack, payload))
    return todo


def failure(report: BuildReport, results: list, finished: list, paths: BuildPaths) -> BuildFailed:
    """The error of a build where a notebook or a PDF failed: each named by its district and page."""
    report.status = "failed"
    failed = [r for r in results + finished if not r.ok]
    details = "; ".join(f"{r.where or r.name} ({r.error})" for r in failed)
    return BuildFailed(f"{len(failed)} of {len(results) + len(finished)} notebooks or PDFs failed: {details}. "
                       f"Nothing was published; the previous pack in {paths.out} is unchanged.", report)


def make_pack(paths: BuildPaths, mode: str, units: list[Unit], districts: dict, fingerprints: dict[str, str],
              jobs: int, force: bool, timeouts: tuple[int, int], report: BuildReport, log) -> None:
    """Execute what is not cached, render every page, lay out the PDFs (in the workers) and publish; ``BuildFailed``
    when a notebook or a PDF failed (nothing published then)."""
    from cchc_analysis.pack import execute, render
    from cchc_analysis.pack.publish import write_downloads

    env = execute.build_environment(paths.cache)
    os.environ["SOURCE_DATE_EPOCH"] = env["SOURCE_DATE_EPOCH"]
    execute.ensure_kernelspec(env)
    cache_dir = paths.cache / "cache" / paths.site_name
    cache_dir.mkdir(parents=True, exist_ok=True)
    if force:
        shutil.rmtree(cache_dir)
        cache_dir.mkdir(parents=True)
    base = cache_dir / "base"
    render.copy_assets(base)  # the stylesheet and fonts the PDFs are laid out with
    paths.out.mkdir(parents=True, exist_ok=True)
    tmp_root = Path(tempfile.mkdtemp(prefix=".cchc-build-", dir=paths.out))
    site = tmp_root / paths.site_name
    try:
        t0 = time.perf_counter()
        site.mkdir()
        render.copy_assets(site)
        downloads = write_downloads(paths.processed, site / "data", paths.lang)
        prepared = prepare_units(paths, mode, units, districts, cache_dir, fingerprints, downloads)
        report.timings["prepare"] = time.perf_counter() - t0
        # the districts' pages first: a district's PDF is laid out while the comparison (the longest page) runs
        planned = [(j, p.spec) for p in prepared[1:] + prepared[:1] for j in p.unit.jobs]
        todo = finishers(prepared, paths, base)
        n_run = sum(1 for j, _ in planned if not K.cached_notebook(cache_dir, j).exists())
        log(f"cchc build: {len(planned)} notebooks ({n_run} to execute, {len(planned) - n_run} cached), "
            f"{len(todo)} PDF(s) to lay out, {jobs} worker(s), lang={paths.lang}, "
            + (f"province site of {len(districts)} districts" if mode == "province"
               else f"district={units[0].district}"))

        def progress(r, done: int, total: int) -> None:
            state = "cached" if r.cached else ("ok" if r.ok else "FAILED")
            extra = "" if r.cached else f" {r.seconds:5.1f} s"
            log(f"  [{done}/{total}] {state:6} {r.name}{extra}" + (f"  {r.error}" if r.error else ""))

        t0 = time.perf_counter()
        results, finished = execute.execute_jobs(planned, cache_dir, env, jobs, *timeouts, progress, todo)
        report.results, report.finished = results, finished
        for r in finished:
            log(f"  PDF {'ok' if r.ok else 'FAILED'} {r.name.split(':')[0]} {r.seconds:5.1f} s"
                + (f"  {r.error}" if r.error else ""))
        report.kernels_started = sum(1 for r in results if not r.cached)
        report.timings["execute"] = time.perf_counter() - t0
        if any(not r.ok for r in results + finished) or len(finished) < len(todo):
            raise failure(report, results, finished, paths)
        for p in prepared:  # (a cached pack's too: its PDF is the one published)
            warned = p.dir / render.PDF_WARNINGS
            for line in warned.read_text(encoding="utf-8").splitlines() if warned.exists() else ():
                report.warnings.append(line)
                log(f"  warning: {line}")
        assemble(paths, mode, prepared, results, site, tmp_root, downloads, report)
        drop_stale_packs(cache_dir, prepared)
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)


def drop_stale_packs(cache_dir: Path, prepared: list[Prepared]) -> None:
    """Remove the cached PDFs and index pages of these packs that this build did not use."""
    used = {p.dir.name for p in prepared}
    folders = {name.rsplit("-", 1)[0] for name in used}
    for d in (cache_dir / "packs").glob("*"):
        if d.name not in used and d.name.rsplit("-", 1)[0] in folders:
            shutil.rmtree(d, ignore_errors=True)


def assemble(paths: BuildPaths, mode: str, prepared: list[Prepared], results: list, site: Path, tmp_root: Path,
             downloads: list[dict], report: BuildReport) -> None:
    """Copy every pack's pages, PDF and index into the new site, write the province index, publish."""
    from cchc_analysis.pack import render
    from cchc_analysis.pack.publish import publish

    t0 = time.perf_counter()
    by_id = {r.name: r for r in results}
    packs = []
    for p in prepared:
        folder = site / p.unit.folder
        folder.mkdir(exist_ok=True)
        render.render_pages([by_id[j.id] for j in p.unit.jobs], folder, p.spec)
        shutil.copyfile(p.dir / p.unit.pdf_file, folder / p.unit.pdf_file)
        if p.spec["index"] is not None:
            shutil.copyfile(p.dir / "index.html", folder / "index.html")
        if p.unit.folder:
            packs.append({"district": p.unit.district, "name": p.spec["ds_info"]["district"],
                          "href": f"{p.unit.folder}/index.html", "pdf_href": f"{p.unit.folder}/{p.unit.pdf_file}",
                          "pdf_size": (folder / p.unit.pdf_file).stat().st_size})
    root = prepared[0]
    shutil.copyfile(site / root.unit.pdf_file, tmp_root / root.unit.pdf_file)
    if mode == "province":
        from cchc_analysis.dataset.io import load_dataset

        ds = load_dataset(paths.processed, tables=("indicators", "districts", "evaluation", "targets"),
                          columns={"indicators": ["district", "province"]})
        compare = {"href": "compare.html", "pdf_href": root.unit.pdf_file,
                   "pdf_size": (site / root.unit.pdf_file).stat().st_size}
        html_text = render.render_province_index(ds, paths.lang, root.spec["nav"], root.spec["ds_info"], packs,
                                                 compare, downloads)
        (site / "index.html").write_text(html_text, encoding="utf-8")
    report.timings["assemble"] = time.perf_counter() - t0
    publish(tmp_root, paths, root.unit.pdf_file)


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

    # ---- plan and cache keys (csv, yaml and json only: no pandas on the warm path)
    districts = read_districts(paths.processed)
    district = choose_district(sorted(districts), district)
    data_hash = K.hash_tree(paths.processed)
    fingerprints = district_fingerprints(paths.processed, paths.cache, data_hash)
    mode, units = plan_units(paths, sorted(districts), district, areas, lang)
    check_notebooks(paths, units[-1].district, mode == "province")
    pkg = K.package_fingerprint()
    for unit in units:  # a district's pages depend on its own rows; the comparison's on every district's
        unit.jobs = [replace(j, key=K.job_key(j, fingerprints[j.district] if j.district else data_hash, pkg))
                     for j in unit.jobs]
    pdf_file = units[0].pdf_file
    publish_key = K.sha_of({"jobs": [j.key for u in units for j in u.jobs], "render": K.render_fingerprint(),
                            "lang": lang, "mode": mode, "data": data_hash, "site": paths.site_name, "pdf": pdf_file})
    report.site = paths.out / paths.site_name
    report.pdf = paths.out / pdf_file
    n_pages = sum(len(u.jobs) for u in units)
    if not force and K.is_published(paths, publish_key, pdf_file):
        report.status = "up-to-date"
        report.timings["total"] = time.perf_counter() - t_start
        log(f"cchc build: up to date ({n_pages} pages, {report.timings['total']:.2f} s); "
            f"{report.site}/index.html, {report.pdf}")
        return report

    previous_pdf = K.published_pdf(paths)
    make_pack(paths, mode, units, districts, fingerprints, jobs, force, (start_timeout, execution_timeout), report,
              log)
    if previous_pdf and previous_pdf != pdf_file:  # the PDF of another build beside the site: no longer published
        (paths.out / previous_pdf).unlink(missing_ok=True)
    K.record_published(paths, publish_key, pdf_file)
    report.status = "built"
    report.timings["total"] = time.perf_counter() - t_start
    t = report.timings
    log(f"cchc build: done in {t['total']:.1f} s (execute and PDFs {t['execute']:.1f} s, site "
        f"{t['assemble']:.1f} s); {report.site}/index.html, {report.pdf}")
    return report


def run_build(args) -> int:
    """Entry point of ``cchc build`` (see cli.py); returns the exit code."""
    build(raw=args.raw, processed=args.processed, out=args.out, lang=args.lang, jobs=args.jobs, force=args.force,
          areas=getattr(args, "area", None), district=getattr(args, "district", None),
          notebooks=getattr(args, "notebooks", None), cache=getattr(args, "cache_dir", None),
          parse=not getattr(args, "no_parse", False),
          execution_timeout=getattr(args, "timeout", None) or EXECUTION_TIMEOUT)
    return 0
