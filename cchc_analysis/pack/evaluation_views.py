"""What the evaluation pages show, as plain rows for the templates: the summary (overall judgement, scorecard,
strengths, weaknesses, recommendations, the district's own recommendations, context), the verdict tables, each area's
conclusion and the method page. The verdicts and their wording are computed at parse time (evaluation.csv,
evaluation_parts.csv, observations.csv); here they are selected, ordered and laid out in the pack's language."""

from __future__ import annotations

import re

import pandas as pd

from cchc_analysis.dataset.model import Dataset
from cchc_analysis.dataset.schema import TABLES
from cchc_analysis.evaluation.context import INDEX_NAMES, MEASURE_NAMES, indices_for
from cchc_analysis.pack.catalog import catalog
from cchc_analysis.pack.views import district_line
from cchc_analysis.text import format_date, format_number

SCALE = ("dat", "dat_mot_phan", "chua_dat", "chua_du_can_cu", "khong_danh_gia")
QUOTED = re.compile(r"(«[^»]*»)")
RANKING_FACTS = ("cd_xep_hang_chi_so_4", "cd_xep_hang_chi_so_5")


def said(text: str, lang: str) -> list[dict]:
    """Text as segments for ``blocks.html.j2`` ``said``: on English pages the report's own words, which the
    evaluation quotes in «», are marked lang="vi"."""
    if lang != "en":
        return [{"text": text, "lang": ""}]
    return [{"text": piece, "lang": "vi" if QUOTED.fullmatch(piece) else ""} for piece in QUOTED.split(text) if piece]


def words(lang: str) -> dict:
    return catalog(lang)["summary"]


def verdict_name(verdict: str, lang: str) -> str:
    return catalog(lang)["verdicts"][verdict]


def _evaluation(ds: Dataset) -> pd.DataFrame:
    """The verdicts; none (an empty table of the registry's columns) for a dataset written without them."""
    if ds.evaluation is not None:
        return ds.evaluation
    return pd.DataFrame(columns=TABLES["evaluation"].columns)


def scorecard(ds: Dataset, lang: str) -> list[dict]:
    """How many criteria in each verdict, in the scale's order (every verdict listed, zero included)."""
    counts = _evaluation(ds)["verdict"].value_counts()
    return [{"verdict": v, "label": verdict_name(v, lang), "count": int(counts.get(v, 0))} for v in SCALE]


def self_assessed(ds: Dataset) -> tuple[int, int]:
    """(targets the district assessed Đạt, targets in its Phụ lục 8)."""
    targets = ds.targets if ds.targets is not None else pd.DataFrame(columns=["achieved"])
    return int(targets["achieved"].fillna(False).astype(bool).sum()), len(targets)


def overall_judgement(ds: Dataset, lang: str) -> list[str]:
    """Two or three sentences a Department would open with: the scorecard in words, set against the
    self-assessment, and what that means for the reliability of the self-assessment."""
    w = words(lang)
    counts = {row["verdict"]: row["count"] for row in scorecard(ds, lang)}
    claimed, of = self_assessed(ds)
    total = sum(counts.values())
    sentences = [w["judgement_counts"].format(
        total=total, dat=counts["dat"], dat_mot_phan=counts["dat_mot_phan"], chua_dat=counts["chua_dat"],
        chua_du_can_cu=counts["chua_du_can_cu"], khong_danh_gia=counts["khong_danh_gia"])]
    if of:
        sentences.append(w["judgement_self"].format(claimed=claimed, of=of))
        key = "judgement_gap" if counts["dat"] < claimed else "judgement_agrees"
        sentences.append(w[key])
    return sentences


def verdict_rows(ds: Dataset, lang: str, area: str | None = None) -> list[dict]:
    """One row per criterion (of an area, or all): what it is, where it stands, the self-assessment, the verdict,
    the reasoning and the evidence."""
    ev = _evaluation(ds)
    if area is not None:
        ev = ev[ev["area"] == area]
    rows = []
    for r in ev.to_dict("records"):
        reference = r.get(f"reference_{lang}") or r.get("source", "")
        rows.append({
            "criterion": r[f"title_{lang}"], "reference": reference if r.get(f"reference_{lang}") else "",
            "self": _self_text(r.get("self_assessment", ""), lang), "verdict": r["verdict"],
            "verdict_label": verdict_name(r["verdict"], lang), "reason": said(r[f"reason_{lang}"], lang),
            "parts": [said(p["text"], lang) for p in parts_of(ds, r["criterion_id"], lang)],
            "evidence": r.get(f"evidence_{lang}") or "",
            "secondary": r.get("source_status") != "verified", "source_note": r[f"source_note_{lang}"],
        })
    return rows


def _self_text(value, lang: str) -> str:
    if not isinstance(value, str) or not value:
        return "—"
    return value if lang == "vi" else catalog(lang)["summary"]["self_" + ("met" if value == "Đạt" else "not_met")]


def parts_of(ds: Dataset, criterion_id: str, lang: str) -> list[dict]:
    parts = ds.evaluation_parts
    if parts is None:
        return []
    rows = parts[parts["criterion_id"] == criterion_id]
    out = []
    for r in rows.to_dict("records"):
        text = r[f"text_{lang}"]
        out.append({"status": r["status"], "status_label": catalog(lang)["verdicts"]["part_" + r["status"]],
                    "text": text[:1].upper() + text[1:],
                    "context": [c for c in (r[f"context_{lang}"] or "").split(" | ") if c]})
    return out


