"""``cchc build``: parse, execute the notebooks with papermill, render the static site and the PDF into ``reports/``.

Steps (each one skipped when nothing it depends on changed):

1. **parse**: ``cchc_analysis.dataset.build.parse_and_write`` from ``data/raw/`` into ``data/processed/`` (cached on the
   raw files and the package's source).
2. **execute**: ``notebooks/overview.ipynb`` once and ``notebooks/area.ipynb`` once per area for the district
   (and ``notebooks/compare.ipynb`` once when the dataset holds several districts), through papermill's
   Python API in worker processes (``--jobs``): kernel ``python3`` resolved to this Python by a kernelspec written
   under ``.build/``, a private IPC socket per run (no TCP port collisions), start and execution timeouts,
   ``shutdown_kernel="immediate"``, no cell timings. Every notebook is tried; failures are collected and named.
   An executed notebook is cached under ``.build/cache/`` by the hash of its source, parameters, the processed data
   and the package (source and the versions of what runs it); only a changed notebook runs again.
3. **render** into a temporary folder beside the output: one HTML page per notebook (nbconvert, the pack's
   template, code hidden, images embedded), ``index.html``, the data downloads (CSV, Parquet, Excel, Frictionless
   ``datapackage.json``) and one A4 PDF of all pages (WeasyPrint). Then swapped into place. When any notebook
   failed, nothing is published and the previous pack stays as it was.

Outputs are deterministic: papermill and nbclient timing metadata and random cell ids are removed, PNGs carry no
metadata, the Excel file's zip entries and properties get fixed dates, and the PDF has no creation date. A warm
rebuild with nothing changed compares hashes, starts no kernel and takes well under a second.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from cchc_analysis import __version__
from cchc_analysis.concurrency import STAGING_PREFIX, exit_with
from cchc_analysis.dataset.csv_for_people import copy_csv_for_people
from cchc_analysis.errors import CchcError

PACKAGE_DIR = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAME = "cchc"
DEFAULT_NOTEBOOKS = Path("notebooks")
DEFAULT_CACHE = Path(".build")
KERNEL_NAME = "python3"
LANGS = ("vi", "en")
SOURCE_DATE_EPOCH = "1577836800"  # 2020-01-01: fixed dates inside the Excel file and any PDF metadata
START_TIMEOUT = 60
EXECUTION_TIMEOUT = 300
# What runs a notebook: a new version of any of these re-executes the notebooks.
RUNTIME_PACKAGES = ("pandas", "numpy", "matplotlib", "papermill", "nbclient", "nbformat", "ipykernel", "pyarrow",
                    "xlsxwriter")
RENDER_PACKAGES = ("nbconvert", "weasyprint", "openpyxl", "jinja2")


# --------------------------------------------------------------------------------------------------- hashing

def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def hash_tree(root: Path, patterns: tuple[str, ...] = ("*",), exclude_dirs: tuple[str, ...] = ()) -> str:
    """One hash over the relative names and contents of the files under ``root`` (sorted, so stable)."""
    h = hashlib.sha256()
    if not root.exists():
        return "missing"
    files = set()
    for pat in patterns:
        files.update(p for p in root.rglob(pat) if p.is_file())
    for p in sorted(files):
        rel = p.relative_to(root).as_posix()
        if "__pycache__" in rel or rel.startswith(STAGING_PREFIX) or any(rel.startswith(d + "/") for d in exclude_dirs):
            continue
        h.update(rel.encode() + b"\0" + sha256_file(p).encode() + b"\n")
    return h.hexdigest()


def sha_of(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _versions(names: tuple[str, ...]) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for n in names:
        try:
            out[n] = version(n)
        except PackageNotFoundError:
            out[n] = "-"
    return out


def package_fingerprint() -> dict:
    """What the executed notebooks depend on besides their source, parameters and data."""
    return {"cchc_analysis": __version__,
            "source": hash_tree(PACKAGE_DIR, ("*.py", "*.csv", "*.yaml", "*.json"), exclude_dirs=("pack/templates",)),
            "python": sys.version.split()[0], **_versions(RUNTIME_PACKAGES)}


def render_fingerprint() -> dict:
    return {"templates": hash_tree(TEMPLATES_DIR), "build": sha256_file(Path(__file__)), **_versions(RENDER_PACKAGES)}


# --------------------------------------------------------------------------------------------------- plan

@dataclass(frozen=True)
class Job:
    name: str                 # overview | area-<id>: also the page's file name without .html
    notebook: str             # absolute path of the source notebook
    parameters: dict          # injected by papermill
    key: str = ""             # cache key


@dataclass
class Result:
    name: str
    ok: bool
    seconds: float = 0.0
    cached: bool = False
    path: str = ""
    error: str = ""


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
        return "site" if self.lang == "vi" else f"site-{self.lang}"


@dataclass
class BuildReport:
    """What a build did; returned by ``build`` for tests and the benchmark."""
    status: str = ""                      # up-to-date | built | failed
    results: list[Result] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    site: Path | None = None
    pdf: Path | None = None
    kernels_started: int = 0


def read_areas() -> list[str]:
    with open(PACKAGE_DIR / "data" / "areas.csv", encoding="utf-8", newline="") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: int(r["order"]))
    return [r["area"] for r in rows]


def slug(text: str) -> str:
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "district"


def pdf_name(district: str | None, lang: str) -> str:
    """The PDF of a district's pack, or of the comparison alone (``district`` None)."""
    if district is None:
        return "so-sanh-cac-huyen.pdf" if lang == "vi" else f"district-comparison-{lang}.pdf"
    return f"danh-gia-cchc-{slug(district)}.pdf" if lang == "vi" else f"par-evaluation-{slug(district)}-{lang}.pdf"


