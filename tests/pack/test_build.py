"""Integration tests of ``cchc build`` (issue 4): one pack is built once per session and shared by the tests.

The dataset is the real one, parsed from data/raw/ into a temporary folder by the project's parser; if the parser is
not importable the small fixture under tests/fixtures/pack/ is used instead.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import shutil
import subprocess
import sys
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from cchc_analysis.errors import CchcError
from cchc_analysis.pack import build as B
from cchc_analysis.pack import charts as plotting
from cchc_analysis.pack import views as P
from cchc_analysis.pack.execute import build_environment, ensure_kernelspec
from cchc_analysis.pack.plan import BuildPaths, pdf_name, plan_jobs, read_areas

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "pack" / "processed"
AREAS = read_areas()
DISTRICT_PAGES = ["summary", "overview"] + [f"area-{a}" for a in AREAS] + ["method", "annex"]  # site.yaml's order


def tree_hashes(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def page(pack, name: str) -> str:
    return (pack["site"] / name).read_text(encoding="utf-8")


class Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts += 1
        for k, v in attrs:
            if k in ("src", "href") and v is not None:
                self.refs.append((tag, k, v))


def refs_of(html_text: str) -> Refs:
    r = Refs()
    r.feed(html_text)
    return r


def test_every_notebook_executed_for_every_area(pack):
    report = pack["report"]
    assert report.status == "built"
    assert [r.name for r in report.results] == DISTRICT_PAGES
    assert all(r.ok and not r.cached for r in report.results)
    for a in AREAS:
        assert (pack["site"] / f"area-{a}.html").exists()
    assert {p.name for p in pack["site"].glob("*.html")} == \
        {"index.html"} | {f"{name}.html" for name in DISTRICT_PAGES}


@pytest.mark.parametrize("area", AREAS)
def test_area_page_content(pack, area):
    html_text = page(pack, f"area-{area}.html")
    assert unicodedata.is_normalized("NFC", html_text)
    title = html.escape(P.area_label(area, "vi"))
    assert f"<h1>{title}</h1>" in html_text
    assert f"<title>{title} |" in html_text
    # numbers from the data: every headline figure, and one raw observation of the area
    ds = pack["ds"]
    for fig in P.headline_figures(ds, area, "vi"):
        assert html.escape(fig["value"]) in html_text, fig
    obs = ds.indicators[(ds.indicators["area"] == area) & ds.indicators["value"].notna()].iloc[-1]
    assert html.escape(P.fmt_value(obs["value"], obs["unit"], "vi", obs.get("denominator"))) in html_text
    # sections every area page has
    for key in ("indicators_by_year", "change_trend", "derived", "report_text", "quality", "targets"):
        assert html.escape(P.t(key, "vi")) in html_text, key
    area_obs = ds.indicators[ds.indicators["area"] == area]
    if (area_obs["as_of"] == "2020-03-31").any():
        assert "đến 31/3/2020" in html_text  # as-of dates are said where shown
    if plotting.area_charts(ds, area, "vi"):
        assert 'src="data:image/svg+xml;base64,' in html_text  # charts embedded as SVG
    # no code, no errors
    assert "output_error" not in html_text and "Traceback" not in html_text
    assert "import " not in html_text and "load_dataset" not in html_text


def test_no_external_urls_scripts_or_absolute_paths(pack):
    for p in pack["site"].glob("*.html"):
        refs = refs_of(p.read_text(encoding="utf-8"))
        assert refs.scripts == 0, p.name  # no require.js, MathJax, mermaid, nothing
        for tag, _attr, value in refs.refs:
            if tag in ("script", "link", "img", "iframe", "source"):
                assert not re.match(r"^(https?:)?//", value), (p.name, tag, value)
            assert not value.startswith(("/", "file:")), (p.name, tag, value)


def test_every_link_resolves(pack):
    site = pack["site"]
    for p in site.glob("*.html"):
        for _tag, _attr, value in refs_of(p.read_text(encoding="utf-8")).refs:
            if value.startswith(("data:", "#", "http://", "https://")):
                continue
            target = (site / value.split("#")[0]).resolve()
            assert target.exists(), (p.name, value)
            assert site.resolve() in target.parents, (p.name, value)


def test_index_page(pack):
    html_text = page(pack, "index.html")
    for a in AREAS:
        assert f'href="area-{a}.html"' in html_text
        assert html.escape(P.area_label(a, "vi")) in html_text
    assert 'href="overview.html"' in html_text
    assert f'href="{pack["pdf"].name}"' in html_text
    for name in ("indicators.csv", "indicators.parquet", "cchc-tables.xlsx", "datapackage.json"):
        assert f'href="data/{name}"' in html_text
        assert (pack["site"] / "data" / name).exists()
    assert html_text.count('class="card"') == len(AREAS)


def test_overview_page(pack):
    html_text = page(pack, "overview.html")
    assert f"<h1>{P.t('overview', 'vi')}</h1>" in html_text
    for key in ("headline", "self_assessment", "quality_summary", "how_to_read"):
        assert html.escape(P.t(key, "vi")) in html_text
    # the Phụ lục 8 targets with the district's self-assessment and the evaluation's verdict
    assert "Phụ lục 8, mục tiêu 1" in html_text and "Phụ lục 8, mục tiêu 16" in html_text
    assert 'class="verdict chua_dat"' in html_text


def test_fonts_and_css_are_local(pack):
    css = (pack["site"] / "assets" / "pack.css").read_text()
    assert "DejaVu Sans Mono" not in css.replace("never DejaVu Sans Mono", "").replace("Never DejaVu Sans Mono", "")
    assert (pack["site"] / "assets" / "DejaVuSans.ttf").stat().st_size > 100_000
    assert "http" not in re.sub(r"/\*.*?\*/", "", css, flags=re.S)


def test_pdf_has_every_area_title_with_diacritics(pack):
    from pypdf import PdfReader

    reader = PdfReader(str(pack["pdf"]))
    assert len(reader.pages) > len(AREAS)
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    text = " ".join(unicodedata.normalize("NFC", pg.extract_text() or "") for pg in reader.pages)
    text = " ".join(text.split())
    for a in AREAS:
        assert P.area_label(a, "vi") in text, a
    assert "Tuần Giáo" in text
    assert (pack["site"] / pack["pdf"].name).read_bytes() == pack["pdf"].read_bytes()


def test_datapackage_is_valid(pack):
    """The site's data folder is self-contained: its data package validates where it stands."""
    frictionless = pytest.importorskip("frictionless")
    data = pack["site"] / "data"
    desc = json.loads((data / "datapackage.json").read_text(encoding="utf-8"))
    names = {r["path"] for r in desc["resources"]}
    assert {"indicators.csv", "indicators_codebook.csv", "quality.csv", "targets.csv"} <= names
    assert all((data / name).exists() for name in names)
    assert (data / "indicators.parquet").exists() and (data / "cchc-tables.xlsx").exists()
    report = frictionless.validate(str(data / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5]


def test_excel_workbook(pack):
    import openpyxl

    wb = openpyxl.load_workbook(pack["site"] / "data" / "cchc-tables.xlsx", read_only=True)
    assert "indicators" in wb.sheetnames and "quality" in wb.sheetnames


def test_warm_rebuild_starts_no_kernel(pack):
    root = pack["root"]
    report = B.build(processed=pack["processed"], out=root / "reports", cache=root / "cache", notebooks=NOTEBOOKS,
                     parse=False, quiet=True)
    assert report.status == "up-to-date" and report.kernels_started == 0


HEAVY = ("pandas", "numpy", "papermill", "nbformat", "nbconvert", "weasyprint", "matplotlib", "jinja2",
         "importlib.metadata")


def test_warm_rebuild_cli_imports_nothing_heavy(pack):
    """Finding that nothing changed needs hashes, csv and yaml only (its time is in benchmarks/bench_build.py)."""
    root = pack["root"]
    code = ("import sys; from cchc_analysis.cli import main; rc = main(sys.argv[1:]); "
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules)); sys.exit(rc)")
    cmd = [sys.executable, "-c", code, "build", "--no-parse", "--processed", str(pack["processed"]),
           "--out", str(root / "reports"), "--cache-dir", str(root / "cache"), "--notebooks", str(NOTEBOOKS)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "up to date" in proc.stderr
    assert proc.stdout.strip() == "[]", proc.stdout


def test_stale_staging_of_a_killed_build_is_removed_and_forces_no_render(pack, tmp_path):
    """A build killed with SIGKILL leaves reports/.cchc-build-*: the next build removes it and is still warm."""
    root = pack["root"]
    out, cache, processed = tmp_path / "reports", tmp_path / "cache", tmp_path / "processed"
    shutil.copytree(root / "reports", out)
    shutil.copytree(root / "cache", cache)
    shutil.copytree(pack["processed"], processed)
    (out / ".cchc-build-killed" / "site").mkdir(parents=True)
    (processed / ".cchc-killed").mkdir()
    (processed / ".cchc-killed" / "indicators.csv").write_text("half written", encoding="utf-8")
    cmd = [str(Path(sys.executable).parent / "cchc"), "build", "--no-parse", "--processed", str(processed),
           "--out", str(out), "--cache-dir", str(cache), "--notebooks", str(NOTEBOOKS)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "up to date" in proc.stderr
    assert not (out / ".cchc-build-killed").exists() and not (processed / ".cchc-killed").exists()


def test_csv_downloads_are_neutralised_the_dataset_is_exact(pack):
    """Cells a spreadsheet would run as formulas get a leading ' in the site's CSVs; data/processed, the Parquet
    file and the data package are the exact dataset."""
    site_data, processed = pack["site"] / "data", pack["processed"]
    assert "- Phòng Nội vụ: thống kê tiêu chí" in (processed / "tables.csv").read_text(encoding="utf-8")
    assert "'- Phòng Nội vụ: thống kê tiêu chí" in (site_data / "tables.csv").read_text(encoding="utf-8")
    for name in ("indicators.parquet", "datapackage.json", "indicators.csv", "quality.csv"):
        assert (site_data / name).read_bytes() == (processed / name).read_bytes(), name


def test_only_changed_notebooks_rerun(pack, tmp_path):
    """Changing one parameter's notebook source re-executes, others come from the cache."""
    root = pack["root"]
    cache = tmp_path / "cache"
    shutil.copytree(root / "cache", cache)
    report = B.build(processed=pack["processed"], out=tmp_path / "reports", cache=cache, notebooks=NOTEBOOKS,
                     parse=False, quiet=True, areas=["tthc"])
    # the overview links the area pages the pack has, so a subset of areas runs it again; the rest is cached
    assert {r.name: r.cached for r in report.results} == {"summary": True, "overview": False, "area-tthc": True,
                                                          "method": True, "annex": True}
    assert report.kernels_started == 1


def test_two_builds_are_byte_identical(pack, tmp_path):
    again = B.build(processed=pack["processed"], out=tmp_path / "reports", cache=tmp_path / "cache",
                    notebooks=NOTEBOOKS, parse=False, quiet=True, force=True)
    assert again.kernels_started == len(DISTRICT_PAGES)
    first = tree_hashes(pack["root"] / "reports")
    second = tree_hashes(tmp_path / "reports")
    assert first.keys() == second.keys()
    differ = [k for k in first if first[k] != second[k]]
    assert not differ


def broken_notebooks(tmp_path: Path, name: str, code: str) -> Path:
    """A copy of the notebooks where ``name`` ends with a failing cell."""
    nbdir = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, nbdir)
    nb = nbformat.read(nbdir / name, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(code))
    nbformat.write(nb, nbdir / name)
    return nbdir


def test_failing_notebook_fails_the_build_and_is_not_published(pack, tmp_path):
    nbdir = broken_notebooks(tmp_path, "area.ipynb", 'if area == "tthc":\n    raise ValueError("broken on purpose")')
    out = tmp_path / "reports"
    shutil.copytree(pack["root"] / "reports", out)
    before = tree_hashes(out)
    with pytest.raises(B.BuildFailed) as err:
        B.build(processed=pack["processed"], out=out, cache=tmp_path / "cache", notebooks=nbdir, parse=False,
                quiet=True, areas=["the_che", "tthc"])
    msg = str(err.value)
    assert "area-tthc" in msg and "broken on purpose" in msg and "area-the_che" not in msg
    assert {r.name: r.ok for r in err.value.report.results} == {"summary": True, "overview": True,
                                                                "area-the_che": True, "area-tthc": False,
                                                                "method": True, "annex": True}
    assert tree_hashes(out) == before  # nothing published, the previous pack untouched
    assert not any(p.name.startswith(".cchc-build-") for p in out.iterdir())


def test_cli_failing_notebook_exit_code_names_it(pack, tmp_path):
    nbdir = broken_notebooks(tmp_path, "overview.ipynb", "1 / 0")
    cmd = [str(Path(sys.executable).parent / "cchc"), "build", "--no-parse", "--processed", str(pack["processed"]),
           "--out", str(tmp_path / "reports"), "--cache-dir", str(tmp_path / "cache"), "--notebooks", str(nbdir),
           "--area", "tthc", "--jobs", "1"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode != 0
    assert "overview" in proc.stderr and "ZeroDivisionError" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "reports" / "site").exists()


@pytest.mark.parametrize("extra,message", [
    (["--area", "nope"], "unknown area 'nope'"),
    (["--lang", "fr"], "invalid choice: 'fr'"),
    (["--district", "Nowhere"], "unknown district 'Nowhere'"),
])
def test_bad_parameters_leave_outputs_untouched(pack, tmp_path, extra, message):
    out = tmp_path / "reports"
    shutil.copytree(pack["root"] / "reports", out)
    before = tree_hashes(out)
    cmd = [str(Path(sys.executable).parent / "cchc"), "build", "--no-parse", "--processed", str(pack["processed"]),
           "--out", str(out), "--cache-dir", str(tmp_path / "cache"), "--notebooks", str(NOTEBOOKS)] + extra
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode != 0
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert tree_hashes(out) == before


def test_bad_area_in_api_raises_before_work(tmp_path):
    with pytest.raises(CchcError, match="unknown area"):
        B.build(processed=FIXTURE, out=tmp_path / "r", cache=tmp_path / "c", notebooks=NOTEBOOKS, parse=False,
                areas=["tthc", "bogus"], quiet=True)
    assert not (tmp_path / "r").exists() and not (tmp_path / "c").exists()


def test_plan_follows_the_site_description(tmp_path):
    """Pages, their order, notebooks and parameters come from site.yaml: a district's pages, then the comparison."""
    paths = BuildPaths(tmp_path, tmp_path / "processed", tmp_path / "out", NOTEBOOKS, tmp_path / "cache", "en")
    jobs = plan_jobs(paths, "Tuần Giáo", ["tthc", "cbccvc"], "en", compare=True)
    assert [j.name for j in jobs] == ["summary", "overview", "area-tthc", "area-cbccvc", "method", "annex", "compare"]
    assert [Path(j.notebook).name for j in jobs] == ["summary.ipynb", "overview.ipynb", "area.ipynb", "area.ipynb",
                                                     "method.ipynb", "annex.ipynb", "compare.ipynb"]
    assert jobs[2].parameters == {"district": "Tuần Giáo", "area": "tthc", "lang": "en",
                                  "data_dir": str((tmp_path / "processed").resolve())}
    assert jobs[6].parameters["districts"] is None and jobs[6].parameters["areas"] == ["tthc", "cbccvc"]
    assert [j.name for j in plan_jobs(paths, None, ["tthc"], "en", compare=True)] == ["compare"]
    assert paths.site_name == "site-en" and pdf_name("Tuần Giáo", "vi") == "danh-gia-cchc-tuan-giao.pdf"
    assert pdf_name(None, "en") == "district-comparison-en.pdf"


def test_english_pack(pack, tmp_path):
    report = B.build(processed=pack["processed"], out=tmp_path / "reports", cache=tmp_path / "cache",
                     notebooks=NOTEBOOKS, parse=False, quiet=True, lang="en", areas=["cbccvc"])
    assert report.site.name == "site-en"
    html_text = (report.site / "area-cbccvc.html").read_text(encoding="utf-8")
    assert "<h1>Building the cadre, civil servant and public employee workforce</h1>" in html_text
    assert 'lang="en"' in html_text
    ind = pack["ds"].indicators
    label = ind[(ind["area"] == "cbccvc") & ind["value"].notna()].iloc[0]["indicator_en"]
    assert label and html.escape(label) in html_text  # labels from the codebook's English column
    assert "as of 31/3/2020" in html_text
    assert report.pdf.name.endswith("-en.pdf") and report.pdf.exists()


def test_kernelspec_resolves_to_this_python(tmp_path, monkeypatch):
    env = build_environment(tmp_path / "cache")
    ensure_kernelspec(env)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec("python3")
    assert spec.argv[0] == sys.executable
    assert Path(spec.resource_dir).is_relative_to(tmp_path)


def test_notebooks_committed_without_outputs():
    for name in ("area.ipynb", "overview.ipynb", "annex.ipynb"):
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(params) == 1
        for c in nb.cells:
            if c.cell_type == "code":
                assert c.outputs == [] and c.execution_count is None, name


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_site_in_headless_chromium(pack, tmp_path):
    """Every page of the site, opened from the file system in headless Chromium: no console message (the pack has
    no scripts, so any is an error), and a screenshot. Links are checked by test_every_link_resolves."""
    import os
    import subprocess

    browser = _chromium()
    if browser is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must install Debian's chromium (.ci/run) for this check")
        pytest.skip("chromium is not installed here (.ci/run installs it in CI)")
    pages = sorted(pack["site"].glob("*.html"))
    assert len(pages) >= 9
    for html_page in pages:
        shot = tmp_path / f"{html_page.stem}.png"
        proc = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
             f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
             "--window-size=1280,2000", f"--screenshot={shot}", html_page.resolve().as_uri()],
            capture_output=True, text=True, timeout=120)
        console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
        assert not console, f"{html_page.name}: {console[:3]}"
        assert shot.exists() and shot.stat().st_size > 10_000, f"{html_page.name}: no screenshot"
    if os.environ.get("CCHC_KEEP_SCREENSHOTS"):
        target = Path(os.environ["CCHC_KEEP_SCREENSHOTS"])
        target.mkdir(parents=True, exist_ok=True)
        for shot in tmp_path.glob("*.png"):
            shutil.copy(shot, target / shot.name)


