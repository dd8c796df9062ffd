"""`cchc parse` on bad input: a clear error naming the file and line, exit 2, no traceback, nothing written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cchc_analysis.cli import main

SENTINEL = "old output, must survive a failed run\n"


def _prepare_out(tmp_path: Path) -> Path:
    out = tmp_path / "processed"
    out.mkdir()
    (out / "indicators.csv").write_text(SENTINEL, encoding="utf-8")
    return out


def _assert_untouched(out: Path) -> None:
    assert sorted(p.name for p in out.iterdir()) == ["indicators.csv"]
    assert (out / "indicators.csv").read_text(encoding="utf-8") == SENTINEL


def _lines(text: str, first: int, last: int) -> str:
    return "\n".join(text.split("\n")[first - 1:last])


def bad_inputs(reference_text: str) -> dict[str, tuple[bytes, str, int | None]]:
    """name -> (file content, expected message, expected line)."""
    text = reference_text
    return {
        "empty": (b"", "empty", None),
        "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary", 3),
        "windows-1258": ("Báo cáo\nTu\u00e2\u0300n Giáo\n".encode("cp1258"), "not valid UTF-8", 1),
        "utf-16": (text.encode("utf-16"), "UTF-16", 1),
        "cut-table": ((_lines(text, 1, 609) + "\n" + _lines(text, 624, 657)).encode(), "Phụ lục 7 ends without 5",
                      609),
        "truncated-report": (_lines(text, 1, 515).encode(), "appendix tables missing: Phụ lục 4", 515),
        "unknown-row": (text.replace("Số lượng chữ ký số", "Số lượng máy tính bảng").encode(),
                        "row 'Số lượng máy tính bảng'", 605),
        "no-appendices": (_lines(text, 1, 450).encode(), "no appendix tables", None),
    }


@pytest.mark.parametrize("case", ["empty", "binary", "windows-1258", "utf-16", "cut-table", "truncated-report",
                                  "unknown-row", "no-appendices"])
def test_bad_input_fails_cleanly(case, reference_text, tmp_path, capsys):
    content, message, line = bad_inputs(reference_text)[case]
    report = tmp_path / f"{case}.txt"
    report.write_bytes(content)
    out = _prepare_out(tmp_path)
    code = main(["parse", str(report), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"error: {report}" + (f":{line}:" if line else ":"))
    assert message in err
    _assert_untouched(out)


def test_missing_file(tmp_path, capsys):
    assert main(["parse", str(tmp_path / "nope.txt"), "--out", str(tmp_path)]) == 2
    assert "no such file" in capsys.readouterr().err


def test_real_process_exit_code_and_no_traceback(tmp_path):
    report = tmp_path / "empty.txt"
    report.write_bytes(b"")
    out = _prepare_out(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "cchc_analysis", "parse", str(report), "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and f"{report}: the file is empty" in proc.stderr
    _assert_untouched(out)


def test_parse_writes_the_dataset(reference_path, tmp_path, capsys):
    out = tmp_path / "processed"
    assert main(["parse", str(reference_path), "--out", str(out)]) == 0
    summary = capsys.readouterr().out
    assert "quality findings:" in summary
    for name in ("indicators.csv", "indicators.parquet", "indicators_codebook.csv", "quality.csv", "targets.csv",
                 "cells.csv", "tables.csv", "districts.csv"):
        assert (out / name).stat().st_size > 0, name
    assert not [p for p in out.iterdir() if p.name.startswith(".cchc-")]
