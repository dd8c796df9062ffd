"""The processed dataset described for researchers: a Frictionless ``datapackage.json`` (fields, types, units,
keys, foreign keys between observations, indicators and districts) and an Excel workbook of the same tables for
people who do not use Python. Both are rebuilt with the dataset and byte-identical across runs."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pandas as pd

from cchc_analysis.dataset.schema import TABLES, Table, check_columns

PACKAGE_NAME = "cchc-district-reports"
WORKBOOK = "cchc-tables.xlsx"

WORKBOOK_CHUNK_ROWS = 10_000
WORKBOOK_TABLES = ("indicators", "indicators_codebook", "districts", "quality", "targets", "tables", "facts",
                   "evaluation", "observations")


def _schema(table: Table, present: set[str]) -> dict:
    """A table's Frictionless schema, from the registry: fields (type, English description), keys."""
    fields = [{"name": f.name, "type": f.type, "description": f.en} for f in table.fields]
    schema: dict = {"fields": fields, "missingValues": [""]}
    if table.primary_key:
        schema["primaryKey"] = list(table.primary_key)
    keys = [{"fields": list(f), "reference": {"resource": r, "fields": list(rf)}}
            for f, r, rf in table.foreign_keys if r in present]
    if keys:
        schema["foreignKeys"] = keys
    return schema


def describe(frames: dict[str, pd.DataFrame]) -> dict:
    """The datapackage descriptor for the tables in ``frames`` (name -> DataFrame as written to CSV)."""
    present = set(frames)
    resources = []
    for name, table in TABLES.items():
        if name not in frames:
            continue
        check_columns(name, frames[name])
        resources.append({
            "name": name, "path": table.file, "title": table.title, "profile": "tabular-data-resource",
            "format": "csv", "mediatype": "text/csv", "encoding": "utf-8", "schema": _schema(table, present),
        })
    return {
        "name": PACKAGE_NAME,
        "title": "CCHC (public-administration-reform) reports of Vietnamese districts as tidy data",
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
        "title": [TABLES[name].title for name in frames],
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
