"""New year data: an Excel (or CSV) template for analysts, validated ingest, and reading ingested files back.

The analyst fills one column of a workbook; ``cchc ingest`` checks every cell before anything in ``data/`` changes,
reports every problem at once (sheet and cell, in Vietnamese with an English gloss), and only then stores the file
as a new immutable raw input with a manifest entry and rebuilds the processed dataset.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from cchc_analysis.datapackage import normalise_zip
from cchc_analysis.errors import CchcError
from cchc_analysis.specs import IndicatorSpec, load_specs
from cchc_analysis.text import clean, fold
from cchc_analysis.values import read_count, read_percent, read_value

MANIFEST = "manifest.json"
UPDATES_DIR = "updates"
INSTRUCTIONS_SHEET = "Hướng dẫn"
UNIT_HINTS = {
    "count": ("Số nguyên không âm (vd: 2.232 hoặc 2232)", "a non-negative whole number"),
    "percent": ("Tỷ lệ % từ 0 đến 100 (vd: 99,5)", "a percentage between 0 and 100"),
    "flag": ("0 (không) hoặc 1 (có)", "0 (no) or 1 (yes)"),
    "dat": ("Đạt / Không đạt", "Đạt (met) or Không đạt (not met)"),
    "ratio": ("Số đạt/Tổng số (vd: 13/13) hoặc một số", "x/y (e.g. 13/13) or a number"),
}
COLUMNS = {  # key -> (header text, width)
    "id": ("Mã chỉ tiêu", 30), "appendix": ("Phụ lục", 8), "label": ("Chỉ tiêu", 70), "parent": ("Thuộc mục", 40),
    "kind": ("Loại giá trị", 32), "last": ("Giá trị gần nhất", 26), "value": ("Năm {year}", 14),
    "as_of": ("Tính đến ngày (dd/mm/yyyy)", 16), "note": ("Ghi chú", 40),
}
CSV_COLUMNS = ["district", "indicator_id", "year", "as_of", "value", "note", "indicator", "unit", "last_value"]


# -- what an update covers ----------------------------------------------------------------------------------------
def template_indicators() -> list[IndicatorSpec]:
    """Every indicator an analyst can give a yearly figure for (not headings, not the cells split into parts)."""
    return [spec for table in load_specs().values() for spec in table.all_indicators()
            if spec.unit != "none" and not spec.parts]


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
    for manifest_path in sorted(Path(raw_dir).rglob(MANIFEST)):
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
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


def _format_number(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}".replace(",", ".")
    return f"{value:g}".replace(".", ",")


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
def write_template(raw_dir: Path, district: str, year: int, out: Path, fmt: str, indicators) -> Path:
    """Write the fill-in template for ``district`` and ``year``; ``indicators`` gives the last known values."""
    if not 2000 <= year <= 2100:
        raise CchcError(f"--year {year} is not a plausible year")
    folder = find_district(raw_dir, district)
    last = last_known(indicators, folder.district) if indicators is not None else {}
    specs = template_indicators()
    tables = load_specs()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for spec in specs:
            writer.writerow([folder.district, spec.id, year, f"{year}-12-31", "", "", spec.label, spec.unit,
                             last.get(spec.id, "")])
        out.write_text(buffer.getvalue(), encoding="utf-8")
        return out
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    guide = book.active
    guide.title = INSTRUCTIONS_SHEET
    meta = [("Huyện", folder.district), ("Mã huyện", folder.manifest.get("district_code", "")),
            ("Tỉnh", folder.manifest.get("province", "")), ("Năm", year), ("Phiên bản mẫu", 1)]
    guide["A1"] = f"Mẫu nhập số liệu cải cách hành chính năm {year}: huyện {folder.district}"
    guide["A1"].font = Font(bold=True, size=14)
    for i, (label, value) in enumerate(meta, start=3):
        guide.cell(i, 1, label).font = Font(bold=True)
        guide.cell(i, 2, value)
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
            cell = sheet.cell(row, col, values[key])
            if key in ("value", "as_of", "note"):
                cell.fill = fill
            if key in ("value", "as_of") and spec.unit == "ratio" or key == "as_of":
                cell.number_format = "@"
        if spec.unit in choice:
            choice[spec.unit].add(sheet.cell(row, value_col))
    sheet.freeze_panes = sheet.cell(2, value_col)
    book.active = 1
    _save_workbook(book, out)
    return out


def _save_workbook(book, out: Path) -> None:
    """Save with fixed document properties, so the same template is byte-identical across runs."""
    fixed = datetime(2020, 1, 1)
    book.properties.created = fixed
    book.properties.modified = fixed
    book.properties.creator = "cchc-analysis"
    book.save(out)
    normalise_zip(out)


# -- reading a filled file ----------------------------------------------------------------------------------------
@dataclass
class Problem:
    where: str
    message_vi: str
    message_en: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.where}: {self.message_vi} / {self.message_en}"


@dataclass
class FilledRow:
    indicator_id: str
    raw: str
    cell: str          # 'Sheet "2021" G14'
    row: int
    column: int
    as_of_raw: object
    note: str
    number: float | None = None  # set when the cell holds a number (not text): no Vietnamese re-reading then


@dataclass
class FilledFile:
    path: Path
    district: str
    year: int
    rows: list[FilledRow]
    problems: list[Problem] = field(default_factory=list)


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    if isinstance(value, (datetime, date)):
        return value.strftime("%d/%m/%Y")
    return clean(str(value))


def _read_xlsx(path: Path) -> FilledFile:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a file that is not a workbook
        raise CchcError(f"cannot open as an Excel workbook ({type(exc).__name__})", file=path) from None
    if INSTRUCTIONS_SHEET not in book.sheetnames:
        raise CchcError(f'not a cchc template: no sheet "{INSTRUCTIONS_SHEET}"', file=path,
                        hint="start from `cchc template --district D --year Y`")
    guide = book[INSTRUCTIONS_SHEET]
    meta = {fold(str(guide.cell(r, 1).value or "")): guide.cell(r, 2).value for r in range(1, 10)}
    district, year = meta.get("huyen"), meta.get("nam")
    problems: list[Problem] = []
    if not district:
        raise CchcError(f'Sheet "{INSTRUCTIONS_SHEET}": the district (Huyện) is missing', file=path)
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise CchcError(f'Sheet "{INSTRUCTIONS_SHEET}": the year (Năm) is not a number: {year!r}',
                        file=path) from None
    if str(year) not in book.sheetnames:
        raise CchcError(f'no sheet "{year}" (the year named on the instructions sheet)', file=path)
    sheet = book[str(year)]
    headers = {fold(str(sheet.cell(1, c).value or "")): c for c in range(1, sheet.max_column + 1)}
    wanted = {key: fold(COLUMNS[key][0].format(year=year)) for key in ("id", "value", "as_of", "note")}
    columns = {}
    for key, header in wanted.items():
        if header not in headers:
            raise CchcError(f'Sheet "{year}": header "{COLUMNS[key][0].format(year=year)}" not found in row 1 '
                            f'(the template was changed)', file=path)
        columns[key] = headers[header]
    rows = []
    for r in range(2, sheet.max_row + 1):
        indicator_id = _cell_text(sheet.cell(r, columns["id"]).value)
        value_cell = sheet.cell(r, columns["value"])
        if not indicator_id:
            if value_cell.value not in (None, ""):
                problems.append(Problem(f'Sheet "{year}" {value_cell.coordinate}',
                                        "có giá trị nhưng không có mã chỉ tiêu", "a value without an indicator id"))
            continue
        raw = value_cell.value
        if isinstance(raw, (datetime, date)):
            problems.append(Problem(f'Sheet "{year}" {value_cell.coordinate}',
                                    "Excel đã đổi giá trị thành ngày tháng; định dạng ô là Văn bản (Text) rồi gõ lại",
                                    "Excel turned the value into a date; format the cell as Text and retype it"))
            raw = None
        number = float(raw) if isinstance(raw, (int, float)) and not isinstance(raw, bool) else None
        text = "" if raw is None else (repr(raw) if number is not None and number != int(number) else _cell_text(raw))
        rows.append(FilledRow(indicator_id, text, f'Sheet "{year}" {value_cell.coordinate}', r, columns["value"],
                              sheet.cell(r, columns["as_of"]).value,
                              _cell_text(sheet.cell(r, columns["note"]).value), number))
    return FilledFile(path, str(district), year, rows, problems)


def _read_csv(path: Path) -> FilledFile:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CchcError("the CSV file is not UTF-8", file=path, hint="save it as CSV UTF-8") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in CSV_COLUMNS[:6] if c not in (reader.fieldnames or [])]
    if missing:
        raise CchcError(f"CSV columns missing: {', '.join(missing)}", file=path, line=1)
    rows, districts, years = [], set(), set()
    value_column = reader.fieldnames.index("value") + 1
    for line, record in enumerate(reader, start=2):
        districts.add(clean(record["district"]))
        years.add(clean(record["year"]))
        rows.append(FilledRow(clean(record["indicator_id"]), clean(record["value"]), f"row {line} \"value\"", line,
                              value_column, clean(record["as_of"]) or None, clean(record["note"])))
    if len(districts) != 1 or len(years) != 1:
        raise CchcError("a CSV update holds one district and one year "
                        f"(found districts {sorted(districts)}, years {sorted(years)})", file=path)
    year = years.pop()
    if not year.isdigit():
        raise CchcError(f"year {year!r} is not a number", file=path, line=2)
    return FilledFile(path, districts.pop(), int(year), rows)


def read_filled(path: Path) -> FilledFile:
    path = Path(path)
    if not path.exists():
        raise CchcError("no such file", file=path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _read_xlsx(path)
    if suffix == ".csv":
        return _read_csv(path)
    raise CchcError(f"unknown file type '{suffix}'; give the .xlsx or .csv made by `cchc template`", file=path)


# -- checking values ------------------------------------------------------------------------------------------------
@dataclass
class CheckedValue:
    spec: IndicatorSpec
    row: FilledRow
    value: float | None
    denominator: float | None
    as_of: date | None
    status: str


def _parse_as_of(raw, year: int) -> date | None:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = clean(str(raw or ""))
    for pattern in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _read_filled_value(spec: IndicatorSpec, row: FilledRow) -> tuple[float | None, float | None, str,
                                                                       Problem | None]:
    text = row.raw
    vi, en = UNIT_HINTS[spec.unit]
    bad = Problem(row.cell, f"'{text}' không hợp lệ: cần {vi}", f"'{text}' is not {en}")
    if row.number is not None and spec.unit in ("count", "ratio") and row.number != int(row.number):
        return None, None, "", Problem(
            row.cell, f"'{text}' không phải số nguyên (Excel đọc là số thập phân; nếu là "
                      f"{text.replace('.', '')} thì gõ liền, không dấu chấm)", f"'{text}' is not a whole number")
    if row.number is not None and spec.unit == "percent" and 0 <= row.number <= 100:
        return row.number, None, "number", None
    if spec.unit == "ratio":
        match = re.fullmatch(r"(\d+)\s*/\s*(\d+)", text)
        if match:
            numerator, denominator = float(match.group(1)), float(match.group(2))
            if numerator > denominator:
                return None, None, "", Problem(row.cell, f"'{text}': tử số lớn hơn mẫu số",
                                               f"'{text}': the part exceeds the whole")
            return numerator, denominator, "number", None
        number = read_count(text)
        return (number, None, "number", None) if number is not None else (None, None, "", bad)
    if spec.unit == "count":
        if re.fullmatch(r"-\s*\d[\d.]*", text):
            return None, None, "", Problem(row.cell, f"'{text}': số lượng không được âm",
                                           f"'{text}': a count cannot be negative")
        if re.fullmatch(r"\d+\.\d+", text) and read_count(text) is None:
            return None, None, "", Problem(
                row.cell, f"'{text}' không phải số nguyên (nếu là {text.replace('.', '')} thì gõ liền, không dấu chấm)",
                f"'{text}' is not a whole number")
    if spec.unit == "percent":
        number = read_percent(text)
        if number is not None and number > 100:
            return None, None, "", Problem(row.cell, f"'{text}': tỷ lệ không được vượt quá 100%",
                                           f"'{text}': a percentage cannot exceed 100")
        if re.fullmatch(r"-\s*\d[\d.,]*%?", text):
            return None, None, "", Problem(row.cell, f"'{text}': tỷ lệ không được âm",
                                           f"'{text}': a percentage cannot be negative")
    cell = read_value(text, spec.unit)
    if cell.status in ("number", "text_zero", "assessment") and cell.value is not None:
        return cell.value, None, cell.status, None
    return None, None, "", bad


def check_filled(filled: FilledFile, indicators, replace: bool) -> tuple[list[CheckedValue], list[Problem]]:
    """Every check, all problems at once. ``indicators`` is the current dataset (for years present and jumps)."""
    problems = list(filled.problems)
    specs = {spec.id: spec for spec in template_indicators()}
    seen: dict[str, str] = {}
    checked: list[CheckedValue] = []
    for row in filled.rows:
        spec = specs.get(row.indicator_id)
        if spec is None:
            problems.append(Problem(row.cell, f"mã chỉ tiêu '{row.indicator_id}' không có trong danh mục",
                                    f"unknown indicator id '{row.indicator_id}'"))
            continue
        if row.indicator_id in seen:
            problems.append(Problem(row.cell, f"chỉ tiêu '{row.indicator_id}' xuất hiện hai lần (đã có ở "
                                              f"{seen[row.indicator_id]})", "indicator given twice"))
            continue
        seen[row.indicator_id] = row.cell
        if not row.raw:
            continue
        value, denominator, status, problem = _read_filled_value(spec, row)
        if problem:
            problems.append(problem)
            continue
        as_of = _parse_as_of(row.as_of_raw, filled.year)
        if as_of is None:
            problems.append(Problem(row.cell, f"thiếu hoặc sai \"Tính đến ngày\" ('{row.as_of_raw or ''}'), "
                                              "cần dd/mm/yyyy", "the as-of date is missing or not dd/mm/yyyy"))
            continue
        if as_of.year != filled.year:
            problems.append(Problem(row.cell, f"ngày {as_of:%d/%m/%Y} không thuộc năm {filled.year}",
                                    f"as-of date {as_of} is outside {filled.year}"))
            continue
        checked.append(CheckedValue(spec, row, value, denominator, as_of, status))
    missing = [spec_id for spec_id in specs if spec_id not in seen]
    if missing:
        problems.append(Problem(f'file {filled.path.name}', f"thiếu {len(missing)} dòng chỉ tiêu của mẫu "
                                f"({', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''})",
                                f"{len(missing)} template rows were deleted"))
    if not checked and not problems:
        problems.append(Problem(f'file {filled.path.name}', "chưa điền giá trị nào", "no value was filled in"))
    problems += _check_relations(checked)
    if indicators is not None:
        district_rows = indicators[indicators["district"] == filled.district]
        if not replace and (district_rows["year"] == filled.year).any():
            problems.append(Problem(f'file {filled.path.name}',
                                    f"năm {filled.year} của huyện {filled.district} đã có số liệu; dùng --replace để "
                                    "thay thế (tệp cũ vẫn được giữ)",
                                    f"{filled.year} is already present; use --replace (the old raw file is kept)"))
        problems += _jump_warnings(checked, district_rows, filled.year)
    return checked, problems


def _check_relations(checked: list[CheckedValue]) -> list[Problem]:
    """The specs' totals (sum_of) and bounds (at_most) among the new values."""
    by_id = {c.spec.id: c for c in checked if c.value is not None}
    problems = []
    for item in by_id.values():
        parts = [by_id[p] for p in item.spec.sum_of if p in by_id]
        if parts:
            total = sum(p.value for p in parts)
            complete = len(parts) == len(item.spec.sum_of)
            if total > item.value or (complete and total != item.value):
                problems.append(Problem(item.row.cell,
                                        f"tổng {_format_number(item.value)} khác tổng các phần "
                                        f"{' + '.join(_format_number(p.value) for p in parts)} = {_format_number(total)}"
                                        f" ({', '.join(p.row.cell.split()[-1] for p in parts)})",
                                        "the total does not equal the sum of its parts"))
        for limit in item.spec.at_most:
            other = by_id.get(limit.other)
            if other is not None and item.value > other.value and limit.severity == "error":
                problems.append(Problem(item.row.cell,
                                        f"{_format_number(item.value)} lớn hơn '{other.spec.label}' "
                                        f"{_format_number(other.value)} ({other.row.cell.split()[-1]})",
                                        f"exceeds {other.spec.id}"))
    return problems


