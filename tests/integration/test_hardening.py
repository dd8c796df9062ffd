"""Hostile, careless and concurrent use: each case of issue 13 ends in one clear line (exit 2) or in the right data,
never in silently wrong figures, a traceback, a half-changed data/ folder or a process left running."""

from __future__ import annotations

import hashlib
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
from test_updates import GOOD_2021, fill, make_template, snapshot

from cchc_analysis import concurrency
from cchc_analysis.cli import main
from cchc_analysis.dataset.io import load_dataset
from cchc_analysis.dataset.yearfile import MAX_ROWS, read_filled, template_indicators
from cchc_analysis.errors import CchcError
from cchc_analysis.updates import ingest as ingest_module
from cchc_analysis.updates.ingest import IngestError, ingest

ROOT = Path(__file__).resolve().parents[2]


def run_cli(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def row_of(path: Path, year: int, indicator_id: str) -> int:
    sheet = load_workbook(path)[str(year)]
    return next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == indicator_id)


def typed_as_percent(path, indicator_id: str, value: float, number_format: str):
    """An edit of the year's sheet: a value typed the Excel way, a fraction shown with a % format."""
    def edit(sheet):
        cell = sheet.cell(row_of(path, 2021, indicator_id), 7)
        cell.value, cell.number_format = value, number_format
    return edit


# -- silently wrong data --------------------------------------------------------------------------------------------
def test_excel_percentage_is_read_as_shown(workspace, reference_dataset, tmp_path):
    """99,5% typed in Excel is stored as 0.995 with a % format: it must give 99.5, not 0.995."""
    raw, processed = workspace
    path = make_template(raw, reference_dataset, 2021, tmp_path)

    fill(path, {"hdh_chu_ky_so": 180}, 2021, edit=typed_as_percent(path, "tthc_dung_hen_huyen", 0.995, "0.0%"))
    ingest(path, raw, processed)
    new = load_dataset(processed).indicators.query("year == 2021").set_index("indicator_id")
    assert new.loc["tthc_dung_hen_huyen", "value"] == 99.5
    assert new.loc["tthc_dung_hen_huyen", "raw"] == "99.5%"


def test_percentage_format_in_a_count_row_is_refused(workspace, reference_dataset, tmp_path):
    raw, processed = workspace
    path = make_template(raw, reference_dataset, 2021, tmp_path)

    fill(path, {}, 2021, edit=typed_as_percent(path, "hdh_chu_ky_so", 0.5, "0%"))
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


SIGTERM_SCRIPT = """
import os, signal, sys, time
from cchc_analysis.cli import main
from cchc_analysis.updates import ingest

def killed(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(30)

ingest.write_dataset = killed
sys.exit(main(sys.argv[1:]))
"""


def test_sigterm_during_ingest_rolls_back_like_ctrl_c(workspace, reference_dataset, tmp_path):
    raw, processed = workspace
    path = make_template(raw, reference_dataset, 2021, tmp_path)
    fill(path, GOOD_2021, 2021)
    before = snapshot(raw, processed)
    script = tmp_path / "killed.py"
    script.write_text(SIGTERM_SCRIPT, encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script), "ingest", str(path), "--raw", str(raw), "--processed",
                           str(processed)], capture_output=True, text=True, cwd=ROOT, check=False)
    assert proc.returncode == 130 and "interrupted" in proc.stderr and "Traceback" not in proc.stderr
    assert snapshot(raw, processed) == before


