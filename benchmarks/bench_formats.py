"""Reading a report in each format: prints figures, asserts nothing.

The reference report is made into a Word file (python-docx) and a PDF of about 30 A4 pages (WeasyPrint, ruled tables,
header repeated on each page, one landscape appendix), as the tests make them; then each is read into lines
(`read_docx`, `read_pdf`: the structure reading alone, no parse) and the median of N runs is printed per document
and per page, against reading the text export. Aims: a Word report under 200 ms, a 30-page PDF under 3 s.

Run: `make bench-formats` or `.venv/bin/python benchmarks/bench_formats.py [--runs 7]`.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from formats_fixtures import write_docx, write_pdf  # noqa: E402

from cchc_analysis.read.docx import read_docx  # noqa: E402
from cchc_analysis.read.pdf import read_pdf  # noqa: E402
from cchc_analysis.read.source import read_report  # noqa: E402

REFERENCE = ROOT / "data" / "raw" / "tuan-giao" / "bao-cao-tong-ket-cchc-2011-2020.txt"


def median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def pages_of(pdf: Path) -> int:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(pdf))
    try:
        return len(document)
    finally:
        document.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    text = REFERENCE.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as folder:
        docx_file, pdf_file = Path(folder) / "report.docx", Path(folder) / "report.pdf"
        write_docx(text, docx_file)
        write_pdf(text, pdf_file)
        docx_data, pdf_data = docx_file.read_bytes(), pdf_file.read_bytes()
        pages = pages_of(pdf_file)
        read_docx(docx_data, docx_file), read_pdf(pdf_data, pdf_file)  # warm-up: imports
        results = [
            ("text export (.txt)", REFERENCE.stat().st_size, None,
             median_ms(lambda: read_report(REFERENCE), args.runs)),
            ("Word (.docx)", len(docx_data), None, median_ms(lambda: read_docx(docx_data, docx_file), args.runs)),
            ("PDF (.pdf)", len(pdf_data), pages, median_ms(lambda: read_pdf(pdf_data, pdf_file), args.runs)),
        ]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, {os.cpu_count()} cores, "
          f"load average {load:.2f}; median of {args.runs} runs")
    print(f"{'format':<20} {'bytes':>10} {'pages':>6} {'ms a document':>14} {'ms a page':>10}")
    for name, size, n_pages, ms in results:
        per_page = f"{ms / n_pages:.1f}" if n_pages else "-"
        print(f"{name:<20} {size:>10,} {n_pages or '-':>6} {ms:>14.1f} {per_page:>10}")
    print("aims: Word under 200 ms, a 30-page PDF under 3,000 ms")


if __name__ == "__main__":
    main()
