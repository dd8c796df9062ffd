"""SYNTHETIC district reports derived from the reference report, for tests and benchmarks only.

Only one real report is in hand. To exercise a corpus (several districts, 700 for the scale benchmark) this module
writes copies of it under other district names with perturbed figures. Every file it writes says SYNTHETIC in its
name, its first line and its manifest, and nothing here is ever read by ``make report`` (which reads data/raw/).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from pathlib import Path

MARK = "SYNTHETIC TEST DATA: derived from the Tuần Giáo report with altered names and figures; not a real report."
_NUMBER_CELL = re.compile(r"^\d{1,3}(?:\.\d{3})*$|^\d+$")


def synthetic_report(reference_text: str, district: str, seed: int) -> str:
    """The reference report renamed to ``district``, with the whole-number table cells scaled by a seeded factor per
    district times a factor per row (so rates differ between districts too; 0, 1 and 100 are kept as they are)."""
    rng = random.Random(seed)
    factor = rng.uniform(0.6, 1.4)
    lines = reference_text.split("\n")
    out = [MARK]
    in_tables = False
    for line in lines:
        line = line.replace("Tuần Giáo", district)
        if line.startswith("Phụ lục 1"):
            in_tables = True
        if in_tables and "\t" in line:
            cells = line.split("\t")
            row_factor = factor * rng.uniform(0.8, 1.2)
            for i, cell in enumerate(cells[2:], start=2):
                if _NUMBER_CELL.match(cell):
                    value = int(cell.replace(".", ""))
                    scaled = value if value in (0, 1, 100) else max(0, round(value * row_factor))
                    cells[i] = f"{scaled:,}".replace(",", ".") if "." in cell else str(scaled)
            line = "\t".join(cells)
        out.append(line)
    return "\n".join(out)


def write_corpus(reference: Path, target: Path, count: int, province: str = "Tỉnh Tổng Hợp") -> list[Path]:
    """``count`` synthetic district folders under ``target``, each with a report and a manifest."""
    text = Path(reference).read_text(encoding="utf-8")
    folders = []
    for i in range(1, count + 1):
        district = f"Tổng Hợp {i:03d}"
        folder = Path(target) / f"synthetic-{i:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        name = f"synthetic-{i:03d}-bao-cao.txt"
        data = synthetic_report(text, district, seed=i).encode("utf-8")
        (folder / name).write_bytes(data)
        manifest = {
            "district": district, "district_code": f"S{i:03d}", "province": province, "province_code": "S",
            "synthetic": True,
            "files": [{"file": name, "kind": "report", "title": MARK, "period": "2011-2020",
                       "sha256": hashlib.sha256(data).hexdigest(), "received": "2026-01-01", "status": "synthetic"}],
        }
        (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
                                              encoding="utf-8")
        folders.append(folder)
    return folders
