"""The data package for researchers: Frictionless-valid, keyed, and an Excel workbook of the same tables."""

import json

import pytest
from openpyxl import load_workbook

frictionless = pytest.importorskip("frictionless", reason="frictionless is in the test extra")

from cchc_analysis.dataset.io import write_dataset  # noqa: E402


@pytest.fixture(scope="module")
def written(reference_dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("processed")
    write_dataset(reference_dataset, out)
    return out


def test_datapackage_validates(written):
    report = frictionless.validate(str(written / "datapackage.json"))
    assert report.valid, [e.message for task in report.tasks for e in task.errors][:5]


def test_keys_and_foreign_keys(written):
    package = json.loads((written / "datapackage.json").read_text(encoding="utf-8"))
    resources = {r["name"]: r for r in package["resources"]}
    indicators = resources["indicators"]["schema"]
    assert indicators["primaryKey"] == ["district", "indicator_id", "period", "as_of"]
    references = {fk["reference"]["resource"] for fk in indicators["foreignKeys"]}
    assert references == {"indicators_codebook", "districts"}
    fields = {f["name"]: f for f in indicators["fields"]}
    assert fields["value"]["type"] == "number" and fields["as_of"]["type"] == "date"
    assert "percent (0-100)" in fields["unit"]["description"]


def test_a_broken_foreign_key_is_caught(written, tmp_path):
    """The validation is real: an observation whose indicator is not in the codebook fails it."""
    for path in written.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    codebook = (tmp_path / "indicators_codebook.csv").read_text(encoding="utf-8").splitlines()
    kept = [line for line in codebook if not line.startswith("hdh_chu_ky_so,")]
    (tmp_path / "indicators_codebook.csv").write_text("\n".join(kept) + "\n", encoding="utf-8")
    report = frictionless.validate(str(tmp_path / "datapackage.json"))
    assert not report.valid
    assert any(e.type == "foreign-key" for task in report.tasks for e in task.errors)


def test_workbook_has_every_table(written, reference_dataset):
    book = load_workbook(written / "cchc-tables.xlsx", read_only=True)
    assert book.sheetnames[:3] == ["README", "indicators", "indicators_codebook"]
    sheet = book["indicators"]
    assert sheet.max_row == len(reference_dataset.indicators) + 1
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert header == list(reference_dataset.indicators.columns)
