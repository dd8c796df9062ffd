"""Loading the declarative table specs (``specs/appendix_N.yaml``): what each appendix row means.

A spec names, for every row of an appendix: a stable indicator id, the Vietnamese label (and aliases for known
slips), an English label, the unit, its parent (nesting in the YAML), and the checks that tie it to other rows
(``sum_of``: this row is the total of those; ``at_most``: this row cannot exceed that one). Adding a row, a unit or a
check is an edit of the YAML, not of the code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

import yaml

from cchc_analysis.errors import CchcError
from cchc_analysis.findings import load_yaml
from cchc_analysis.tables.values import UNITS
from cchc_analysis.text import match_key

SPEC_DIR = Path(__file__).parent / "specs"
LAYOUTS = ("years_as_columns", "periods_as_rows", "assessment")
# What a figure is, which decides how it may be compared: a stock stands at a date (staff in post), a flow counts what
# happened in a period (documents issued in the year) and is never compared across a part year, a rate is a share.
KINDS = ("stock", "flow", "rate", "flag", "none")
KIND_OF_UNIT = {"percent": "rate", "ratio": "stock", "flag": "flag", "dat": "flag", "none": "none"}


@dataclass(frozen=True)
class Limit:
    """``at_most``: this indicator cannot exceed ``other`` in the same period."""

    other: str
    severity: str = "error"
    why: str = ""


@dataclass
class IndicatorSpec:
    id: str
    appendix: int
    area: str
    label: str
    label_en: str
    unit: str
    kind: str = "none"
    section: str = ""
    stt: str | None = None
    parent_id: str = ""
    aliases: tuple[str, ...] = ()
    description: str = ""
    sum_of: tuple[str, ...] = ()
    at_most: tuple[Limit, ...] = ()
    children: list[IndicatorSpec] = field(default_factory=list)
    parts: tuple[dict, ...] = ()
    breakdown_label_column: int | None = None
    data_column: int | None = None
    header_column: int | None = None

    @cached_property
    def match_keys(self) -> set[str]:
        return {match_key(self.label), *(match_key(a) for a in self.aliases)}


@dataclass
class SectionSpec:
    key: str
    title: str
    period_column: int
    columns: list[IndicatorSpec]
    district_column: int | None = None
    note_column: int | None = None


@dataclass
class TableSpec:
    appendix: int
    area: str
    title_en: str
    layout: str
    path: Path
    rows: list[IndicatorSpec] = field(default_factory=list)
    sections: list[SectionSpec] = field(default_factory=list)
    column_overrides: dict[str, dict] = field(default_factory=dict)
    assessment_columns: dict[str, int] = field(default_factory=dict)
    indicators: dict[str, IndicatorSpec] = field(default_factory=dict)

    def all_indicators(self) -> list[IndicatorSpec]:
        """Every indicator in document order (parents before children, ratio parts after their row)."""
        return list(self.indicators.values())


def _limits(value, path: Path, row_id: str) -> tuple[Limit, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    limits = []
    for item in items:
        if isinstance(item, str):
            limits.append(Limit(item))
        elif isinstance(item, dict) and "id" in item:
            limits.append(Limit(item["id"], item.get("severity", "error"), item.get("why", "")))
        else:
            raise CchcError(f"row {row_id}: at_most must be an id or {{id, severity, why}}", file=path)
    return tuple(limits)


def _indicator(raw: dict, table: TableSpec, parent_id: str = "", section: str = "") -> IndicatorSpec:
    path = table.path
    for key in ("id", "label", "label_en", "unit"):
        if key not in raw:
            raise CchcError(f"a row is missing '{key}': {raw.get('id') or raw.get('label')}", file=path)
    if raw["unit"] not in UNITS:
        raise CchcError(f"row {raw['id']}: unit {raw['unit']!r} is not one of {', '.join(UNITS)}", file=path)
    kind = raw.get("kind", KIND_OF_UNIT.get(raw["unit"]))
    if raw["unit"] == "count" and kind not in ("stock", "flow"):
        raise CchcError(f"row {raw['id']}: a count row needs 'kind: stock' (a figure at a date) or 'kind: flow' "
                        f"(what happened in the period), found {kind!r}", file=path)
    if kind not in KINDS:
        raise CchcError(f"row {raw['id']}: kind {kind!r} is not one of {', '.join(KINDS)}", file=path)
    spec = IndicatorSpec(
        id=raw["id"], appendix=table.appendix, area=table.area, label=raw["label"], label_en=raw["label_en"],
        unit=raw["unit"], kind=kind, section=section, stt=raw.get("stt"), parent_id=parent_id,
        aliases=tuple(raw.get("aliases", ())), description=raw.get("description", ""),
        sum_of=tuple(raw.get("sum_of", ())), at_most=_limits(raw.get("at_most"), path, raw["id"]),
        breakdown_label_column=raw.get("breakdown_label_column"), data_column=raw.get("data_column"),
        header_column=raw.get("header_column"),
    )
    _register(table, spec)
    for part in raw.get("parts", ()):
        child = IndicatorSpec(id=part["id"], appendix=table.appendix, area=table.area, label=part["label"],
                              label_en=part["label_en"], unit="ratio", kind="stock", section=section,
                              parent_id=spec.id,
                              description=f"Read from the cells of '{spec.label}' where a number stands before "
                                          f"'{part['keyword']}'")
        _register(table, child)
    spec.parts = tuple(raw.get("parts", ()))
    spec.children = [_indicator(child, table, parent_id=spec.id, section=section)
                     for child in raw.get("children", ())]
    return spec


def _register(table: TableSpec, spec: IndicatorSpec) -> None:
    if spec.id in table.indicators:
        raise CchcError(f"indicator id {spec.id!r} is used twice", file=table.path)
    table.indicators[spec.id] = spec


def load_table_spec(path: Path) -> TableSpec:
    text = path.read_text(encoding="utf-8")
    try:
        raw = load_yaml(text)
    except yaml.YAMLError:
        try:  # the pure-Python parser says where and what, in the words this error has always used
            yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise CchcError(f"the spec is not valid YAML: {exc}", file=path) from None
        raise
    if raw.get("layout") not in LAYOUTS:
        raise CchcError(f"layout must be one of {', '.join(LAYOUTS)}", file=path)
    table = TableSpec(appendix=int(raw["appendix"]), area=raw.get("area", ""), title_en=raw.get("title_en", ""),
                      layout=raw["layout"], path=path, column_overrides=raw.get("columns") or {})
    if table.layout == "years_as_columns":
        table.rows = [_indicator(row, table) for row in raw.get("rows", ())]
    elif table.layout == "periods_as_rows":
        for section in raw.get("sections", ()):
            columns = [_indicator(col, table, section=section["key"]) for col in section["columns"]]
            table.sections.append(SectionSpec(
                key=section["key"], title=section.get("title", ""), period_column=section["period_column"],
                columns=columns, district_column=section.get("district_column"),
                note_column=section.get("note_column")))
    else:
        table.assessment_columns = {k: raw[k] for k in ("number_column", "text_column", "assessment_column")}
    for spec in table.indicators.values():
        for ref in (*spec.sum_of, *(limit.other for limit in spec.at_most)):
            if ref not in table.indicators:
                raise CchcError(f"row {spec.id} refers to unknown indicator {ref!r}", file=path)
    return table


@lru_cache(maxsize=4)
def load_specs(directory: Path = SPEC_DIR) -> dict[int, TableSpec]:
    """Every appendix spec in ``directory``, keyed by appendix number."""
    specs = {}
    for path in sorted(Path(directory).glob("appendix_*.yaml")):
        table = load_table_spec(path)
        specs[table.appendix] = table
    all_ids: dict[str, int] = {}
    for table in specs.values():
        for spec_id in table.indicators:
            if spec_id in all_ids:
                raise CchcError(f"indicator id {spec_id!r} is also used in appendix {all_ids[spec_id]}",
                                file=table.path)
            all_ids[spec_id] = table.appendix
    return specs


def codebook_rows(specs: dict[int, TableSpec]) -> list[dict]:
    rows = []
    for table in specs.values():
        for spec in table.all_indicators():
            parent = table.indicators.get(spec.parent_id)
            rows.append({
                "indicator_id": spec.id, "appendix": spec.appendix, "section": spec.section, "area": spec.area,
                "label_vi": spec.label, "label_en": spec.label_en, "unit": spec.unit, "kind": spec.kind,
                "stt": spec.stt or "", "parent_id": spec.parent_id, "parent": parent.label if parent else "",
                "sum_of": "|".join(spec.sum_of), "at_most": "|".join(limit.other for limit in spec.at_most),
                "description": spec.description,
            })
    return rows
