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
    return listing


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


