"""The dataset: the schema registry, the written files against it, the loader's dtypes, the one-district view."""

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cchc_analysis.dataset import schema
from cchc_analysis.dataset.io import load_dataset, write_dataset
from cchc_analysis.dataset.model import Dataset
from cchc_analysis.errors import CchcError
from cchc_analysis.findings import Finding

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def written(tmp_path_factory, reference_path):
    """The reference report parsed with its prose layer (every table, facts and sections included), as written."""
    from cchc_analysis.workflow import parse_and_write

    out = tmp_path_factory.mktemp("processed")
    parse_and_write([reference_path], out)
    return out


# -- the registry --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("table", list(schema.TABLES.values()), ids=list(schema.TABLES))
def test_keys_name_fields_of_their_tables(table):
    assert len(set(table.columns)) == len(table.columns)
    assert set(table.primary_key) <= set(table.columns)
    for own, other, theirs in table.foreign_keys:
        assert set(own) <= set(table.columns)
        assert list(theirs) == list(schema.TABLES[other].primary_key)


@pytest.mark.parametrize("field", [f for t in schema.TABLES.values() for f in t.fields], ids=lambda f: f.name)
def test_every_field_is_fully_described(field):
    assert field.type in schema.TYPES
    assert field.en and field.vi and field.en != field.vi
    assert not (field.values and field.pattern)


def test_quality_columns_are_the_finding_record():
    """The quality table is the Finding record as a frame (the record lives in core, the table in the registry)."""
    finding = Finding("D", "range", "error", "range", {"name": "x", "period": "2020", "as_of": "", "problem": "p",
                                                       "raw": "190"}, appendix=7)
    assert schema.columns("quality") == list(finding.as_row())


def test_the_pandera_schema_comes_from_the_registry(reference_dataset):
    schema.check_schema(reference_dataset.indicators, "reference")
    broken = reference_dataset.indicators.assign(unit="kg")
    with pytest.raises(CchcError, match="unit: isin"):
        schema.check_schema(broken, "reference")
    with pytest.raises(CchcError, match="column_header"):
        schema.check_schema(reference_dataset.indicators.drop(columns="column_header"), "reference")


# -- the written files against it ----------------------------------------------------------------------------------
def test_written_headers_are_the_registry_fields_in_order(written):
    files = {t.file: t for t in schema.TABLES.values()}
    csvs = sorted(p.name for p in written.glob("*.csv"))
    assert set(csvs) >= {"indicators.csv", "facts.csv", "cells.csv", "tables.csv", "districts.csv"}
    for name in csvs:
        with open(written / name, encoding="utf-8", newline="") as f:
            assert next(csv.reader(f)) == files[name].columns, name
    assert pd.read_parquet(written / "indicators.parquet").columns.tolist() == schema.columns("indicators")
    sections = json.loads((written / "sections.json").read_text(encoding="utf-8"))
    assert list(sections[0]) == schema.columns("sections")


def test_datapackage_fields_are_the_registry(written):
    package = json.loads((written / "datapackage.json").read_text(encoding="utf-8"))
    for resource in package["resources"]:
        table = schema.TABLES[resource["name"]]
        assert [f["name"] for f in resource["schema"]["fields"]] == table.columns
        assert [f["type"] for f in resource["schema"]["fields"]] == [f.type for f in table.fields]
        assert resource["schema"].get("primaryKey", []) == list(table.primary_key)


def test_a_frame_that_differs_from_the_registry_is_not_written(reference_dataset, tmp_path):
    broken = Dataset(**{**reference_dataset.__dict__,
                        "targets": reference_dataset.targets.drop(columns="text_line")})
    with pytest.raises(ValueError, match="targets: columns"):
        write_dataset(broken, tmp_path)
    assert not list(tmp_path.glob("*.csv"))


# -- the loader ----------------------------------------------------------------------------------------------------
def _dtypes(frame: pd.DataFrame) -> dict[str, str]:
    return {column: str(dtype) for column, dtype in frame.dtypes.items()}


def test_loaded_dtypes_are_the_registry_dtypes(written):
    data = load_dataset(written)
    for name, table in schema.TABLES.items():
        if name == "sections" or getattr(data, table.dataset_attribute) is None:
            continue
        assert _dtypes(getattr(data, table.dataset_attribute)) == table.dtypes(), name
    assert data.superseded is None and isinstance(data.sections, list)
    assert len(data.reports) == 1 and data.reports[0].endswith("bao-cao-tong-ket-cchc-2011-2020.txt")


