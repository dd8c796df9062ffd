"""Which reports there are and whose: manifests under data/raw/, raw-file checksums, district identity."""

from __future__ import annotations

import csv
import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from cchc_analysis.errors import CchcError
from cchc_analysis.read.manifest_schema import validate_manifest
from cchc_analysis.read.source import SourceText, read_bounded
from cchc_analysis.text import fold

MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 1 << 20
ADMIN_UNITS = Path(__file__).parent / "admin_units.csv"


@dataclass
class ReportInput:
    path: Path
    manifest: dict = field(default_factory=dict)  # the district-level manifest
    entry: dict = field(default_factory=dict)     # this file's entry in it


@dataclass(frozen=True)
class ReportMeta:
    district: str
    province: str
    source_file: str
    district_code: str = ""
    province_code: str = ""
    sha256: str = ""
    format: str = "text"
    text_file: str = ""       # the file the line numbers refer to (the interim text of a Word or PDF report)
    text_sha256: str = ""

    def text_provenance(self) -> dict:
        """The districts.csv fields that say which text the line numbers of this report refer to."""
        return {"format": self.format, "text_file": self.text_file or self.source_file,
                "text_sha256": self.text_sha256 or self.sha256}


def load_manifest(path: Path) -> dict:
    try:
        manifest = json.loads(read_bounded(path, MAX_MANIFEST_BYTES).decode("utf-8"))
    except UnicodeDecodeError:
        raise CchcError("manifest is not UTF-8", file=path) from None
    except json.JSONDecodeError as exc:
        raise CchcError(f"manifest is not valid JSON: {exc.msg}", file=path, line=exc.lineno) from None
    return validate_manifest(manifest, path)


def manifest_paths(root: Path, known: dict[str, str] | None = None) -> list[Path]:
    """The manifests under ``root``, a district folder that is a symbolic link included (each once). ``known``: see
    ``resolved``."""
    known = {} if known is None else known
    found = {resolved(p, known): p for p in [*root.rglob(MANIFEST), *root.glob(f"*/{MANIFEST}")] if p.is_file()}
    return sorted(found.values())


def resolved(path: Path | str, known: dict[str, str]) -> str:
    """``str(path.resolve())``, its folders' resolved paths kept in ``known``: a corpus' 700 district folders and
    their files cost one ``lstat`` each instead of one per component of their path (most of finding the reports)."""
    path = os.fspath(path)
    real = known.get(path)
    if real is None:
        head, name = os.path.split(path)
        if not head or name in ("", ".", "..") or head == path:
            real = str(Path(path).resolve())
        else:
            real = os.path.join(resolved(head, known), name)
            if os.path.islink(real):  # (False when it cannot be told, as for ``resolve``)
                real = str(Path(real).resolve())
        known[path] = real
    return real


def raw_file(manifest_path: Path, entry: dict, known: dict[str, str] | None = None) -> Path:
    """The file an entry names: inside its district folder (a link may not lead out of it) and a regular file.
    ``known``: folders resolved already (``resolved``), when the caller has them."""
    folder = manifest_path.parent
    path = folder / entry["file"]
    known = {} if known is None else known
    if not resolved(path, known).startswith(os.path.join(resolved(folder, known), "")):  # strictly inside it
        raise CchcError(f"'{entry['file']}' leads outside the district folder {folder}", file=manifest_path)
    if not path.exists():
        raise CchcError(f"'{entry['file']}' is listed in the manifest but does not exist", file=manifest_path)
    return path


def discover(paths: list[Path]) -> list[ReportInput]:
    """Report files named directly, or listed (kind "report") in the manifests found under folders."""
    inputs: list[ReportInput] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            known: dict[str, str] = {}
            manifests = manifest_paths(path, known)
            if not manifests:
                raise CchcError(f"no {MANIFEST} found under this folder; name report files directly", file=path)
            for manifest_path in manifests:
                manifest = load_manifest(manifest_path)
                for entry in manifest["files"]:
                    if entry.get("kind", "report") == "report":
                        inputs.append(ReportInput(raw_file(manifest_path, entry, known), manifest, entry))
        elif path.exists():
            manifest_path = path.parent / MANIFEST
            manifest, entry = {}, {}
            if manifest_path.exists():
                manifest = load_manifest(manifest_path)
                entry = next((e for e in manifest["files"] if e.get("file") == path.name), {})
                if not entry:
                    manifest = {}
            inputs.append(ReportInput(path, manifest, entry))
        else:
            raise CchcError("no such file or folder", file=path)
    if not inputs:
        raise CchcError("no reports to parse", file=", ".join(map(str, paths)))
    return inputs


