"""The fill-in template for a new year (xlsx with Vietnamese instructions and drop-downs, or csv)."""

from __future__ import annotations

import contextlib
import csv
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cchc_analysis.dataset.package import normalise_zip
from cchc_analysis.dataset.yearfile import (
    COLUMNS,
    CSV_COLUMNS,
    INSTRUCTIONS_SHEET,
    UNIT_HINTS,
    YEARS,
    _format_number,
    template_indicators,
)
from cchc_analysis.errors import CchcError
from cchc_analysis.read.manifest import load_manifest, manifest_paths
from cchc_analysis.tables.specs import load_specs
from cchc_analysis.text import fold


@dataclass
class DistrictFolder:
    path: Path
    manifest: dict

    @property
    def district(self) -> str:
        return self.manifest["district"]


def find_district(raw_dir: Path, district: str) -> DistrictFolder:
    """A district folder of ``raw_dir`` by name, statistical code or folder name."""
    wanted = fold(district)
    found = []
    for manifest_path in manifest_paths(Path(raw_dir)):
        manifest = load_manifest(manifest_path)
        keys = {fold(manifest.get("district", "")), fold(manifest.get("district_code", "")),
                fold(manifest_path.parent.name)}
        if wanted in keys:
            found.append(DistrictFolder(manifest_path.parent, manifest))
    if not found:
        raise CchcError(f"no district '{district}' under {raw_dir} (give its name, code or folder)", file=raw_dir)
    if len(found) > 1:
        raise CchcError(f"'{district}' matches several districts: {', '.join(str(f.path) for f in found)}",
                        file=raw_dir)
    return found[0]


def last_known(indicators, district: str) -> dict[str, str]:
    """indicator_id -> "2.046 (2020, đến 31/03/2020)" from the latest year with a figure."""
    rows = indicators[(indicators["district"] == district) & indicators["value"].notna()]
    rows = rows.sort_values(["year", "as_of"])
    result = {}
    for row in rows.itertuples():
        value = _format_number(row.value)
        if row.unit == "dat":
            value = "Đạt" if row.value else "Không đạt"
        elif row.unit == "ratio" and row.denominator == row.denominator and row.denominator is not None:
            value = f"{value}/{_format_number(row.denominator)}"
        as_of = datetime.strptime(row.as_of, "%Y-%m-%d").strftime("%d/%m/%Y") if row.as_of else "?"
        result[row.indicator_id] = f"{value} ({row.period}, đến {as_of})"
    return result


# -- template -----------------------------------------------------------------------------------------------------
def write_template(raw_dir: Path, district: str, year: int, out: Path, fmt: str, indicators,
                   force: bool = False) -> Path:
    """Write the fill-in template for ``district`` and ``year``; ``indicators`` gives the last known values."""
    if not YEARS[0] <= year <= YEARS[1]:
        raise CchcError(f"--year {year} is not a plausible year ({YEARS[0]}-{YEARS[1]})")
    folder = find_district(raw_dir, district)
    out = Path(out)
    _check_output(out, Path(raw_dir), force)
    last = last_known(indicators, folder.district) if indicators is not None else {}
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for spec in template_indicators():
            writer.writerow([folder.district, spec.id, year, f"{year}-12-31", "", "", spec.label, spec.unit,
                             last.get(spec.id, "")])
        with atomic_output(out) as tmp:
            tmp.write_text(buffer.getvalue(), encoding="utf-8")
        return out
    book = _workbook(folder, year, last)
    with atomic_output(out) as tmp:
        _save_workbook(book, tmp)
    return out


def _check_output(out: Path, raw_dir: Path, force: bool) -> None:
    """Never over an analyst's filled workbook (unless --force), never into the raw data, never onto a folder."""
    resolved = out.resolve()
    if resolved == raw_dir.resolve() or raw_dir.resolve() in resolved.parents:
        raise CchcError(f"will not write under the raw data folder {raw_dir} (raw files are immutable)", file=out,
                        hint="write the template elsewhere; `cchc ingest` stores the filled file")
    if out.is_dir():
        raise CchcError("is a folder; give a file name", file=out)
    if out.exists() and not out.is_file():
        raise CchcError("is not a regular file (a device or pipe?); not replaced", file=out)
    if out.exists() and not force:
        raise CchcError("already exists (a filled template?); not overwritten", file=out,
                        hint="choose another --out, or add --force to overwrite it")


@contextlib.contextmanager
def atomic_output(out: Path) -> Iterator[Path]:
    """A temporary file beside ``out``, moved into place only when written completely; OSError named plainly."""
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        yield tmp
        os.replace(tmp, out)
    except OSError as exc:
        raise CchcError(f"cannot write: {exc.strerror or exc}", file=out) from None
    finally:
        tmp.unlink(missing_ok=True)


