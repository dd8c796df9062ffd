"""The evaluation of the reference report, end to end (report -> dataset -> verdicts), and of a SYNTHETIC district
that has no curated data: the same criteria give it its own verdicts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from cchc_analysis.dataset.schema import columns
from cchc_analysis.evaluation.run import district_evaluation, evaluate_districts
from cchc_analysis.prose.curated import curated_for
from cchc_analysis.read.manifest import discover
from cchc_analysis.read.source import read_source
from cchc_analysis.synthetic import write_corpus
from cchc_analysis.workflow import evaluated_dataset

ROOT = Path(__file__).resolve().parents[2]
RAW = ROOT / "data" / "raw"


@pytest.fixture(scope="module")
def reference():
    return evaluated_dataset([RAW / "tuan-giao"])


def verdicts(dataset, district="Tuần Giáo") -> dict[str, str]:
    rows = dataset.evaluation[dataset.evaluation["district"] == district]
    return dict(zip(rows["criterion_id"], rows["verdict"]))


def test_every_criterion_has_a_verdict_with_words_in_both_languages(reference):
    ev = reference.evaluation
    assert len(ev) == 18 and ev["criterion_id"].is_unique
    assert (ev["summary_vi"].str.len() > 20).all() and (ev["summary_en"].str.len() > 20).all()
    assert set(ev.loc[ev["target"].notna(), "target"]) == set(range(1, 17))
    # every Phụ lục 8 target of the report is matched to its criterion (none "not listed")
    assert not ev["summary_en"].str.contains("does not list this target").any()
    assert (ev.loc[ev["target"].notna(), "self_assessment"] != "").all()


def test_reference_verdicts(reference):
    v = verdicts(reference)
    assert v["muc_tieu_08"] == "dat_mot_phan"        # 100% electronic documents, but 31 of 468 procedures online
    assert v["muc_tieu_01"] == "chua_dat"            # no procedure simplified in any year
    assert v["muc_tieu_16"] == "chua_dat"            # the district's own "Không đạt"
    assert v["muc_tieu_10"] == "khong_danh_gia"      # a target set for ministries and provinces
    assert v["tinh_gian_bien_che"] == "dat_mot_phan"  # staff down 3.2% against 2015, target 10%
    assert v["giam_don_vi_su_nghiep"] == "chua_du_can_cu"  # Phụ lục 4 gives no 2015 figure
    ev = reference.evaluation.set_index("criterion_id")
    assert "tự đánh giá của huyện" in ev.loc["muc_tieu_16", "summary_vi"]     # credited, not held against it
    assert "chưa phù hợp với kết quả tự đánh giá" in ev.loc["muc_tieu_01", "summary_vi"]
    assert "Phụ lục 3, chỉ tiêu 2" in ev.loc["muc_tieu_01", "evidence_vi"]
    assert "Appendix 7, item 1" in ev.loc["muc_tieu_08", "evidence_en"]
    assert ev.loc["tinh_gian_bien_che", "source_status"] == "secondary"
    assert "chưa đối chiếu văn bản gốc" in ev.loc["tinh_gian_bien_che", "source_note_vi"]


def test_parts_cite_figures_with_their_dates_and_never_show_a_count_as_a_percentage(reference):
    parts = reference.evaluation_parts.set_index(["criterion_id", "part_id"])
    text = parts.loc[("muc_tieu_08", "dvc_muc_3_4"), "text_vi"]
    assert "6,6%" in text and "31 trên 468" in text and "31/3/2020" in text
    one_stop = parts.loc[("muc_tieu_11", "mot_cua_dien_tu")]
    assert one_stop["status"] == "no_evidence" and "1.319 (số ghi trong dòng tỷ lệ %)" in one_stop["text_vi"]
    assert "1.319%" not in " ".join(reference.evaluation_parts["text_vi"])


def test_a_verdict_is_not_a_quality_warning(reference):
    assert not reference.quality["check"].str.contains("target_evidence").any()


def test_curated_quotes_stand_at_their_lines():
    report = discover([RAW / "tuan-giao"])[0]
    lines = report.path.read_text(encoding="utf-8").splitlines()
    judgements = curated_for(report).judgements
    assert judgements
    for judgement in judgements:
        for quote in judgement.get("quotes", ()):
            assert quote["quote"] in lines[quote["line"] - 1], (judgement["criterion"], quote)


def test_strengths_and_weaknesses_credit_the_district_too(reference):
    notes = reference.observations
    assert {"strength", "weakness"} == set(notes["kind"])
    assert notes.loc[notes["observation_id"] == "tinh_gian", "text_vi"].str.contains("107").all()
    weak = notes[notes["kind"] == "weakness"]
    assert (weak["recommendation_vi"] != "").all()


def test_a_synthetic_district_gets_its_own_verdicts_without_curated_data(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(RAW / "tuan-giao", raw / "tuan-giao")
    write_corpus(RAW / "tuan-giao" / "bao-cao-tong-ket-cchc-2011-2020.txt", raw, 1)
    dataset = evaluated_dataset([raw])
    other = verdicts(dataset, "Tổng Hợp 001")
    assert len(other) == 18
    parts = dataset.evaluation_parts
    judged = parts[(parts["district"] == "Tổng Hợp 001") & (parts["criterion_id"] == "muc_tieu_02")
                   & (parts["part_id"] == "tthc_cai_cach")]
    assert judged["status"].tolist() == ["no_evidence"]  # nobody curated its prose
    assert verdicts(dataset) == verdicts(evaluated_dataset([RAW / "tuan-giao"]))


def test_judging_the_written_dataset_again_gives_the_tables_it_holds(reference):
    """The evaluation rows, made into the registry's tables as the build makes them, are the tables written."""
    from cchc_analysis.dataset.parts import from_rows, to_frame

    rows = evaluate_districts(reference, discover([RAW / "tuan-giao"]))
    for name, table_rows, held in zip(("evaluation", "evaluation_parts", "observations"), zip(*rows.values()),
                                      (reference.evaluation, reference.evaluation_parts, reference.observations)):
        frame = to_frame([from_rows(district_rows, name) for district_rows in table_rows], name)
        assert list(frame.columns) == columns(name)
        pd.testing.assert_frame_equal(frame, held, check_exact=True)