def _jump_warnings(checked: list[CheckedValue], district_rows, year: int, factor: float = 3.0) -> list[Problem]:
    previous = district_rows[(district_rows["year"] == year - 1) & district_rows["value"].notna()]
    before = dict(zip(previous["indicator_id"], previous["value"]))
    warnings = []
    for item in checked:
        old = before.get(item.spec.id)
        if old is None or item.value is None or item.spec.unit not in ("count", "percent"):
            continue
        low, high = sorted([old, item.value])
        if abs(item.value - old) >= 10 and (low == 0 or high / low >= factor):
            warnings.append(Problem(item.row.cell, f"thay đổi lớn so với năm {year - 1}: {_format_number(old)} → "
                                                   f"{_format_number(item.value)}",
                                    f"large change from {year - 1}", severity="warning"))
    return warnings


# -- storing -----------------------------------------------------------------------------------------------------
def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")


def year_entries(manifest: dict) -> list[dict]:
    """The manifest's year-data files in force (those not superseded by a --replace)."""
    return [e for e in manifest.get("files", ()) if e.get("kind") == "year_data" and not e.get("superseded_by")]


def store(filled: FilledFile, folder: DistrictFolder, replace: bool, status: str, source: str,
          received: date) -> tuple[Path, dict, bytes]:
    """Copy the file into the district's raw folder and add its manifest entry; returns what undoes it."""
    manifest_path = folder.path / MANIFEST
    old_manifest = manifest_path.read_bytes()
    manifest = json.loads(old_manifest)
    target_dir = folder.path / UPDATES_DIR
    target_dir.mkdir(exist_ok=True)
    stem = f"{_slug(folder.district)}-{filled.year}"
    version = 1
    while any(p.stem in (stem if version == 1 else f"{stem}-v{version}",) for p in target_dir.iterdir()):
        version += 1
    name = (stem if version == 1 else f"{stem}-v{version}") + filled.path.suffix.lower()
    target = target_dir / name
    data = filled.path.read_bytes()
    entry = {
        "file": f"{UPDATES_DIR}/{name}", "kind": "year_data", "year": filled.year,
        "source": source or filled.path.name, "sha256": hashlib.sha256(data).hexdigest(),
        "received": received.isoformat(), "status": status,
    }
    for old in year_entries(manifest):
        if old.get("year") == filled.year:
            if not replace:
                raise CchcError(f"{filled.year} already has a year file ({old['file']}); use --replace",
                                file=filled.path)
            old["superseded_by"] = entry["file"]
            entry["replaces"] = old["file"]
    manifest["files"].append(entry)
    target.write_bytes(data)
    tmp = manifest_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, manifest_path)
    return target, entry, old_manifest