WORKER_SCRIPT = """
import os, sys, time
from concurrent.futures import ProcessPoolExecutor
import multiprocessing
from cchc_analysis.pack.execute import _init_worker

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


def test_a_file_that_is_not_a_workbook_is_refused_in_words_not_an_exception_name(workspace, tmp_path, capsys):
    raw, processed = workspace
    path = tmp_path / "tuan-giao-2021.xlsx"
    path.write_text("Mã chỉ tiêu;Năm 2021\n", encoding="utf-8")  # (a text file given the workbook's name)
    code, err = run_cli(capsys, "ingest", str(path), "--raw", str(raw), "--processed", str(processed))
    assert code == 2 and f"error: {path}: not an Excel workbook (.xlsx)" in err
    assert "BadZipFile" not in err and "cchc template --format csv" in err


def test_the_command_help_reads_as_plain_text(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    out = capsys.readouterr().out
    assert done.value.code == 0 and "``" not in out and "evaluation pack" in out


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
    data = (CSV_HEADER + "\nTuần Giáo,hdh_chu_ky_so,1800,31/12/1800,1,,,,\n").encode()
    (updates / "x.csv").write_bytes(data)
    manifest_path = raw / "tuan-giao" / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["files"].append({"file": "updates/x.csv", "kind": "year_data", "year": 1800,
                              "sha256": hashlib.sha256(data).hexdigest()})
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    code, err = run_cli(capsys, "parse", str(raw), "--out", str(processed))
    assert code == 2 and "updates/x.csv: year 1800 is outside" in err


# -- manifests and raw files ----------------------------------------------------------------------------------------
def raw_copy(tmp_path: Path) -> tuple[Path, Path, dict]:
    import shutil

    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "data" / "raw" / "tuan-giao", raw / "tuan-giao")
    manifest_path = raw / "tuan-giao" / "manifest.json"
    return raw, manifest_path, json.loads(manifest_path.read_text(encoding="utf-8"))


MANIFEST_CASES = {
    # name: (change, what the message says)
    "synthetic-as-string": (lambda m: m.update(synthetic="false"), "'synthetic' is 'false'; expected true or false"),
    "kind-typo": (lambda m: m["files"][0].update(kind="reprot"), "'kind' is 'reprot'; expected one of: report"),
    "sha256-missing": (lambda m: m["files"][0].pop("sha256"), "'sha256' is missing"),
    "sha256-malformed": (lambda m: m["files"][0].update(sha256="abc"), "'sha256' is 'abc'"),
    "district-a-number": (lambda m: m.update(district=99), "'district' is 99"),
    "files-not-a-list": (lambda m: m.update(files={"file": "x"}), "'files' must be a non-empty list"),
    "absolute-path": (lambda m: m["files"][0].update(file="/etc/shadow"), "'file' is '/etc/shadow'"),
    "parent-path": (lambda m: m["files"][0].update(file="../../etc/passwd"), "no '..'"),
    "unknown-key": (lambda m: m.update(synthtic=True), "unknown key 'synthtic'"),
    "year-data-without-year": (lambda m: m["files"].append({"file": "u.csv", "kind": "year_data", "sha256": "0" * 64}),
                               "'year' is missing"),
}


@pytest.mark.parametrize("case", sorted(MANIFEST_CASES))
def test_manifest_is_checked_against_its_schema(case, tmp_path, capsys):
    raw, manifest_path, manifest = raw_copy(tmp_path)
    change, message = MANIFEST_CASES[case]
    change(manifest)
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    code, err = run_cli(capsys, "parse", str(raw), "--out", str(tmp_path / "out"))
    assert code == 2 and err.startswith(f"error: {manifest_path}: manifest does not follow its schema")
    assert message in err
    assert not (tmp_path / "out" / "indicators.csv").exists()


def test_a_link_out_of_the_district_folder_is_refused(tmp_path, capsys):
    raw, manifest_path, manifest = raw_copy(tmp_path)
    (raw / "tuan-giao" / "secret.txt").symlink_to("/etc/hostname")
    manifest["files"][0]["file"] = "secret.txt"
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    code, err = run_cli(capsys, "parse", str(raw), "--out", str(tmp_path / "out"))
    assert code == 2 and "'secret.txt' leads outside the district folder" in err


def test_a_fifo_does_not_hang_the_parser(tmp_path, capsys):
    raw, _, manifest = raw_copy(tmp_path)
    name = manifest["files"][0]["file"]
    (raw / "tuan-giao" / name).unlink()
    os.mkfifo(raw / "tuan-giao" / name)
    code, err = run_cli(capsys, "parse", str(raw), "--out", str(tmp_path / "out"))
    assert code == 2 and "is not a regular file" in err
    code, err = run_cli(capsys, "parse", str(raw / "tuan-giao" / name), "--out", str(tmp_path / "out"))
    assert code == 2 and "is not a regular file" in err


def test_a_district_folder_that_is_a_link_is_found(tmp_path, capsys):
    elsewhere, _, _ = raw_copy(tmp_path / "elsewhere")
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "tuan-giao").symlink_to(elsewhere / "tuan-giao", target_is_directory=True)
    code, err = run_cli(capsys, "parse", str(raw), "--out", str(tmp_path / "out"))
    assert code == 0, err
    assert "parsed 1 report(s)" in capsys.readouterr().out or (tmp_path / "out" / "indicators.csv").exists()


def test_the_same_report_under_two_districts_is_refused(tmp_path, capsys):
    import shutil

    raw, _, manifest = raw_copy(tmp_path)
    shutil.copytree(raw / "tuan-giao", raw / "muong-ang")
    manifest.update(district="Mường Ảng", district_code="100")
    (raw / "muong-ang" / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    code, err = run_cli(capsys, "parse", str(raw), "--out", str(tmp_path / "out"))
    assert code == 2 and "the same report is listed for two districts" in err


# -- the template's output ------------------------------------------------------------------------------------------
def test_template_does_not_overwrite_without_force(workspace, tmp_path, capsys):
    raw, _ = workspace
    out = tmp_path / "filled.xlsx"
    out.write_bytes(b"an analyst's filled workbook")
    code, err = run_cli(capsys, "template", "--district", "099", "--year", "2021", "--out", str(out),
                        "--raw", str(raw))
    assert code == 2 and f"error: {out}: already exists" in err
    assert out.read_bytes() == b"an analyst's filled workbook"
    code, err = run_cli(capsys, "template", "--district", "099", "--year", "2021", "--out", str(out),
                        "--raw", str(raw), "--force")
    assert code == 0, err and load_workbook(out).sheetnames == ["Hướng dẫn", "2021"]


@pytest.mark.parametrize("where", ["manifest", "new-file-in-raw", "folder", "name-too-long", "under-a-file"])
def test_template_output_problems_are_one_line(where, workspace, tmp_path, capsys):
    raw, _ = workspace
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    out = {"manifest": raw / "tuan-giao" / "manifest.json", "new-file-in-raw": raw / "tuan-giao" / "t.xlsx",
           "folder": tmp_path, "name-too-long": tmp_path / ("x" * 300 + ".xlsx"),
           "under-a-file": tmp_path / "a-file" / "t.xlsx"}[where]
    before = snapshot(raw)
    code, err = run_cli(capsys, "template", "--district", "Tuần Giáo", "--year", "2021", "--out", str(out),
                        "--raw", str(raw), "--force")
    assert code == 2 and err.startswith("error: ") and len(err.strip().splitlines()) <= 2
    assert snapshot(raw) == before


def test_template_text_cells_are_never_formulas(workspace, reference_dataset, tmp_path):
    raw, _ = workspace
    manifest_path = raw / "tuan-giao" / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["province"] = '=HYPERLINK("http://example.invalid","Điện Biên")'
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    path = make_template(raw, reference_dataset, 2021, tmp_path)
    guide = load_workbook(path)["Hướng dẫn"]
    assert guide["B5"].data_type == "s" and guide["B5"].value.startswith("=HYPERLINK")


def test_parse_into_a_file_is_one_line(reference_path, tmp_path, capsys):
    out = tmp_path / "a-file"
    out.write_text("x", encoding="utf-8")
    code, err = run_cli(capsys, "parse", str(reference_path), "--out", str(out))
    assert code == 2 and err.startswith(f"error: {out}")


# -- text that reaches charts and pages -----------------------------------------------------------------------------
def test_dollar_signs_in_chart_labels_are_text():
    """Two '$' make matplotlib parse mathtext: a malformed pair broke the chart, a well-formed one became math."""
    import pandas as pd

    from cchc_analysis.pack.charts import Series, series_figure

    frame = pd.DataFrame({"year": [2019, 2020], "period": ["2019", "2020"], "as_of": ["2019-12-31", "2020-12-31"],
                          "value": [1.0, 2.0]})
    svg = series_figure([Series("Từ $5 đến $10 triệu", frame, "count", "flow", "a"),
                         Series("$x^{2$ đơn vị", frame, "count", "flow", "b")], "vi").decode("utf-8")
    assert "Từ $5 đến $10 triệu" in svg and "$x^{2$ đơn vị" in svg  # text as text, not math


@pytest.mark.parametrize(("text", "shown"), [("(*) xem ghi chú", "(*) xem ghi chú"), ("5 * 3 = 15", "5 * 3 = 15"),
                                             ("* Tại các phòng", "* Tại các phòng"),
                                             ("ban hành (*trong đó 5 văn bản*), qua", "ban hành (trong đó 5 văn bản), qua"),
                                             ("- *Một là:* Cần", "- Một là: Cần")])
def test_a_star_in_the_prose_is_kept_unless_it_marks_emphasis(text, shown):
    from cchc_analysis.prose.outline import clean_inline

    assert clean_inline(text) == shown


def test_csv_downloads_are_neutralised_and_the_dataset_kept_exact(tmp_path):
    from cchc_analysis.dataset.csv_for_people import copy_csv_for_people

    source = tmp_path / "in.csv"
    source.write_text('note,value\n- Phòng Nội vụ,-3\n"=HYPERLINK(""x"")",+1.5\n@SUM(A1),1\n"\tx",2\nplain,3\n',
                      encoding="utf-8")
    copy_csv_for_people(source, tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_text(encoding="utf-8") == (
        "note,value\n'- Phòng Nội vụ,-3\n\"'=HYPERLINK(\"\"x\"\")\",+1.5\n'@SUM(A1),1\n'\tx,2\nplain,3\n")


def test_a_report_cell_with_thousands_of_digits_is_flagged_not_a_traceback(reference_text, tmp_path, capsys):
    report = tmp_path / "report.txt"
    report.write_text(reference_text.replace("<i>Tổng số được giao</i>\t2.232", "<i>Tổng số được giao</i>\t"
                                             + "9" * 5000, 1), encoding="utf-8")
    code, err = run_cli(capsys, "parse", str(report), "--out", str(tmp_path / "out"))
    assert code == 0, err
    cells = load_dataset(tmp_path / "out").indicators.query("source_line == 558 and period == '2015'")
    assert list(cells["value_status"]) == ["unparsed"]
