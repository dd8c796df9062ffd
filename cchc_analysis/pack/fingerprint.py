"""Per-district fingerprints of the processed dataset: what a district's pages read, as one hash per district.

A district's notebooks load the dataset and narrow it to the district (``Dataset.for_district``: its own rows and the
rows of no district, plus the tables without a district column). A hash over exactly those rows lets a change in one
district's report re-execute that district's pages only. Computing it needs pandas, so it is done once per processed
dataset and stored in the build cache, keyed by the processed folder's hash: the warm path reads a json file.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

STAMP = "fingerprints.json"


def cached_fingerprints(cache: Path, data_hash: str) -> dict[str, str] | None:
    """The fingerprints stored for this processed folder, or None (not computed yet, or for other data)."""
    path = cache / STAMP
    if not path.exists():
        return None
    stored = json.loads(path.read_text(encoding="utf-8"))
    return stored["districts"] if stored.get("processed") == data_hash else None


def district_fingerprints(processed: Path, cache: Path, data_hash: str) -> dict[str, str]:
    """District -> hash of the rows its pages read; from the cache when the processed folder is unchanged."""
    found = cached_fingerprints(cache, data_hash)
    if found is not None:
        return found
    found = compute(processed)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = cache / (STAMP + ".tmp")
    tmp.write_text(json.dumps({"processed": data_hash, "districts": found}, ensure_ascii=False, indent=1),
                   encoding="utf-8")
    tmp.replace(cache / STAMP)
    return found


def compute(processed: Path) -> dict[str, str]:
    """One pass over every table: each table's rows grouped by district (pandas hashing per row, in file order);
    a district's hash joins its groups, the rows of no district and the tables without a district column."""
    from cchc_analysis.dataset.io import load_dataset
    from cchc_analysis.dataset.schema import TABLES

    ds = load_dataset(processed)
    districts = ds.district_names()
    parts: dict[str, list[str]] = {d: [] for d in districts}
    shared: list[str] = []
    for name, table in TABLES.items():
        frame = getattr(ds, table.dataset_attribute, None)
        if frame is None:
            continue
        if isinstance(frame, list):  # sections.json
            groups = _json_groups(frame)
        elif "district" not in frame.columns:
            shared.append(f"{name}:{_frame_hash(frame)}")
            continue
        else:
            groups = {d: _frame_hash(g) for d, g in frame.groupby("district", sort=False)}
        shared.append(f"{name}::{groups.pop('', '-')}")
        for d in districts:
            parts[d].append(f"{name}:{groups.get(d, '-')}")
    common = "\n".join(shared)
    return {d: hashlib.sha256(("\n".join(parts[d]) + "\n" + common).encode()).hexdigest() for d in districts}


def _frame_hash(frame) -> str:
    import pandas as pd

    rows = pd.util.hash_pandas_object(frame.astype(str), index=False).to_numpy()
    return hashlib.sha256(",".join(map(str, frame.columns)).encode() + rows.tobytes()).hexdigest()


def _json_groups(items: list[dict]) -> dict[str, str]:
    groups: dict[str, list[dict]] = {}
    for item in items:
        groups.setdefault(item.get("district", ""), []).append(item)
    return {d: hashlib.sha256(json.dumps(g, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
            for d, g in groups.items()}