def plan_jobs(paths: BuildPaths, district: str | None, areas: list[str], lang: str, compare: bool) -> list[Job]:
    """A district's overview and area pages (when ``district``), and the comparison page (when ``compare``)."""
    data_dir = str(paths.processed.resolve())
    jobs = []
    if district is not None:
        jobs.append(Job("overview", str((paths.notebooks / "overview.ipynb").resolve()),
                        {"district": district, "lang": lang, "data_dir": data_dir}))
        for area in areas:
            jobs.append(Job(f"area-{area}", str((paths.notebooks / "area.ipynb").resolve()),
                            {"district": district, "area": area, "lang": lang, "data_dir": data_dir}))
    if compare:
        jobs.append(Job("compare", str((paths.notebooks / "compare.ipynb").resolve()),
                        {"districts": None, "areas": areas, "lang": lang, "data_dir": data_dir}))
    return jobs


def job_key(job: Job, data_hash: str, pkg: dict) -> str:
    params = {k: v for k, v in job.parameters.items() if k != "data_dir"}  # the path does not change the page
    return sha_of({"notebook": sha256_file(Path(job.notebook)), "parameters": params, "data": data_hash,
                   "package": pkg, "kernel": KERNEL_NAME})


# --------------------------------------------------------------------------------------------------- environment

def build_environment(cache: Path) -> dict[str, str]:
    """Environment for workers and kernels: every HOME-ish directory inside the build cache, fixed seeds/dates."""
    cache = cache.resolve()
    env = {
        "IPYTHONDIR": str(cache / "ipython"),
        "MPLCONFIGDIR": str(cache / "matplotlib"),
        "JUPYTER_CONFIG_DIR": str(cache / "jupyter" / "config"),
        "JUPYTER_DATA_DIR": str(cache / "jupyter" / "data"),
        "JUPYTER_RUNTIME_DIR": str(cache / "jupyter" / "runtime"),
        "JUPYTER_PATH": str(cache / "jupyter" / "data"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "XDG_CACHE_HOME": str(cache / "xdg-cache"),
        "PYTHONHASHSEED": "0",
        "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH,
        "MPLBACKEND": "Agg",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "TZ": "UTC",
    }
    for key in ("IPYTHONDIR", "MPLCONFIGDIR", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR",
                "XDG_CACHE_HOME"):
        Path(env[key]).mkdir(parents=True, exist_ok=True)
    return env


def ensure_kernelspec(env: dict[str, str]) -> Path:
    """Write the ``python3`` kernelspec pointing at this interpreter, first on JUPYTER_PATH.

    Without it ``python3`` could resolve to a user's or the system's kernelspec and run another Python.
    """
    spec_dir = Path(env["JUPYTER_DATA_DIR"]) / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (cchc build)", "language": "python",
            "metadata": {"debugger": False}}
    text = json.dumps(spec, indent=1)
    target = spec_dir / "kernel.json"
    if not target.exists() or target.read_text() != text:
        target.write_text(text)
    return target


