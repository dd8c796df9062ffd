"""The year file an analyst fills in (xlsx or csv): its layout, reading it, checking every value, and the
observations it gives once stored. The dataset build reads stored year files through here; `updates` writes the
template and ingests.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from cchc_analysis.checks.relations import is_jump, total_vs_parts, within_bound
from cchc_analysis.errors import CchcError
from cchc_analysis.read.manifest import raw_file
from cchc_analysis.read.source import read_bounded
from cchc_analysis.tables.specs import IndicatorSpec, load_specs
from cchc_analysis.tables.values import read_count, read_percent, read_value
from cchc_analysis.text import clean, fold

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
# What a year file can be: the template has a few hundred rows; anything far larger is a mistake or an attack.
YEARS = (2000, 2100)
MAX_FILE_BYTES = 5 << 20
MAX_UNPACKED_BYTES = 50 << 20
MAX_ROWS = 5000
MAX_COLUMNS = 50
MAX_FIELD_CHARS = 10_000
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


def _too_big(path: Path, what: str, limit: str) -> CchcError:
    return CchcError(f"{what} (limit {limit}); a year file has about {len(template_indicators())} rows",
                     file=path, hint="start again from `cchc template --district D --year Y`")


def _check_workbook_package(path: Path) -> None:
    """Refuse before unpacking: not a zip, a zip bomb, or a macro-enabled workbook renamed .xlsx."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile:
        raise CchcError("not an Excel workbook (.xlsx): the file is not a zip package, as every .xlsx is", file=path,
                        hint="save it from Excel as \"Excel Workbook (*.xlsx)\", or fill in the CSV template "
                             "(`cchc template --format csv`)") from None
    except OSError as exc:
        raise CchcError(f"cannot be read: {exc.strerror or exc}", file=path) from None
    if sum(member.file_size for member in members) > MAX_UNPACKED_BYTES:
        raise _too_big(path, "the workbook unpacks to more than its size allows", f"{MAX_UNPACKED_BYTES >> 20} MB")
    if any(member.filename.lower().endswith("vbaproject.bin") for member in members):
        raise CchcError("this workbook holds macros (an .xlsm renamed .xlsx); it is refused", file=path,
                        hint="start from `cchc template`, or save the workbook as \"Excel Workbook (*.xlsx)\"")


def _is_percent_format(number_format: str) -> bool:
    """A cell shown as a percentage: Excel stores 99,5% as 0.995 with a format holding an unquoted '%'."""
    return "%" in re.sub(r'"[^"]*"|\\.', "", number_format or "")


def _sheet_rows(sheet, path: Path) -> list[tuple]:
    """The sheet's cells row by row (read-only streaming), refusing a sheet larger than a year file can be."""
    rows = []
    for row in sheet.iter_rows(max_col=MAX_COLUMNS):
        if len(rows) >= MAX_ROWS:
            raise _too_big(path, f'sheet "{sheet.title}" has more than {MAX_ROWS} rows', f"{MAX_ROWS} rows")
        rows.append(row)
    return rows


def _formula_cells(path: Path, sheet_name: str) -> set[tuple[int, int]]:
    """(row, column) of the formula cells of a sheet (a second streaming pass, without cached values)."""
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=False, keep_links=False)
    try:
        return {(r, c) for r, row in enumerate(_sheet_rows(book[sheet_name], path), start=1)
                for c, cell in enumerate(row, start=1) if getattr(cell, "data_type", None) == "f"}
    finally:
        book.close()


def _open_workbook(path: Path):
    from openpyxl import load_workbook

    _check_workbook_package(path)
    try:
        return load_workbook(path, read_only=True, data_only=True, keep_links=False)
    except Exception as exc:  # openpyxl raises many types for a file that is not a workbook
        raise CchcError(f"not a readable Excel workbook: {_reason(exc)}", file=path,
                        hint="open it in Excel or LibreOffice and save it again as .xlsx") from None


def _reason(exc: Exception) -> str:
    """What went wrong, in words, not an exception's class name (openpyxl's messages are plain English)."""
    text = " ".join(str(exc).split())
    return text[:200] if text else "its parts are not those of a workbook"


def _template_meta(book, path: Path) -> tuple[str, int]:
    """District and year from the instructions sheet."""
    if INSTRUCTIONS_SHEET not in book.sheetnames:
        raise CchcError(f'not a cchc template: no sheet "{INSTRUCTIONS_SHEET}"', file=path,
                        hint="start from `cchc template --district D --year Y`")
    guide = book[INSTRUCTIONS_SHEET].iter_rows(min_row=1, max_row=9, max_col=2, values_only=True)
    meta = {fold(str(row[0] or "")): row[1] for row in guide if len(row) == 2}
    district, year = meta.get("huyen"), meta.get("nam")
    if not district:
        raise CchcError(f'Sheet "{INSTRUCTIONS_SHEET}": the district (Huyện) is missing', file=path)
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise CchcError(f'Sheet "{INSTRUCTIONS_SHEET}": the year (Năm) is not a number: {year!r}',
                        file=path) from None
    return clean(str(district)), year