def verify_checksum(report: ReportInput, source: SourceText) -> None:
    """The raw file is the one the manifest recorded: its sha256 and, when recorded, its format."""
    recorded = report.entry.get("format")
    if recorded and recorded != source.format:
        raise CchcError(f"the manifest records format '{recorded}', the file is read as '{source.format}'",
                        file=report.path, hint="correct 'format' in manifest.json (text, docx or pdf)")
    expected = report.entry.get("sha256")
    if expected and expected != source.sha256:
        raise CchcError(
            f"checksum mismatch: the manifest records sha256 {expected[:12]}…, the file has {source.sha256[:12]}…; "
            f"raw files are immutable", file=report.path,
            hint="restore the original file; a corrected report is a new raw file with its own manifest entry")


@lru_cache(maxsize=1)
def _admin_units() -> tuple[dict, ...]:
    with ADMIN_UNITS.open(encoding="utf-8") as handle:
        return tuple(csv.DictReader(handle))


def lookup_unit(district: str, province: str) -> dict | None:
    for unit in _admin_units():
        if fold(unit["district"]) == fold(district) and fold(unit["province"]) == fold(province):
            return unit
    return None


_ISSUER = re.compile(r"\b(?:UBND|Ủy ban nhân dân|ỦY BAN NHÂN DÂN)\s+(huyện|thị xã|thành phố|HUYỆN|THỊ XÃ|THÀNH PHỐ)\s+"
                     r"([A-ZĐÂĂÊÔƠƯÁÀẢÃẠ][^\s,.;:]*(?:\s+[A-ZĐÂĂÊÔƠƯÁÀẢÃẠẤẦẨẪẬẮẰẲẴẶÉÈẺẼẸẾỀỂỄỆÍÌỈĨỊÓÒỎÕỌỐỒỔỖỘỚỜỞỠỢÚÙỦŨỤỨỪỬỮỰÝỲỶỸỴ]"
                     r"[^\s,.;:]*)*)")
_PROVINCE = re.compile(r"\btỉnh\s+([A-ZĐ][^\s,.;:]*(?:\s+[A-ZĐ][^\s,.;:]*)*)")


def identify(source: SourceText, report: ReportInput) -> ReportMeta:
    """District and province: from the manifest when there is one, else from the report's own opening lines."""
    district = report.manifest.get("district")
    province = report.manifest.get("province")
    head = "\n".join(source.lines[:40])
    if not district:
        match = _ISSUER.search(head)
        district = match.group(2).strip() if match else None
    if not province:
        match = _PROVINCE.search(head)
        province = match.group(1).strip() if match else None
    if not district or not province:
        raise CchcError("cannot tell which district (and province) this report is from: no manifest entry and no "
                        "'UBND huyện X' / 'tỉnh Y' in its opening lines", file=report.path,
                        hint=f"add the file to a {MANIFEST} with 'district' and 'province'")
    unit = lookup_unit(district, province)
    return ReportMeta(
        district=district, province=province, source_file=display_path(report.path),
        district_code=report.manifest.get("district_code") or (unit["district_code"] if unit else ""),
        province_code=report.manifest.get("province_code") or (unit["province_code"] if unit else ""),
        sha256=source.sha256, format=source.format, text_file=display_path(source.path),
        text_sha256=source.text_sha256)


def display_path(path: Path) -> str:
    """A stable, relative path for provenance columns (never an absolute path of this machine)."""
    return _display_path(os.path.abspath(path), os.getcwd())


@lru_cache(maxsize=8192)
def _display_path(absolute: str, cwd: str) -> str:
    """``display_path`` of one file seen from ``cwd`` (asked several times a report: kept per process)."""
    path = Path(absolute)
    try:
        return path.relative_to(cwd).as_posix()
    except ValueError:
        pass
    for folder in path.parents:  # outside the working folder: from the district folder (the one with a manifest)
        if (folder / MANIFEST).exists():
            return path.relative_to(folder.parent).as_posix()
        if folder.name == "interim":  # the text extracted from a Word or PDF report: from the interim folder
            return path.relative_to(folder.parent).as_posix()
    return path.name
