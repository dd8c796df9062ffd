"""Reading the processed dataset back (notebooks, the site builder, researchers) with the registry's dtypes, and
writing it (atomically). Imports neither the parser nor pandera: a notebook kernel loads it in a blink."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from cchc_analysis.dataset.model import Dataset
from cchc_analysis.dataset.package import WORKBOOK, WORKBOOK_TABLES, write_datapackage, write_workbook
from cchc_analysis.dataset.schema import CSV_TABLES, REQUIRED_TABLES, TABLES, Field, Table, check_columns
from cchc_analysis.errors import CchcError


def load_dataset(directory: str | Path = "data/processed", tables: tuple[str, ...] | None = None,
                 columns: dict[str, list[str]] | None = None) -> Dataset:
    """Load what ``cchc parse`` wrote, with the dtypes of the schema registry whoever asks.

    ``tables``: the tables wanted (names of ``schema.TABLES``; default every one present, the four of
    ``REQUIRED_TABLES`` at least); ``columns``: for some of them, only these columns. Observations are read from
    Parquet when it is there (several times faster than the CSV, same content). A clear error if a file is missing.
    """
    directory = Path(directory)
    wanted = tables or tuple(TABLES)
    needed = tables or REQUIRED_TABLES
    missing = [TABLES[name].file for name in needed if not (directory / TABLES[name].file).exists()]
    if missing:
        raise CchcError(f"no processed dataset here (missing {', '.join(missing)}); run `cchc parse` first",
                        file=directory)
    loaded = {TABLES[name].dataset_attribute: _read(TABLES[name], directory, (columns or {}).get(name))
              for name in wanted if (directory / TABLES[name].file).exists()}
    return Dataset(**loaded, directory=directory)


def _read(table: Table, directory: Path, columns: list[str] | None):
    path = directory / table.file
    if path.suffix == ".json":
        return json.loads(path.read_text(encoding="utf-8"))
    parquet = path.with_suffix(".parquet")
    if table.parquet and parquet.exists():
        frame = pd.read_parquet(parquet, columns=columns)
    else:
        # keep_default_na=False: an empty text cell stays "" (not NaN); the other columns are typed below
        frame = pd.read_csv(path, encoding="utf-8", keep_default_na=False, dtype=str, usecols=columns)
    return _typed(frame, table, path)


def _typed(frame: pd.DataFrame, table: Table, path: Path) -> pd.DataFrame:
    for column in frame.columns:
        try:
            field = table.field(column)
            frame[column] = _cast(frame[column], field)
        except (KeyError, ValueError, TypeError) as exc:
            raise CchcError(f"column {column!r}: {exc}", file=path) from None
    return frame


def _cast(column: pd.Series, field: Field) -> pd.Series:
    if field.type == "boolean":
        unknown = set(column.astype(str)) - {"True", "False", ""}
        if unknown:
            raise ValueError(f"not True or False: {sorted(unknown)[:3]}")
        column = column.map({"True": True, "False": False, "": None, True: True, False: False})
    elif field.type in ("integer", "number"):
        column = pd.to_numeric(column.replace("", None))
    return column.astype(field.dtype)


OUTPUT_FILES = ("datapackage.json", WORKBOOK, *(TABLES[name].file for name in TABLES),
                *(Path(t.file).with_suffix(".parquet").name for t in TABLES.values() if t.parquet))


# -- writing ----------------------------------------------------------------------------------------------------
def write_dataset(dataset: Dataset, out_dir: Path) -> list[Path]:
    """Write every table into ``out_dir`` atomically (all files or none)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".cchc-", dir=out_dir))
    try:
        frames = {name: getattr(dataset, TABLES[name].dataset_attribute) for name in CSV_TABLES
                  if getattr(dataset, TABLES[name].dataset_attribute) is not None}
        for name, frame in frames.items():
            table = TABLES[name]
            check_columns(name, frame)
            frame.to_csv(staging / table.file, index=False, encoding="utf-8", lineterminator="\n")
            if table.parquet:
                frame.to_parquet(staging / Path(table.file).with_suffix(".parquet"), index=False, engine="pyarrow")
        if dataset.sections:
            (staging / TABLES["sections"].file).write_text(
                json.dumps(dataset.sections, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        write_datapackage(frames, staging)
        write_workbook({k: v for k, v in frames.items() if k in WORKBOOK_TABLES}, staging / WORKBOOK)
        written = []
        for name in OUTPUT_FILES:
            target = out_dir / name
            if (staging / name).exists():
                os.replace(staging / name, target)
                written.append(target)
            elif target.exists():
                target.unlink()  # a stale output of an earlier run would no longer match the data
        return written
    finally:
        shutil.rmtree(staging, ignore_errors=True)
