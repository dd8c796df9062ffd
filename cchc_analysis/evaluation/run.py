"""Verdicts for every district of a dataset, as the tables ``evaluation`` (one row per criterion) and
``evaluation_parts`` (one row per measurable part), both languages side by side."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cchc_analysis.dataset.model import Dataset
from cchc_analysis.evaluation.criteria import judgements_from, load_criteria
from cchc_analysis.evaluation.observations import observe
from cchc_analysis.evaluation.verdicts import LANGS, DistrictEvidence, Verdict, evaluate_district, say
from cchc_analysis.prose.curated import curated_for
from cchc_analysis.read.manifest import ReportInput, display_path
from cchc_analysis.read.source import read_source
from cchc_analysis.tables.records import records as table_records

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
TABLE_COLUMNS = {"evaluation": EVALUATION_COLUMNS, "evaluation_parts": PART_COLUMNS,
                 "observations": OBSERVATION_COLUMNS}


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
    names = frame["district"].unique()
    if len(names) == 1:  # one district's tables (judged where its report was read): the split is the whole
        return {names[0]: frame}
    return {name: rows for name, rows in frame.groupby("district", sort=False)}


def evaluation_tables(per_district) -> dict[str, dict[str, list]]:
    """The three evaluation tables from ``evaluate_districts``' (rows, parts, observations) of each district, as
    plain columns ``{table: {column: values}}`` in the registry's order: the values of ``evaluation_frames`` (a
    missing target is ``pd.NA``) for a caller that writes them without a frame."""
    tables: tuple[list, list, list] = ([], [], [])
    for district in per_district:
        for rows, more in zip(tables, district):
            rows += more
    return {name: {column: [row[column] for row in rows] for column in columns}
            for (name, columns), rows in zip(TABLE_COLUMNS.items(), tables)}


def evaluation_frames(per_district) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The three evaluation tables from ``evaluate_districts``' (rows, parts, observations) of each district (built
    column by column: from row dicts, and with a cast of the target afterwards, pandas costs several times more)."""
    return tuple(pd.DataFrame({column: _column(values, column == "target") for column, values in columns.items()},
                              copy=False)  # new lists: nothing to copy
                 for columns in evaluation_tables(per_district).values())


def _column(values: list, nullable_integer: bool):
    """pandas infers str, int or bool from the values; a column of no rows is object, as in a frame of no rows."""
    if nullable_integer:
        return pd.array(values, dtype="Int64")
    return values if values else np.array([], dtype=object)


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


def district_evaluation(name: str, report: ReportInput | None, lines, indicators: pd.DataFrame | None = None,
                        quality: pd.DataFrame | None = None, targets: pd.DataFrame | None = None,
                        facts: pd.DataFrame | None = None, sections=()) -> tuple[list, list, list]:
    """One district's evaluation rows, part rows and observation rows from its own tables (rows of this district
    only; None: none), sections, report lines and (``report``, when given) curated judgements: its part of
    ``evaluate_districts``, for a caller that holds one district's tables (no dataset to build and split)."""
    criteria = load_criteria()
    curated = curated_for(report) if report else None
    judgements = judgements_from(curated.judgements, curated.path, criteria) if curated else {}
    evidence = DistrictEvidence(indicators, quality, facts, list(sections), list(lines), judgements)
    rows, part_rows = [], []
    for verdict in evaluate_district(criteria, evidence, targets, name):
        row, parts = _rows(verdict, criteria)
        rows.append(row)
        part_rows += parts
    notes = [{"district": name, "observation_id": o.id, "area": o.area, "kind": o.kind, "priority": o.priority,
              "text_vi": o.text["vi"], "text_en": o.text["en"], "recommendation_vi": o.recommendation["vi"],
              "recommendation_en": o.recommendation["en"], "indicator_ids": ";".join(o.indicators)}
             for o in observe(evidence, evidence.errors)]
    return rows, part_rows, notes
