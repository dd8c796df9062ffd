"""The processed dataset described for researchers: a Frictionless ``datapackage.json`` (fields, types, units,
keys, foreign keys between observations, indicators and districts) and an Excel workbook of the same tables for
people who do not use Python. Both are rebuilt with the dataset and byte-identical across runs."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pandas as pd

PACKAGE_NAME = "cchc-district-reports"
WORKBOOK = "cchc-tables.xlsx"

FIELD_DOCS: dict[str, str] = {
    "district": "District (huyện) as named in the report; a historical unit (districts were abolished on 1 July 2025)",
    "district_code": "Statistical code of the district (mã đơn vị hành chính, GSO) as of the report period",
    "province": "Province (tỉnh)",
    "province_code": "Statistical code of the province",
    "appendix": "Appendix table of the report (Phụ lục 1-8)",
    "section": "Sub-table of the appendix (I, II in Phụ lục 4), empty otherwise",
    "area": "Reform area id (see the area labels in the evaluation pack)",
    "indicator_id": "Stable indicator id (see indicators_codebook)",
    "indicator": "The row's own Vietnamese label as printed (tags removed, split labels rejoined)",
    "parent": "Label of the row this one belongs to; empty at top level",
    "parent_id": "Indicator id of the parent row",
    "indicator_en": "English label from the codebook",
    "unit": "count | percent (0-100) | flag (1 yes, 0 no) | dat (1 Đạt, 0 Không đạt) | ratio (value of denominator)",
    "period": "Year (2015) or span (2011-2020) of the column or row the figure stands in",
    "year": "Year the figure is filed under (the as-of year for a span)",
    "as_of": "Date the figure stands at (e.g. 2020-03-31 for 'Tính đến 31/3'); empty when the report does not say",
    "column_header": "The column header as printed",
    "value": "The figure, read with the row's unit; empty when the cell holds no number",
    "denominator": "For ratio units (13/13): the whole",
    "raw": "The cell exactly as in the source file",
    "note": "Text of the cell when the figure was read from text, and notes of the column or row",
    "value_status": "number | text_zero ('Không có ...' read as 0) | number_in_text | assessment | forecast (a figure stated for a later date than its column, as_of is that date) | text | unparsed",
    "source_file": "Raw file the figure comes from (relative path)",
    "source_line": "1-based line in the report (or row in an ingested workbook)",
    "source_column": "1-based column (tab-separated cell) in the line",
    "source_cell": "Sheet and cell for figures from an ingested workbook (e.g. Sheet \"2021\" G14)",
    "label_vi": "Vietnamese label", "label_en": "English label",
    "sum_of": "Indicators this one is the total of (|-separated)",
    "at_most": "Indicators this one cannot exceed (|-separated)",
    "description": "What the indicator counts, where the report leaves it unclear",
    "check": "Name of the validation check", "severity": "error | warning | info | ok (checked and agreed)",
    "message": "What was found, with the figures that disagree (English; worded from message_key and params)",
    "target": "Phụ lục 8 target number the finding is about; empty otherwise",
    "message_key": "Key of the message in the findings catalog (cchc_analysis/messages.yaml, Vietnamese and English)",
    "params": "Parameters of the message as JSON (a nested message is {\"key\": ..., \"params\": ...})",
    "source_lines": "Lines of the report the finding rests on (;-separated)",
    "number": "Target number in Phụ lục 8", "text": "Text of the target",
    "assessment": "The district's self-assessment as printed", "achieved": "Self-assessed as Đạt (true) or not",
    "text_line": "Line of the target's text", "sha256": "SHA-256 of the raw file",
    "synthetic": "True for SYNTHETIC test reports (derived from a real one for tests and benchmarks; never published)",
}

FIELD_TYPES = {"as_of": "date", "achieved": "boolean"}
WORKBOOK_CHUNK_ROWS = 10_000
WORKBOOK_TABLES = ("indicators", "indicators_codebook", "districts", "quality", "targets", "tables", "facts")

TABLES = {
    # name: (file, title, primary key, foreign keys as (fields, resource, reference fields))
    "indicators": ("indicators.csv", "Observations: one row per district, indicator and period",
                   ["district", "indicator_id", "period", "as_of"],
                   [(["indicator_id"], "indicators_codebook", ["indicator_id"]),
                    (["district"], "districts", ["district"])]),
    "indicators_codebook": ("indicators_codebook.csv", "Indicators: labels, units, parents and checks",
                            ["indicator_id"], []),
    "districts": ("districts.csv", "Districts and the reports they come from", ["district"], []),
    "quality": ("quality.csv", "Validation findings", None, [(["district"], "districts", ["district"])]),
    "targets": ("targets.csv", "Phụ lục 8: the programme's targets and the district's self-assessment",
                ["district", "number"], [(["district"], "districts", ["district"])]),
    "tables": ("tables.csv", "The appendix tables of each report", ["district", "appendix", "section"],
               [(["district"], "districts", ["district"])]),
    "cells": ("cells.csv", "Every non-empty table cell with its role (the 'nothing lost' ledger)",
              ["district", "source_line", "source_column"], [(["district"], "districts", ["district"])]),
    "facts": ("facts.csv", "Figures stated in the report's prose, with their quotes", None, []),
    "indicators_superseded": ("indicators_superseded.csv",
                              "Report figures replaced by an ingested year file (kept, not lost)", None, []),
}


def _field_type(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_integer_dtype(series):
        return "integer"
    if pd.api.types.is_float_dtype(series):
        return "number"
    return "string"


def _schema(frame: pd.DataFrame, primary_key, foreign_keys, present: set[str]) -> dict:
    fields = []
    for column in frame.columns:
        field = {"name": column, "type": FIELD_TYPES.get(column) or _field_type(frame[column])}
        if column in FIELD_DOCS:
            field["description"] = FIELD_DOCS[column]
        fields.append(field)
    schema: dict = {"fields": fields, "missingValues": [""]}
    if primary_key:
        schema["primaryKey"] = primary_key
    keys = [{"fields": f, "reference": {"resource": r, "fields": rf}} for f, r, rf in foreign_keys if r in present]
    if keys:
        schema["foreignKeys"] = keys
    return schema


def describe(frames: dict[str, pd.DataFrame]) -> dict:
    """The datapackage descriptor for the tables in ``frames`` (name -> DataFrame as written to CSV)."""
    present = set(frames)
    resources = []
    for name, (path, title, primary_key, foreign_keys) in TABLES.items():
        if name not in frames:
            continue
        resources.append({
            "name": name, "path": path, "title": title, "profile": "tabular-data-resource", "format": "csv",
            "mediatype": "text/csv", "encoding": "utf-8",
            "schema": _schema(frames[name], primary_key, foreign_keys, present),
        })
    return {
        "name": PACKAGE_NAME, "title": "CCHC (public-administration-reform) reports of Vietnamese districts as tidy data",
        "description": "Tables extracted from district CCHC reports (appendix tables Phụ lục 1-8) with provenance "
                       "to the line of the report, validation findings, and the report's prose as data. "
                       "Alongside: indicators.parquet (the observations), cchc-tables.xlsx (the tables but the cell "
                       "ledger, one sheet each) and sections.json (the prose per area). "
                       "Built by cchc-analysis from data/raw; do not edit by hand.",
        "profile": "tabular-data-package", "licenses": [{"name": "other-pd", "title": "Public government report"}],
        "resources": resources,
    }


def write_datapackage(frames: dict[str, pd.DataFrame], out_dir: Path) -> Path:
    target = Path(out_dir) / "datapackage.json"
    target.write_text(json.dumps(describe(frames), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return target


def write_workbook(frames: dict[str, pd.DataFrame], target: Path, lang: str = "vi") -> Path:
    """One sheet per table (plus a README sheet), with fixed metadata and zip timestamps: byte-identical reruns.

    Written row by row with XlsxWriter in constant-memory mode: three times faster than pandas' ``to_excel`` through
    openpyxl, which took most of a large corpus' write time. Text is always text (never a formula or a link).
    """
    import datetime

    import xlsxwriter

    readme = pd.DataFrame({
        "sheet": list(frames),
        "title": [TABLES[name][1] if name in TABLES else name for name in frames],
    })
    book = xlsxwriter.Workbook(str(target), {"constant_memory": True, "strings_to_formulas": False,
                                             "strings_to_urls": False, "strings_to_numbers": False})
    book.set_properties({"author": "cchc-analysis", "created": datetime.datetime(2020, 1, 1)})
    header = book.add_format({"bold": True})
    for name, frame in {"README": readme, **frames}.items():
        sheet = book.add_worksheet(name[:31])
        sheet.write_row(0, 0, [str(c) for c in frame.columns], header)
        sheet.freeze_panes(1, 0)
        for start in range(0, len(frame), WORKBOOK_CHUNK_ROWS):  # in chunks: a corpus' rows as Python objects
            chunk = frame.iloc[start:start + WORKBOOK_CHUNK_ROWS]      # at once would double the peak memory
            columns = [chunk[c].astype(object).where(chunk[c].notna(), None).tolist() for c in chunk.columns]
            for number, row in enumerate(zip(*columns), start=start + 1):
                sheet.write_row(number, 0, row)
    book.close()
    normalise_zip(target)
    return target


def normalise_zip(path: Path) -> None:
    """Rewrite a zip (xlsx) with sorted entries and a fixed timestamp, so equal content gives equal bytes."""
    with zipfile.ZipFile(path) as source:
        entries = [(info.filename, source.read(info.filename)) for info in source.infolist()]
    # a writer may stamp the save time into the document properties whatever was set before
    entries = [(name, re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                             rb"\g<1>2020-01-01T00:00:00Z\g<2>", data) if name == "docProps/core.xml" else data)
               for name, data in entries]
    tmp = path.with_suffix(path.suffix + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            out.writestr(info, data)
    tmp.replace(path)
