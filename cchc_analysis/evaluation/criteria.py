"""The evaluation criteria (criteria.yaml) and a district's curated judgements, loaded through strict schemas.

A typo in either file must stop the build with the file and the key path, never silently drop a criterion: unknown
keys, wrong types, unknown rule types, verdicts off the scale and indicator ids that are not in the table specs are
all errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from cchc_analysis.errors import CchcError
from cchc_analysis.findings import load_yaml
from cchc_analysis.tables.specs import load_specs

CRITERIA_FILE = Path(__file__).parent / "criteria.yaml"
SCALE = ("dat", "dat_mot_phan", "chua_dat", "chua_du_can_cu", "khong_danh_gia")
PART_STATUSES = ("supported", "partly", "contradicted", "no_evidence", "not_district")
RULE_KEYS = {
    "threshold": ({"type", "indicator"}, {"year", "per", "min", "max"}),
    "every_year": ({"type", "indicator", "years", "above"}, set()),
    "change": ({"type", "indicators", "base_year", "target_pct"}, {"by"}),
    "none": ({"type"}, set()),
    "judgement": ({"type"}, set()),
}


@dataclass(frozen=True)
class Part:
    id: str
    measure: dict[str, str]
    rule: dict
    district_level: bool = True
    context: tuple[str, ...] = ()
    facts: tuple[str, ...] = ()

    def indicators(self) -> tuple[str, ...]:
        """Every indicator the rule reads, in the order it reads them."""
        rule = self.rule
        found = [rule[key] for key in ("indicator", "per") if key in rule]
        return tuple(found + list(rule.get("indicators", ())))


@dataclass(frozen=True)
class Criterion:
    id: str
    source: str
    area: str
    title: dict[str, str]
    parts: tuple[Part, ...]
    target: int | None = None
    match: tuple[str, ...] = ()


@dataclass(frozen=True)
class Criteria:
    scale: dict[str, dict[str, str]]
    sources: dict[str, dict[str, str]]
    criteria: tuple[Criterion, ...]


class _Checker:
    """Walks a YAML document; every complaint names the file and the key path."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, where: str, message: str) -> CchcError:
        return CchcError(f"{where}: {message}", file=self.path)

    def mapping(self, value, where: str, required: set[str], optional: set[str] = frozenset()) -> dict:
        if not isinstance(value, dict):
            raise self.fail(where, f"expected a mapping, found {type(value).__name__}")
        unknown = sorted(set(value) - required - set(optional))
        if unknown:
            raise self.fail(where, f"unknown key(s) {', '.join(map(str, unknown))}; "
                                   f"allowed: {', '.join(sorted(required | set(optional)))}")
        missing = sorted(required - set(value))
        if missing:
            raise self.fail(where, f"missing key(s) {', '.join(missing)}")
        return value

    def typed(self, value, kind, where: str):
        if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
            name = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise self.fail(where, f"expected {name}, found {value!r}")
        return value

    def texts(self, value, where: str) -> dict[str, str]:
        self.mapping(value, where, {"vi", "en"})
        return {lang: self.typed(value[lang], str, f"{where}.{lang}") for lang in ("vi", "en")}

    def strings(self, value, where: str) -> tuple[str, ...]:
        self.typed(value, list, where)
        return tuple(self.typed(item, str, f"{where}[{i}]") for i, item in enumerate(value))


def _rule(check: _Checker, raw, where: str, known_ids: set[str]) -> dict:
    every_key = {key for required, optional in RULE_KEYS.values() for key in required | optional}
    kind = check.typed(check.mapping(raw, where, {"type"}, every_key)["type"], str, f"{where}.type")
    if kind not in RULE_KEYS:
        raise check.fail(f"{where}.type", f"unknown rule type {kind!r}; expected one of {', '.join(RULE_KEYS)}")
    required, optional = RULE_KEYS[kind]
    check.mapping(raw, where, required, optional)
    if kind == "threshold" and ("min" in raw) == ("max" in raw):
        raise check.fail(where, "a threshold rule needs exactly one of min and max")
    ids = [(f"{where}.{key}", check.typed(raw[key], str, f"{where}.{key}"))
           for key in ("indicator", "per") if key in raw]
    ids += [(f"{where}.indicators[{i}]", iid)
            for i, iid in enumerate(check.strings(raw["indicators"], f"{where}.indicators") if "indicators" in raw
                                    else ())]
    for key_path, iid in ids:
        if iid not in known_ids:
            raise check.fail(key_path, f"indicator id {iid!r} is not in the table specs")
    _rule_numbers(check, raw, where)
    return dict(raw)


def _rule_numbers(check: _Checker, raw: dict, where: str) -> None:
    for key in ("min", "max", "above", "target_pct"):
        if key in raw:
            check.typed(raw[key], (int, float), f"{where}.{key}")
    for key in ("year", "base_year", "by"):
        if key in raw:
            check.typed(raw[key], int, f"{where}.{key}")
    for i, year in enumerate(check.typed(raw.get("years", []), list, f"{where}.years")):
        check.typed(year, int, f"{where}.years[{i}]")