def test_one_district_is_judged_from_its_own_tables_as_in_the_dataset(reference):
    """``district_evaluation`` (one district's tables, no dataset) gives that district's rows of
    ``evaluate_districts``; a district with no tables at all is still judged on every criterion."""
    report = discover([RAW / "tuan-giao"])[0]
    name = reference.districts["district"].iloc[0]
    lines = read_source(report.path).lines
    expected = evaluate_districts(reference, [report])[name]
    assert district_evaluation(name, report, lines, reference.indicators, reference.quality, reference.targets,
                               reference.facts, reference.sections) == expected
    curated = curated_for(report)  # given by a caller that looked it up already: the same rows
    assert curated is not None and district_evaluation(
        name, report, lines, reference.indicators, reference.quality, reference.targets, reference.facts,
        reference.sections, curated=curated) == expected
    rows, _, _ = district_evaluation("X", None, [])
    assert [r["criterion_id"] for r in rows] == [r["criterion_id"] for r in expected[0]]
    assert {r["verdict"] for r in rows} <= {"chua_du_can_cu", "khong_danh_gia"}


def test_a_district_looks_its_curated_file_up_once_for_the_prose_and_the_evaluation(monkeypatch):
    from cchc_analysis.dataset import build
    from cchc_analysis.workflow import PIECES_ONLY, evaluate_one

    report = discover([RAW / "tuan-giao"])[0]
    looked_up = []
    monkeypatch.setattr(build, "curated_for", lambda r: looked_up.append(r) or curated_for(r))
    seen = {}

    def then(report, tables):
        seen["curated"] = tables.curated
        return evaluate_one(report, tables)

    one = build.district_result((report, True, then, 1, frozenset(PIECES_ONLY)))
    assert len(looked_up) == 1 and seen["curated"] is not None
    assert one.tallies["evaluation"]  # its verdicts were counted