def _value_of(cell, where: str, formula: bool) -> tuple[str, float | None, Problem | None]:
    """The raw text and number of a value cell as the analyst sees it (a percentage format read as shown)."""
    raw = cell.value
    if formula and raw is None:
        return "", None, Problem(where, "ô có công thức nhưng chưa có giá trị đã tính; mở và lưu lại bằng Excel, "
                                        "hoặc gõ giá trị", "a formula with no computed value; open and save the "
                                                           "file in Excel, or type the value")
    if isinstance(raw, (datetime, date)):
        return "", None, Problem(where, "Excel đã đổi giá trị thành ngày tháng; định dạng ô là Văn bản (Text) rồi "
                                        "gõ lại", "Excel turned the value into a date; format the cell as Text and "
                                                  "retype it")
    if not isinstance(raw, (int, float)) or isinstance(raw, bool):
        return _cell_text(raw), None, None
    if _is_percent_format(cell.number_format):
        shown = Decimal(repr(float(raw))) * 100
        return f"{shown.normalize():f}%", float(shown), None
    number = float(raw)
    return (repr(raw) if number != int(number) else _cell_text(raw)), number, None


def _read_xlsx(path: Path) -> FilledFile:
    from openpyxl.utils import get_column_letter

    book = _open_workbook(path)
    try:
        district, year = _template_meta(book, path)
        _check_year(year, path)
        if str(year) not in book.sheetnames:
            raise CchcError(f'no sheet "{year}" (the year named on the instructions sheet)', file=path)
        cells = _sheet_rows(book[str(year)], path)
    finally:
        book.close()
    formulas = _formula_cells(path, str(year))
    headers = {fold(str(cell.value or "")): c for c, cell in enumerate(cells[0] if cells else (), start=1)}
    columns = {}
    for key in ("id", "value", "as_of", "note"):
        header = COLUMNS[key][0].format(year=year)
        if fold(header) not in headers:
            raise CchcError(f'Sheet "{year}": header "{header}" not found in row 1 (the template was changed)',
                            file=path)
        columns[key] = headers[fold(header)]

    def cell_at(r: int, key: str):
        row = cells[r - 1]
        return row[columns[key] - 1] if columns[key] <= len(row) else None

    problems: list[Problem] = []
    rows = []
    for r in range(2, len(cells) + 1):
        value_cell = cell_at(r, "value")
        where = f'Sheet "{year}" {get_column_letter(columns["value"])}{r}'
        indicator_id = _cell_text(getattr(cell_at(r, "id"), "value", None))
        for key in ("id", "as_of"):
            if (r, columns[key]) in formulas and getattr(cell_at(r, key), "value", None) is None:
                problems.append(Problem(f'Sheet "{year}" {get_column_letter(columns[key])}{r}',
                                        "ô có công thức nhưng chưa có giá trị đã tính",
                                        "a formula with no computed value"))
        raw, number, problem = (_value_of(value_cell, where, (r, columns["value"]) in formulas)
                                if value_cell is not None else ("", None, None))
        if problem:
            problems.append(problem)
        if not indicator_id:
            if raw:
                problems.append(Problem(where, "có giá trị nhưng không có mã chỉ tiêu",
                                        "a value without an indicator id"))
            continue
        rows.append(FilledRow(indicator_id, raw, where, r, columns["value"],
                              getattr(cell_at(r, "as_of"), "value", None),
                              _cell_text(getattr(cell_at(r, "note"), "value", None)), number))
    return FilledFile(path, district, year, rows, problems)


def _check_year(year: int, path: Path) -> None:
    if not YEARS[0] <= year <= YEARS[1]:
        raise CchcError(f"year {year} is outside the years a year file can give ({YEARS[0]}-{YEARS[1]})", file=path)


def _csv_records(path: Path) -> csv.DictReader:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CchcError("the CSV file is not UTF-8", file=path, hint="save it as CSV UTF-8") from None
    return csv.DictReader(io.StringIO(text, newline=""))  # newline="": LF, CRLF and CR-only line ends alike


