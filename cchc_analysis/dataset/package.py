"""The processed dataset described for researchers: a Frictionless ``datapackage.json`` (fields, types, units,
keys, foreign keys between observations, indicators and districts) and an Excel workbook of the same tables for
people who do not use Python. Both are rebuilt with the dataset and byte-identical across runs."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from pathlib import Path

import orjson
import pandas as pd

from cchc_analysis.dataset.schema import TABLES, Table

PACKAGE_NAME = "cchc-district-reports"
WORKBOOK = "cchc-tables.xlsx"

# A table of more rows than this is left out of the workbook (its README sheet says which files hold it): a
# spreadsheet filters and sorts 20,000 rows briskly, about 60 districts' observations, while Excel's hard limit
# (1,048,576) is far beyond what a person scrolls, and writing a corpus' 200,000 rows cell by cell took most of the
# time of building a national dataset. The CSV and Parquet files always hold every row.
WORKBOOK_ROW_BUDGET = 20_000
WORKBOOK_TABLES = ("indicators", "indicators_codebook", "districts", "quality", "targets", "tables", "facts",
                   "evaluation", "observations")
# the workbook tables of a few rows a district, whose sheet rows each district formats where it is read (the
# workbook joins them)
SHEET_PIECE_TABLES = ("targets", "tables", "facts", "evaluation", "observations")
# the workbook tables of hundreds of rows a district: left out of a corpus' workbook (over the budget); a district
# formats its sheet rows where it is read too only when the corpus is small enough for the table to fit
# (``dataset.build.fits_workbook``), else the workbook formats the table whole
LARGE_SHEET_TABLES = ("indicators", "quality")


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


def describe(tables: Iterable[str]) -> dict:
    """The datapackage descriptor of the ``tables`` written (their files, in the registry's columns): all of it comes
    from the registry, so a table written from its districts' pieces alone needs no frame."""
    present = set(tables)
    resources = []
    for name, table in TABLES.items():
        if name not in present:
            continue
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
                       "ledger, one sheet each, those of at most 20,000 rows; its README sheet says where the "
                       "others are) and sections.json (the prose per area). "
                       "Built by cchc-analysis from data/raw; do not edit by hand.",
        "profile": "tabular-data-package", "licenses": [{"name": "other-pd", "title": "Public government report"}],
        "resources": resources,
    }


def write_datapackage(tables: Iterable[str], out_dir: Path) -> Path:
    target = Path(out_dir) / "datapackage.json"
    # (orjson: the text of json.dumps(..., ensure_ascii=False, indent=2), which prints it in pure Python)
    target.write_bytes(orjson.dumps(describe(tables), option=orjson.OPT_INDENT_2) + b"\n")
    return target


def _files_of(name: str) -> str:
    table = TABLES[name]
    return ", ".join([table.file] + ([Path(table.file).with_suffix(".parquet").name] if table.parquet else []))


def workbook_readme(frames: dict[str, pd.DataFrame], budget: int,
                    rows: dict[str, int] | None = None) -> pd.DataFrame:
    """The first sheet: every table, its rows, its sheet (empty when over ``budget`` rows) and the files that hold
    all of it. ``rows``: the tables' row counts, where not their frames'."""
    counts = {name: (rows or {}).get(name, len(frame)) for name, frame in frames.items()}
    return pd.DataFrame({
        "sheet": [name if n <= budget else "" for name, n in counts.items()],
        "title": [TABLES[name].title for name in frames],
        "rows": list(counts.values()),
        "full_data": [_files_of(name) for name in frames],
        "note": ["" if n <= budget else f"more than {budget} rows: not in this workbook; open "
                 f"{_files_of(name)}" for name, n in counts.items()],
    })


def write_workbook(frames: dict[str, pd.DataFrame | None], target: Path, lang: str = "vi",
                   budget: int | None = None, sheets: dict[str, list[tuple]] | None = None,
                   rows: dict[str, int] | None = None) -> Path:
    """A README sheet (where each table's full data is), then one sheet per table of at most ``budget`` rows
    (default: ``WORKBOOK_ROW_BUDGET``, as the build reads it: ``in_workbook``), with fixed metadata and zip
    timestamps: byte-identical reruns.

    Written by ``dataset.xlsx`` (plain cells, streamed; several times faster than XlsxWriter, which took most of a
    corpus' write time). Text is always text (never a formula or a link). ``sheets``: a table's rows already
    formatted and deflated per district (``dataset.parts.Part.sheet_piece``, in its row order), used when their
    dtypes and row counts match the table's. A table that may come so is deflated per district when formatted here
    too: the same bytes however the workbook was put together. A table given as None (a build that never made its
    frame) has its columns from the registry, its row count from ``rows`` (else its sheet pieces) and, within the
    budget, its rows in ``sheets`` alone.
    """
    from cchc_analysis.dataset.xlsx import write_xlsx

    budget = WORKBOOK_ROW_BUDGET if budget is None else budget
    sheets = sheets or {}
    unframed = [name for name, frame in frames.items() if frame is None]
    rows = {name: (rows or {}).get(name, sum(n for _, n, _ in sheets.get(name, ()))) for name in unframed}
    for name in unframed:
        if rows[name] <= budget and not (name in sheets and sum(n for _, n, _ in sheets[name]) == rows[name] and
                                         formatted_as(tuple(TABLES[name].dtypes().values()), sheets[name])):
            raise ValueError(f"{name}: no frame, and not its workbook rows in the registry's dtypes")
    # (its columns alone, without their dtypes: a frame of those costs several times as much, a table each build)
    frames = {name: pd.DataFrame(columns=TABLES[name].columns) if frame is None else frame
              for name, frame in frames.items()}
    readme = workbook_readme(frames, budget, rows)
    frames = {name: frame for name, frame in frames.items() if rows.get(name, len(frame)) <= budget}
    ready = {name: [blob for _, _, blob in pieces] for name, pieces in sheets.items()
             if name in frames and (name in rows or _matches(frames[name], pieces))}
    by_district = {name: "district" for name in SHEET_PIECE_TABLES + LARGE_SHEET_TABLES}  # as the pieces were cut
    return write_xlsx({"README": readme, **frames}, target, pieces=ready, split_by=by_district, rows=rows)


def in_workbook(rows: int) -> bool:
    """A table of ``rows`` rows has its sheet in the workbook (within ``WORKBOOK_ROW_BUDGET``, read when asked)."""
    return rows <= WORKBOOK_ROW_BUDGET


def _matches(frame: pd.DataFrame, pieces: list[tuple]) -> bool:
    return sum(n for _, n, _ in pieces) == len(frame) and formatted_as(tuple(map(str, frame.dtypes)), pieces)


def formatted_as(dtypes: tuple[str, ...], pieces: list[tuple]) -> bool:
    """Every piece holding rows (``(dtypes, rows, text)``: CSV or sheet rows) was formatted from columns of
    ``dtypes``."""
    return all(d == dtypes for d, n, _ in pieces if n)


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
