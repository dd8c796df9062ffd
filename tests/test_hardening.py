"""Hostile, careless and concurrent use: each case of issue 13 ends in one clear line (exit 2) or in the right data,
never in silently wrong figures, a traceback, a half-changed data/ folder or a process left running."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from test_updates import GOOD_2021, fill, make_template, snapshot, workspace  # noqa: F401 - workspace is a fixture

from cchc_analysis import concurrency
from cchc_analysis.cli import main
from cchc_analysis.dataset.io import load_dataset
from cchc_analysis.dataset.yearfile import MAX_ROWS, read_filled, template_indicators
from cchc_analysis.errors import CchcError
from cchc_analysis.updates import ingest as ingest_module
from cchc_analysis.updates.ingest import IngestError, ingest

ROOT = Path(__file__).resolve().parents[1]


def run_cli(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def row_of(path: Path, year: int, indicator_id: str) -> int:
    sheet = load_workbook(path)[str(year)]
    return next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == indicator_id)


# -- silently wrong data --------------------------------------------------------------------------------------------
def test_excel_percentage_is_read_as_shown(workspace, reference_dataset, tmp_path):
    """99,5% typed in Excel is stored as 0.995 with a % format: it must give 99.5, not 0.995."""
    raw, processed = workspace
    path = make_template(raw, reference_dataset, 2021, tmp_path)

    def percent_typed(sheet):
        cell = sheet.cell(row_of(path, 2021, "tthc_dung_hen_huyen"), 7)
        cell.value, cell.number_format = 0.995, "0.0%"
    fill(path, {"hdh_chu_ky_so": 180}, 2021, edit=percent_typed)
    ingest(path, raw, processed)
    new = load_dataset(processed).indicators.query("year == 2021").set_index("indicator_id")
    assert new.loc["tthc_dung_hen_huyen", "value"] == 99.5
    assert new.loc["tthc_dung_hen_huyen", "raw"] == "99.5%"


def test_percentage_format_in_a_count_row_is_refused(workspace, reference_dataset, tmp_path):
    raw, processed = workspace
    path = make_template(raw, reference_dataset, 2021, tmp_path)

    def percent_typed(sheet):
        cell = sheet.cell(row_of(path, 2021, "hdh_chu_ky_so"), 7)
        cell.value, cell.number_format = 0.5, "0%"
    fill(path, {}, 2021, edit=percent_typed)
    with pytest.raises(IngestError, match="không phải tỷ lệ"):
        ingest(path, raw, processed)


def test_template_value_cells_are_text_so_what_is_typed_is_stored(workspace, reference_dataset, tmp_path):
    raw, _ = workspace
    path = make_template(raw, reference_dataset, 2021, tmp_path)
    sheet = load_workbook(path)["2021"]
    assert {sheet.cell(r, 7).number_format for r in range(2, sheet.max_row + 1)} == {"@"}


@pytest.mark.parametrize("name", ["099", "tuan-giao", "tuan giao", "TUẦN GIÁO"])
def test_year_present_guard_whatever_name_the_district_is_given(name, workspace, reference_dataset, tmp_path):
    raw, processed = workspace
    path = tmp_path / "u.csv"
    from cchc_analysis.updates.template import write_template

    write_template(raw, "Tuần Giáo", 2019, path, "csv", reference_dataset.indicators)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines = [lines[0]] + [line.replace("Tuần Giáo", name, 1) for line in lines[1:]]
    lines = [line.replace(",2019-12-31,,", ",2019-12-31,10,") if ",hdh_chu_ky_so," in line else line
             for line in lines]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = snapshot(raw, processed)
    with pytest.raises(IngestError, match="2019 của huyện Tuần Giáo đã có số liệu"):
        ingest(path, raw, processed)
    assert snapshot(raw, processed) == before


# -- concurrency and interruption -----------------------------------------------------------------------------------
def test_a_second_command_waits_then_says_another_is_running(workspace, reference_dataset, tmp_path, capsys,
                                                            monkeypatch):
    raw, processed = workspace
    path = make_template(raw, reference_dataset, 2021, tmp_path)
    fill(path, GOOD_2021, 2021)
    monkeypatch.setattr(concurrency, "WAIT_SECONDS", 0.3)
    before = snapshot(raw, processed)
    with concurrency.exclusive(raw, processed, announce=lambda message: None):
        code, err = run_cli(capsys, "ingest", str(path), "--raw", str(raw), "--processed", str(processed))
    assert code == 2
    assert "waiting: another cchc command" in err and "is still using this folder" in err
    assert snapshot(raw, processed) == before
    code, err = run_cli(capsys, "ingest", str(path), "--raw", str(raw), "--processed", str(processed))
    assert code == 0, err


def test_stale_staging_folders_of_a_killed_command_are_removed(reference_path, tmp_path, capsys):
    out = tmp_path / "processed"
    (out / ".cchc-abc123").mkdir(parents=True)
    (out / ".cchc-abc123" / "indicators.csv").write_text("half written", encoding="utf-8")
    code, err = run_cli(capsys, "parse", str(reference_path), "--out", str(out))
    assert code == 0, err
    assert not any(p.name.startswith(".cchc-") for p in out.iterdir())


def test_interrupted_ingest_is_rolled_back(workspace, reference_dataset, tmp_path, capsys, monkeypatch):
    raw, processed = workspace
    path = make_template(raw, reference_dataset, 2021, tmp_path)
    fill(path, GOOD_2021, 2021)
    before = snapshot(raw, processed)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(ingest_module, "write_dataset", interrupted)
    code = main(["ingest", str(path), "--raw", str(raw), "--processed", str(processed)])
    assert code == 130
    assert snapshot(raw, processed) == before


def test_sigterm_is_handled_like_ctrl_c():
    with pytest.raises(KeyboardInterrupt), concurrency.interrupt_on_sigterm():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
    assert signal.getsignal(signal.SIGTERM) is not concurrency._terminate


WORKER_SCRIPT = """
import os, sys, time
from concurrent.futures import ProcessPoolExecutor
import multiprocessing
from cchc_analysis.pack.build import _init_worker

