"""New year data: an Excel (or CSV) template for analysts, validated ingest, and reading ingested files back.

The analyst fills one column of a workbook; ``cchc ingest`` checks every cell before anything in ``data/`` changes,
reports every problem at once (sheet and cell, in Vietnamese with an English gloss), and only then stores the file
as a new immutable raw input with a manifest entry and rebuilds the processed dataset.
"""


from __future__ import annotations

import hashlib
import json
import os
from dataclasses import replace as replace_fields
from datetime import date
from pathlib import Path

from cchc_analysis.concurrency import exclusive
from cchc_analysis.dataset.build import build_dataset, discover
from cchc_analysis.dataset.io import write_dataset
from cchc_analysis.dataset.yearfile import (
    MANIFEST,
    UPDATES_DIR,
    FilledFile,
    Problem,
    check_filled,
    read_filled,
    year_entries,
)
from cchc_analysis.errors import CchcError
from cchc_analysis.text import slug
from cchc_analysis.updates.template import DistrictFolder, find_district
from cchc_analysis.workflow import evaluated_dataset

SHOWN_PROBLEMS = 50  # a broken file can have thousands; the first ones and a count say enough


# -- storing -----------------------------------------------------------------------------------------------------
def store(filled: FilledFile, folder: DistrictFolder, replace: bool, status: str, source: str,
          received: date) -> tuple[Path, dict, bytes]:
    """Copy the file into the district's raw folder and add its manifest entry; returns what undoes it."""
    manifest_path = folder.path / MANIFEST
    old_manifest = manifest_path.read_bytes()
    manifest = json.loads(old_manifest)
    target_dir = folder.path / UPDATES_DIR
    target_dir.mkdir(exist_ok=True)
    stem = f"{slug(folder.district)}-{filled.year}"
    version = 1
    while any(p.stem in (stem if version == 1 else f"{stem}-v{version}",) for p in target_dir.iterdir()):
        version += 1
    name = (stem if version == 1 else f"{stem}-v{version}") + filled.path.suffix.lower()
    target = target_dir / name
    data = filled.path.read_bytes()
    entry = {
        "file": f"{UPDATES_DIR}/{name}", "kind": "year_data", "year": filled.year,
        "source": source or filled.path.name, "sha256": hashlib.sha256(data).hexdigest(),
        "received": received.isoformat(), "status": status,
    }
    for old in year_entries(manifest):
        if old.get("year") == filled.year:
            if not replace:
                raise CchcError(f"{filled.year} already has a year file ({old['file']}); use --replace",
                                file=filled.path)
            old["superseded_by"] = entry["file"]
            entry["replaces"] = old["file"]
    manifest["files"].append(entry)
    target.write_bytes(data)
    tmp = manifest_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, manifest_path)
    return target, entry, old_manifest


def ingest(path: Path, raw_dir: Path, processed_dir: Path, replace: bool = False, status: str = "preliminary",
           source: str = "", received: date | None = None) -> tuple[list[Problem], str]:
    """Validate; on any error raise IngestError (nothing changed). Else store and rebuild; returns warnings.

    One command at a time over ``raw_dir`` and ``processed_dir`` (check, store and rebuild under one lock); an
    interruption at any point (Ctrl-C, SIGTERM) removes the stored file and restores the manifest.
    """
    with exclusive(raw_dir, processed_dir):
        filled = read_filled(Path(path))
        folder = find_district(raw_dir, filled.district)
        filled = replace_fields(filled, district=folder.district)  # `099`, `tuan-giao`: the district identified
        current = build_dataset(discover([raw_dir]), with_narrative=False).indicators
        checked, problems = check_filled(filled, current, replace)
        errors = [p for p in problems if p.severity == "error"]
        warnings = [p for p in problems if p.severity != "error"]
        if errors:
            raise IngestError(filled.path, errors, warnings)
        target, entry, old_manifest = store(filled, folder, replace, status, source, received or date.today())
        try:
            dataset = evaluated_dataset([raw_dir])
            write_dataset(dataset, processed_dir)
        except BaseException:
            target.unlink(missing_ok=True)
            (folder.path / MANIFEST).write_bytes(old_manifest)
            raise
    new_rows = dataset.indicators[(dataset.indicators["district"] == folder.district)
                                  & (dataset.indicators["year"] == filled.year)
                                  & (dataset.indicators["source_file"].str.endswith(entry["file"]))]
    summary = (f"stored {target} ({entry['status']}), {len(new_rows)} values for {filled.year}; "
               f"rebuilt {processed_dir}/")
    return warnings, summary


class IngestError(CchcError):
    def __init__(self, path: Path, errors: list[Problem], warnings: list[Problem]):
        self.errors, self.warnings = errors, warnings
        listed = (errors + warnings)[:SHOWN_PROBLEMS]
        lines = "\n".join(f"  {p}" for p in listed)
        if len(errors) + len(warnings) > len(listed):
            lines += (f"\n  ... và {len(errors) + len(warnings) - len(listed)} vấn đề khác / and "
                      f"{len(errors) + len(warnings) - len(listed)} more")
        super().__init__(f"{len(errors)} lỗi, không có gì được thay đổi / {len(errors)} error(s), nothing was "
                         f"changed:\n{lines}", file=path)


