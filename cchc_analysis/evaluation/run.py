"""Verdicts for every district of a dataset, as the tables ``evaluation`` (one row per criterion) and
``evaluation_parts`` (one row per measurable part), both languages side by side."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

from cchc_analysis.dataset.model import Dataset
from cchc_analysis.evaluation.criteria import CRITERIA_FILE, judgements_from, load_criteria
from cchc_analysis.evaluation.observations import load_rules, observe
from cchc_analysis.evaluation.verdicts import LANGS, DistrictEvidence, Verdict, evaluate_district, indicators_read, say
from cchc_analysis.prose.curated import curated_for
from cchc_analysis.read.manifest import ReportInput, display_path
from cchc_analysis.read.source import read_source
from cchc_analysis.tables.records import Columns
from cchc_analysis.tables.records import records as table_records


def _rows(verdict: Verdict, criteria, head: dict) -> tuple[dict, list[dict]]:
    """The criterion's evaluation row and part rows (``head``: its fields that no district changes, ``_heads``)."""
    criterion = verdict.criterion
    parts = [{
        "district": verdict.district, "criterion_id": criterion.id, "part_id": p.part,
        "district_level": part.district_level, "status": p.status, "measure_vi": part.measure["vi"],
        "measure_en": part.measure["en"], "text_vi": p.text["vi"], "text_en": p.text["en"],
        "citations_vi": "; ".join(p.citations["vi"]), "citations_en": "; ".join(p.citations["en"]),
        "context_vi": " | ".join(p.context["vi"]), "context_en": " | ".join(p.context["en"]),
        "indicator_ids": ";".join(p.indicators), "source_lines": ";".join(map(str, p.lines)),  # (sorted, once each)
    } for p, part in zip(verdict.parts, criterion.parts)]
    lines = sorted({line for p in verdict.parts for line in p.lines} | ({verdict.target_line} - {None}))
    row = {
        "district": verdict.district, **head, "self_assessment": verdict.self_assessment, "verdict": verdict.verdict,
        "verdict_vi": criteria.scale[verdict.verdict]["vi"], "verdict_en": criteria.scale[verdict.verdict]["en"],
        "summary_vi": verdict.summary["vi"], "summary_en": verdict.summary["en"],
        "reason_vi": verdict.reason["vi"], "reason_en": verdict.reason["en"],
        "evidence_vi": "; ".join(dict.fromkeys(c for p in verdict.parts for c in p.citations["vi"])),
        "evidence_en": "; ".join(dict.fromkeys(c for p in verdict.parts for c in p.citations["en"])),
        "source_lines": ";".join(map(str, lines)),
    }
    return row, parts


@lru_cache(maxsize=4)
def _heads(path: Path = CRITERIA_FILE) -> dict[str, dict]:
    """Each criterion's fields of an evaluation row that are the same in every district (criteria.yaml and
    wording.yaml: its title, source, source note, Phụ lục 8 reference), worded once per process."""
    criteria = load_criteria(path)
    return {criterion.id: _head(criterion, criteria) for criterion in criteria.criteria}


def _head(criterion, criteria) -> dict:
    source = criteria.sources[criterion.source]
    verified = "source_verified" if source["status"] == "verified" else "source_secondary"
    target = criterion.target
    return {"criterion_id": criterion.id, "target": target if target is not None else pd.NA, "area": criterion.area,
            "title_vi": criterion.title["vi"], "title_en": criterion.title["en"], "source": source["vi"],
            "source_status": source["status"],
            **{f"source_note_{lang}": say(verified, lang, source=source[lang]) for lang in LANGS},
            **{f"reference_{lang}": say("cite_target", lang, number=target) if target else "" for lang in LANGS},
            "district_level": any(p.district_level for p in criterion.parts)}


def _by_district(frame: pd.DataFrame | None) -> dict[str, pd.DataFrame]:
    """A table split by district once (a filter per district would scan the whole corpus for each)."""
    if frame is None or frame.empty:
        return {}
    names = frame["district"].unique()
    if len(names) == 1:  # one district's tables (judged where its report was read): the split is the whole
        return {names[0]: frame}
    return {name: rows for name, rows in frame.groupby("district", sort=False)}


def evaluate_districts(dataset: Dataset, reports: list[ReportInput], names: set[str] | None = None,
                       lines_of: dict[str, tuple[str, ...]] | None = None) -> dict[str, tuple[list, list, list]]:
    """Per district (all, or those in ``names``), in the dataset's order: its evaluation rows, part rows and
    observation rows. A district's rows depend on its own tables only (so they can be cached per report)."""
    by_file = {display_path(r.path): r for r in reports}
    indicators, quality = _by_district(dataset.indicators), _by_district(dataset.quality)
    facts, targets = _by_district(dataset.facts), _by_district(dataset.targets)
    sections: dict[str, list[dict]] = {}
    for section in dataset.sections or []:
        sections.setdefault(section.get("district", ""), []).append(section)
    out = {}
    for district in table_records(dataset.districts, ["district", "source_file"]):
        name = district["district"]
        if names is not None and name not in names:
            continue
        report = by_file.get(district["source_file"])
        lines = (lines_of or {}).get(district["source_file"]) or (read_source(report.path).lines if report else [])
        out[name] = district_evaluation(name, report, lines, indicators.get(name), quality.get(name),
                                        targets.get(name), facts.get(name), sections.get(name, []))
    return out


@lru_cache(maxsize=1)
def _read_by_rules() -> frozenset[str]:
    """The indicators the criteria (criteria.yaml) and the observation rules (observations.yaml) read: the only
    ones a district's evidence need hold."""
    observed = {rule["when"]["indicator"] for rule in load_rules() if "indicator" in rule["when"]}
    return indicators_read(load_criteria()) | observed


_LOOK_UP = object()


def district_evaluation(name: str, report: ReportInput | None, lines, indicators: pd.DataFrame | Columns | None = None,
                        quality: pd.DataFrame | Columns | None = None, targets: pd.DataFrame | Columns | None = None,
                        facts: pd.DataFrame | None = None, sections=(), curated=_LOOK_UP) -> tuple[list, list, list]:
    """One district's evaluation rows, part rows and observation rows from its own tables (rows of this district
    only; None: none), sections, report lines and (``report``, when given) curated judgements: its part of
    ``evaluate_districts``, for a caller that holds one district's tables (no dataset to build and split).
    ``curated``: the report's curated file or None, from a caller that looked it up already (else looked up)."""
    criteria = load_criteria()
    if curated is _LOOK_UP:
        curated = curated_for(report) if report else None
    judgements = judgements_from(curated.judgements, curated.path, criteria) if curated else {}
    evidence = DistrictEvidence(indicators, quality, facts, list(sections), list(lines), judgements,
                                _read_by_rules())
    rows, part_rows, heads = [], [], _heads()
    for verdict in evaluate_district(criteria, evidence, targets, name):
        row, parts = _rows(verdict, criteria, heads[verdict.criterion.id])
        rows.append(row)
        part_rows += parts
    notes = [{"district": name, "observation_id": o.id, "area": o.area, "kind": o.kind, "priority": o.priority,
              "text_vi": o.text["vi"], "text_en": o.text["en"], "recommendation_vi": o.recommendation["vi"],
              "recommendation_en": o.recommendation["en"], "indicator_ids": ";".join(o.indicators)}
             for o in observe(evidence, evidence.errors)]
    return rows, part_rows, notes