def test_published_site_has_no_synthetic_data(pack):
    """The pack built from data/raw/ holds one real district: no comparison page, nothing SYNTHETIC."""
    from cchc_analysis.synthetic import MARK

    for path in pack["site"].rglob("*"):
        if path.suffix in (".html", ".csv", ".json"):
            text = path.read_text(encoding="utf-8")
            assert MARK not in text and "(SYNTHETIC)" not in text and "Tổng Hợp" not in text, path.name
    assert not (pack["site"] / "compare.html").exists()
    with open(pack["site"] / "data" / "districts.csv", encoding="utf-8") as f:
        rows = list(__import__("csv").DictReader(f))
    assert [r["synthetic"] for r in rows] == ["False"]


@pytest.mark.parametrize("damage", [b"", b"{not json", b"[1, 2]", b"\xff\xfe"])
def test_a_damaged_parse_stamp_means_parsing_again_not_a_crash(tmp_path, damage):
    import shutil

    from cchc_analysis.pack.build import ensure_parsed
    from cchc_analysis.pack.plan import BuildPaths

    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "data" / "raw" / "tuan-giao", raw / "tuan-giao")
    paths = BuildPaths(raw=raw, processed=tmp_path / "processed", out=tmp_path / "out", notebooks=ROOT / "notebooks",
                       cache=tmp_path / "cache", lang="vi")
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "parse.json").write_bytes(damage)
    assert ensure_parsed(paths, log=lambda message: None) is True  # parsed again
    assert (tmp_path / "processed" / "indicators.csv").exists()
    assert ensure_parsed(paths, log=lambda message: None) is False  # the stamp written whole: up to date now
    assert not list((tmp_path / "cache").glob("*.tmp"))


