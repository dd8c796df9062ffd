"""The derived measures of the pack (``measures.yaml``), read through a small schema.

A measure names its rows by indicator id, the stable key of the table specs, never by label: a report that prints
a row under a variant label (an alias in the spec) gives the same measures as one that prints the usual label.
The file is checked when it is read: an unknown key, a value of the wrong type or an id that no spec declares is a
``CchcError`` naming the file and the measure.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from cchc_analysis.errors import CchcError
from cchc_analysis.tables.specs import load_specs

MEASURES_FILE = Path(__file__).with_name("measures.yaml")
KINDS = ("value", "sum", "ratio", "cumulative")
UNITS = ("percent", "count", "dat")
LANGS = ("vi", "en")
# field: (type, required)
FIELDS = {"key": (str, True), "area": (str, True), "label": (dict, True), "unit": (str, True), "kind": (str, True),
          "numerator": (list, True), "denominator": (list, False), "how": (dict, True), "headline": (bool, False)}
_KEY = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Measure:
    key: str
    area: str
    label: dict[str, str]           # by language
    unit: str                       # percent | count | dat
    kind: str                       # value | sum | ratio | cumulative
    numerator: tuple[str, ...]      # indicator ids
    denominator: tuple[str, ...]    # indicator ids (ratio only)
    how: dict[str, str]             # how it is computed, by language
    headline: bool


def _check_types(raw: dict, name: str, path: Path) -> None:
    unknown = sorted(set(raw) - set(FIELDS))
    if unknown:
        raise CchcError(f"measure {name!r}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(FIELDS)}",
                        file=path)
    for field, (kind, required) in FIELDS.items():
        if field not in raw:
            if required:
                raise CchcError(f"measure {name!r}: '{field}' is missing", file=path)
            continue
        if type(raw[field]) is not kind:
            raise CchcError(f"measure {name!r}: '{field}' must be a {kind.__name__}, not {raw[field]!r}", file=path)
    for field in ("label", "how"):
        texts = raw[field]
        if sorted(texts) != sorted(LANGS) or not all(isinstance(v, str) and v for v in texts.values()):
            raise CchcError(f"measure {name!r}: '{field}' must give a text for each of {', '.join(LANGS)}",
                            file=path)
    for field in ("numerator", "denominator"):
        ids = raw.get(field, [])
        if not all(isinstance(i, str) for i in ids):
            raise CchcError(f"measure {name!r}: '{field}' must be a list of indicator ids", file=path)


def _check_meaning(raw: dict, name: str, path: Path, ids: set[str], areas: set[str]) -> None:
    if not _KEY.match(raw["key"]):
        raise CchcError(f"measure {name!r}: a key is lower-case letters, digits and '_'", file=path)
    for field, allowed in (("kind", KINDS), ("unit", UNITS), ("area", sorted(areas))):
        if raw[field] not in allowed:
            raise CchcError(f"measure {name!r}: {field} {raw[field]!r} is not one of {', '.join(allowed)}", file=path)
    if not raw["numerator"]:
        raise CchcError(f"measure {name!r}: the numerator names no indicator", file=path)
    if (raw["kind"] == "ratio") != bool(raw.get("denominator")):
        raise CchcError(f"measure {name!r}: a ratio needs a denominator, and only a ratio has one", file=path)
    if raw["kind"] == "value" and len(raw["numerator"]) != 1:
        raise CchcError(f"measure {name!r}: a value measure reads one indicator", file=path)
    unknown = [i for i in raw["numerator"] + raw.get("denominator", []) if i not in ids]
    if unknown:
        raise CchcError(f"measure {name!r}: no table spec declares indicator id(s) {', '.join(unknown)}", file=path)


def _nfc(texts: dict[str, str]) -> dict[str, str]:
    return {lang: unicodedata.normalize("NFC", texts[lang]) for lang in LANGS}


def _measure(raw, position: int, path: Path, ids: set[str], areas: set[str]) -> Measure:
    if not isinstance(raw, dict):
        raise CchcError(f"measure number {position}: must be a mapping of {', '.join(FIELDS)}", file=path)
    name = str(raw.get("key", f"number {position}"))
    _check_types(raw, name, path)
    _check_meaning(raw, name, path, ids, areas)
    return Measure(key=raw["key"], area=raw["area"], label=_nfc(raw["label"]), unit=raw["unit"], kind=raw["kind"],
                   numerator=tuple(raw["numerator"]), denominator=tuple(raw.get("denominator", ())),
                   how=_nfc(raw["how"]), headline=raw.get("headline", False))


@lru_cache(maxsize=4)
def load_measures(path: Path = MEASURES_FILE) -> tuple[Measure, ...]:
    """Every measure of ``path``, in file order (the order pages show them)."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CchcError(f"the measures file is not valid YAML: {exc}", file=path) from None
    if not isinstance(raw, dict) or set(raw) != {"measures"} or not isinstance(raw["measures"], list):
        raise CchcError("the measures file holds one key, 'measures', with a list of measures", file=path)
    specs = load_specs()
    ids = {i for table in specs.values() for i in table.indicators}
    areas = {table.area for table in specs.values() if table.area}
    measures = tuple(_measure(item, n, Path(path), ids, areas) for n, item in enumerate(raw["measures"], 1))
    keys = [m.key for m in measures]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise CchcError(f"measure {twice[0]!r} is declared twice", file=path)
    return measures


def measure(key: str) -> Measure:
    """The measure ``key``; ``CchcError`` for an unknown one."""
    for m in load_measures():
        if m.key == key:
            return m
    raise CchcError(f"unknown measure {key!r}", file=MEASURES_FILE)


def measures_for_area(area: str) -> list[Measure]:
    return [m for m in load_measures() if m.area == area]