def _init_worker(env: dict[str, str], parent_pid: int | None = None) -> None:
    if parent_pid:
        exit_with(parent_pid)
    os.environ.update(env)
    # jsonschema (under nbformat) imports rfc3987_syntax when installed, which compiles a grammar at import time:
    # 0.7 s per worker for IRI format checks that notebook validation never uses. Make that optional import fail.
    sys.modules.setdefault("rfc3987_syntax", None)
    import logging

    logging.getLogger("papermill").setLevel(logging.WARNING)
    logging.getLogger("traitlets").setLevel(logging.ERROR)


# --------------------------------------------------------------------------------------------------- execute

def normalise_notebook(nb) -> None:
    """Remove what differs between two executions of the same notebook: timings, paths, random ids."""
    params = nb.metadata.get("papermill", {}).get("parameters", {})
    nb.metadata["papermill"] = {"parameters": {k: v for k, v in params.items() if k != "data_dir"}}
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:03d}"
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        for out in cell.get("outputs", []):
            out.get("metadata", {}).pop("execution", None)
            if "transient" in out:
                del out["transient"]


def execute_job(job: Job, out_path: str, failed_dir: str, start_timeout: int, execution_timeout: int,
                render_spec: dict | None = None) -> Result:
    """Run one notebook in this (worker) process, then render its page (in parallel with the other workers).

    Never raises: a failure comes back as a Result.
    """
    import nbformat
    import papermill as pm
    from jupyter_client.manager import KernelManager
    from papermill.exceptions import PapermillExecutionError

    t0 = time.perf_counter()
    runtime = os.environ.get("JUPYTER_RUNTIME_DIR") or tempfile.gettempdir()
    last_error = ""
    for attempt in range(2):  # a second try only for a kernel that did not start
        sock_dir = tempfile.mkdtemp(prefix="k", dir=runtime)  # short path: unix sockets are limited to 107 bytes
        km = KernelManager(kernel_name=KERNEL_NAME, transport="ipc", ip=os.path.join(sock_dir, "s"))
        try:
            nb = pm.execute_notebook(
                job.notebook, None, parameters=job.parameters, kernel_name=KERNEL_NAME, language="python",
                progress_bar=False, log_output=False, request_save_on_cell_execute=False,
                start_timeout=start_timeout, execution_timeout=execution_timeout,
                cwd=str(Path(job.notebook).parent), km=km, shutdown_kernel="immediate", record_timing=False,
                extra_arguments=["--HistoryManager.enabled=False"])
        except PapermillExecutionError as exc:
            last_error = f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}"
            _save_failed(job, failed_dir, exc)
            break
        except Exception as exc:  # kernel start, timeout, a missing notebook...
            last_error = f"{type(exc).__name__}: {exc}".strip()
            if "didn't respond" in last_error or "Address already in use" in last_error or "Kernel died" in last_error:
                continue
            break
        else:
            normalise_notebook(nb)
            tmp = out_path + ".tmp"
            nbformat.write(nb, tmp)
            os.replace(tmp, out_path)
            if render_spec is not None:
                try:
                    render_one(nb, job.name, out_path, render_spec)
                except Exception:  # noqa: BLE001 - the main process renders it again and reports the error
                    pass
            return Result(job.name, True, time.perf_counter() - t0, path=out_path)
        finally:
            # nbclient does not shut down a kernel manager it was given: do it here, at once
            try:
                if km.has_kernel:
                    km.shutdown_kernel(now=True)
            except Exception:  # noqa: BLE001 - the kernel may already be gone
                pass
            km.cleanup_resources()
            shutil.rmtree(sock_dir, ignore_errors=True)
    return Result(job.name, False, time.perf_counter() - t0, error=last_error)


def _save_failed(job: Job, failed_dir: str, exc) -> None:
    """Keep the failed notebook for debugging (never published)."""
    Path(failed_dir).mkdir(parents=True, exist_ok=True)
    (Path(failed_dir) / f"{job.name}.txt").write_text(str(exc), encoding="utf-8")