def _text(cell, value) -> None:
    """A text cell is text: a manifest value beginning with '=' must not become a live formula."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"


def _workbook(folder: DistrictFolder, year: int, last: dict[str, str]):
    specs = template_indicators()
    tables = load_specs()
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    guide = book.active
    guide.title = INSTRUCTIONS_SHEET
    meta = [("Huyện", folder.district), ("Mã huyện", folder.manifest.get("district_code", "")),
            ("Tỉnh", folder.manifest.get("province", "")), ("Năm", year), ("Phiên bản mẫu", 1)]
    _text(guide["A1"], f"Mẫu nhập số liệu cải cách hành chính năm {year}: huyện {folder.district}")
    guide["A1"].font = Font(bold=True, size=14)
    for i, (label, value) in enumerate(meta, start=3):
        guide.cell(i, 1, label).font = Font(bold=True)
        _text(guide.cell(i, 2), value)
    steps = [
        "Cách điền (How to fill in):",
        f"1. Mở trang tính \"{year}\". Mỗi dòng là một chỉ tiêu; chỉ điền cột \"Năm {year}\", cột \"Tính đến ngày\" "
        f"và, nếu cần, cột \"Ghi chú\". Không sửa, thêm hay xóa dòng và không sửa cột \"Mã chỉ tiêu\".",
        "2. Số viết theo kiểu Việt Nam: 2.232 là hai nghìn hai trăm ba mươi hai; 99,5 là chín mươi chín phẩy năm.",
        "3. Tỷ lệ (%) từ 0 đến 100. Số lượng là số nguyên không âm. Chỉ tiêu có danh sách thì chọn trong danh sách "
        "(Đạt/Không đạt, 0/1). Dạng x/y (vd: 13/13) gõ như văn bản.",
        "4. Không có số liệu thì để trống và ghi lý do ở cột \"Ghi chú\"; \"Không có\" nghĩa là bằng 0.",
        f"5. \"Tính đến ngày\" là ngày số liệu được chốt (mặc định 31/12/{year}); phải nằm trong năm {year}.",
        "6. Cột \"Giá trị gần nhất\" chỉ để tham khảo. Chênh lệch lớn so với năm trước sẽ được cảnh báo.",
        f"7. Nộp tệp bằng lệnh: cchc ingest <tệp> (nếu năm {year} đã có số liệu: thêm --replace).",
        "Every cell is checked before anything is stored; each problem is reported with its sheet and cell.",
    ]
    for i, text in enumerate(steps, start=10):
        guide.cell(i, 1, text).alignment = Alignment(wrap_text=False)
    guide["A10"].font = Font(bold=True)
    guide.column_dimensions["A"].width = 22
    guide.column_dimensions["B"].width = 30

    sheet = book.create_sheet(str(year))
    keys = list(COLUMNS)
    for col, key in enumerate(keys, start=1):
        header, width = COLUMNS[key]
        cell = sheet.cell(1, col, header.format(year=year))
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        sheet.column_dimensions[cell.column_letter].width = width
    choice = {"dat": DataValidation(type="list", formula1='"Đạt,Không đạt"', allow_blank=True),
              "flag": DataValidation(type="list", formula1='"0,1"', allow_blank=True)}
    for validation in choice.values():
        validation.error = "Chọn trong danh sách / choose from the list"
        validation.showErrorMessage = True
        sheet.add_data_validation(validation)
    fill = PatternFill("solid", fgColor="FFF2CC")
    value_col = keys.index("value") + 1
    for row, spec in enumerate(specs, start=2):
        parent = tables[spec.appendix].indicators.get(spec.parent_id)
        values = {"id": spec.id, "appendix": spec.appendix, "label": spec.label,
                  "parent": parent.label if parent else "", "kind": UNIT_HINTS[spec.unit][0],
                  "last": last.get(spec.id, ""), "value": None, "as_of": f"31/12/{year}", "note": None}
        for col, key in enumerate(keys, start=1):
            cell = sheet.cell(row, col)
            _text(cell, values[key])
            if key in ("value", "as_of", "note"):
                cell.fill = fill
            if key in ("value", "as_of"):  # Text: 2.232 and 99,5 stay as typed (no Excel date, no 0.995 for 99,5%)
                cell.number_format = "@"
        if spec.unit in choice:
            choice[spec.unit].add(sheet.cell(row, value_col))
    sheet.freeze_panes = sheet.cell(2, value_col)
    book.active = 1
    return book


def _save_workbook(book, out: Path) -> None:
    """Save with fixed document properties, so the same template is byte-identical across runs."""
    fixed = datetime(2020, 1, 1)
    book.properties.created = fixed
    book.properties.modified = fixed
    book.properties.creator = "cchc-analysis"
    book.save(out)
    normalise_zip(out)