def test_dtypes_do_not_depend_on_the_caller_nor_the_file(written, tmp_path):
    full = load_dataset(written).indicators
    columns = ["district", "appendix", "year", "as_of", "value"]
    subset = load_dataset(written, tables=("indicators",), columns={"indicators": columns}).indicators
    for path in written.iterdir():
        if path.name != "indicators.parquet":
            (tmp_path / path.name).write_bytes(path.read_bytes())
    from_csv = load_dataset(tmp_path).indicators
    assert _dtypes(subset) == {c: schema.TABLES["indicators"].dtypes()[c] for c in columns}
    pd.testing.assert_frame_equal(from_csv, full)
    pd.testing.assert_frame_equal(subset, full[columns])


def test_round_trip(reference_dataset, tmp_path):
    write_dataset(reference_dataset, tmp_path)
    loaded = load_dataset(tmp_path)
    pd.testing.assert_frame_equal(loaded.indicators, reference_dataset.indicators)
    pd.testing.assert_frame_equal(loaded.quality, reference_dataset.quality)
    pd.testing.assert_frame_equal(loaded.districts, reference_dataset.districts)
    assert loaded.targets["achieved"].sum() == 15


def test_missing_dataset_is_a_clear_error(tmp_path):
    with pytest.raises(CchcError, match="run `cchc parse` first"):
        load_dataset(tmp_path)


def test_a_bad_cell_names_the_file_and_column(written, tmp_path):
    for path in written.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    districts = (tmp_path / "districts.csv").read_text(encoding="utf-8").replace(",False,", ",maybe,")
    (tmp_path / "districts.csv").write_text(districts, encoding="utf-8")
    with pytest.raises(CchcError, match=r"districts.csv.*'synthetic'.*maybe"):
        load_dataset(tmp_path)


def test_the_loader_imports_no_parser_no_pandera(written):
    """What a notebook kernel imports, and a load, stay light (figures: benchmarks/bench_import.py): no parser, no
    pandera, no pyplot. (The measures check their ids against the table specs, so the specs' metadata and yaml
    come along; the parser itself does not.)"""
    code = ("import sys; import cchc_analysis.pack.views, cchc_analysis.pack.charts, cchc_analysis.pack.compare; "
            "from cchc_analysis.dataset.io import load_dataset; "
            f"load_dataset({str(written)!r}).for_district(); "
            "heavy = ('cchc_analysis.read', 'cchc_analysis.tables.extract', 'cchc_analysis.tables.tidy', "
            "'cchc_analysis.checks', 'cchc_analysis.prose', 'pandera', 'matplotlib.pyplot'); "
            "print(sorted(m for m in sys.modules if m.startswith(heavy)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


# -- one district ------------------------------------------------------------------------------------------------
def _two_districts(data: Dataset) -> Dataset:
    """The dataset twice over, the copy under another district name (enough to narrow by district)."""
    def twice(frame):
        if frame is None or "district" not in frame:
            return frame
        return pd.concat([frame, frame.assign(district="Mường Ảng")], ignore_index=True)

    tables = {k: twice(v) for k, v in data.__dict__.items() if isinstance(v, pd.DataFrame)}
    return Dataset(**{**data.__dict__, **tables})


def test_for_district_narrows_every_table(reference_dataset):
    both = _two_districts(reference_dataset)
    assert both.district_names() == ["Mường Ảng", "Tuần Giáo"]
    one = both.for_district("Tuần Giáo")
    assert (one.district, one.province) == ("Tuần Giáo", "Điện Biên")
    for name in ("indicators", "quality", "targets", "tables", "cells", "districts"):
        assert set(getattr(one, name)["district"]) == {"Tuần Giáo"}, name
        assert len(getattr(one, name)) == len(getattr(reference_dataset, name)), name
    assert one.codebook is both.codebook
    assert reference_dataset.for_district().district == "Tuần Giáo"


def test_for_district_refuses_unknown_or_ambiguous(reference_dataset):
    both = _two_districts(reference_dataset)
    with pytest.raises(CchcError, match="unknown district 'Điện Biên Đông'.*Mường Ảng, Tuần Giáo"):
        both.for_district("Điện Biên Đông")
    with pytest.raises(CchcError, match="several districts.*choose one"):
        both.for_district()
    assert both.for_districts(None) is both
    assert both.for_districts(["Mường Ảng"]).district_names() == ["Mường Ảng"]


# -- the README ----------------------------------------------------------------------------------------------------
def test_readme_column_lists_are_the_registry():
    """Each row of the README's file table that lists columns (`a, b, c`) lists its table's fields in order."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("| file | one row per | what it holds |", 1)[1].split("\n\n", 1)[0]
    files = {t.file: t for t in schema.TABLES.values()}
    checked = []
    for row in (line for line in block.splitlines() if line.startswith("| `")):
        cells = row.strip("|").split("|")
        file = re.match(r"\s*`([^`]+)`", cells[0])[1]
        for listing in re.findall(r"`([a-z_0-9]+(?:, [a-z_0-9]+){2,})`", cells[-1]):
            assert listing.split(", ") == files[file].columns, file
            checked.append(file)
    assert {"indicators.csv", "quality.csv"} <= set(checked)