def ingest(path: Path, raw_dir: Path, processed_dir: Path, replace: bool = False, status: str = "preliminary",
           source: str = "", received: date | None = None) -> tuple[list[Problem], str]:
    """Validate; on any error raise IngestError (nothing changed). Else store and rebuild; returns warnings."""
    from cchc_analysis.pipeline import build_dataset, discover, write_dataset

    filled = read_filled(Path(path))
    folder = find_district(raw_dir, filled.district)
    current = build_dataset(discover([raw_dir]), with_narrative=False).indicators
    checked, problems = check_filled(filled, current, replace)
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity != "error"]
    if errors:
        raise IngestError(filled.path, errors, warnings)
    target, entry, old_manifest = store(filled, folder, replace, status, source, received or date.today())
    try:
        dataset = build_dataset(discover([raw_dir]))
        write_dataset(dataset, processed_dir)
    except Exception:
        target.unlink(missing_ok=True)
        (folder.path / MANIFEST).write_bytes(old_manifest)
        raise
    new_rows = dataset.indicators[(dataset.indicators["district"] == folder.district)
                                  & (dataset.indicators["year"] == filled.year)
                                  & (dataset.indicators["source_file"].str.endswith(entry["file"]))]
    summary = (f"stored {target} ({entry['status']}), {len(new_rows)} values for {filled.year}; "
               f"rebuilt {processed_dir}/")
    return warnings, summary


