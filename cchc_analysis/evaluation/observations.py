"""Strengths and weaknesses derived by rules (observations.yaml) from one district's figures, findings and stated
facts; each weakness may carry the recommendation it motivates."""

from __future__ import annotations

import operator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cchc_analysis.errors import CchcError
from cchc_analysis.evaluation.verdicts import LANGS, DistrictEvidence, value_text, when
from cchc_analysis.findings import load_yaml
from cchc_analysis.text import format_number

OBSERVATIONS_FILE = Path(__file__).parent / "observations.yaml"
OPS = {"eq": operator.eq, "ge": operator.ge, "le": operator.le}
CONDITION_KEYS = {
    "all_years": {"type", "indicator", "op", "value", "min_years"},
    "latest": {"type", "indicator", "op", "value"},
    "total": {"type", "indicator", "op", "value"},
    "fact": {"type", "fact"},
    "findings": {"type", "severity", "op", "value"},
}
RULE_KEYS = {"id", "area", "kind", "priority", "when", "text", "recommendation"}


@dataclass(frozen=True)
class Observation:
    id: str
    area: str
    kind: str                     # strength | weakness
    priority: int
    text: dict[str, str]
    recommendation: dict[str, str]
    indicators: tuple[str, ...] = ()


def _check_rule(rule, where: str, path: Path) -> dict:
    if not isinstance(rule, dict) or set(rule) - RULE_KEYS or {"id", "area", "kind", "priority", "when",
                                                               "text"} - set(rule):
        raise CchcError(f"{where}: keys must be {', '.join(sorted(RULE_KEYS))} (recommendation optional)", file=path)
    condition = rule["when"]
    kind = condition.get("type") if isinstance(condition, dict) else None
    if kind not in CONDITION_KEYS or set(condition) != CONDITION_KEYS[kind]:
        raise CchcError(f"{where}.when: expected one of {', '.join(CONDITION_KEYS)} with its keys "
                        f"({'; '.join(f'{k}: {sorted(v)}' for k, v in CONDITION_KEYS.items())})", file=path)
    if "op" in condition and condition["op"] not in OPS:
        raise CchcError(f"{where}.when.op: {condition['op']!r}, expected eq, ge or le", file=path)
    if rule["kind"] not in ("strength", "weakness"):
        raise CchcError(f"{where}.kind: {rule['kind']!r}, expected strength or weakness", file=path)
    for key in ("text", "recommendation"):
        if key in rule and (not isinstance(rule[key], dict) or set(rule[key]) != set(LANGS)):
            raise CchcError(f"{where}.{key}: give vi and en", file=path)
    return rule


@lru_cache(maxsize=2)
def load_rules(path: Path = OBSERVATIONS_FILE) -> tuple[dict, ...]:
    document = load_yaml(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict) or set(document) != {"observations"}:
        raise CchcError("expected a single key 'observations'", file=path)
    return tuple(_check_rule(rule, f"observations[{i}]", path) for i, rule in enumerate(document["observations"]))


def _years(rows) -> str:
    years = sorted({int(r["year"]) for r in rows})
    return f"{years[0]}-{years[-1]}" if len(years) > 2 else ", ".join(map(str, years))


def _holds(condition: dict, ev: DistrictEvidence, errors: int) -> dict | None:
    """The placeholders of a rule whose condition holds, else None."""
    kind, op = condition["type"], OPS.get(condition.get("op", ""))
    if kind == "findings":
        return {"n": errors} if op(errors, condition["value"]) else None
    if kind == "fact":
        fact = ev.facts.get(condition["fact"])
        return ({"value": {lang: format_number(fact["value"], lang) for lang in LANGS}, "quote": fact["quote"]}
                if fact is not None else None)
    rows = ev.series.get(condition["indicator"])
    if not rows:
        return None
    params = _indicator_params(kind, condition, rows, ev.specs[condition["indicator"]].unit)
    if params is None:
        return None
    return {**params, "cite": {lang: ev.cite(condition["indicator"], lang) for lang in LANGS}}


def _indicator_params(kind: str, condition: dict, rows, unit: str) -> dict | None:
    op = OPS[condition["op"]]
    if kind == "all_years":
        if len(rows) < condition["min_years"] or not all(op(r["value"], condition["value"]) for r in rows):
            return None
        values = sorted({r["value"] for r in rows})
        shown = {lang: " - ".join(dict.fromkeys(value_text(v, unit, lang) for v in (values[0], values[-1])))
                 for lang in LANGS}
        return {"n": len(rows), "years": _years(rows), "value": shown}
    if kind == "latest":
        last = rows[-1]
        if not op(last["value"], condition["value"]):
            return None
        return {"value": {lang: value_text(last["value"], unit, lang) for lang in LANGS},
                "when": {lang: when(last, lang) for lang in LANGS}}
    total = sum(r["value"] for r in rows)
    if not op(total, condition["value"]):
        return None
    last = rows[-1]
    first = min(int(r["year"]) for r in rows)
    span = f"{first} - {when(last, 'vi').removeprefix('năm ')}"
    span_en = f"{first} - {when(last, 'en')}"
    return {"total": {lang: format_number(total, lang) for lang in LANGS}, "years": {"vi": span, "en": span_en}}


def observe(ev: DistrictEvidence, errors: int) -> list[Observation]:
    """The observations whose conditions hold for this district, highest priority first."""
    found = []
    for rule in load_rules():
        params = _holds(rule["when"], ev, errors)
        if params is None:
            continue
        text = {lang: rule["text"][lang].format(**{k: v[lang] if isinstance(v, dict) else v
                                                   for k, v in params.items()}) for lang in LANGS}
        indicator = rule["when"].get("indicator")
        found.append(Observation(rule["id"], rule["area"], rule["kind"], rule["priority"], text,
                                 rule.get("recommendation", {lang: "" for lang in LANGS}),
                                 (indicator,) if indicator else ()))
    return sorted(found, key=lambda o: -o.priority)
