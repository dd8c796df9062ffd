"""Publish: the data downloads, then the freshly built site and PDF swapped into the output folder at once."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from cchc_analysis.dataset.csv_for_people import copy_csv_for_people
from cchc_analysis.pack.catalog import catalog
from cchc_analysis.pack.plan import BuildPaths, site


def human_size(n: int) -> str:
    for unit in ("B", "KB", "MB"):
        if n < 1024 or unit == "MB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def write_downloads(processed: Path, data_dir: Path, lang: str) -> list[dict]:
    """Copy the dataset, its Excel workbook and its data package (all written by `cchc parse`) into the site: the
    files ``site.yaml`` lists, those that exist."""
    data_dir.mkdir(parents=True, exist_ok=True)
    descriptions = catalog(lang)["downloads"]
    listing = []
    for name in site()["downloads"]:
        src = processed / name
        if not src.exists():
            continue
        if name.endswith(".csv"):
            copy_csv_for_people(src, data_dir / name)  # formula-like cells neutralised for spreadsheet programs
        else:
            shutil.copyfile(src, data_dir / name)
        listing.append({"name": name, "href": f"data/{name}", "format": name.rsplit(".", 1)[1].upper(),
                        "size": human_size((data_dir / name).stat().st_size),
                        "description": descriptions[name]})
    write_readme(data_dir, [d["name"] for d in listing], lang)
    return listing


def write_readme(data_dir: Path, names: list[str], lang: str) -> None:
    """README.md of the data folder, in both languages (the pack's first): what each file is, the licence, how to
    cite. Words from the catalogs (``readme`` and ``downloads``)."""
    parts = []
    for one in (lang, *[x for x in ("vi", "en") if x != lang]):
        c = catalog(one)
        r = c["readme"]
        files = "\n".join(f"- `{name}`: {c['downloads'][name]}" for name in names)
        parts.append(f"# {r['title']}\n\n{r['lead']}\n\n## {r['files']}\n\n{files}\n\n"
                     f"## {r['licence_title']}\n\n{r['licence']}\n\n## {r['cite_title']}\n\n{r['cite']}\n")
    (data_dir / "README.md").write_text("\n---\n\n".join(parts), encoding="utf-8")


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


