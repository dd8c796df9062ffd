"""What a ``manifest.json`` may hold, as data, and one function that checks a manifest against it when it is read.

Without it a string ``"synthetic": "false"`` marked a real district SYNTHETIC, a typo in ``kind`` dropped a report
silently, a missing ``sha256`` switched the integrity check off, and a number where text was expected gave a traceback.
"""

from __future__ import annotations

import re
from pathlib import Path

from cchc_analysis.errors import CchcError

# field -> (type, required); a type is "text", "bool", "int", "sha256", "date", "relative_path" or a tuple of
# allowed values
MANIFEST_FIELDS = {
    "district": ("text", True), "province": ("text", True), "district_code": ("text", False),
    "province_code": ("text", False), "synthetic": ("bool", False), "files": ("files", True),
}
FILE_FIELDS = {
    "file": ("relative_path", True), "kind": (("report", "year_data", "curated"), False), "sha256": ("sha256", True),
    "report": ("relative_path", False),  # a curated file: the report it describes
    "year": ("int", False), "status": (("preliminary", "final", "synthetic"), False), "received": ("date", False),
    "title": ("text", False), "issuer": ("text", False), "answers_plan": ("text", False), "period": ("text", False),
    "figures_as_of": ("date", False), "format": (("text", "docx", "pdf"), False), "format_note": ("text", False),
    "source": ("text", False),
    "superseded_by": ("relative_path", False), "replaces": ("relative_path", False),
}
REQUIRED_BY_KIND = {"year_data": ("year",), "curated": ("report",)}

_CHECKS = {
    "text": (lambda v: isinstance(v, str) and v.strip() != "", "a non-empty text"),
    "bool": (lambda v: isinstance(v, bool), "true or false (not in quotes)"),
    "int": (lambda v: isinstance(v, int) and not isinstance(v, bool), "a whole number (not in quotes)"),
    "sha256": (lambda v: isinstance(v, str) and re.fullmatch(r"[0-9a-f]{64}", v) is not None,
               "64 lower-case hexadecimal digits (the file's sha256)"),
    "date": (lambda v: isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) is not None, "a date YYYY-MM-DD"),
    "relative_path": (lambda v: isinstance(v, str) and v.strip() != "" and not Path(v).is_absolute()
                      and ".." not in Path(v).parts and "\\" not in v,
                      "a path inside the district folder (no '..', not absolute)"),
}


def _field_problem(key: str, value, kind) -> str | None:
    if isinstance(kind, tuple):
        return None if value in kind else f"'{key}' is {value!r}; expected one of: {', '.join(kind)}"
    check, expected = _CHECKS[kind]
    return None if check(value) else f"'{key}' is {value!r}; expected {expected}"


def _object_problems(obj, fields: dict, where: str) -> list[str]:
    if not isinstance(obj, dict):
        return [f"{where} is not an object"]
    problems = [f"{where}: unknown key '{key}' (known: {', '.join(fields)})" for key in obj if key not in fields]
    problems += [f"{where}: '{key}' is missing" for key, (_, required) in fields.items()
                 if required and key not in obj]
    problems += [f"{where}: {problem}" for key, value in obj.items() if key in fields and fields[key][0] != "files"
                 for problem in [_field_problem(key, value, fields[key][0])] if problem]
    return problems


def manifest_problems(manifest) -> list[str]:
    """Every problem of a manifest, in reading order (empty when it is valid)."""
    problems = _object_problems(manifest, MANIFEST_FIELDS, "manifest")
    if problems and not isinstance(manifest, dict):
        return problems
    files = manifest.get("files")
    if "files" in manifest and (not isinstance(files, list) or not files):
        return problems + ["manifest: 'files' must be a non-empty list of file entries"]
    for i, entry in enumerate(files or []):
        where = f"files[{i}]" + (f" ({entry['file']})" if isinstance(entry, dict) and "file" in entry else "")
        problems += _object_problems(entry, FILE_FIELDS, where)
        if isinstance(entry, dict):
            problems += [f"{where}: '{key}' is missing (kind {entry.get('kind')})"
                         for key in REQUIRED_BY_KIND.get(entry.get("kind"), ()) if key not in entry]
    return problems


def validate_manifest(manifest, path: Path) -> dict:
    problems = manifest_problems(manifest)
    if problems:
        shown = "; ".join(problems[:10]) + (f"; and {len(problems) - 10} more" if len(problems) > 10 else "")
        raise CchcError(f"manifest does not follow its schema: {shown}", file=path,
                        hint="see 'Raw data' in the README for the fields of manifest.json")
    return manifest
