"""Per-report results cached by content hash, so rebuilding a corpus after one district changed re-reads that
district only.

A district's entry is keyed by everything its results depend on: the report's bytes and the path it is cited by,
its manifest, every file the manifest lists beside it (curated file, year files), what was asked (with or without
the prose layer) and the package's code and data (``package_fingerprint``). An entry is written atomically
(temporary file, then rename): the lengths of its two parts, the district's bytes (``dataset.blobs.Segment``: its
tables' Arrow batches, read when a corpus frame is built; their CSV, workbook and JSON texts, which the writer copies
into the outputs): a rebuild does not read them all, nor does a worker send them to the main process; then a small
pickled header naming this format, its own key and path, and the result whose segments point into the entry already
(read back as it is, nothing to rewrite). An entry that cannot be read, says another key, format or place
(a cache folder moved), has another length, or is not listed as valid (``valid.json``), is ignored and rebuilt,
never trusted. Entries not used by a build are pruned by ``prune``, beyond a bound (the cache holds about two
corpora's worth, not every past state). Without a cache folder, a run keeps its entries in a temporary folder of
its own.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
import shutil
import stat
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from cchc_analysis.dataset.blobs import Segment
from cchc_analysis.read.manifest import MANIFEST, ReportInput, display_path
from cchc_analysis.read.source import MAX_REPORT_BYTES, file_sha256, read_bounded

FORMAT = "cchc-parse-cache/5"
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


def report_key(report: ReportInput, kind: str, hashes: HashIndex | None = None) -> str:
    """The content hash of one report's inputs (``kind`` names what is cached: the parse, the evaluation ...), or ""
    (not cached) when a file it lists is not a regular file: the parse then says what is wrong with it. The report
    is read as the parse reads it (a pipe or an oversized file is the same error), unless ``hashes`` vouches for its
    digest."""
    h = hashlib.sha256()
    h.update(json.dumps([FORMAT, kind, package_fingerprint(), display_path(report.path), report.manifest,
                         report.entry], sort_keys=True, ensure_ascii=False, default=str).encode())
    h.update(hashes.digest(report.path) if hashes else _report_digest(report.path))
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



def _report_digest(path: Path) -> bytes:
    return hashlib.sha256(read_bounded(path, MAX_REPORT_BYTES)).digest()


class HashIndex:
    """Reports' SHA-256 digests by what ``os.stat`` says of them (size, modification and change times, inode), as
    git's index keeps them: a rebuild hashes again only the reports that changed. A digest is trusted only for a
    file last modified well before the index was written (a file changed in the same instant as it was hashed could
    keep its times: hashed again, as git does for "racily clean" files). A damaged or foreign index is ignored."""

    FILE = "hashes.json"
    MARGIN_NS = 2_000_000_000

    def __init__(self, folder: Path):
        self.path = Path(folder) / self.FILE
        self.entries: dict[str, list] = {}
        self.written_ns = 0
        self.changed = False
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("format") == FORMAT:
                self.entries, self.written_ns = data["entries"], self.path.stat().st_mtime_ns
        except (OSError, ValueError, KeyError, AttributeError, TypeError):
            pass

    def digest(self, path: Path) -> bytes:
        """The SHA-256 digest of the report at ``path`` (read as the parse reads it when not vouched for)."""
        name = os.path.abspath(path)
        try:
            info = os.stat(name)
        except OSError:
            return _report_digest(path)  # the read says what is wrong
        seen = [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]
        known = self.entries.get(name)
        if (known and known[:4] == seen and stat.S_ISREG(info.st_mode)
                and max(info.st_mtime_ns, info.st_ctime_ns) < self.written_ns - self.MARGIN_NS):
            return bytes.fromhex(known[4])
        digest = _report_digest(path)
        self.entries[name] = [*seen, digest.hex()]
        self.changed = True
        return digest

    def save(self, keep: set[str]) -> None:
        """Write the index (atomically) with the reports of ``keep`` only (absolute paths), if anything changed."""
        entries = {name: value for name, value in self.entries.items() if name in keep}
        if not self.changed and entries == self.entries:
            return
        _write_json(self.path, {"format": FORMAT, "entries": entries})


def _write_json(path: Path, data: dict) -> None:
    """Write ``data`` as JSON at ``path`` atomically (a temporary file beside it, renamed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_keys(path: Path) -> set[str]:
    """The keys listed in a valid-entries file (none if it is absent, damaged or of another format)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return set(data["keys"]) if data.get("format") == FORMAT else set()
    except (OSError, ValueError, KeyError, AttributeError, TypeError):
        return set()


ENTRY = ".entry"
VALID = "valid.json"  # the keys whose entries passed the schema check
_LENGTHS = 16  # bytes of the texts' length and the header's, at the start of an entry


class ResultCache:
    """A folder of per-report results, one entry file each: the result's bytes (Arrow batches, and the texts the
    writer copies from the entry into the outputs), then a pickled header (the result, its bytes replaced by
    ``Segment``s).

    An entry is used only once its district's rows passed the schema (``commit`` lists its key in ``valid.json``:
    one file written per run, where a marker file per entry cost a file creation each, about 0.3 ms), so a run killed
    between computing and validating never leaves an entry that is trusted; a key about to be computed again is
    taken off the list first (``invalidate``). ``scratch``: a temporary folder of this run only (no cache asked
    for), removed by ``close``.
    """

    def __init__(self, folder: Path | None):
        self.scratch = folder is None
        self.folder = Path(tempfile.mkdtemp(prefix="cchc-parse-")) if folder is None else Path(folder)
        self.used: set[str] = set()
        self.hits = 0
        self.misses = 0
        self._valid: set[str] | None = None

    @functools.cached_property
    def hashes(self) -> HashIndex | None:
        """The reports' digests kept in the folder (read when first asked: a worker storing entries never needs
        them; none for a scratch folder)."""
        return None if self.scratch else HashIndex(self.folder)

    @property
    def valid(self) -> set[str]:
        """The keys of the entries that passed the schema check (read once)."""
        if self._valid is None:
            self._valid = set() if self.scratch else _read_keys(self.folder / VALID)
        return self._valid

    def __enter__(self) -> ResultCache:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.scratch:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _path(self, key: str, suffix: str = ENTRY) -> Path:
        return self.folder / f"{key}{suffix}"

    def get(self, key: str):
        """The result stored under ``key``, or None (absent, not validated, damaged, or not what it claims to be)."""
        if self.scratch:
            return None
        self.used.add(key)
        path = self._path(key)
        try:
            with open(path, "rb") as f:
                lengths = os.pread(f.fileno(), _LENGTHS, 0)
                body, length = int.from_bytes(lengths[:8], "little"), int.from_bytes(lengths[8:], "little")
                header = pickle.loads(os.pread(f.fileno(), length, _LENGTHS + body))
                size = os.fstat(f.fileno()).st_size
        except Exception:  # noqa: BLE001 - absent, truncated, foreign: rebuilt either way
            self.misses += 1
            return None
        if not (isinstance(header, dict) and header.get("format") == FORMAT and header.get("key") == key
                and header.get("path") == _place(path) and size == _LENGTHS + body + length
                and key in self.valid):
            self.misses += 1
            return None
        self.hits += 1
        os.utime(path)  # recently used: kept by prune
        return header["result"]

    def store(self, key: str, result, texts: list[bytes]) -> object:
        """Write an entry atomically (a temporary file in the folder, renamed): ``result`` refers to ``texts`` as
        ``Segment``s with offsets into them, one after another; returns it with their path and offsets in the file.
        Not yet valid: see ``commit``."""
        self.folder.mkdir(parents=True, exist_ok=True)
        place = _place(self._path(key))
        located = _located(result, place, _LENGTHS)
        header = pickle.dumps({"format": FORMAT, "key": key, "path": place, "result": located},
                              protocol=pickle.HIGHEST_PROTOCOL)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=self.folder)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(sum(map(len, texts)).to_bytes(8, "little") + len(header).to_bytes(8, "little"))
                f.writelines(texts)
                f.write(header)
            os.replace(tmp, self._path(key))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.used.add(key)
        return located

    def commit(self, keys: list[str]) -> None:
        """Mark the entries of ``keys`` valid (their rows passed the schema)."""
        self._save_valid(set(keys), set())

    def invalidate(self, keys: list[str]) -> None:
        """Take ``keys`` off the valid entries before they are computed and stored again: valid only once their rows
        passed again."""
        self._save_valid(set(), set(keys) & self.valid)

    def _save_valid(self, added: set[str], removed: set[str]) -> None:
        """The list of valid keys with ``added`` and without ``removed``, merged with what another run sharing the
        folder may have written since it was read."""
        if self.scratch or not (added - self.valid or removed):
            return
        self._valid = (_read_keys(self.folder / VALID) | self.valid | added) - removed
        _write_json(self.folder / VALID, {"format": FORMAT, "keys": sorted(self._valid)})

    def prune(self) -> int:
        """Remove temporary files left by killed runs, entries of an older format, and the oldest entries this build
        did not use beyond as many as it used (plus a few): switching between two corpora stays warm, the cache
        does not grow without end."""
        if self.scratch or not self.folder.is_dir():
            return 0
        stray = [p for p in self.folder.glob(".tmp-*") if time.time() - p.stat().st_mtime > STRAY_AFTER_S]
        entries = list(self.folder.glob(f"*{ENTRY}"))
        unused = sorted((p for p in entries if p.stem not in self.used),
                        key=lambda p: (p.stat().st_mtime_ns, p.name), reverse=True)
        doomed = stray + unused[len(self.used) + PRUNE_SLACK:] + list(self.folder.glob("*.pkl"))
        doomed += list(self.folder.glob("*.ok"))  # the validity markers of an older format
        for path in doomed:
            path.unlink(missing_ok=True)
        self._save_valid(set(), self.valid - ({p.stem for p in entries} - {p.stem for p in doomed}))
        return len(doomed)


def _place(path: Path) -> str:
    """Where an entry is, as its segments name it (the folder may be named relatively: from here, absolutely)."""
    return os.path.abspath(path)


def _located(result, path: str, start: int):
    """``result`` (a ``dataset.build.DistrictResult``) with its segments' path and offsets in the entry file
    ``path`` (its texts begin at ``start``)."""
    return result.with_segments(lambda segment: Segment(path, start + segment.offset, segment.length))