def job():
    return os.getpid()

if __name__ == "__main__":
    ctx = multiprocessing.get_context("forkserver")
    pool = ProcessPoolExecutor(1, mp_context=ctx, initializer=_init_worker, initargs=({}, os.getpid()))
    print(pool.submit(job).result(), flush=True)
    time.sleep(600)
"""


def test_workers_exit_when_the_build_is_killed(tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(WORKER_SCRIPT, encoding="utf-8")
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    worker = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    for _ in range(100):  # waits for the worker to notice, up to 20 s
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        os.kill(worker, signal.SIGKILL)
        pytest.fail("the worker outlived its killed parent")


# -- hostile or broken year files -----------------------------------------------------------------------------------
def test_formula_without_cached_value_is_an_error(workspace, reference_dataset, tmp_path):
    raw, processed = workspace
    path = make_template(raw, reference_dataset, 2021, tmp_path)
    where = fill(path, {"hdh_chu_ky_so": "=100+80"}, 2021)  # openpyxl saves formulas without a computed value
    with pytest.raises(IngestError, match=f'Sheet "2021" {where["hdh_chu_ky_so"]}: ô có công thức'):
        ingest(path, raw, processed)


def test_macro_workbook_renamed_xlsx_is_refused(workspace, reference_dataset, tmp_path, capsys):
    raw, processed = workspace
    path = make_template(raw, reference_dataset, 2021, tmp_path)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0macro")
    code, err = run_cli(capsys, "ingest", str(path), "--raw", str(raw), "--processed", str(processed))
    assert code == 2 and f"error: {path}: this workbook holds macros" in err


def test_zip_bomb_is_refused_before_unpacking(tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (60 << 20))
    with pytest.raises(CchcError, match="unpacks to more than"):
        read_filled(path)


def test_sparse_sheet_down_to_the_last_row_is_refused(workspace, reference_dataset, tmp_path):
    raw, _ = workspace
    path = make_template(raw, reference_dataset, 2021, tmp_path)

    def far_down(sheet):
        sheet.cell(1_048_576, 7).value = 1
    fill(path, {}, 2021, edit=far_down)
    with pytest.raises(CchcError, match=f"more than {MAX_ROWS} rows"):
        read_filled(path)


def test_huge_csv_is_refused(tmp_path):
    path = tmp_path / "big.csv"
    row = "Tuần Giáo,hdh_chu_ky_so,2021,31/12/2021,1,,x,count,\n"
    path.write_text("district,indicator_id,year,as_of,value,note,indicator,unit,last_value\n" + row * 1_000_000,
                    encoding="utf-8")
    with pytest.raises(CchcError, match="limit"):
        read_filled(path)


def test_many_problems_are_capped_with_a_count(workspace, reference_dataset, tmp_path):
    raw, processed = workspace
    path = tmp_path / "u.csv"
    header = "district,indicator_id,year,as_of,value,note,indicator,unit,last_value\n"
    path.write_text(header + "".join(f"Tuần Giáo,no_such_{i},2021,31/12/2021,1,,,,\n" for i in range(300)),
                    encoding="utf-8")
    with pytest.raises(IngestError) as err:
        ingest(path, raw, processed)
    message = str(err.value)
    assert len(err.value.errors) > 300 and "and 251 more" in message and len(message.splitlines()) == 52


CSV_HEADER = "district,indicator_id,year,as_of,value,note,indicator,unit,last_value"


@pytest.mark.parametrize("case", ["short-row", "huge-field"])
def test_malformed_csv_is_one_line_naming_the_file(case, workspace, tmp_path, capsys):
    raw, processed = workspace
    rows = {"short-row": "Tuần Giáo,hdh_chu_ky_so,2021\n",
            "huge-field": 'Tuần Giáo,hdh_chu_ky_so,2021,31/12/2021,"' + "9" * 200_000 + '",,,,\n'}
    path = tmp_path / f"{case}.csv"
    path.write_text(CSV_HEADER + "\n" + rows[case], encoding="utf-8")
    before = snapshot(raw, processed)
    code, err = run_cli(capsys, "ingest", str(path), "--raw", str(raw), "--processed", str(processed))
    assert code == 2 and err.startswith(f"error: {path}")
    assert len(err.strip().splitlines()) <= 2
    assert snapshot(raw, processed) == before


def test_csv_with_cr_only_line_ends_is_read(workspace, reference_dataset, tmp_path):
    raw, _ = workspace
    from cchc_analysis.updates.template import write_template

    path = write_template(raw, "Tuần Giáo", 2021, tmp_path / "u.csv", "csv", reference_dataset.indicators)
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r"))
    filled = read_filled(path)
    assert filled.year == 2021 and len(filled.rows) == len(template_indicators())


@pytest.mark.parametrize("year", [1900, 2300])
def test_year_outside_the_plausible_range_names_the_update(year, workspace, tmp_path, capsys):
    raw, processed = workspace
    path = tmp_path / "u.csv"
    path.write_text(CSV_HEADER + f"\nTuần Giáo,hdh_chu_ky_so,{year},31/12/{year},1,,,,\n", encoding="utf-8")
    code, err = run_cli(capsys, "ingest", str(path), "--raw", str(raw), "--processed", str(processed))
    assert code == 2 and err.startswith(f"error: {path}: year {year} is outside")


def test_stored_update_with_implausible_year_names_the_update(workspace, tmp_path, capsys):
    """A hand-made manifest entry pointing at such a file: the parse names the year file, not the report."""
    raw, processed = workspace
    updates = raw / "tuan-giao" / "updates"
    updates.mkdir()
    (updates / "x.csv").write_text(CSV_HEADER + "\nTuần Giáo,hdh_chu_ky_so,1800,31/12/1800,1,,,,\n",
                                   encoding="utf-8")
    manifest_path = raw / "tuan-giao" / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["files"].append({"file": "updates/x.csv", "kind": "year_data", "year": 1800})
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    code, err = run_cli(capsys, "parse", str(raw), "--out", str(processed))
    assert code == 2 and "updates/x.csv: year 1800 is outside" in err
