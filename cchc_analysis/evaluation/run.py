"""Verdicts for every district of a dataset, as the tables ``evaluation`` (one row per criterion) and
``evaluation_parts`` (one row per measurable part), both languages side by side."""

from __future__ import annotations

import pandas as pd

from cchc_analysis.dataset.model import Dataset
from cchc_analysis.evaluation.criteria import judgements_from, load_criteria
from cchc_analysis.evaluation.observations import observe
from cchc_analysis.evaluation.verdicts import LANGS, DistrictEvidence, Verdict, evaluate_district, say
from cchc_analysis.prose.curated import curated_for
from cchc_analysis.read.manifest import ReportInput, display_path
from cchc_analysis.read.source import read_source

EVALUATION_COLUMNS = [
    "district", "criterion_id", "target", "area", "title_vi", "title_en", "source", "source_status",
    "source_note_vi", "source_note_en", "reference_vi", "reference_en", "district_level", "self_assessment",
    "verdict", "verdict_vi", "verdict_en", "summary_vi", "summary_en", "reason_vi", "reason_en", "evidence_vi",
    "evidence_en", "source_lines"]
OBSERVATION_COLUMNS = ["district", "observation_id", "area", "kind", "priority", "text_vi", "text_en",
                       "recommendation_vi", "recommendation_en", "indicator_ids"]
PART_COLUMNS = [
    "district", "criterion_id", "part_id", "district_level", "status", "measure_vi", "measure_en", "text_vi",
    "text_en", "citations_vi", "citations_en", "context_vi", "context_en", "indicator_ids", "source_lines"]


def _rows(verdict: Verdict, criteria) -> tuple[dict, list[dict]]:
    criterion = verdict.criterion
    source = criteria.sources[criterion.source]
    parts = [{
        "district": verdict.district, "criterion_id": criterion.id, "part_id": p.part,
        "district_level": part.district_level, "status": p.status, "measure_vi": part.measure["vi"],
        "measure_en": part.measure["en"], "text_vi": p.text["vi"], "text_en": p.text["en"],
        "citations_vi": "; ".join(p.citations["vi"]), "citations_en": "; ".join(p.citations["en"]),
        "context_vi": " | ".join(p.context["vi"]), "context_en": " | ".join(p.context["en"]),
        "indicator_ids": ";".join(p.indicators), "source_lines": ";".join(map(str, sorted(set(p.lines)))),
    } for p, part in zip(verdict.parts, criterion.parts)]
    lines = sorted({line for p in verdict.parts for line in p.lines} | ({verdict.target_line} - {None}))
    row = {
        "district": verdict.district, "criterion_id": criterion.id,
        "target": criterion.target if criterion.target is not None else pd.NA, "area": criterion.area,
        "title_vi": criterion.title["vi"], "title_en": criterion.title["en"], "source": source["vi"],
        "source_status": source["status"],
        **{f"source_note_{lang}": say("source_verified" if source["status"] == "verified" else "source_secondary",
                                      lang, source=source[lang]) for lang in LANGS},
        **{f"reference_{lang}": say("cite_target", lang, number=criterion.target) if criterion.target else ""
           for lang in LANGS},
        "district_level": any(p.district_level for p in criterion.parts),
        "self_assessment": verdict.self_assessment, "verdict": verdict.verdict,
        "verdict_vi": criteria.scale[verdict.verdict]["vi"], "verdict_en": criteria.scale[verdict.verdict]["en"],
        "summary_vi": verdict.summary["vi"], "summary_en": verdict.summary["en"],
        "reason_vi": verdict.reason["vi"], "reason_en": verdict.reason["en"],
        "evidence_vi": "; ".join(dict.fromkeys(c for p in verdict.parts for c in p.citations["vi"])),
        "evidence_en": "; ".join(dict.fromkeys(c for p in verdict.parts for c in p.citations["en"])),
        "source_lines": ";".join(map(str, lines)),
    }
    return row, parts


def _by_district(frame: pd.DataFrame | None) -> dict[str, pd.DataFrame]:
    """A table split by district once (a filter per district would scan the whole corpus for each)."""
    if frame is None or frame.empty:
        return {}
    names = set(frame["district"].tolist())
    if len(names) == 1:  # one district's tables (judged where its report was read): the split is the whole
        return {names.pop(): frame}
    return {name: rows for name, rows in frame.groupby("district", sort=False)}


def evaluation_frames(per_district) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The three evaluation tables from ``evaluate_districts``' (rows, parts, observations) of each district."""
    rows, part_rows, notes = [], [], []
    for district_rows, district_parts, district_notes in per_district:
        rows += district_rows
        part_rows += district_parts
        notes += district_notes
    return (pd.DataFrame(rows, columns=EVALUATION_COLUMNS).astype({"target": "Int64"}),
            pd.DataFrame(part_rows, columns=PART_COLUMNS), pd.DataFrame(notes, columns=OBSERVATION_COLUMNS))


def evaluate_districts(dataset: Dataset, reports: list[ReportInput], names: set[str] | None = None,
                       lines_of: dict[str, tuple[str, ...]] | None = None) -> dict[str, tuple[list, list, list]]:
    """Per district (all, or those in ``names``), in the dataset's order: its evaluation rows, part rows and
    observation rows. A district's rows depend on its own tables only (so they can be cached per report)."""
    criteria = load_criteria()
    by_file = {display_path(r.path): r for r in reports}
    indicators, quality = _by_district(dataset.indicators), _by_district(dataset.quality)
    facts, targets = _by_district(dataset.facts), _by_district(dataset.targets)
    sections: dict[str, list[dict]] = {}
    for section in dataset.sections or []:
        sections.setdefault(section.get("district", ""), []).append(section)
    nothing = dataset.indicators.iloc[0:0]
    out = {}
    for district in dataset.districts.to_dict("records"):
        name = district["district"]
        if names is not None and name not in names:
            continue
        report = by_file.get(district["source_file"])
        lines = list((lines_of or {}).get(district["source_file"]) or (read_source(report.path).lines if report
                                                                        else []))
        curated = curated_for(report) if report else None
        judgements = judgements_from(curated.judgements, curated.path, criteria) if curated else {}
        own_quality = quality.get(name, dataset.quality.iloc[0:0])
        evidence = DistrictEvidence(indicators.get(name, nothing), own_quality, facts.get(name),
                                    sections.get(name, []), lines, judgements)
        rows, part_rows = [], []
        for verdict in evaluate_district(criteria, evidence, targets.get(name), name):
            row, parts = _rows(verdict, criteria)
            rows.append(row)
            part_rows += parts
        errors = int((own_quality["severity"] == "error").sum())
        notes = [{"district": name, "observation_id": o.id, "area": o.area, "kind": o.kind, "priority": o.priority,
                  "text_vi": o.text["vi"], "text_en": o.text["en"], "recommendation_vi": o.recommendation["vi"],
                  "recommendation_en": o.recommendation["en"], "indicator_ids": ";".join(o.indicators)}
                 for o in observe(evidence, errors)]
        out[name] = (rows, part_rows, notes)
    return out