def execute_jobs(jobs: list[Job], cache_dir: Path, env: dict[str, str], n_jobs: int, start_timeout: int,
                 execution_timeout: int, progress, render_spec: dict | None = None,
                 while_waiting=None) -> list[Result]:
    """Execute the jobs whose cached notebook is missing; progress(result, done, total) after each one.

    ``while_waiting()`` runs in this process while the workers execute (work that needs no notebook).
    """
    from concurrent.futures import ProcessPoolExecutor, as_completed
    import multiprocessing

    results: list[Result] = []
    todo = []
    for job in jobs:
        target = cache_dir / f"{job.name}-{job.key[:20]}.ipynb"
        if target.exists():
            results.append(Result(job.name, True, 0.0, cached=True, path=str(target)))
        else:
            todo.append((job, target))
    total = len(jobs)
    for r in results:
        progress(r, len(results), total)
    if not todo:
        if while_waiting:
            while_waiting()
        return results
    failed_dir = str(cache_dir.parent / "failed")
    if n_jobs <= 1 or len(todo) == 1:
        _init_worker(env)
        for job, target in todo:
            r = execute_job(job, str(target), failed_dir, start_timeout, execution_timeout, render_spec)
            results.append(r)
            progress(r, len(results), total)
        if while_waiting:
            while_waiting()
    else:
        ctx = multiprocessing.get_context("forkserver" if sys.platform != "win32" else "spawn")
        with ProcessPoolExecutor(max_workers=min(n_jobs, len(todo)), mp_context=ctx, initializer=_init_worker,
                                 initargs=(env, os.getpid())) as pool:
            futures = {pool.submit(execute_job, job, str(target), failed_dir, start_timeout, execution_timeout,
                                   render_spec): job
                       for job, target in todo}
            if while_waiting:
                while_waiting()
            for fut in as_completed(futures):
                try:
                    r = fut.result()
                except Exception as exc:  # the worker died
                    r = Result(futures[fut].name, False, error=f"{type(exc).__name__}: {exc}")
                results.append(r)
                progress(r, len(results), total)
    # drop stale cache entries of these jobs
    keep = {Path(r.path).name for r in results if r.ok}
    names = {j.name for j in jobs}
    for p in cache_dir.glob("*.ipynb"):
        stem = p.name.rsplit("-", 1)[0]
        if stem in names and p.name not in keep:
            p.unlink(missing_ok=True)
            for h in cache_dir.glob(p.name[:-6] + ".*.html"):
                h.unlink(missing_ok=True)
    order = {j.name: i for i, j in enumerate(jobs)}
    return sorted(results, key=lambda r: order[r.name])


# --------------------------------------------------------------------------------------------------- render

def _page_context(kind: str, title: str, lang: str, nav: list[dict], ds_info: dict, pdf_href: str) -> dict:
    from cchc_analysis.pack import views as P

    return {"kind": kind, "title": title, "lang": lang, "pack_title": P.t("pack_title", lang),
            "district": ds_info["district"], "district_line": ds_info["district_line"],
            "nav": [dict(n, current=(n["kind"] == kind)) for n in nav], "nav_label": P.t("pages", lang),
            "css_href": "assets/pack.css", "pdf_href": pdf_href, "footer": P.t("generated", lang) + f" {__version__}"}


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


def render_pages(results: list[Result], site: Path, spec: dict) -> dict[str, str]:
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
    import matplotlib

    assets = site / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(TEMPLATES_DIR / TEMPLATE_NAME / "pack.css", assets / "pack.css")
    fonts = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        shutil.copyfile(fonts / name, assets / name)


def human_size(n: int) -> str:
    for unit in ("B", "KB", "MB"):
        if n < 1024 or unit == "MB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def render_index(site: Path, ds, lang: str, nav: list[dict], ds_info: dict, pdf_href: str, pdf_size: int,
                 downloads: list[dict]) -> str:
    import jinja2

    from cchc_analysis.pack import compare as C
    from cchc_analysis.pack import views as P

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR / TEMPLATE_NAME)), autoescape=True,
                             keep_trailing_newline=True)
    page = _page_context("index", P.t("home", lang), lang, nav, ds_info, pdf_href)
    cards = []
    summary = {} if ds is None else {
        a: P.quality_for_area(ds, a)["severity"].value_counts().to_dict() if not ds.quality.empty else {}
        for a in P.area_ids()}
    for item in nav:
        if ds is None or not item["kind"].startswith("area-"):
            continue
        area = item["kind"][5:]
        counts = summary.get(area, {})
        qtext = ", ".join(f"{counts[s]} {P.t('sev_' + s, lang)}" for s in ("error", "warning") if counts.get(s))
        cards.append({"href": item["href"], "title": item["label"], "figures": P.headline_figures(ds, area, lang),
                      "quality": (P.t("quality", lang) + ": " + qtext) if qtext else ""})
    lead = P.t("more_pages", lang) if ds is not None else \
        " ".join([C.t("lead", lang), C.t("caveat", lang), C.t("per_district", lang)])
    page.update({"lead": lead, "no_data": P.t("no_data", lang), "pages_label": P.t("pages", lang),
                 "pdf_label": P.t("pdf", lang), "pdf_size": human_size(pdf_size),
                 "downloads_label": P.t("downloads", lang)})
    header = ["file", "format", "size", "description"] if lang == "en" else ["Tệp", "Định dạng", "Dung lượng", "Nội dung"]
    text = env.get_template("site_index.html.j2").render(page=page, cards=cards, downloads=downloads,
                                                         downloads_header=header)
    (site / "index.html").write_text(text, encoding="utf-8")
    return text


