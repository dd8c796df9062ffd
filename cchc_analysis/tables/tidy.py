"""Raw tables + specs -> tidy observations, one per (indicator, period), each with its raw text and source line.

Every non-empty cell of an appendix table is written to a ledger (``cells``) with the role it played (row number,
label, value, period, ...), so that "nothing lost" can be checked cell by cell. Rows the spec does not know stop the
parse with the line to fix; cells that cannot be read become quality findings, never guesses.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from cchc_analysis.errors import CchcError
from cchc_analysis.findings import Finding, nested
from cchc_analysis.read.manifest import ReportMeta
from cchc_analysis.tables.extract import Appendix, Cell, Document, TableRow, TableSection
from cchc_analysis.tables.periods import Period, parse_as_of, parse_period, stated_forecast
from cchc_analysis.tables.specs import IndicatorSpec, TableSpec
from cchc_analysis.tables.values import CellValue, read_parts, read_value
from cchc_analysis.text import clean, fold, match_key

BULLETS = {"-", "+", "–", "—", "•", "*"}
REQUIRED_APPENDICES = tuple(range(1, 9))


@dataclass
class TidyResult:
    observations: list[dict] = field(default_factory=list)
    cells: list[dict] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    targets: list[dict] = field(default_factory=list)
    tables: list[dict] = field(default_factory=list)


class _Tidier:
    def __init__(self, doc: Document, specs: dict[int, TableSpec], meta: ReportMeta):
        self.doc = doc
        self.specs = specs
        self.meta = meta
        self.path = str(doc.source.path)
        self.result = TidyResult()

    # -- records -------------------------------------------------------------------------------------------
    def ledger(self, appendix: int, section: str, cell: Cell, role: str, indicator_id: str = "",
               period: str = "") -> None:
        self.result.cells.append({
            "district": self.meta.district, "appendix": appendix, "section": section, "source_line": cell.line,
            "source_column": cell.column + 1, "source_location": self.where(cell.line, cell.column + 1),
            "raw": cell.text, "role": role, "indicator_id": indicator_id, "period": period,
        })

    def where(self, line: int, column: int | None = None) -> str:
        """The line's place in the document a person opens (Word table/row/cell, PDF page/line, text line)."""
        return self.doc.source.location(line, column)

    def finding(self, check: str, severity: str, appendix: int, key: str, params: dict, lines: list[int],
                indicator_id: str = "", year: int | None = None, target: int | None = None) -> None:
        self.result.findings.append(Finding(
            district=self.meta.district, check=check, severity=severity, key=key, params=params,
            appendix=appendix, indicator_ids=(indicator_id,) if indicator_id else (), year=year, target=target,
            source_lines=tuple(lines)))

    def observe(self, spec: IndicatorSpec, table: TableSpec, label: str, parent_label: str, period: Period,
                cell: Cell, value: CellValue, notes: list[str]) -> None:
        parent = table.indicators.get(spec.parent_id)
        as_of = period.as_of
        forecast = stated_forecast(cell.text, period.as_of, period.year) if value.value is not None else None
        if forecast is not None:
            value, as_of = replace(value, status="forecast", note=value.note or clean(cell.text)), forecast
            self.finding("forecast_value", "info", spec.appendix, "forecast_value",
                         {"label": label, "column": period.header, "value": f"{value.value:g}",
                          "date": forecast.isoformat(), "raw": clean(cell.text)}, [cell.line], spec.id, period.year)
        note = "; ".join(n for n in [value.note, *notes] if n)
        self.result.observations.append({
            "district": self.meta.district, "district_code": self.meta.district_code,
            "province": self.meta.province, "appendix": spec.appendix, "section": spec.section,
            "area": spec.area, "indicator_id": spec.id, "indicator": label, "parent": parent_label,
            "parent_id": parent.id if parent else "", "indicator_en": spec.label_en, "unit": spec.unit,
            "period": period.label, "year": period.year,
            "as_of": as_of.isoformat() if as_of else "", "column_header": period.header,
            "value": value.value, "denominator": value.denominator, "raw": cell.text, "note": note,
            "value_status": value.status, "source_file": self.meta.source_file, "source_line": cell.line,
            "source_column": cell.column + 1, "source_cell": "",
            "source_location": self.where(cell.line, cell.column + 1),
        })
        if value.status == "unparsed":
            self.finding("unreadable_value", "warning", spec.appendix, "unreadable_value",
                         {"raw": clean(cell.text), "label": label, "column": period.header, "unit": spec.unit},
                         [cell.line], spec.id, period.year)
        elif value.status == "text":
            self.finding("text_value", "info", spec.appendix, "text_value",
                         {"label": label, "column": period.header, "raw": clean(cell.text)},
                         [cell.line], spec.id, period.year)
        elif value.status == "number_in_text":
            self.finding("number_from_text", "info", spec.appendix, "number_from_text",
                         {"label": label, "column": period.header, "value": f"{value.value:g}",
                          "raw": clean(cell.text)}, [cell.line], spec.id, period.year)

    # -- matching ------------------------------------------------------------------------------------------
    @staticmethod
    def _match(candidates: list[IndicatorSpec], label: str, stt: str | None) -> IndicatorSpec | None:
        key = match_key(label)
        hits = [spec for spec in candidates if key in spec.match_keys]
        if len(hits) > 1 and stt is not None:
            by_number = [spec for spec in hits if spec.stt is not None and fold(spec.stt) == fold(stt)]
            hits = by_number or hits
        return hits[0] if hits else None

    def unknown_row(self, appendix: int, row: TableRow, label: str) -> CchcError:
        return CchcError(
            f"Phụ lục {appendix}: row '{label}' (STT '{row.text(0)}') is not in the table spec",
            file=self.path, line=row.line,
            hint=f"add it to cchc_analysis/tables/specs/appendix_{appendix}.yaml, or correct the label in the report")

    # -- layouts -------------------------------------------------------------------------------------------
    def _period_columns(self, appendix: Appendix, section: TableSection, table: TableSpec) -> dict[int, Period]:
        overrides = {fold(k): v for k, v in table.column_overrides.items()}
        periods: dict[int, Period] = {}
        for column, text in sorted(section.column_headers().items()):
            if column < 2:
                continue
            period = parse_period(text)
            if period is None:
                continue
            override = overrides.get(fold(text))
            if override is not None:
                as_of = override.get("as_of")
                as_of = parse_as_of(str(as_of), period.year) if as_of else None
                if isinstance(override.get("as_of"), date):
                    as_of = override["as_of"]
                period = replace(period, as_of=as_of, note=override.get("note", ""))
            if period.as_of is None:
                self.finding("as_of_unknown", "info", appendix.number, "as_of_unknown",
                             {"column": text, "note": period.note or nested("no_as_of_date")},
                             [section.header[0].line], year=period.year)
            periods[column] = period
        if not periods:
            raise CchcError(f"Phụ lục {appendix.number}: the table header names no year columns ('Năm YYYY')",
                            file=self.path, line=section.header[0].line)
        return periods

    def _emit_row(self, appendix: Appendix, table: TableSpec, row: TableRow, spec: IndicatorSpec, label: str,
                  parent_label: str, periods: dict[int, Period], skip: set[int], row_notes: list[str]) -> None:
        for cell in row.cells[2:]:
            if not cell.clean or cell.column in skip:
                continue
            period = periods.get(cell.column)
            if period is None:
                self.ledger(appendix.number, "", cell, "unmapped", spec.id)
                self.finding("cell_without_column", "error", appendix.number, "cell_without_year_column",
                             {"raw": clean(cell.text), "column": cell.column + 1, "label": label},
                             [cell.line], spec.id)
                continue
            notes = [period.note, *row_notes]
            if spec.parts:
                parts = read_parts(cell.text, list(spec.parts))
                self.ledger(appendix.number, "", cell, "value", "|".join(parts) or spec.id, period.label)
                if not parts:
                    value = read_value(cell.text, "count")
                    value = CellValue(None, "unparsed" if value.status != "text" else "text", note=clean(cell.text))
                    self.observe(spec, table, label, parent_label, period, cell, value, notes)
                for part_id, value in parts.items():
                    part = table.indicators[part_id]
                    self.observe(part, table, part.label, label, period, cell, value, notes)
                continue
            self.ledger(appendix.number, "", cell, "value", spec.id, period.label)
            value = read_value(cell.text, spec.unit)
            if spec.unit == "none":
                self.finding("value_on_heading_row", "warning", appendix.number, "value_on_heading_row",
                             {"label": label, "raw": clean(cell.text), "column": period.header},
                             [cell.line], spec.id, period.year)
            self.observe(spec, table, label, parent_label, period, cell, value, notes)

    def _label_cells(self, appendix: int, row: TableRow, spec: IndicatorSpec, label_column: int = 1) -> None:
        if row.text(0):
            self.ledger(appendix, "", row.cells[0], "row_number", spec.id)
        label_cell = row.cell(label_column)
        if label_cell is not None and label_cell.clean:
            self.ledger(appendix, "", label_cell, "label", spec.id)
        if label_column == 1:
            for cell in row.label_continuations:
                self.ledger(appendix, "", cell, "label_continuation", spec.id)

    def years_as_columns(self, appendix: Appendix, table: TableSpec) -> None:
        section = appendix.sections[0]
        for extra in appendix.sections[1:]:
            raise CchcError(f"Phụ lục {appendix.number} has an unexpected sub-table '{extra.key}. {extra.title}'",
                            file=self.path, line=extra.title_line)
        periods = self._period_columns(appendix, section, table)
        self._header_ledger(appendix, section)
        matched: dict[str, int] = {}
        current_top: IndicatorSpec | None = None
        breakdown: IndicatorSpec | None = None
        labels: dict[str, str] = {}

        def claim(spec: IndicatorSpec, row: TableRow) -> None:
            if spec.id in matched:
                raise CchcError(f"Phụ lục {appendix.number}: row '{spec.label}' appears twice "
                                f"(first at line {matched[spec.id]})", file=self.path, line=row.line)
            matched[spec.id] = row.line

        def breakdown_child(parent: IndicatorSpec, row: TableRow) -> None:
            """A breakdown item: its label sits in ``breakdown_label_column``, its figures in the year columns."""
            column = parent.breakdown_label_column
            sub_label = row.text(column).rstrip(",;: ")
            child = self._match(parent.children, sub_label, None)
            if child is None:
                raise self.unknown_row(appendix.number, row, sub_label)
            claim(child, row)
            self.ledger(appendix.number, "", row.cells[column], "label", child.id)
            self._emit_row(appendix, table, row, child, sub_label, labels[parent.id], periods, {column}, [])

        for row in section.rows:
            stt, label = row.text(0), row.label()
            if breakdown is not None and not stt and not label:
                breakdown_child(breakdown, row)
                continue
            breakdown = None
            spec = self._row_spec(appendix.number, table, current_top, row)
            claim(spec, row)
            labels[spec.id] = label
            if spec in table.rows:
                current_top = spec
            self._label_cells(appendix.number, row, spec)
            parent_label = labels.get(spec.parent_id, "")
            if spec.breakdown_label_column is not None:
                breakdown = spec
                if row.text(spec.breakdown_label_column):  # the heading row carries the first item
                    breakdown_child(spec, row)
                continue
            self._emit_row(appendix, table, row, spec, label, parent_label, periods, set(), [])

        self._check_every_row_present(appendix.number, table, matched, section.rows[-1].line)

    def _row_spec(self, appendix: int, table: TableSpec, current_top: IndicatorSpec | None,
                  row: TableRow) -> IndicatorSpec:
        """The spec of a data row: a bullet belongs to the current top row, a row without STT may be one of its
        children; an unknown label stops the parse."""
        stt, label = row.text(0), row.label()
        if stt in BULLETS:
            spec = self._match(current_top.children if current_top else [], label, None)
        else:
            spec = self._match(table.rows, label, stt)
            if spec is None and not stt and current_top is not None:
                spec = self._match(current_top.children, label, None)
        if spec is None:
            raise self.unknown_row(appendix, row, label)
        return spec

    def _check_every_row_present(self, appendix: int, table: TableSpec, matched: dict[str, int],
                                 last_line: int) -> None:
        part_ids = {p["id"] for spec in table.indicators.values() for p in spec.parts}
        missing = [spec for spec in table.indicators.values() if spec.id not in matched and spec.id not in part_ids]
        if missing:
            names = "; ".join(f"'{spec.label}'" for spec in missing[:3]) + (" ..." if len(missing) > 3 else "")
            raise CchcError(
                f"Phụ lục {appendix} ends without {len(missing)} of its rows ({names}); "
                f"is the table cut short?", file=self.path, line=last_line,
                hint=f"if this report's template really lacks them, mark them in "
                     f"cchc_analysis/tables/specs/appendix_{appendix}.yaml")

    def periods_as_rows(self, appendix: Appendix, table: TableSpec) -> None:
        for section_spec in table.sections:
            section = appendix.section(section_spec.key)
            if section is None:
                raise CchcError(f"Phụ lục {appendix.number}: section {section_spec.key} "
                                f"('{section_spec.title}') not found", file=self.path, line=appendix.heading_line)
            self._header_ledger(appendix, section)
            self._check_section_header(appendix.number, section, section_spec)
            known = {section_spec.period_column, section_spec.district_column, section_spec.note_column,
                     *(c.data_column for c in section_spec.columns)}
            for row in section.rows:
                self._period_row(appendix.number, table, section, section_spec, row)
                for cell in row.cells:
                    if cell.clean and cell.column not in known:
                        self.ledger(appendix.number, section.key, cell, "unmapped")
                        self.finding("cell_without_column", "error", appendix.number, "cell_outside_spec",
                                     {"raw": cell.clean, "column": cell.column + 1}, [cell.line])

    def _check_section_header(self, appendix: int, section: TableSection, section_spec) -> None:
        header = section.header[0]
        for column in section_spec.columns:
            printed = header.text(column.header_column)
            if match_key(printed) != match_key(column.label):
                raise CchcError(
                    f"Phụ lục {appendix} section {section.key}: header column {column.header_column + 1} "
                    f"reads '{printed}', the spec expects '{column.label}'", file=self.path, line=header.line)

    def _period_row(self, appendix: int, table: TableSpec, section: TableSection, section_spec,
                    row: TableRow) -> None:
        """One row of a table whose rows are periods (Phụ lục 4): the period, the district, a note, the figures."""
        period_cell = row.cell(section_spec.period_column)
        period = parse_period(period_cell.text) if period_cell else None
        if period is None:
            raise CchcError(f"Phụ lục {appendix} section {section.key}: "
                            f"'{period_cell.clean if period_cell else ''}' is not a period "
                            f"('Giai đoạn YYYY-YYYY (Tính đến MM/YYYY)')", file=self.path, line=row.line)
        self.ledger(appendix, section.key, period_cell, "period", period=period.label)
        district_cell = row.cell(section_spec.district_column) if section_spec.district_column is not None else None
        if district_cell is not None and district_cell.clean:
            self.ledger(appendix, section.key, district_cell, "district")
            if fold(district_cell.text) != fold(self.meta.district):
                self.finding("district_mismatch", "warning", appendix, "district_mismatch",
                             {"named": district_cell.clean, "district": self.meta.district}, [district_cell.line])
        row_notes = []
        note_cell = row.cell(section_spec.note_column) if section_spec.note_column is not None else None
        if note_cell is not None and note_cell.clean:
            self.ledger(appendix, section.key, note_cell, "note")
            row_notes.append(note_cell.clean)
        header = section.header[0]
        for column in section_spec.columns:
            cell = row.cell(column.data_column)
            if cell is None or not cell.clean:
                continue
            self.ledger(appendix, section.key, cell, "value", column.id, period.label)
            self.observe(column, table, clean(header.text(column.header_column)), "", period, cell,
                         read_value(cell.text, column.unit), row_notes)

    def assessment(self, appendix: Appendix, table: TableSpec) -> None:
        columns = table.assessment_columns
        for section in appendix.sections:
            self._header_ledger(appendix, section)
            for row in section.rows:
                number_cell = row.cell(columns["number_column"])
                text = row.label(columns["text_column"])
                verdict_cell = row.cell(columns["assessment_column"])
                verdict = verdict_cell.clean if verdict_cell else ""
                value = read_value(verdict, "dat")
                number = clean(number_cell.text).rstrip(".") if number_cell else ""
                for cell in row.all_cells():
                    role = {columns["number_column"]: "row_number", columns["text_column"]: "label",
                            columns["assessment_column"]: "assessment"}.get(cell.column, "unmapped")
                    if cell in row.label_continuations:
                        role = "label_continuation"
                    self.ledger(appendix.number, section.key, cell, role, f"target_{number}")
                if value.value is None:
                    self.finding("unreadable_assessment", "error", appendix.number, "unreadable_assessment",
                                 {"target": number, "verdict": verdict}, [row.line],
                                 target=int(number) if number.isdigit() else None)
                self.result.targets.append({
                    "district": self.meta.district, "number": int(number) if number.isdigit() else number,
                    "text": text, "assessment": verdict,
                    "achieved": None if value.value is None else bool(value.value),
                    "raw": verdict_cell.text if verdict_cell else "", "source_file": self.meta.source_file,
                    "source_line": verdict_cell.line if verdict_cell else row.line,
                    "source_location": (self.where(verdict_cell.line, verdict_cell.column + 1) if verdict_cell
                                        else self.where(row.line)),
                    "text_line": row.line,
                })

    def _header_ledger(self, appendix: Appendix, section: TableSection) -> None:
        for rows in [section.header, *section.repeated_headers]:
            for row in rows:
                for cell in row.cells:
                    if cell.clean:
                        self.ledger(appendix.number, section.key, cell, "header")

    # -- whole document ------------------------------------------------------------------------------------
    def run(self) -> TidyResult:
        missing = [n for n in REQUIRED_APPENDICES if n not in self.doc.appendices]
        if missing:
            last = max(self.doc.appendices)
            raise CchcError("appendix tables missing: " + ", ".join(f"Phụ lục {n}" for n in missing)
                            + " (is the report complete?)", file=self.path,
                            line=self.doc.appendices[last].last_line)
        for number, appendix in sorted(self.doc.appendices.items()):
            table = self.specs.get(number)
            if table is None:
                raise CchcError(f"Phụ lục {number} has no table spec", file=self.path, line=appendix.heading_line,
                                hint=f"add cchc_analysis/tables/specs/appendix_{number}.yaml")
            getattr(self, table.layout)(appendix, table)
            for line, text in appendix.other_text:
                self.result.cells.append({
                    "district": self.meta.district, "appendix": number, "section": "", "source_line": line,
                    "source_column": 1, "source_location": self.where(line), "raw": text, "role": "text",
                    "indicator_id": "", "period": ""})
                self.finding("stray_text", "info", number, "stray_text", {"text": text}, [line])
            for section in appendix.sections:
                self.result.tables.append({
                    "district": self.meta.district, "appendix": number, "section": section.key,
                    "section_title": section.title, "area": table.area,
                    "title": appendix.title, "office": appendix.office, "first_line": appendix.first_line,
                    "last_line": appendix.last_line,
                    "header_lines": ";".join(str(r.line) for r in section.header),
                    "repeated_header_lines": ";".join(str(r.line) for rows in section.repeated_headers
                                                      for r in rows),
                    "rows": len(section.rows),
                    "notes": " | ".join(text for _, text in appendix.notes),
                    "notes_lines": ";".join(str(line) for line, _ in appendix.notes),
                })
        return self.result


def tidy_document(doc: Document, specs: dict[int, TableSpec], meta: ReportMeta) -> TidyResult:
    return _Tidier(doc, specs, meta).run()