class IngestError(CchcError):
    def __init__(self, path: Path, errors: list[Problem], warnings: list[Problem]):
        self.errors, self.warnings = errors, warnings
        lines = "\n".join(f"  {p}" for p in errors + warnings)
        super().__init__(f"{len(errors)} lỗi, không có gì được thay đổi / {len(errors)} error(s), nothing was "
                         f"changed:\n{lines}", file=path)


# -- year files -> observations (used by the pipeline) -------------------------------------------------------------
def year_file_observations(folder: Path, manifest: dict, entry: dict, source_file: str) -> list[dict]:
    """Observations of one stored year file, each with the file and cell it came from."""
    path = folder / entry["file"]
    data = path.read_bytes()
    if entry.get("sha256") and hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise CchcError("checksum mismatch: the manifest records another sha256; raw files are immutable", file=path)
    filled = read_filled(path)
    checked, problems = check_filled(filled, None, replace=True)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise CchcError("stored year file no longer validates: " + "; ".join(map(str, errors[:3])), file=path)
    tables = load_specs()
    rows = []
    for item in checked:
        spec = item.spec
        parent = tables[spec.appendix].indicators.get(spec.parent_id)
        rows.append({
            "district": manifest["district"], "district_code": manifest.get("district_code", ""),
            "province": manifest["province"], "appendix": spec.appendix, "section": spec.section,
            "area": spec.area, "indicator_id": spec.id, "indicator": spec.label,
            "parent": parent.label if parent else "", "parent_id": spec.parent_id, "indicator_en": spec.label_en,
            "unit": spec.unit, "period": str(filled.year), "year": filled.year, "as_of": item.as_of.isoformat(),
            "column_header": f"Năm {filled.year} ({entry.get('status', 'preliminary')})", "value": item.value,
            "denominator": item.denominator, "raw": item.row.raw, "note": item.row.note,
            "value_status": item.status, "source_file": source_file, "source_line": item.row.row,
            "source_column": item.row.column, "source_cell": item.row.cell,
        })
    return rows