def build_pdf(pages: dict[str, str], order: list[str], ds_info: dict, lang: str, site: Path, target: Path) -> None:
    """One A4 PDF: a cover, then each page's main content; links between pages become links inside the PDF."""
    import logging
    import warnings

    from cchc_analysis.pack import views as P

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a DeprecationWarning about the optional HarfBuzz-Subset library
        from weasyprint import HTML

    for name in ("weasyprint", "fontTools", "fontTools.subset", "fontTools.ttLib"):
        logging.getLogger(name).setLevel(logging.ERROR)
    parts = []
    for name in order:
        text = pages[name]
        body = text.split("<!--cchc:main-start-->", 1)[1].split("<!--cchc:main-end-->", 1)[0]
        anchor = name[:-5]
        for other in order:
            body = body.replace(f'href="{other}"', f'href="#{other[:-5]}"')
        # ids must stay unique in one document
        body = re.sub(r'id="(cell-\d+)"', lambda m, a=anchor: f'id="{a}-{m.group(1)}"', body)
        parts.append(f'<section class="pdf-page" id="{anchor}">{body}</section>')
    cover = (f'<section class="pdf-page pdf-cover-page"><h1>{P.esc(P.t("pack_title", lang))}</h1>'
             f'<p class="district pdf-cover">{P.esc(ds_info["district_line"])}</p>'
             f'<h2>{P.esc(P.t("how_to_read", lang))}</h2>{P.how_to_read_html(lang)}</section>')
    doc = (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{P.esc(P.t("pack_title", lang))}'
           f' | {P.esc(ds_info["district"])}</title><link rel="stylesheet" href="assets/pack.css"></head><body><main>'
           + cover + "".join(parts) + "</main></body></html>")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # WeasyPrint's notices (CSS it ignores, optional HarfBuzz-Subset)
        HTML(string=doc, base_url=str(site) + "/").write_pdf(str(target), uncompressed_pdf=False)


# --------------------------------------------------------------------------------------------------- downloads

DATA_FILES = [
    # file, description vi, description en (the data package and workbook are written by `cchc parse`)
    ("indicators.csv", "Số liệu các phụ lục, mỗi dòng một quan sát (có dòng nguồn)",
     "Appendix figures, one observation per row (with source line)"),
    ("indicators.parquet", "Như indicators.csv, định dạng Parquet", "Same as indicators.csv, Parquet"),
    ("indicators_codebook.csv", "Danh mục chỉ tiêu: mã, tên tiếng Việt/Anh, đơn vị", "Codebook: ids, labels, units"),
    ("quality.csv", "Các phát hiện kiểm tra chất lượng số liệu", "Data-quality findings"),
    ("targets.csv", "Phụ lục 8: mục tiêu và tự đánh giá", "Phụ lục 8: targets and self-assessment"),
    ("facts.csv", "Các số liệu nêu trong lời văn báo cáo", "Figures stated in the report's prose"),
    ("sections.json", "Lời văn báo cáo theo lĩnh vực: kết quả, hạn chế, nguyên nhân",
     "The report's narrative by area: results, limitations, causes"),
    ("tables.csv", "Các bảng phụ lục: tiêu đề, cơ quan, dòng, ghi chú", "The appendix tables: titles, offices, lines"),
    ("cells.csv", "Mọi ô có nội dung của các bảng, với vai trò của ô", "Every non-empty table cell and its role"),
    ("districts.csv", "Huyện, mã đơn vị hành chính, tệp nguồn", "Districts, statistical codes, source files"),
    ("indicators_superseded.csv", "Số liệu báo cáo đã được thay bằng số liệu cập nhật",
     "Report figures replaced by an ingested year file"),
    ("cchc-tables.xlsx", "Các bảng trên, mỗi bảng một trang tính (Excel)", "The tables above, one sheet each (Excel)"),
    ("datapackage.json", "Frictionless Data Package: mô tả các tệp, cột, khóa",
     "Frictionless Data Package describing the files, columns and keys"),
]