def _read_csv(path: Path) -> FilledFile:
    reader = _csv_records(path)
    rows, districts, years = [], set(), set()
    try:
        missing = [c for c in CSV_COLUMNS[:6] if c not in (reader.fieldnames or [])]
        if missing:
            raise CchcError(f"CSV columns missing: {', '.join(missing)}", file=path, line=1)
        value_column = reader.fieldnames.index("value") + 1
        for record in reader:
            line = reader.line_num
            if len(rows) >= MAX_ROWS:
                raise _too_big(path, f"more than {MAX_ROWS} rows", f"{MAX_ROWS} rows")
            if any(len(value) > MAX_FIELD_CHARS for value in record.values() if isinstance(value, str)):
                raise CchcError(f"a field of this row is longer than {MAX_FIELD_CHARS:,} characters", file=path,
                                line=line)
            if None in record or None in record.values():
                raise CchcError(f"this row does not have the header's {len(reader.fieldnames)} fields",
                                file=path, line=line)
            districts.add(clean(record["district"]))
            years.add(clean(record["year"]))
            rows.append(FilledRow(clean(record["indicator_id"]), clean(record["value"]), f"row {line} \"value\"",
                                  line, value_column, clean(record["as_of"]) or None, clean(record["note"])))
    except csv.Error as exc:
        raise CchcError(f"not a readable CSV file ({exc})", file=path, line=reader.line_num or None) from None
    if len(districts) != 1 or len(years) != 1:
        raise CchcError("a CSV update holds one district and one year "
                        f"(found districts {sorted(districts)[:5]}, years {sorted(years)[:5]})", file=path)
    year = years.pop()
    if not year.isdigit():
        raise CchcError(f"year {year!r} is not a number", file=path, line=2)
    _check_year(int(year), path)
    return FilledFile(path, districts.pop(), int(year), rows)


def read_filled(path: Path) -> FilledFile:
    path = Path(path)
    if not path.is_file():
        raise CchcError("no such file" if not path.exists() else "not a regular file", file=path)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise _too_big(path, f"the file has {size:,} bytes", f"{MAX_FILE_BYTES >> 20} MB")
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


Reading = tuple[float | None, float | None, str, "Problem | None"]


def _read_filled_value(spec: IndicatorSpec, row: FilledRow) -> Reading:
    """(value, denominator, value_status, problem) of one filled cell, read for its indicator's unit."""
    text = row.raw
    vi, en = UNIT_HINTS[spec.unit]
    bad = Problem(row.cell, f"'{text}' không hợp lệ: cần {vi}", f"'{text}' is not {en}")
    if row.number is not None:  # a number Excel stored (not text): no Vietnamese re-reading
        read = _excel_number(spec, row, vi, en)
        if read is not None:
            return read
    if spec.unit == "ratio":
        return _ratio(text, row, bad)
    problem = _count_problem(text, row) if spec.unit == "count" else \
        _percent_problem(text, row) if spec.unit == "percent" else None
    if problem is not None:
        return None, None, "", problem
    cell = read_value(text, spec.unit)
    if cell.status in ("number", "text_zero", "assessment") and cell.value is not None:
        return cell.value, None, cell.status, None
    return None, None, "", bad


def _excel_number(spec: IndicatorSpec, row: FilledRow, vi: str, en: str) -> Reading | None:
    text = row.raw
    if text.endswith("%") and spec.unit != "percent":
        return None, None, "", Problem(row.cell, f"'{text}': chỉ tiêu này không phải tỷ lệ (%); {vi}",
                                       f"'{text}': this indicator is not a percentage; give {en}")
    if spec.unit in ("count", "ratio") and row.number != int(row.number):
        return None, None, "", Problem(
            row.cell, f"'{text}' không phải số nguyên (Excel đọc là số thập phân; nếu là "
                      f"{text.replace('.', '')} thì gõ liền, không dấu chấm)", f"'{text}' is not a whole number")
    if spec.unit == "percent" and 0 <= row.number <= 100:
        return row.number, None, "number", None
    return None


def _ratio(text: str, row: FilledRow, bad: Problem) -> Reading:
    match = re.fullmatch(r"(\d+)\s*/\s*(\d+)", text)
    if match:
        numerator, denominator = float(match.group(1)), float(match.group(2))
        if numerator > denominator:
            return None, None, "", Problem(row.cell, f"'{text}': tử số lớn hơn mẫu số",
                                           f"'{text}': the part exceeds the whole")
        return numerator, denominator, "number", None
    number = read_count(text)
    return (number, None, "number", None) if number is not None else (None, None, "", bad)


def _count_problem(text: str, row: FilledRow) -> Problem | None:
    if re.fullmatch(r"-\s*\d[\d.]*", text):
        return Problem(row.cell, f"'{text}': số lượng không được âm", f"'{text}': a count cannot be negative")
    if re.fullmatch(r"\d+\.\d+", text) and read_count(text) is None:
        return Problem(row.cell, f"'{text}' không phải số nguyên (nếu là {text.replace('.', '')} thì gõ liền, "
                                 "không dấu chấm)", f"'{text}' is not a whole number")
    return None


def _percent_problem(text: str, row: FilledRow) -> Problem | None:
    number = read_percent(text)
    if number is not None and number > 100:
        return Problem(row.cell, f"'{text}': tỷ lệ không được vượt quá 100%",
                       f"'{text}': a percentage cannot exceed 100")
    if re.fullmatch(r"-\s*\d[\d.,]*%?", text):
        return Problem(row.cell, f"'{text}': tỷ lệ không được âm", f"'{text}': a percentage cannot be negative")
    return None


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
    path = raw_file(folder / MANIFEST, entry)
    data = read_bounded(path, MAX_FILE_BYTES)
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
            "source_column": item.row.column, "source_cell": item.row.cell, "source_location": item.row.cell,
        })
    return rows