def test_a_pdf_layout_warning_is_reported_by_the_build_that_publishes_it(pack, tmp_path):
    """What laying out a PDF warned of (over its page budget) is kept beside the cached PDF, so that every build
    publishing that PDF says it again, not only the one that laid it out."""
    cache = tmp_path / "cache"
    shutil.copytree(pack["root"] / "cache", cache)
    folders = [d for d in (cache / "cache").glob("*/packs/*") if (d / "done").exists()]
    assert folders
    for d in folders:
        (d / "warnings.txt").write_text("x.pdf: 26 pages, over the budget of 25 (site.yaml pdf_max_pages)\n",
                                        encoding="utf-8")
    report = B.build(processed=pack["processed"], out=tmp_path / "reports", cache=cache, notebooks=NOTEBOOKS,
                     parse=False, quiet=True)
    assert report.kernels_started == 0
    assert report.warnings == ["x.pdf: 26 pages, over the budget of 25 (site.yaml pdf_max_pages)"] * len(folders)


def test_a_stated_figure_is_shown_with_what_it_counts(pack):
    """"không tiếp nhận phản ánh, kiến nghị nào" is 0 items of feedback, not "0 tin, bài" (news items)."""
    from cchc_analysis.pack import views

    rows = {r["quote"]: r["value"] for r in views.facts_rows(pack["ds"], "tthc", "vi")}
    feedback = next(v for q, v in rows.items() if "phản ánh, kiến nghị" in q)
    assert feedback == "0 phản ánh, kiến nghị"
    english = {r["quote"]: r["value"] for r in views.facts_rows(pack["ds"], "tthc", "en")}
    assert next(v for q, v in english.items() if "phản ánh, kiến nghị" in q) == "0 items of feedback"