def _part(check: _Checker, raw, where: str, known_ids: set[str]) -> Part:
    check.mapping(raw, where, {"id", "measure", "rule"}, {"district_level", "context", "facts"})
    context = check.strings(raw.get("context", []), f"{where}.context")
    for i, iid in enumerate(context):
        if iid not in known_ids:
            raise check.fail(f"{where}.context[{i}]", f"indicator id {iid!r} is not in the table specs")
    return Part(id=check.typed(raw["id"], str, f"{where}.id"), measure=check.texts(raw["measure"], f"{where}.measure"),
                rule=_rule(check, raw["rule"], f"{where}.rule", known_ids),
                district_level=check.typed(raw.get("district_level", True), bool, f"{where}.district_level"),
                context=context, facts=check.strings(raw.get("facts", []), f"{where}.facts"))


def _criterion(check: _Checker, raw, where: str, sources: dict, areas: set[str], known_ids: set[str]) -> Criterion:
    check.mapping(raw, where, {"id", "source", "area", "title", "parts"}, {"target", "match"})
    source = check.typed(raw["source"], str, f"{where}.source")
    if source not in sources:
        raise check.fail(f"{where}.source", f"unknown source {source!r}; declared: {', '.join(sources)}")
    area = check.typed(raw["area"], str, f"{where}.area")
    if area not in areas:
        raise check.fail(f"{where}.area", f"unknown area {area!r}; the specs have: {', '.join(sorted(areas))}")
    parts = tuple(_part(check, part, f"{where}.parts[{i}]", known_ids)
                  for i, part in enumerate(check.typed(raw["parts"], list, f"{where}.parts")))
    if not parts:
        raise check.fail(f"{where}.parts", "a criterion needs at least one part")
    target = raw.get("target")
    return Criterion(id=check.typed(raw["id"], str, f"{where}.id"), source=source, area=area,
                     title=check.texts(raw["title"], f"{where}.title"), parts=parts,
                     target=None if target is None else check.typed(target, int, f"{where}.target"),
                     match=check.strings(raw.get("match", []), f"{where}.match"))


def parse_criteria(document, path: Path) -> Criteria:
    check = _Checker(path)
    check.mapping(document, "criteria file", {"scale", "sources", "criteria"})
    scale = {key: check.texts(value, f"scale.{key}")
             for key, value in check.mapping(document["scale"], "scale", set(SCALE)).items()}
    sources = {}
    for key, value in check.typed(document["sources"], dict, "sources").items():
        check.mapping(value, f"sources.{key}", {"vi", "en", "status"})
        if value["status"] not in ("verified", "secondary", "unverified"):
            raise check.fail(f"sources.{key}.status", f"{value['status']!r}: expected verified, secondary or "
                                                       "unverified")
        sources[key] = {k: check.typed(value[k], str, f"sources.{key}.{k}") for k in ("vi", "en", "status")}
    specs = load_specs()
    known_ids = {iid for table in specs.values() for iid in table.indicators}
    areas = {table.area for table in specs.values()}
    criteria = tuple(_criterion(check, raw, f"criteria[{i}]", sources, areas, known_ids)
                     for i, raw in enumerate(check.typed(document["criteria"], list, "criteria")))
    ids = [c.id for c in criteria]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise check.fail("criteria", f"criterion id(s) used twice: {', '.join(duplicated)}")
    return Criteria(scale=scale, sources=sources, criteria=criteria)


def _read_yaml(path: Path):
    try:
        return load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise CchcError(f"not valid YAML: {getattr(exc, 'problem', exc)}", file=path,
                        line=mark.line + 1 if mark else None) from None


@lru_cache(maxsize=4)
def load_criteria(path: Path = CRITERIA_FILE) -> Criteria:
    return parse_criteria(_read_yaml(path), path)


@dataclass(frozen=True)
class Judgement:
    """What the report's prose says about one part, as curated by an analyst (with quotes checked at their line)."""
    criterion: str
    part: str
    judgement: str            # supported | not_evidenced | contradicted; "" for quotes given as context only
    why: dict[str, str]
    quotes: tuple[tuple[int, str], ...] = ()


def judgements_from(records, path: str, criteria: Criteria) -> dict[tuple[str, str], Judgement]:
    """``{(criterion, part): Judgement}`` from the ``judgements`` of a report's curated file (whose shape the
    curated schema checked): each names a part of criteria.yaml; a part judged by its figures takes quotes only."""
    check = _Checker(Path(path))
    parts = {(c.id, p.id): p for c in criteria.criteria for p in c.parts}
    found: dict[tuple[str, str], Judgement] = {}
    for i, raw in enumerate(records):
        where, key = f"judgements[{i}]", (raw["criterion"], raw["part"])
        part = parts.get(key)
        if part is None:
            raise check.fail(where, f"no part {key[1]!r} of criterion {key[0]!r} in criteria.yaml")
        judgement = raw.get("judgement", "")
        if part.rule["type"] == "judgement" and not judgement:
            raise check.fail(where, f"part {key[1]!r} is judged on the prose: give its judgement")
        if part.rule["type"] != "judgement" and judgement:
            raise check.fail(f"{where}.judgement", f"part {key[1]!r} is judged by its figures "
                                                   f"({part.rule['type']}); give quotes only")
        if key in found:
            raise check.fail(where, f"part {key[1]!r} of {key[0]!r} is judged twice")
        found[key] = Judgement(key[0], key[1], judgement, dict(raw["why"]),
                               tuple((q["line"], q["quote"]) for q in raw.get("quotes", ())))
    return found
