"""What an analyst curated about one report, kept beside it under data/raw/<district>/ and listed in its manifest
(kind ``curated``, with the report it describes and its sha256): the figures stated in the prose, the cross-checks
between them and the tables, and the judgements (with quotes) on the parts of the evaluation criteria that only the
prose bears on.

The file is checked against the schema below when it is read: an unknown key or a value of the wrong type is a
CchcError naming the file and the key path. A report with no curated file simply has none.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml

from cchc_analysis.errors import CchcError
from cchc_analysis.read.manifest import ReportInput, display_path

CURATED_KIND = "curated"


@dataclass(frozen=True)
class Record:
    """A mapping with these keys (value schemas) of which ``required`` must be present; no other key."""
    fields: dict
    required: frozenset = frozenset()


@dataclass(frozen=True)
class ListOf:
    item: object


@dataclass(frozen=True)
class OneOf:
    options: tuple


@dataclass(frozen=True)
class Choice:
    """Text that must be one of ``values``."""
    values: tuple


NUMBER = (int, float)
TEXTS = ListOf(str)
SEVERITY = Choice(("error", "warning", "info", "ok"))
QUOTE = Record({"line": int, "quote": str}, frozenset({"line", "quote"}))
FACT = Record({"id": str, "line": int, "quote": str, "raw": str, "value": NUMBER, "unit": str, "counts": str,
               "period": str, "qualifier": Choice(("exact", "more_than", "at_least", "planned")),
               "denominator": NUMBER, "indicator_id": str, "area": str, "note": str},
              frozenset({"id", "line", "quote", "value"}))
NOT_FACT = Record({"line": int, "text": str, "reason": str}, frozenset({"line", "text", "reason"}))
CHECK = Record({
    "id": str, "type": str, "what": str, "note": str, "severity": SEVERITY, "tolerance": NUMBER,
    "total": OneOf((str, NUMBER, Record({"denominator_of": str}, frozenset({"denominator_of"})))),
    "parts": TEXTS, "part": str, "percent": str, "minuend": str, "subtrahend": str, "result": str, "facts": TEXTS,
    "fact": str, "items": TEXTS, "indicator_id": str, "agg": Choice(("last", "year", "sum", "all")),
    "years": ListOf(int), "year": int, "op": Choice(("eq", "ge", "compare", "ge_loose")), "numerator": str,
    "denominator": str, "expected_change": NUMBER, "line": int, "quote": str,
    "direction": Choice(("increasing", "decreasing")),
}, frozenset({"id", "type"}))
WORDED = Record({"vi": str, "en": str}, frozenset({"vi", "en"}))
JUDGEMENT = Record({"criterion": str, "part": str, "judgement": Choice(("supported", "not_evidenced", "contradicted")),
                    "why": WORDED, "quotes": ListOf(QUOTE)}, frozenset({"criterion", "part", "why"}))
CURATED = Record({"facts": ListOf(FACT), "not_facts": ListOf(NOT_FACT), "checks": ListOf(CHECK),
                  "judgements": ListOf(JUDGEMENT)})


@dataclass(frozen=True)
class Curated:
    """The curated file of one report: plain, validated data (read-only: shared by every use of the file)."""
    path: str
    facts: tuple = ()
    not_facts: tuple = ()
    checks: tuple = ()
    judgements: tuple = ()    # on evaluation criteria no table measures (cchc_analysis/evaluation/criteria.yaml)


def _type_name(schema) -> str:
    if isinstance(schema, tuple):
        return " or ".join(_type_name(s) for s in schema)
    if isinstance(schema, Record):
        return "a mapping"
    if isinstance(schema, ListOf):
        return "a list"
    if isinstance(schema, OneOf):
        return " or ".join(_type_name(s) for s in schema.options)
    if isinstance(schema, Choice):
        return "one of " + ", ".join(schema.values)
    return {str: "text", int: "a whole number", float: "a number"}[schema]


def _matches(value, schema) -> bool:
    if isinstance(schema, tuple):
        return any(_matches(value, s) for s in schema)
    if isinstance(schema, Choice):
        return value in schema.values
    if isinstance(schema, (Record, ListOf, OneOf)):
        return isinstance(value, {Record: dict, ListOf: list, OneOf: object}[type(schema)])
    return isinstance(value, schema) and not isinstance(value, bool)


def validate(value, schema, path: str, file: Path) -> None:
    """Raise CchcError at the first key or value that breaks ``schema`` (``path`` names where it is)."""
    if isinstance(schema, OneOf):
        for option in schema.options:
            try:
                validate(value, option, path, file)
                return
            except CchcError:
                continue
        raise CchcError(f"{path}: expected {_type_name(schema)}, found {value!r}", file=file)
    if not _matches(value, schema):
        raise CchcError(f"{path}: expected {_type_name(schema)}, found {value!r}", file=file)
    if isinstance(schema, ListOf):
        for i, item in enumerate(value):
            validate(item, schema.item, f"{path}[{i}]", file)
    elif isinstance(schema, Record):
        for key in value:
            if key not in schema.fields:
                raise CchcError(f"{path}.{key}: unknown key (known: {', '.join(schema.fields)})", file=file)
        for key in sorted(schema.required - set(value)):
            raise CchcError(f"{path}: the key '{key}' is missing", file=file)
        for key, item in value.items():
            validate(item, schema.fields[key], f"{path}.{key}", file)


def curated_for(report: ReportInput) -> Curated | None:
    """The curated file the report's manifest lists for it (kind ``curated``, ``report``: the report's file name),
    checksum verified and content validated; None when there is none."""
    entries = [e for e in report.manifest.get("files", ())
               if e.get("kind") == CURATED_KIND and e.get("report") == report.path.name]
    if not entries:
        return None
    path = report.path.parent / entries[0]["file"]
    if not path.exists():
        raise CchcError("the manifest lists this curated file, but it is not there", file=path)
    return _load(path.resolve(), path.stat().st_mtime_ns, entries[0].get("sha256", ""), display_path(path))


@functools.lru_cache(maxsize=8)
def _load(path: Path, _mtime: int, sha256: str, display: str) -> Curated:
    data = path.read_bytes()
    if sha256 and hashlib.sha256(data).hexdigest() != sha256:
        raise CchcError("checksum mismatch: the manifest records another sha256 for this curated file", file=path,
                        hint="a corrected curated file is recorded in the manifest with its new sha256")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        content = yaml.load(data.decode("utf-8"), Loader=loader) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise CchcError(f"not valid YAML: {getattr(exc, 'problem', exc)}", file=path,
                        line=mark.line + 1 if mark else None) from None
    validate(content, CURATED, "curated", path)
    return Curated(display, **{key: tuple(content.get(key) or ()) for key in CURATED.fields})
