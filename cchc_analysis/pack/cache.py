"""Cache keys of a build: what an executed notebook and a published pack depend on, as hashes.

A notebook is re-executed only when its source, parameters, the processed data or the package changed; the pack is
re-published only when a notebook's key, the templates or the pack's own code changed, or its files were touched.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from pathlib import Path

from cchc_analysis import __version__
from cchc_analysis.concurrency import STAGING_PREFIX
from cchc_analysis.pack.plan import PACK_DIR, BuildPaths, Job
from cchc_analysis.read.source import file_sha256
from cchc_analysis.text import slug

PACKAGE_DIR = PACK_DIR.parent
NBCONVERT_TEMPLATES = PACK_DIR / "templates" / "cchc"
KERNEL_NAME = "python3"
# What runs a notebook: a new version of any of these re-executes the notebooks.
RUNTIME_PACKAGES = ("pandas", "numpy", "matplotlib", "papermill", "nbclient", "nbformat", "ipykernel", "pyarrow",
                    "jinja2")
RENDER_PACKAGES = ("nbconvert", "weasyprint", "openpyxl", "jinja2")



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
        h.update(rel.encode() + b"\0" + file_sha256(p).encode() + b"\n")
    return h.hexdigest()


def sha_of(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _versions(names: tuple[str, ...]) -> dict[str, str]:
    """Installed versions, read from the ``<name>-<version>.dist-info`` folder names on ``sys.path`` (what
    importlib.metadata reads, without its 0.1-0.2 s of imports: the warm path stays light). "-" when not installed."""
    wanted = {_dist_key(n): n for n in names}
    found: dict[str, str] = {}
    for entry in sys.path:
        if not os.path.isdir(entry or "."):
            continue
        for folder in sorted(os.listdir(entry or ".")):
            if folder.endswith(".dist-info"):
                dist, _, version = folder[:-len(".dist-info")].partition("-")
                if _dist_key(dist) in wanted:
                    found.setdefault(wanted[_dist_key(dist)], version)
    return {n: found.get(n, "-") for n in names}


def _dist_key(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def package_fingerprint() -> dict:
    """What the executed notebooks depend on besides their source, parameters and data: the package's code, data,
    catalogs and page templates (not nbconvert's page shell, which only rendering uses)."""
    return {"cchc_analysis": __version__,
            "source": hash_tree(PACKAGE_DIR, ("*.py", "*.csv", "*.yaml", "*.json", "*.j2"),
                                exclude_dirs=("pack/templates/cchc",)),
            "python": sys.version.split()[0], **_versions(RUNTIME_PACKAGES)}


def render_fingerprint() -> dict:
    """What turns executed notebooks into the site and the PDF."""
    return {"templates": hash_tree(PACK_DIR / "templates"), "pack": hash_tree(PACK_DIR, ("*.py", "*.yaml")),
            **_versions(RENDER_PACKAGES)}


def job_key(job: Job, data_hash: str, pkg: dict) -> str:
    params = {k: v for k, v in job.parameters.items() if k != "data_dir"}  # the path does not change the page
    return sha_of({"notebook": file_sha256(Path(job.notebook)), "parameters": params, "data": data_hash,
                   "package": pkg, "kernel": KERNEL_NAME})


def cached_notebook(cache_dir: Path, job: Job) -> Path:
    """A district's runs in the district's folder (shared by its pack alone and the province site), the pages of
    every district in ``corpus``."""
    return cache_dir / (slug(job.district) if job.district else "corpus") / f"{job.name}-{job.key[:20]}.ipynb"


def output_hashes(paths: BuildPaths, pdf_file: str) -> dict[str, str]:
    """Every published file and its hash: a pack whose files were touched is built again."""
    files = {}
    site = paths.out / paths.site_name
    for p in sorted(site.rglob("*")):
        if p.is_file():
            files[p.relative_to(paths.out).as_posix()] = file_sha256(p)
    pdf = paths.out / pdf_file
    if pdf.exists():
        files[pdf_file] = file_sha256(pdf)
    return files


def publish_stamp(paths: BuildPaths) -> Path:
    return paths.cache / f"publish-{paths.site_name}.json"


def is_published(paths: BuildPaths, publish_key: str, pdf_file: str) -> bool:
    """True when the pack in the output folder was built with this key and no file of it changed since."""
    stamp = publish_stamp(paths)
    if not stamp.exists():
        return False
    old = json.loads(stamp.read_text())
    return old.get("key") == publish_key and old.get("outputs") == output_hashes(paths, pdf_file) \
        and not any(p.name.startswith(".cchc-build-") for p in paths.out.iterdir())


def record_published(paths: BuildPaths, publish_key: str, pdf_file: str) -> None:
    publish_stamp(paths).write_text(json.dumps({"key": publish_key, "pdf": pdf_file,
                                                "outputs": output_hashes(paths, pdf_file)}, indent=1))


def published_pdf(paths: BuildPaths) -> str:
    """The PDF the last build published beside the site ("" when unknown)."""
    stamp = publish_stamp(paths)
    return json.loads(stamp.read_text()).get("pdf", "") if stamp.exists() else ""
