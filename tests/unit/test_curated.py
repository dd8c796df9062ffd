"""Curated files beside a report: found through its manifest, validated strictly when read, absent for others."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from cchc_analysis.errors import CchcError
from cchc_analysis.prose.curated import curated_for
from cchc_analysis.read.manifest import discover

FACT = {"id": "f", "line": 3, "quote": "12 văn bản", "raw": "12", "value": 12}


def district(tmp_path: Path, curated: str | None, sha: str | None = None) -> Path:
    folder = tmp_path / "d"
    folder.mkdir()
    report = "UBND huyện X\n\nđã ban hành 12 văn bản\n"
    (folder / "report.txt").write_text(report, encoding="utf-8")
    files = [{"file": "report.txt", "kind": "report", "sha256": hashlib.sha256(report.encode("utf-8")).hexdigest()}]
    if curated is not None:
        (folder / "curated.yaml").write_text(curated, encoding="utf-8")
        digest = hashlib.sha256(curated.encode("utf-8")).hexdigest()
        files.append({"file": "curated.yaml", "kind": "curated", "report": "report.txt", "sha256": sha or digest})
    manifest = {"district": "X", "province": "Y", "files": files}
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return folder


def test_found_through_the_manifest_and_not_a_report(tmp_path):
    folder = district(tmp_path, json.dumps({"facts": [FACT]}, ensure_ascii=False))
    (report,) = discover([folder])  # the curated file is not read as a report
    curated = curated_for(report)
    assert curated.facts == (FACT,) and curated.checks == () and curated.path.endswith("curated.yaml")


def test_no_curated_file_means_none(tmp_path):
    (report,) = discover([district(tmp_path, None)])
    assert curated_for(report) is None


@pytest.mark.parametrize("content,where", [
    ({"facts": [dict(FACT, colour="red")]}, "curated.facts[0].colour: unknown key"),
    ({"facts": [dict(FACT, line="3")]}, "curated.facts[0].line: expected a whole number"),
    ({"facts": [dict(FACT, value=True)]}, "curated.facts[0].value: expected"),
    ({"facts": [{"id": "f", "line": 3, "quote": "q"}]}, "curated.facts[0]: the key 'value' is missing"),
    ({"checks": [{"id": "c", "type": "sum", "op": "about"}]}, "curated.checks[0].op: expected one of"),
    ({"judgements": [{"criterion": "c", "part": "p", "judgement": "maybe", "why": {"vi": "v", "en": "e"}}]},
     "curated.judgements[0].judgement: expected one of"),
    ({"judgements": [{"criterion": "c", "part": "p", "why": "only one language"}]},
     "curated.judgements[0].why: expected a mapping"),
    ({"fact": []}, "curated.fact: unknown key"),
])
def test_schema_names_the_file_and_key(tmp_path, content, where):
    (report,) = discover([district(tmp_path, json.dumps(content, ensure_ascii=False))])
    with pytest.raises(CchcError, match="curated.yaml") as error:
        curated_for(report)
    assert where in str(error.value)


def test_checksum_is_verified(tmp_path):
    (report,) = discover([district(tmp_path, json.dumps({"facts": []}), sha="0" * 64)])
    with pytest.raises(CchcError, match="checksum"):
        curated_for(report)


def test_reference_report_curated_file_is_valid():
    root = Path(__file__).resolve().parents[2]
    (report,) = discover([root / "data" / "raw" / "tuan-giao"])
    curated = curated_for(report)
    assert len(curated.facts) == 102 and curated.checks and curated.judgements and curated.not_facts
