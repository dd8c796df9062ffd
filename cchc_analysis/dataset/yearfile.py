"""The year file an analyst fills in (xlsx or csv): its layout, reading it, checking every value, and the
observations it gives once stored. The dataset build reads stored year files through here; `updates` writes the
template and ingests.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from cchc_analysis.checks.relations import is_jump, total_vs_parts, within_bound
from cchc_analysis.errors import CchcError
from cchc_analysis.tables.specs import IndicatorSpec, load_specs
from cchc_analysis.text import clean, fold
from cchc_analysis.tables.values import read_count, read_percent, read_value

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


def _format_number(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}".replace(",", ".")
    return f"{value:g}".replace(".", ",")


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
    """The specs' totals (sum_of) and bounds (at_most) among the new values, judged as the dataset's checks judge
    them (checks.relations); only what the dataset would call an error stops an ingest."""
    by_id = {c.spec.id: c for c in checked if c.value is not None}
    problems = []
    for item in by_id.values():
        parts = [by_id[p] for p in item.spec.sum_of if p in by_id]
        if parts and total_vs_parts(item.value, [p.value for p in parts], len(item.spec.sum_of)).verdict == "error":
            problems.append(Problem(item.row.cell,
                                    f"tổng {_format_number(item.value)} khác tổng các phần "
                                    f"{' + '.join(_format_number(p.value) for p in parts)} = "
                                    f"{_format_number(sum(p.value for p in parts))}"
                                    f" ({', '.join(p.row.cell.split()[-1] for p in parts)})",
                                    "the total does not equal the sum of its parts"))
        for limit in item.spec.at_most:
            other = by_id.get(limit.other)
            if other is not None and not within_bound(item.value, other.value) and limit.severity == "error":
                problems.append(Problem(item.row.cell,
                                        f"{_format_number(item.value)} lớn hơn '{other.spec.label}' "
                                        f"{_format_number(other.value)} ({other.row.cell.split()[-1]})",
                                        f"exceeds {other.spec.id}"))
    return problems


# Year files also warn of jumps in percentages (an analyst's typo), which the report's own tables are not judged on.
JUMP_UNITS = ("count", "percent")


def _jump_warnings(checked: list[CheckedValue], district_rows, year: int) -> list[Problem]:
    previous = district_rows[(district_rows["year"] == year - 1) & district_rows["value"].notna()]
    before = dict(zip(previous["indicator_id"], previous["value"]))
    warnings = []
    for item in checked:
        old = before.get(item.spec.id)
        if old is None or item.value is None or item.spec.unit not in JUMP_UNITS:
            continue
        if is_jump(old, item.value):
            warnings.append(Problem(item.row.cell, f"thay đổi lớn so với năm {year - 1}: {_format_number(old)} → "
                                                   f"{_format_number(item.value)}",
                                    f"large change from {year - 1}", severity="warning"))
    return warnings


def year_entries(manifest: dict) -> list[dict]:
    """The manifest's year-data files in force (those not superseded by a --replace)."""
    return [e for e in manifest.get("files", ()) if e.get("kind") == "year_data" and not e.get("superseded_by")]


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