def write_downloads(processed: Path, data_dir: Path, lang: str) -> list[dict]:
    """Copy the dataset, its Excel workbook and its data package (all written by `cchc parse`) into the site;
    the CSVs with formula-like cells neutralised, as they are opened in spreadsheet programs."""
    data_dir.mkdir(parents=True, exist_ok=True)
    listing = []
    for name, desc_vi, desc_en in DATA_FILES:
        src = processed / name
        if not src.exists():
            continue
        if name.endswith(".csv"):
            copy_csv_for_people(src, data_dir / name)
        else:
            shutil.copyfile(src, data_dir / name)
        listing.append({"name": name, "href": f"data/{name}", "format": name.rsplit(".", 1)[1].upper(),
                        "size": human_size((data_dir / name).stat().st_size),
                        "description": desc_vi if lang == "vi" else desc_en})
    return listing


# --------------------------------------------------------------------------------------------------- publish

def publish(tmp_root: Path, paths: BuildPaths, pdf_file: str) -> None:
    """Swap the freshly built site and PDF into the output folder (renames, so a reader never sees half a site)."""
    out = paths.out
    new_site = tmp_root / paths.site_name
    old = tmp_root / "previous"
    live = out / paths.site_name
    if live.exists():
        os.rename(live, old)
    os.rename(new_site, live)
    os.replace(tmp_root / pdf_file, out / pdf_file)
    shutil.rmtree(tmp_root, ignore_errors=True)


def output_hashes(paths: BuildPaths, pdf_file: str) -> dict[str, str]:
    files = {}
    site = paths.out / paths.site_name
    for p in sorted(site.rglob("*")):
        if p.is_file():
            files[p.relative_to(paths.out).as_posix()] = sha256_file(p)
    pdf = paths.out / pdf_file
    if pdf.exists():
        files[pdf_file] = sha256_file(pdf)
    return files


# --------------------------------------------------------------------------------------------------- parse

def ensure_parsed(paths: BuildPaths, log) -> bool:
    """Run the parser when the raw files or the package changed; True when it ran."""
    stamp = paths.cache / "parse.json"
    key = sha_of({"raw": hash_tree(paths.raw), "package": package_fingerprint()})
    if stamp.exists():
        old = json.loads(stamp.read_text())
        if old.get("key") == key and old.get("processed") == hash_tree(paths.processed) \
                and (paths.processed / "indicators.csv").exists():
            return False
    try:
        from cchc_analysis.dataset.build import parse_and_write
    except ImportError as exc:
        raise CchcError(f"the parser is not available ({exc}); build from an existing dataset with --no-parse") \
            from None
    t0 = time.perf_counter()
    summary = parse_and_write([paths.raw], paths.processed)
    log(f"parse: {summary} ({time.perf_counter() - t0:.2f} s)")
    paths.cache.mkdir(parents=True, exist_ok=True)
    stamp.write_text(json.dumps({"key": key, "processed": hash_tree(paths.processed)}))
    return True


# --------------------------------------------------------------------------------------------------- main

