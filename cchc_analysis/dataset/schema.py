"""The one registry of the processed dataset: every field declared once (type, descriptions vi/en, unit, whether it
may be empty, allowed values), every table once (its file, fields in order, keys).

Derived from it, never written again by hand: the column lists the build puts its frames in, the pandera schema of
the observations (``check_schema``), the ``datapackage.json`` descriptors (``package.py``), the loader's dtypes
(``io.py``); the README's column lists are tested against it. pandera is imported only by ``check_schema``, and
only for a table its fast check cannot vouch for: reading the dataset back (a notebook kernel) and a build whose
observations pass do not pay for it.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, replace
from functools import cache

import pandas as pd

from cchc_analysis.errors import CchcError
from cchc_analysis.findings import SEVERITIES

TYPES = ("string", "integer", "number", "boolean", "date")  # Frictionless field types


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    en: str
    vi: str
    nullable: bool = False            # may be empty ("" in the CSV)
    values: tuple[str, ...] = ()      # allowed values
    pattern: str = ""                 # a regular expression the whole text matches (when not empty)
    minimum: int | None = None
    maximum: int | None = None
    unit: str = ""

    @property
    def dtype(self) -> str:
        """The pandas dtype of the column once loaded (text and dates: pandas' text dtype, ``""`` when empty)."""
        if self.type == "integer":
            return "Int64" if self.nullable else "int64"
        if self.type == "boolean":
            return "boolean" if self.nullable else "bool"
        return "float64" if self.type == "number" else "str"


@dataclass(frozen=True)
class Table:
    name: str
    file: str
    title: str
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[tuple[tuple[str, ...], str, tuple[str, ...]], ...] = ()  # (fields, table, its fields)
    attribute: str = ""               # the Dataset attribute holding it, when not the table's name
    parquet: bool = False             # also written as Parquet (same name, .parquet)

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(f"{self.file} has no field {name!r}")

    def dtypes(self) -> dict[str, str]:
        return {f.name: f.dtype for f in self.fields}

    @property
    def dataset_attribute(self) -> str:
        return self.attribute or self.name


UNITS = ("count", "percent", "flag", "dat", "ratio", "none")
VALUE_STATUSES = ("number", "text_zero", "number_in_text", "assessment", "forecast", "text", "unparsed")
KINDS = ("stock", "flow", "rate", "flag", "none")

_FIELDS = [
    Field("district", "string",
          "District (huyện) as named in the report; a historical unit (districts were abolished on 1 July 2025)",
          "Huyện, như tên trong báo cáo (đơn vị lịch sử: cấp huyện chấm dứt hoạt động từ 1/7/2025)"),
    Field("district_code", "string",
          "Statistical code of the district (mã đơn vị hành chính, GSO) as of the report period",
          "Mã đơn vị hành chính của huyện (Tổng cục Thống kê) trong kỳ báo cáo", nullable=True),
    Field("province", "string", "Province (tỉnh)", "Tỉnh", nullable=True),
    Field("province_code", "string", "Statistical code of the province", "Mã đơn vị hành chính của tỉnh",
          nullable=True),
    Field("appendix", "integer", "Appendix table of the report (Phụ lục 1-8)", "Phụ lục của báo cáo (1-8)",
          minimum=1, maximum=8),
    Field("section", "string", "Sub-table of the appendix (I, II in Phụ lục 4), empty otherwise",
          "Phần của phụ lục (I, II ở Phụ lục 4); để trống nếu không có", nullable=True),
    Field("area", "string", "Reform area id (see the area labels in the evaluation pack)",
          "Mã lĩnh vực cải cách (xem tên lĩnh vực trong bộ đánh giá)"),
    Field("indicator_id", "string", "Stable indicator id (see indicators_codebook)",
          "Mã chỉ tiêu cố định (xem indicators_codebook)", pattern=r"[a-z0-9_]+"),
    Field("indicator", "string", "The row's own Vietnamese label as printed (tags removed, split labels rejoined)",
          "Tên dòng đúng như in trong báo cáo (bỏ thẻ định dạng, nối lại tên bị ngắt trang)"),
    Field("parent", "string", "Label of the row this one belongs to; empty at top level",
          "Tên dòng cha; để trống ở cấp trên cùng", nullable=True),
    Field("parent_id", "string", "Indicator id of the parent row", "Mã chỉ tiêu của dòng cha", nullable=True),
    Field("indicator_en", "string", "English label from the codebook", "Tên tiếng Anh theo bảng mã chỉ tiêu"),
    Field("unit", "string",
          "count | percent (0-100) | flag (1 yes, 0 no) | dat (1 Đạt, 0 Không đạt) | ratio (value of denominator)",
          "count: số lượng | percent: tỷ lệ % (0-100) | flag: 1 có, 0 không | dat: 1 Đạt, 0 Không đạt | "
          "ratio: giá trị trên mẫu số", values=UNITS),
    Field("period", "string", "Year (2015) or span (2011-2020) of the column or row the figure stands in",
          "Năm (2015) hoặc giai đoạn (2011-2020) của cột hay dòng chứa số liệu", pattern=r"\d{4}(-\d{4})?"),
    Field("year", "integer", "Year the figure is filed under (the as-of year for a span)",
          "Năm của số liệu (với một giai đoạn: năm tính đến)", minimum=1990, maximum=2100, unit="year"),
    Field("as_of", "date",
          "Date the figure stands at (e.g. 2020-03-31 for 'Tính đến 31/3'); empty when the report does not say",
          "Ngày số liệu được tính đến (vd. 2020-03-31 cho 'Tính đến 31/3'); trống khi báo cáo không nêu",
          nullable=True, pattern=r"\d{4}-\d{2}-\d{2}"),
    Field("column_header", "string", "The column header as printed", "Tiêu đề cột như in trong báo cáo",
          nullable=True),
    Field("value", "number", "The figure, read with the row's unit; empty when the cell holds no number",
          "Số liệu, đọc theo đơn vị của dòng; trống khi ô không có số", nullable=True),
    Field("denominator", "number", "For ratio units (13/13): the whole", "Với đơn vị ratio (13/13): mẫu số",
          nullable=True),
    Field("raw", "string", "The cell exactly as in the source file", "Nội dung ô đúng như trong tệp nguồn"),
    Field("note", "string", "Text of the cell when the figure was read from text, and notes of the column or row",
          "Chữ trong ô khi số liệu được đọc từ chữ, và ghi chú của cột hoặc dòng", nullable=True),
    Field("value_status", "string",
          "number | text_zero ('Không có ...' read as 0) | number_in_text | assessment | forecast (a figure the cell "
          "states for a later date than its column: as_of is that date) | text | unparsed",
          "number: số | text_zero: 'Không có ...' đọc là 0 | number_in_text: số trong câu | assessment: Đạt/Không "
          "đạt | forecast: số dự kiến cho một thời điểm sau ngày của cột (as_of là thời điểm đó) | text: chữ, không "
          "có số | unparsed: không đọc được mà không phải đoán", values=VALUE_STATUSES),
    Field("source_file", "string", "Raw file the figure comes from (relative path)",
          "Tệp gốc chứa số liệu (đường dẫn tương đối)"),
    Field("source_line", "integer", "1-based line in the report (or row in an ingested workbook)",
          "Dòng trong báo cáo, đếm từ 1 (hoặc hàng trong tệp Excel đã nhập)", minimum=1, unit="line"),
    Field("source_column", "integer", "1-based column (tab-separated cell) in the line",
          "Cột trong dòng (ô phân cách bằng tab), đếm từ 1", minimum=1, unit="column"),
    Field("source_cell", "string", "Sheet and cell for figures from an ingested workbook (e.g. Sheet \"2021\" G14)",
          "Trang tính và ô của số liệu từ tệp Excel đã nhập (vd. Sheet \"2021\" G14)", nullable=True),
    Field("source_location", "string",
          "Where the figure stands in the document a person opens: 'line 812, column 3' (text export), 'table 3, "
          "row 5, cell 4' or 'paragraph 120' (Word), 'page 12, line 7' (PDF), the sheet and cell (ingested workbook)",
          "Vị trí trong tài liệu gốc: dòng và cột (tệp văn bản), bảng/hàng/ô hoặc đoạn (Word), trang và dòng (PDF), "
          "trang tính và ô (tệp Excel đã nhập)"),
    Field("format", "string", "Format of the report file: text (UTF-8 text export), docx (Word) or pdf",
          "Định dạng tệp báo cáo: text (văn bản UTF-8), docx (Word) hoặc pdf", values=("text", "docx", "pdf")),
    Field("text_file", "string",
          "The text the line numbers refer to: the report itself (text) or the text extracted from a Word or PDF "
          "report, kept under data/interim/ (relative path)",
          "Tệp văn bản mà số dòng dẫn chiếu: chính báo cáo (text) hoặc văn bản trích từ báo cáo Word/PDF, lưu ở "
          "data/interim/ (đường dẫn tương đối)"),
    Field("text_sha256", "string", "SHA-256 of the text file the line numbers refer to",
          "Mã SHA-256 của tệp văn bản mà số dòng dẫn chiếu"),
    Field("label_vi", "string", "Vietnamese label", "Tên tiếng Việt"),
    Field("label_en", "string", "English label", "Tên tiếng Anh"),
    Field("sum_of", "string", "Indicators this one is the total of (|-separated)",
          "Các chỉ tiêu mà chỉ tiêu này là tổng (phân cách bằng |)", nullable=True),
    Field("at_most", "string", "Indicators this one cannot exceed (|-separated)",
          "Các chỉ tiêu mà chỉ tiêu này không được vượt quá (phân cách bằng |)", nullable=True),
    Field("description", "string", "What the indicator counts, where the report leaves it unclear",
          "Chỉ tiêu đếm gì, khi báo cáo chưa nói rõ", nullable=True),
    Field("kind", "string",
          "stock (a figure at a date) | flow (what happened in the period: never compared across a part year) | "
          "rate | flag | none (a heading row)",
          "stock: số tại một thời điểm | flow: số phát sinh trong kỳ (không so sánh với kỳ chưa trọn năm) | rate: "
          "tỷ lệ | flag: có/không, Đạt/Không đạt | none: dòng tiêu đề", values=KINDS),
    Field("stt", "string", "Row number (STT) as printed in the report's table", "Số thứ tự (STT) như in trong bảng",
          nullable=True),
    Field("check", "string", "Name of the validation check", "Tên phép kiểm tra"),
    Field("severity", "string", "error | warning | info | ok (checked and agreed)",
          "error: lỗi | warning: cảnh báo | info: thông tin | ok: đã kiểm tra và khớp", values=SEVERITIES),
    Field("message", "string", "What was found, with the figures that disagree (worded in English from message_key "
          "and params)", "Điều phát hiện được, kèm các số liệu không khớp (tiếng Anh, từ message_key và params)"),
    Field("target", "integer", "The Phụ lục 8 target the finding is about, if any",
          "Mục tiêu của Phụ lục 8 liên quan, nếu có", nullable=True, minimum=1),
    Field("message_key", "string", "Key of the message in cchc_analysis/messages.yaml (worded there in vi and en)",
          "Khóa của thông điệp trong cchc_analysis/messages.yaml (có lời văn tiếng Việt và tiếng Anh)"),
    Field("params", "string", "The message's parameters (JSON object)", "Tham số của thông điệp (đối tượng JSON)"),
    Field("source_lines", "string", "Lines of the report the finding rests on (;-separated)",
          "Các dòng của báo cáo làm căn cứ (phân cách bằng ;)", nullable=True),
    Field("number", "integer", "Target number in Phụ lục 8", "Số thứ tự mục tiêu trong Phụ lục 8", minimum=1),
    Field("text", "string", "Text of the target", "Nội dung mục tiêu"),
    Field("assessment", "string", "The district's self-assessment as printed", "Tự đánh giá của huyện như in"),
    Field("achieved", "boolean", "Self-assessed as Đạt (true) or not", "Tự đánh giá Đạt (true) hay không",
          nullable=True),
    Field("text_line", "integer", "Line of the target's text", "Dòng chứa nội dung mục tiêu", minimum=1,
          unit="line"),
    Field("sha256", "string", "SHA-256 of the raw file", "Mã SHA-256 của tệp gốc"),
    Field("synthetic", "boolean",
          "True for SYNTHETIC test reports (derived from a real one for tests and benchmarks; never published)",
          "True với báo cáo thử nghiệm SYNTHETIC (tạo từ báo cáo thật để kiểm thử; không bao giờ công bố)"),
    Field("section_title", "string", "Title of the sub-table (Phụ lục 4 I, II), empty otherwise",
          "Tên phần của phụ lục (Phụ lục 4 I, II); trống nếu không có", nullable=True),
    Field("title", "string", "Title of the appendix table as printed", "Tên bảng phụ lục như in"),
    Field("office", "string", "Office responsible for the table, where the report names one",
          "Cơ quan chịu trách nhiệm thống kê, khi báo cáo nêu", nullable=True),
    Field("first_line", "integer", "First line of the table in the report", "Dòng đầu của bảng trong báo cáo",
          minimum=1, unit="line"),
    Field("last_line", "integer", "Last line of the table in the report", "Dòng cuối của bảng trong báo cáo",
          minimum=1, unit="line"),
    Field("header_lines", "string", "Lines of the table's header (;-separated)",
          "Các dòng tiêu đề của bảng (phân cách bằng ;)"),
    Field("repeated_header_lines", "string", "Lines where the header is repeated after a page break (;-separated)",
          "Các dòng tiêu đề lặp lại sau ngắt trang (phân cách bằng ;)", nullable=True),
    Field("rows", "integer", "Number of indicator rows read from the table", "Số dòng chỉ tiêu đọc được từ bảng",
          minimum=0),
    Field("notes", "string", "Footnotes of the table (Ghi chú), |-separated", "Ghi chú của bảng (phân cách bằng |)",
          nullable=True),
    Field("notes_lines", "string", "Lines of the footnotes (;-separated)", "Các dòng ghi chú (phân cách bằng ;)",
          nullable=True),
    Field("role", "string", "Role the cell played (row number, label, value, period, header ...)",
          "Vai trò của ô (số thứ tự, tên dòng, giá trị, kỳ, tiêu đề ...)"),
]
FIELDS: dict[str, Field] = {f.name: f for f in _FIELDS}


def _fields(*items: str | Field) -> tuple[Field, ...]:
    """A table's fields: a name is the shared field of ``FIELDS``; a ``Field`` is this table's own."""
    return tuple(FIELDS[item] if isinstance(item, str) else item for item in items)


def _may_be_empty(name: str) -> Field:
    return replace(FIELDS[name], nullable=True)


_CELL = ("district", "appendix", "section", "source_line", "source_column", "source_location", "raw", "role",
         _may_be_empty("indicator_id"), _may_be_empty("period"))
_DISTRICT_KEY = ((("district",), "districts", ("district",)),)
_INDICATORS = _fields(
    "district", "district_code", "province", "appendix", "section", "area", "indicator_id", "indicator", "parent",
    "parent_id", "indicator_en", "unit", "period", "year", "as_of", "column_header", "value", "denominator", "raw",
    "note", "value_status", "source_file", "source_line", "source_column", "source_cell", "source_location")
_FACT_FIELDS = _fields(
    Field("id", "string", "Id of the stated figure (unique within a district)",
          "Mã của số liệu nêu trong văn bản (duy nhất trong một huyện)"),
    "area",
    Field("value", "number", "The figure as the prose states it", "Số liệu như văn bản nêu"),
    Field("unit", "string", "What the figure is a number of (persons, percent, documents ...)",
          "Đơn vị của số liệu (văn bản, người, phần trăm ...)"),
    Field("counts", "string", "What the figure counts, in English", "Số liệu đếm gì (tiếng Anh)"),
    Field("period", "string", "Year or span the figure refers to", "Năm hoặc giai đoạn của số liệu"),
    Field("quote", "string", "The exact words of the report around the figure", "Nguyên văn câu chứa số liệu"),
    Field("line", "integer", "Line of the quote in the report", "Dòng của câu trích trong báo cáo", minimum=1,
          unit="line"),
    Field("indicator_id", "string", "Table indicator that carries the same measure, if any",
          "Chỉ tiêu trong bảng đo cùng nội dung, nếu có", nullable=True),
    Field("qualifier", "string", "How the prose states the figure: exact | more_than | at_least | planned",
          "Cách văn bản nêu số liệu: chính xác | trên | ít nhất | kế hoạch"),
    Field("denominator", "number", "The whole, for a figure stated as a part of it (13/13)",
          "Mẫu số, khi số liệu được nêu là một phần (13/13)", nullable=True),
    Field("raw", "string", "The figure's text as printed", "Chữ số như in trong văn bản", nullable=True),
    Field("section_id", "string", "Section of the prose the quote stands in (see sections.json)",
          "Mục của văn bản chứa câu trích (xem sections.json)"),
    Field("note", "string", "Curator's note on how the figure relates to the tables (e.g. 'per office, not a total')",
          "Ghi chú của người biên soạn về quan hệ của số liệu với các bảng", nullable=True),
    "district")
_SECTION_FIELDS = _fields(
    "district",
    Field("id", "string", "Id of the section (its place in the heading tree)", "Mã của mục (vị trí trong cây đề mục)"),
    "area",
    Field("kind", "string", "results | limitations | causes | overall | lessons | tasks | recommendations ...",
          "Loại mục: kết quả, hạn chế, nguyên nhân, đánh giá chung, bài học, nhiệm vụ, kiến nghị ..."),
    Field("aspect", "string", "Kind named by a sub-heading, kept as the section's aspect", "Khía cạnh của mục",
          nullable=True),
    Field("heading", "string", "The heading as printed", "Đề mục như in"),
    Field("path", "string", "Headings above this one (a list)", "Các đề mục cấp trên (danh sách)"),
    Field("text", "string", "The section's text", "Nội dung của mục"),
    "first_line", "last_line",
    Field("area_basis", "string", "Why the section was given its area", "Căn cứ gán lĩnh vực cho mục"),
    Field("area_keyword_hits", "string", "Keywords of each area found in the section (an object)",
          "Số từ khóa của từng lĩnh vực tìm thấy trong mục"),
    Field("notes", "string", "Remarks of the outline reader (numbering slips ...)", "Ghi chú khi đọc cây đề mục"))

def _worded(name: str, en: str, vi: str, nullable: bool = False) -> tuple[Field, Field]:
    """A text given in both languages: ``name_vi`` and ``name_en``."""
    return tuple(Field(f"{name}_{lang}", "string", en + f" ({lang})", vi + f" ({lang})", nullable=nullable)
                 for lang in ("vi", "en"))


VERDICTS = ("dat", "dat_mot_phan", "chua_dat", "chua_du_can_cu", "khong_danh_gia")
PART_STATUSES = ("supported", "partly", "contradicted", "no_evidence", "not_district")
_CRITERION = Field("criterion_id", "string", "Id of the evaluation criterion (cchc_analysis/evaluation/criteria.yaml)",
                   "Mã tiêu chí đánh giá (cchc_analysis/evaluation/criteria.yaml)")
_EVALUATION_FIELDS = _fields(
    "district", _CRITERION,
    Field("target", "integer", "Its number in Phụ lục 8, for the report's own targets", "Số thứ tự trong Phụ lục 8",
          nullable=True, minimum=1),
    "area", *_worded("title", "Short name of the criterion", "Tên ngắn của tiêu chí"),
    Field("source", "string", "The document that sets the target", "Văn bản đặt ra mục tiêu"),
    Field("source_status", "string", "verified (legal text seen) | secondary (widely cited) | unverified",
          "verified: đã đối chiếu văn bản | secondary: theo tài liệu tổng hợp | unverified: chưa kiểm chứng",
          values=("verified", "secondary", "unverified")),
    *_worded("source_note", "The source as the pack cites it, with its status", "Nguồn như bộ đánh giá trích dẫn"),
    *_worded("reference", "Where the target stands in the report (Phụ lục 8, mục tiêu N)",
             "Vị trí mục tiêu trong báo cáo (Phụ lục 8, mục tiêu N)", nullable=True),
    Field("district_level", "boolean", "Whether any part of the criterion applies to a district",
          "Tiêu chí có nội dung áp dụng ở cấp huyện hay không"),
    Field("self_assessment", "string", "The district's self-assessment as printed (Phụ lục 8)",
          "Kết quả tự đánh giá của huyện như in (Phụ lục 8)", nullable=True),
    Field("verdict", "string", "dat | dat_mot_phan | chua_dat | chua_du_can_cu | khong_danh_gia",
          "Đạt | Đạt một phần | Chưa đạt | Chưa đủ căn cứ | Không đánh giá ở cấp huyện", values=VERDICTS),
    *_worded("verdict", "The verdict in words", "Kết quả đánh giá bằng lời"),
    *_worded("summary", "The verdict set against the self-assessment", "Kết quả đánh giá so với tự đánh giá"),
    *_worded("reason", "The verdict and its reason alone", "Kết quả đánh giá và lý do"),
    *_worded("evidence", "Where the evidence is (Phụ lục N, chỉ tiêu M; ;-separated)",
             "Nơi có minh chứng (Phụ lục N, chỉ tiêu M; phân cách bằng ;)", nullable=True),
    "source_lines")
_PART_FIELDS = _fields(
    "district", _CRITERION,
    Field("part_id", "string", "Id of the measurable part within the criterion", "Mã nội dung trong tiêu chí"),
    Field("district_level", "boolean", "Whether the part applies to a district", "Nội dung áp dụng ở cấp huyện"),
    Field("status", "string", "supported | partly | contradicted | no_evidence | not_district",
          "có minh chứng | một phần | trái với số liệu | chưa có minh chứng | không áp dụng ở cấp huyện",
          values=PART_STATUSES),
    *_worded("measure", "What the part requires", "Nội dung yêu cầu"),
    *_worded("text", "What the report shows for it, with its figures and dates", "Báo cáo cho thấy gì, kèm số liệu"),
    *_worded("citations", "Table rows cited (;-separated)", "Các chỉ tiêu được trích dẫn (phân cách bằng ;)",
             nullable=True),
    *_worded("context", "Figures and quotes that bear on the part without deciding it (|-separated)",
             "Số liệu, trích dẫn liên quan nhưng không quyết định (phân cách bằng |)", nullable=True),
    Field("indicator_ids", "string", "Indicators the rule read (;-separated)", "Các chỉ tiêu được đọc (;)",
          nullable=True),
    "source_lines")
_OBSERVATION_FIELDS = _fields(
    "district",
    Field("observation_id", "string", "Id of the rule (cchc_analysis/evaluation/observations.yaml)",
          "Mã quy tắc (cchc_analysis/evaluation/observations.yaml)"),
    Field("area", "string", "Reform area id, or general", "Mã lĩnh vực cải cách, hoặc general (chung)"),
    Field("kind", "string", "strength | weakness", "strength: điểm mạnh | weakness: điểm yếu",
          values=("strength", "weakness")),
    Field("priority", "integer", "Order in the summary (higher first)", "Thứ tự trong phần tóm tắt (cao trước)",
          minimum=0),
    *_worded("text", "The observation, with its figures", "Nhận xét, kèm số liệu"),
    *_worded("recommendation", "The recommendation it motivates (weaknesses)", "Kiến nghị rút ra (điểm yếu)",
             nullable=True),
    Field("indicator_ids", "string", "Indicators the rule read (;-separated)", "Các chỉ tiêu được đọc (;)",
          nullable=True))

TABLES: dict[str, Table] = {t.name: t for t in [
    Table("indicators", "indicators.csv", "Observations: one row per district, indicator and period", _INDICATORS,
          ("district", "indicator_id", "period", "as_of"),
          ((("indicator_id",), "indicators_codebook", ("indicator_id",)),) + _DISTRICT_KEY, parquet=True),
    Table("indicators_codebook", "indicators_codebook.csv", "Indicators: labels, units, parents and checks",
          _fields("indicator_id", "appendix", "section", "area", "label_vi", "label_en", "unit", "kind", "stt",
                  "parent_id", "parent", "sum_of", "at_most", "description"), ("indicator_id",), attribute="codebook"),
    Table("districts", "districts.csv", "Districts and the reports they come from",
          _fields("district", "district_code", "province", "province_code", "source_file", "sha256", "format",
                  "text_file", "text_sha256", "synthetic",
                  Field("title", "string", "Title of the report (from the manifest)", "Tên báo cáo (theo manifest)",
                        nullable=True),
                  Field("issuer", "string", "Who issued the report", "Cơ quan ban hành báo cáo", nullable=True),
                  Field("answers_plan", "string", "The plan or request the report answers",
                        "Kế hoạch, văn bản mà báo cáo thực hiện", nullable=True),
                  Field("figures_as_of", "date", "Date the report's figures stand at",
                        "Ngày số liệu của báo cáo được tính đến", nullable=True, pattern=r"\d{4}-\d{2}-\d{2}")),
          ("district",)),
    Table("quality", "quality.csv", "Validation findings",
          _fields("district", "check", "severity", _may_be_empty("appendix"), _may_be_empty("indicator_id"),
                  _may_be_empty("year"), "target", "message", "message_key", "params", "source_lines"),
          foreign_keys=_DISTRICT_KEY),
    Table("targets", "targets.csv", "Phụ lục 8: the programme's targets and the district's self-assessment",
          _fields("district", "number", "text", "assessment", "achieved", "raw", "source_file", "source_line",
                  "source_location", "text_line"), ("district", "number"), _DISTRICT_KEY),
    Table("tables", "tables.csv", "The appendix tables of each report",
          _fields("district", "appendix", "section", "section_title", _may_be_empty("area"), "title", "office",
                  "first_line", "last_line", "header_lines", "repeated_header_lines", "rows", "notes",
                  "notes_lines"), ("district", "appendix", "section"), _DISTRICT_KEY),
    Table("cells", "cells.csv", "Every non-empty table cell with its role (the 'nothing lost' ledger)",
          _fields(*_CELL), ("district", "source_line", "source_column"), _DISTRICT_KEY),
    Table("facts", "facts.csv", "Figures stated in the report's prose, with their quotes", _FACT_FIELDS),
    Table("indicators_superseded", "indicators_superseded.csv",
          "Report figures replaced by an ingested year file (kept, not lost)", _INDICATORS, attribute="superseded"),
    Table("evaluation", "evaluation.csv", "The evaluation: one verdict per criterion and district, with its evidence",
          _EVALUATION_FIELDS, ("district", "criterion_id"), _DISTRICT_KEY),
    Table("evaluation_parts", "evaluation_parts.csv", "The measurable parts of each criterion and what the report "
          "shows for them", _PART_FIELDS, ("district", "criterion_id", "part_id"), _DISTRICT_KEY),
    Table("observations", "observations.csv", "Strengths and weaknesses found by rule, with recommendations",
          _OBSERVATION_FIELDS, ("district", "observation_id"), _DISTRICT_KEY),
    Table("sections", "sections.json", "The report's prose by section: area, kind, heading, text and lines "
          "(a JSON list of objects)", _SECTION_FIELDS),
]}
CSV_TABLES = [name for name, table in TABLES.items() if table.file.endswith(".csv")]
REQUIRED_TABLES = ("indicators", "indicators_codebook", "quality", "targets")


def columns(table: str) -> list[str]:
    """The fields of ``table`` in the order they are written."""
    return TABLES[table].columns


@cache
def csv_header(table: str) -> str:
    """The header line of the table's CSV file, as pandas writes it (the csv module's minimal quoting): a file
    joined from its districts' pieces needs no frame for it."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(columns(table))
    return out.getvalue()


def empty_frame(table: str) -> pd.DataFrame:
    """A frame of the table's columns in the registry's dtypes, without rows (a copy of one made once a process:
    building it costs a few milliseconds a table)."""
    return _empty_frame(table).copy()


@cache
def _empty_frame(table: str) -> pd.DataFrame:
    return pd.DataFrame({name: pd.array([], dtype=dtype) for name, dtype in TABLES[table].dtypes().items()})


def check_columns(table: str, frame: pd.DataFrame) -> None:
    """A frame about to be written must hold exactly the registry's fields, in order (a programming error if not)."""
    expected = columns(table)
    if list(frame.columns) != expected:
        raise ValueError(f"{table}: columns {list(frame.columns)} differ from the schema registry's {expected}")


# -- the schema check of the observations: the registry's rules, judged here or by pandera -----------------------
def _rules(field: Field) -> list[tuple[str, object]]:
    """What every value of the field must satisfy, as (rule, argument): the one statement of the checks that
    pandera's schema runs (``_pandera_column``) and ``_surely_valid`` runs itself (``_passes``)."""
    rules: list[tuple[str, object]] = []
    if field.pattern:
        rules.append(("matches", f"(?:{field.pattern}){'?' if field.nullable else ''}"))
    elif field.values:
        rules.append(("one_of", tuple(field.values)))
    elif field.type == "string" and not field.nullable:
        rules.append(("not_empty", None))
    if field.minimum is not None and field.maximum is not None:
        rules.append(("within", (field.minimum, field.maximum)))
    elif field.minimum is not None:
        rules.append(("at_least", field.minimum))
    return rules


def _may_be_missing(field: Field) -> bool:
    """A missing value (NaN) is allowed in number columns only; an empty text or date is "" (its rule allows it)."""
    return field.nullable and field.type == "number"


# the dtypes pandera's column of each field type accepts (``_pandera_column``; tested against pandera's own check)
_PANDERA_DTYPES = {"integer": ("int64", "Int64"), "number": ("float64",), "string": ("str",), "date": ("str",)}


def _pandera_column(field: Field):
    import pandera.pandas as pa

    make = {"matches": lambda regex: pa.Check.str_matches(f"^{regex}$"),
            "one_of": lambda values: pa.Check.isin(list(values)),
            "not_empty": lambda _: pa.Check.str_length(min_value=1),
            "within": lambda bounds: pa.Check.in_range(*bounds),
            "at_least": pa.Check.ge}
    dtype = {"integer": int, "number": float}.get(field.type, str)
    return pa.Column(dtype, [make[rule](argument) for rule, argument in _rules(field)],
                     nullable=_may_be_missing(field))


@cache
def pandera_schema(table: str = "indicators"):
    import pandera.pandas as pa

    spec = TABLES[table]
    return pa.DataFrameSchema({f.name: _pandera_column(f) for f in spec.fields}, unique=list(spec.primary_key),
                              strict=True, ordered=True, coerce=False)


def check_schema(indicators: pd.DataFrame, source: str) -> None:
    """Raise CchcError naming the offending rows if the tidy table breaks its schema. pandera (imported only then:
    some 0.2 s) validates only a table ``_surely_valid`` cannot vouch for: its error says which rows and why."""
    if _surely_valid(indicators, "indicators"):
        return
    import pandera.pandas as pa

    try:
        pandera_schema("indicators").validate(indicators, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases.head(5)
        details = "; ".join(f"{row.column}: {row.check} (failure: {row.failure_case!r}, row {row.index})"
                            for row in cases.itertuples())
        raise CchcError(f"the tidy table breaks its schema: {details}", file=source) from None


def _surely_valid(frame: pd.DataFrame, table: str) -> bool:
    """True only if pandera would find nothing wrong with ``frame``, told without pandera at a fraction of its cost
    (a corpus' 200,000 observations: most of the main process' checking): the registry's columns in order and its
    dtypes (those pandera accepts: ``_dtypes_accepted``), no missing value where pandera allows none, no two rows of
    one key (pandas' ``duplicated``, as pandera asks it), and every rule of a column (each judges a value by itself:
    ``_rules``) passed by the column's distinct values (a few dozen, where pandera checks every row), judged as
    strictly as pandera's checks or more (``_passes``). False, whatever the reason: pandera validates and says what
    is wrong."""
    spec = TABLES[table]
    if list(frame.columns) != spec.columns or tuple(map(str, frame.dtypes)) != tuple(spec.dtypes().values()):
        return False
    if not _dtypes_accepted(table):
        return False
    for field in spec.fields:
        column = frame[field.name]
        if not _may_be_missing(field) and column.isna().any():
            return False
        rules = _rules(field)
        if rules:
            distinct = column.dropna().unique().tolist()  # (pandera's checks skip missing values)
            if not all(_passes(rule, argument, distinct) for rule, argument in rules):
                return False
    return not (spec.primary_key and frame.duplicated(subset=list(spec.primary_key)).any())


def _passes(rule: str, argument, values: list) -> bool:
    r"""Every value passes the rule, judged as pandera's check judges it or more strictly: a pattern matches the whole
    text (no final newline let through) with ASCII classes (``\d``: 0-9, as the regular expressions pandas hands to
    Arrow read it)."""
    if rule == "matches":
        match = re.compile(argument, re.ASCII).fullmatch
        return all(type(value) is str and match(value) for value in values)
    if rule == "one_of":
        return set(values) <= set(argument)
    if rule == "not_empty":
        return all(type(value) is str and value for value in values)
    if rule == "within":
        return all(argument[0] <= value <= argument[1] for value in values)
    if rule == "at_least":
        return all(value >= argument for value in values)
    raise ValueError(f"unknown rule {rule!r}")


@cache
def _dtypes_accepted(table: str) -> bool:
    """pandera accepts the registry's dtypes for the table's columns: each field's dtype is the one pandera's column
    of its type accepts (``_PANDERA_DTYPES``; tested to agree with pandera validating a frame without rows)."""
    return all(field.dtype in _PANDERA_DTYPES.get(field.type, ()) for field in TABLES[table].fields)
