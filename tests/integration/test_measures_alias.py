"""A variant label is an edit of the spec (issue 10): a report that prints Phụ lục 3 row 1 under a spec alias gives
the same derived measures, with the same row counts, on the district page and in the comparison as the reference
report does. (Measures used to find rows by folded labels: the district page lost four measures here.)"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from cchc_analysis.dataset import build as dataset_build
from cchc_analysis.dataset.io import load_dataset
from cchc_analysis.measures.compute import measure_values
from cchc_analysis.measures.definitions import load_measures
from cchc_analysis.pack import compare as C
from cchc_analysis.pack import views as P
from cchc_analysis.tables.specs import SPEC_DIR, load_specs
from cchc_analysis.workflow import parse_and_write

LABEL = "Tổng số TTHC của các cơ quan, đơn vị, UBND các xã, thị trấn"
ALIAS = "Tổng số thủ tục hành chính thuộc thẩm quyền giải quyết của huyện và các xã, thị trấn"
KEY = ["measure", "period", "year", "as_of", "value"]


def district_page_values(processed: Path) -> pd.DataFrame:
    """What the district pages compute: each area's measures of the one district."""
    ds = load_dataset(processed).for_district()
    return pd.concat([P.area_measure_values(ds, area) for area in P.area_ids()])[KEY] \
        .sort_values(KEY[:4], kind="stable").reset_index(drop=True)


def comparison_values(processed: Path) -> pd.DataFrame:
    """What the comparison computes: every measure of every district of the corpus."""
    corpus = C.load_corpus(processed)
    return measure_values(corpus.indicators, load_measures())[KEY] \
        .sort_values(KEY[:4], kind="stable").reset_index(drop=True)


@pytest.fixture(scope="module")
def processed(tmp_path_factory, reference_path):
    """The reference report parsed twice: as it is, and with row 1 of Phụ lục 3 printed under a spec alias."""
    root = tmp_path_factory.mktemp("alias")
    specs = root / "specs"
    shutil.copytree(SPEC_DIR, specs)
    spec = specs / "appendix_3.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace(
        f"    label: {LABEL}\n", f"    label: {LABEL}\n    aliases: [\"{ALIAS}\"]\n", 1), encoding="utf-8")
    raw = root / "raw" / "tuan-giao"
    shutil.copytree(reference_path.parent, raw)
    report = raw / reference_path.name
    text = report.read_text(encoding="utf-8")
    assert text.count(f"1.\t{LABEL}\t") == 1
    report.write_text(text.replace(f"1.\t{LABEL}\t", f"1.\t{ALIAS}\t"), encoding="utf-8")
    manifest = json.loads((raw / "manifest.json").read_text(encoding="utf-8"))  # a changed file is a new report
    for entry in manifest["files"]:
        if entry["file"] == report.name:
            entry["sha256"] = hashlib.sha256(report.read_bytes()).hexdigest()
    (raw / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")

    out = {"reference": root / "reference", "alias": root / "alias"}
    parse_and_write([reference_path.parent], out["reference"])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(dataset_build, "load_specs", lambda: load_specs(specs))
        parse_and_write([raw], out["alias"])
    return out


def test_the_alias_is_read_as_row_1(processed):
    ind = load_dataset(processed["alias"]).for_district().indicators
    assert set(ind.loc[ind["indicator_id"] == "tthc_tong_so", "indicator"]) == {ALIAS}


def test_district_page_and_comparison_agree_with_the_reference(processed):
    reference = district_page_values(processed["reference"])
    for values in (district_page_values(processed["alias"]), comparison_values(processed["alias"]),
                   comparison_values(processed["reference"])):
        pd.testing.assert_frame_equal(values, reference)
    counts = reference["measure"].value_counts()
    assert counts[["procedures_total", "one_stop_share", "published_share", "online_services_share"]].tolist() \
        == [6, 5, 4, 2]


def test_headline_figures_survive_the_alias(processed):
    alias, reference = (load_dataset(processed["alias"]).for_district(), load_dataset(processed["reference"]).for_district())
    assert P.headline_figures(alias, "tthc", "vi") == P.headline_figures(reference, "tthc", "vi")
    assert "procedures_total" in {f["key"] for f in P.headline_figures(alias, "tthc", "vi")}