def read_districts(processed: Path) -> dict[str, tuple[str, bool]]:
    """District -> (province, synthetic) of the dataset, from districts.csv (one row a district; the csv module, no
    pandas on the warm path), or from indicators.csv for a dataset without it."""
    path = processed / "districts.csv"
    if not path.exists():
        path = processed / "indicators.csv"
    nfc = functools.partial(unicodedata.normalize, "NFC")
    with open(path, encoding="utf-8", newline="") as f:
        return {nfc(r["district"]): (nfc(r.get("province", "")), r.get("synthetic", "").lower() == "true")
                for r in csv.DictReader(f)}


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
    known = read_areas()
    areas = list(areas) if areas else known
    bad = [a for a in areas if a not in known]
    if bad:
        raise CchcError(f"unknown area {', '.join(map(repr, bad))}; use one of: {', '.join(known)}")
    areas = [a for a in known if a in areas]  # report order, no duplicates
    if jobs < 1:
        raise CchcError("--jobs must be at least 1")
    root = Path.cwd()
    paths = BuildPaths(Path(raw), Path(processed), Path(out),
                       Path(notebooks) if notebooks else DEFAULT_NOTEBOOKS,
                       Path(cache) if cache else DEFAULT_CACHE, lang)
    del root

    # ---- parse
    t0 = time.perf_counter()
    if parse:
        ensure_parsed(paths, log)
    if not (paths.processed / "indicators.csv").exists():
        raise CchcError("no dataset: indicators.csv is missing; run `cchc parse` first",
                        file=paths.processed / "indicators.csv")
    report.timings["parse"] = time.perf_counter() - t0

    # ---- districts (csv module: no pandas on the warm path). One district: its pack. Several: the comparison
    # page, with the pack of the district chosen by --district if any.
    units = read_districts(paths.processed)
    provinces = {name: province for name, (province, _) in units.items()}
    names = sorted(units)
    compare = len(names) > 1
    if district is None:
        district = None if compare else names[0]
    elif unicodedata.normalize("NFC", district) not in names:
        shown = ", ".join(names[:20]) + (f" … ({len(names)} in all)" if len(names) > 20 else "")
        raise CchcError(f"unknown district {district!r}; the dataset holds: {shown}")
    else:
        district = unicodedata.normalize("NFC", district)
    needed = (["overview.ipynb", "area.ipynb"] if district else []) + (["compare.ipynb"] if compare else [])
    for nbname in needed:
        if not (paths.notebooks / nbname).exists():
            raise CchcError(f"notebook {nbname} not found in {paths.notebooks}", file=paths.notebooks / nbname)

    # ---- plan and cache keys
    data_hash = hash_tree(paths.processed)
    pkg = package_fingerprint()
    planned = plan_jobs(paths, district, areas, lang, compare)
    planned = [Job(j.name, j.notebook, j.parameters, job_key(j, data_hash, pkg)) for j in planned]
    pdf_file = pdf_name(district, lang)
    publish_key = sha_of({"jobs": [j.key for j in planned], "render": render_fingerprint(), "lang": lang,
                          "district": district, "site": paths.site_name, "pdf": pdf_file})
    stamp = paths.cache / f"publish-{paths.site_name}.json"
    report.site = paths.out / paths.site_name
    report.pdf = paths.out / pdf_file
    if not force and stamp.exists():
        old = json.loads(stamp.read_text())
        if old.get("key") == publish_key and old.get("outputs") == output_hashes(paths, pdf_file) \
                and not any(p.name.startswith(".cchc-build-") for p in paths.out.iterdir()):
            report.status = "up-to-date"
            report.timings["total"] = time.perf_counter() - t_start
            log(f"cchc build: up to date ({len(planned)} pages, {report.timings['total']:.2f} s); "
                f"{report.site}/index.html, {report.pdf}")
            return report

    # ---- execute
    env = build_environment(paths.cache)
    os.environ.update({k: env[k] for k in ("SOURCE_DATE_EPOCH",)})
    ensure_kernelspec(env)
    cache_dir = paths.cache / "cache" / paths.site_name
    cache_dir.mkdir(parents=True, exist_ok=True)
    if force:
        for p in cache_dir.glob("*.ipynb"):
            p.unlink()
    n_run = sum(1 for j in planned if not (cache_dir / f"{j.name}-{j.key[:20]}.ipynb").exists())
    log(f"cchc build: {len(planned)} notebooks ({n_run} to execute, {len(planned) - n_run} cached), "
        f"{min(jobs, max(n_run, 1))} worker(s), lang={lang}, "
        + (f"district={district}" if district else "") + (", " if district and compare else "")
        + (f"comparison of {len(names)} districts" if compare else ""))

    def progress(r: Result, done: int, total: int) -> None:
        state = "cached" if r.cached else ("ok" if r.ok else "FAILED")
        extra = "" if r.cached else f" {r.seconds:5.1f} s"
        log(f"  [{done}/{total}] {state:6} {r.name}{extra}" + (f"  {r.error}" if r.error else ""))

    from cchc_analysis.pack import compare as C
    from cchc_analysis.pack import views as P

    nav = [{"kind": "index", "href": "index.html", "label": P.t("home", lang)}]
    if district:
        nav.append({"kind": "overview", "href": "overview.html", "label": P.t("overview", lang)})
        nav += [{"kind": f"area-{a}", "href": f"area-{a}.html", "label": P.area_label(a, lang)} for a in areas]
    if compare:
        nav.append({"kind": "compare", "href": "compare.html", "label": C.t("title", lang)})
    if district:
        ds_info = {"district": district, "district_line": f"{P.t('district', lang)} {district}, "
                                                          f"{P.t('province', lang)} {provinces[district]}"}
    else:
        n_prov = len(set(provinces.values()))
        counts = f"{len(names)} huyện, {n_prov} tỉnh" if lang == "vi" else \
            f"{len(names)} districts in {n_prov} province{'s' if n_prov > 1 else ''}"
        ds_info = {"district": C.t("title", lang), "district_line": f"{C.t('title', lang)}: {counts}"}
    if any(synthetic for _, synthetic in units.values()):  # never silently: every page header and the PDF cover say so
        ds_info["district_line"] += f" | {C.t('synthetic', lang)}"
    spec = make_render_spec(lang, nav, ds_info, pdf_file)
    paths.out.mkdir(parents=True, exist_ok=True)
    tmp_root = Path(tempfile.mkdtemp(prefix=".cchc-build-", dir=paths.out))
    site = tmp_root / paths.site_name
    prepared: dict = {}

    def while_waiting() -> None:
        """Work that needs no executed notebook, done while the kernels run."""
        t1 = time.perf_counter()
        site.mkdir()
        copy_assets(site)
        prepared["ds"] = P.load_dataset(paths.processed, district) if district else None
        prepared["downloads"] = write_downloads(paths.processed, site / "data", lang)
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import weasyprint  # noqa: F401 - warm the import for the PDF step
        report.timings["prepare"] = time.perf_counter() - t1

    t0 = time.perf_counter()
    try:
        results = execute_jobs(planned, cache_dir, env, jobs, start_timeout, execution_timeout, progress, spec,
                               while_waiting)
    except BaseException:
        shutil.rmtree(tmp_root, ignore_errors=True)
        raise
    report.results = results
    report.kernels_started = sum(1 for r in results if not r.cached)
    report.timings["execute"] = time.perf_counter() - t0
    failed = [r for r in results if not r.ok]
    if failed:
        shutil.rmtree(tmp_root, ignore_errors=True)
        report.status = "failed"
        details = "; ".join(f"{r.name} ({r.error})" for r in failed)
        raise BuildFailed(f"{len(failed)} of {len(results)} notebooks failed: {details}. Nothing was published; "
                          f"the previous pack in {paths.out} is unchanged.", report)

    # ---- render into a temporary folder beside the output, then swap in
    t0 = time.perf_counter()
    try:
        ds, downloads = prepared["ds"], prepared["downloads"]
        pages = render_pages(results, site, spec)
        report.timings["html"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        order = [f"{j.name}.html" for j in planned]
        build_pdf(pages, order, ds_info, lang, site, tmp_root / pdf_file)
        shutil.copyfile(tmp_root / pdf_file, site / pdf_file)
        report.timings["pdf"] = time.perf_counter() - t1
        render_index(site, ds, lang, nav, ds_info, pdf_file, (tmp_root / pdf_file).stat().st_size, downloads)
        publish(tmp_root, paths, pdf_file)
    except BaseException:
        shutil.rmtree(tmp_root, ignore_errors=True)
        raise
    report.timings["render"] = time.perf_counter() - t0
    stamp.write_text(json.dumps({"key": publish_key, "outputs": output_hashes(paths, pdf_file)}, indent=1))
    report.status = "built"
    report.timings["total"] = time.perf_counter() - t_start
    t = report.timings
    log(f"cchc build: done in {t['total']:.1f} s (execute {t['execute']:.1f} s, html {t['html']:.1f} s, "
        f"pdf {t['pdf']:.1f} s); {report.site}/index.html, {report.pdf}")
    return report


class BuildFailed(CchcError):
    def __init__(self, message: str, report: BuildReport):
        super().__init__(message)
        self.report = report


def run_build(args) -> int:
    """Entry point of ``cchc build`` (see cli.py); returns the exit code."""
    build(raw=args.raw, processed=args.processed, out=args.out, lang=args.lang, jobs=args.jobs, force=args.force,
          areas=getattr(args, "area", None), district=getattr(args, "district", None),
          notebooks=getattr(args, "notebooks", None), cache=getattr(args, "cache_dir", None),
          parse=not getattr(args, "no_parse", False),
          execution_timeout=getattr(args, "timeout", None) or EXECUTION_TIMEOUT)
    return 0
