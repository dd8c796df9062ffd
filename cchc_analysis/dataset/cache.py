"""Per-report results cached by content hash, so rebuilding a corpus after one district changed re-reads that
district only.

A district's entry is keyed by everything its results depend on: the report's bytes and the path it is cited by,
its manifest, every file the manifest lists beside it (curated file, year files), what was asked (with or without
the prose layer) and the package's code and data (``package_fingerprint``). An entry is a pickle written atomically
(temporary file, then rename) with a header naming this format and its own key; an entry that cannot be read, or
says another key or format, is ignored and rebuilt, never trusted. Entries not used by a build are pruned by
``prune``, beyond a bound (the cache holds about two corpora's worth, not every past state).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
import stat
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from cchc_analysis.read.manifest import MANIFEST, ReportInput, display_path
from cchc_analysis.read.source import MAX_REPORT_BYTES, file_sha256, read_bounded

FORMAT = "cchc-parse-cache/2"
PACKAGE_DIR = Path(__file__).resolve().parents[1]
# what the parse does not depend on: the pack (site, templates) and the benchmarks' synthetic corpus writer
_NOT_PARSE = ("pack/", "synthetic.py", "cli.py")
PRUNE_SLACK = 16
STRAY_AFTER_S = 3600  # a temporary file older than this was left by a killed run (not one writing now)


@functools.lru_cache(maxsize=1)
def package_fingerprint() -> str:
    """One hash of the package's code and data below the pack, Python's version and the table libraries'."""
    h = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*")):
        rel = path.relative_to(PACKAGE_DIR).as_posix()
        if (not path.is_file() or "__pycache__" in rel or rel.startswith(_NOT_PARSE)
                or path.suffix not in (".py", ".yaml", ".csv", ".json")):
            continue
        h.update(rel.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    versions = [sys.version, pd.__version__, getattr(sys.modules.get("pyarrow"), "__version__", "")]
    h.update(json.dumps(versions).encode())
    return h.hexdigest()


def report_key(report: ReportInput, kind: str) -> str:
    """The content hash of one report's inputs (``kind`` names what is cached: the parse, the evaluation ...), or ""
    (not cached) when a file it lists is not a regular file: the parse then says what is wrong with it. The report
    is read as the parse reads it (a pipe or an oversized file is the same error)."""
    h = hashlib.sha256()
    h.update(json.dumps([FORMAT, kind, package_fingerprint(), display_path(report.path), report.manifest,
                         report.entry], sort_keys=True, ensure_ascii=False, default=str).encode())
    h.update(hashlib.sha256(read_bounded(report.path, MAX_REPORT_BYTES)).digest())
    folder = report.path.parent
    for entry in report.manifest.get("files", ()):  # curated file, year files: what the district's results read
        path = folder / entry.get("file", "")
        if path == report.path or path.name == MANIFEST:
            continue
        try:
            if not stat.S_ISREG(os.stat(path).st_mode):
                return ""
        except OSError:
            return ""
        h.update(entry["file"].encode() + b"\0" + file_sha256(path).encode())
    return h.hexdigest()



class ResultCache:
    """A folder of pickled per-report results; ``None`` as the folder turns every call into a no-op."""

    def __init__(self, folder: Path | None):
        self.folder = Path(folder) if folder is not None else None
        self.used: set[str] = set()
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.pkl"

    def get(self, key: str):
        """The result stored under ``key``, or None (absent, unreadable, or not what it claims to be)."""
        if self.folder is None:
            return None
        self.used.add(key)
        try:
            with open(self._path(key), "rb") as f:
                header, value = pickle.load(f)
        except Exception:  # noqa: BLE001 - absent, truncated, foreign: rebuilt either way
            self.misses += 1
            return None
        if header != {"format": FORMAT, "key": key}:
            self.misses += 1
            return None
        self.hits += 1
        os.utime(self._path(key))  # recently used: kept by prune
        return value

    def encode(self, key: str, value) -> bytes:
        """An entry's bytes (a worker process encodes its result once: they are both sent back and stored)."""
        return pickle.dumps(({"format": FORMAT, "key": key}, value), protocol=pickle.HIGHEST_PROTOCOL)

    def put(self, key: str, value) -> None:
        self.store(key, self.encode(key, value))

    def store(self, key: str, data: bytes) -> None:
        """Write an entry atomically: a temporary file in the folder, renamed."""
        if self.folder is None:
            return
        self.used.add(key)
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=self.folder)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, self._path(key))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def prune(self) -> int:
        """Remove temporary files left by killed runs, and the oldest entries this build did not use beyond as many
        as it used (plus a few): switching between two corpora stays warm, the cache does not grow without end."""
        if self.folder is None or not self.folder.is_dir():
            return 0
        stray = [p for p in self.folder.glob(".tmp-*") if time.time() - p.stat().st_mtime > STRAY_AFTER_S]
        unused = sorted((p for p in self.folder.glob("*.pkl") if p.stem not in self.used),
                        key=lambda p: (p.stat().st_mtime_ns, p.name), reverse=True)
        doomed = stray + unused[len(self.used) + PRUNE_SLACK:]
        for path in doomed:
            path.unlink(missing_ok=True)
        return len(doomed)