def observations(ds: Dataset, kind: str, lang: str, area: str | None = None, n: int | None = None) -> list[dict]:
    """Strengths or weaknesses, highest priority first (of an area, or all), with their recommendation."""
    notes = ds.observations
    if notes is None or notes.empty:
        return []
    notes = notes[notes["kind"] == kind]
    if area is not None:
        notes = notes[notes["area"] == area]
    notes = notes.sort_values(["priority", "observation_id"], ascending=[False, True], kind="stable")
    rows = [{"text": said(r[f"text_{lang}"], lang), "recommendation": r[f"recommendation_{lang}"] or ""}
            for r in notes.to_dict("records")]
    return rows[:n] if n else rows


def recommendations(ds: Dataset, lang: str) -> list[dict]:
    """The evaluation's recommendations, each with the finding that motivates it."""
    return [{"text": w["recommendation"], "because": w["text"]}
            for w in observations(ds, "weakness", lang) if w["recommendation"]]


def district_recommendations(ds: Dataset) -> list[dict]:
    """The district's own recommendations (kiến nghị), quoted from its report (Vietnamese)."""
    return [{"heading": s.get("heading", ""), "text": s.get("text", "")}
            for s in ds.sections or [] if s.get("kind") == "recommendations"]


def ranking_context(ds: Dataset, lang: str) -> str:
    """The report's own statement of its rank in the province's CCHC index, when its prose states one."""
    facts = ds.facts
    if facts is None or facts.empty or "id" not in facts:
        return ""
    found = facts[facts["id"].isin(RANKING_FACTS)]
    if found.empty:
        return ""
    row = found.iloc[0]
    return said(words(lang)["ranking"].format(quote=row["quote"]), lang)


def index_rows(ds: Dataset, lang: str) -> list[dict]:
    """Published provincial indices for the district's province: context, never a verdict."""
    rows = []
    for r in indices_for(ds.province):
        rank = f"{int(r['rank'])}/{int(r['rank_of'])}" if r["rank"] is not None else "—"
        rows.append({"index": INDEX_NAMES[r["index"]][lang], "measure": MEASURE_NAMES[r["measure"]][lang],
                     "year": str(r["year"]),
                     "value": f"{format_number(r['value'], lang)} / {format_number(r['scale'], lang)}",
                     "rank": rank, "source": f"{r['publisher']}: {r['source_vi' if lang == 'vi' else 'source']}"})
    return rows


def area_conclusion(ds: Dataset, area: str, lang: str) -> dict:
    """What opens an area page: the area's verdicts, two or three lines of evidence, its strengths and
    weaknesses, and what the district's own report claims for it."""
    verdicts = verdict_rows(ds, lang, area)
    ev = _evaluation(ds)
    ids = list(ev.loc[ev["area"] == area, "criterion_id"])
    evidence = [said(p["text"], lang) for cid in ids for p in parts_of(ds, cid, lang)
                if p["status"] in ("supported", "contradicted", "partly")][:3]
    return {"verdicts": verdicts, "evidence": evidence,
            "strengths": observations(ds, "strength", lang, area),
            "weaknesses": observations(ds, "weakness", lang, area),
            "claims": claims(ds, area, lang)}


def claims(ds: Dataset, area: str, lang: str) -> str:
    """The district's results for the area as claims: how many figures its prose states there, and how many of
    them the tables carry too."""
    facts = ds.facts
    if facts is None or facts.empty or "area" not in facts:
        return words(lang)["claims_none"]
    mine = facts[facts["area"] == area]
    if mine.empty:
        return words(lang)["claims_none"]
    backed = int((mine["indicator_id"].fillna("") != "").sum())
    return words(lang)["claims"].format(n=len(mine), backed=backed)


def source_document(ds: Dataset, lang: str) -> list[dict]:
    """The report evaluated, as its manifest describes it (title, issuer, the plan it answers, its date)."""
    m = catalog(lang)["method"]
    if ds.districts is None or ds.districts.empty:
        return []
    d = ds.districts.iloc[0]
    source = "vi" if lang == "en" else ""  # the document's own title, issuer and plan are Vietnamese
    items = [(m["doc_title"], d.get("title", ""), source), (m["doc_issuer"], d.get("issuer", ""), source),
             (m["doc_plan"], d.get("answers_plan", ""), source),
             (m["doc_as_of"], _date(d.get("figures_as_of", "")), ""),
             (m["doc_district"], district_line(ds, lang), "")]
    return [{"label": label, "value": [{"text": value, "lang": text_lang}]}
            for label, value, text_lang in items if isinstance(value, str) and value]


def _date(iso) -> str:
    return format_date(iso) if isinstance(iso, str) and iso else ""


def criteria_sources(ds: Dataset, lang: str) -> list[dict]:
    """The documents that set the criteria, once each, with their status."""
    ev = _evaluation(ds)
    seen: dict[str, bool] = {}
    for r in ev.to_dict("records"):
        seen.setdefault(r["source"] if lang == "vi" else r["source_note_en"], r["source_status"] != "verified")
    return [{"text": text, "secondary": secondary} for text, secondary in seen.items()]


def scale_rules(lang: str) -> list[dict]:
    rules = catalog(lang)["method"]["scale_rules"]
    return [{"label": verdict_name(v, lang), "rule": rules[v]} for v in SCALE]
