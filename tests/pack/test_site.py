"""One published site for a province (issue 14): a small SYNTHETIC corpus (3 districts, one reform area to keep the
time down) built once into one site, then copied for the incremental and failure cases.

Every district has its folder, pack and PDF; the province index and the comparison link to them; a headless
chromium walks every page and finds no dead link or asset; a change in one district re-executes its pages and the
pages reading every district only; a failing page names its district and page and publishes nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from test_screen import AXE, ENGLISH_STOP, IDENTIFIER, LAYOUT, WIDTHS, Browser, _chromium, visible

from cchc_analysis.errors import CchcError
from cchc_analysis.pack import build as B
from cchc_analysis.synthetic import MARK, synthetic_report, write_corpus
from cchc_analysis.text import slug

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
REFERENCE = ROOT / "data" / "raw" / "tuan-giao" / "bao-cao-tong-ket-cchc-2011-2020.txt"
DISTRICTS = ["Tổng Hợp 001", "Tổng Hợp 002", "Tổng Hợp 003"]
AREAS = ["tthc"]
DISTRICT_PAGES = ["index", "summary", "overview", "area-tthc", "method", "annex"]


def build_in(root: Path, **kwargs):
    options = dict(raw=root / "raw", processed=root / "processed", out=root / "reports", cache=root / "cache",
                   notebooks=NOTEBOOKS, quiet=True, jobs=2, areas=AREAS)
    return B.build(**dict(options, **kwargs))


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    """The province site of 3 SYNTHETIC districts, built cold (parse included)."""
    root = tmp_path_factory.mktemp("province")
    write_corpus(REFERENCE, root / "raw", len(DISTRICTS))
    report = build_in(root)
    return {"root": root, "report": report, "site": report.site}


def copy_of(province, tmp_path: Path) -> Path:
    """The built corpus, its cache and its site, copied: a test may change them."""
    root = tmp_path / "copy"
    shutil.copytree(province["root"], root, symlinks=True)
    return root


def tree_hashes(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_every_district_has_its_pack_and_pdf(province):
    site = province["site"]
    assert province["report"].status == "built"
    for name in DISTRICTS:
        folder = site / slug(name)
        for page in DISTRICT_PAGES:
            html = (folder / f"{page}.html").read_text(encoding="utf-8")
            assert 'href="../assets/pack.css"' in html and 'href="../index.html"' in html, (name, page)
            assert 'href="../compare.html"' in html, (name, page)
            assert "SYNTHETIC" in html, (name, page)  # a site of test data says so on every page
        pdf = folder / f"danh-gia-cchc-{slug(name)}.pdf"
        assert pdf.read_bytes().startswith(b"%PDF")
        assert name in (folder / "summary.html").read_text(encoding="utf-8")
    assert (site / "so-sanh-cac-huyen.pdf").read_bytes().startswith(b"%PDF")
    assert not (site / "summary.html").exists()  # no district's pages at the root of a province site
    assert {p.name for p in site.iterdir() if p.is_dir()} == {"assets", "data", *map(slug, DISTRICTS)}


def test_province_index_and_comparison_link_to_every_pack(province):
    site = province["site"]
    index = (site / "index.html").read_text(encoding="utf-8")
    compare = (site / "compare.html").read_text(encoding="utf-8")
    for name in DISTRICTS:
        s = slug(name)
        assert f'href="{s}/index.html">{name}</a>' in index
        assert f'href="{s}/danh-gia-cchc-{s}.pdf"' in index
        assert f'href="{s}/index.html"' in compare
    assert 'href="compare.html"' in index and 'href="so-sanh-cac-huyen.pdf"' in index
    assert 'id="downloads"' in index and 'href="data/evaluation.csv"' in index
    assert "SYNTHETIC" in index and "SYNTHETIC" in compare
    # the scorecard: one row per district, a count for each verdict of the scale (as on the summary page)
    rows = re.findall(r'<tr><td><a href="[^"]+/index.html">[^<]+</a></td>((?:<td class="num">\d+</td>)+)', index)
    assert len(rows) == len(DISTRICTS) and all(r.count("<td") == 5 for r in rows)


def test_vietnamese_site_speaks_vietnamese_only(province):
    problems = []
    for page in sorted(province["site"].rglob("*.html")):
        v = visible(page)
        text = " ".join(v.outside + v.inside).replace(MARK, " ")  # the SYNTHETIC reports' own title is data
        english = sorted({w.lower() for w in re.findall(r"[A-Za-z]+", text)} & ENGLISH_STOP)
        if english:
            problems.append(f"{page.name}: English words {english[:12]}")
        problems += [f"{page.name}: identifiers {sorted(set(p.findall(text)))[:8]}" for p in IDENTIFIER
                     if p.findall(text)]
    assert not problems, "\n".join(problems)


LINKS = """Array.from(document.querySelectorAll('a[href], link[href], img[src]')).map(e => e.href || e.src)"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    binary = _chromium()
    if binary is None:
        pytest.skip("chromium is not installed here (.ci/run installs it in CI)")
    pytest.importorskip("websocket")
    b = Browser(binary, tmp_path_factory.mktemp("site-profile"))
    yield b
    b.close()


def test_browser_walks_every_link_without_a_dead_one(province, browser):
    site = province["site"].resolve()
    pages = sorted(site.rglob("*.html"))
    dead, seen = [], 0
    for page in pages:
        browser.open(page.as_uri(), 1280)
        assert browser.evaluate("document.styleSheets.length") >= 1, page
        for url in browser.evaluate(LINKS):
            if url.startswith("data:"):
                continue
            seen += 1
            parsed = urlparse(url)
            target = Path(unquote(parsed.path))
            if parsed.scheme != "file" or not target.is_file() or site not in target.parents:
                dead.append(f"{page.relative_to(site)} -> {url}")
            elif parsed.fragment and target.suffix == ".html" and \
                    f'id="{parsed.fragment}"' not in target.read_text(encoding="utf-8"):
                dead.append(f"{page.relative_to(site)} -> {url} (no such anchor)")
    assert len(pages) == 2 + len(DISTRICTS) * len(DISTRICT_PAGES)
    assert seen > len(pages) * 5
    assert not dead, "\n".join(dead[:20])


def test_nothing_changed_is_up_to_date(province):
    report = build_in(province["root"])
    assert report.status == "up-to-date" and report.kernels_started == 0


def change_district(raw: Path, i: int) -> str:
    folder = raw / f"synthetic-{i:03d}"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    data = synthetic_report(REFERENCE.read_text(encoding="utf-8"), manifest["district"], 9000 + i).encode("utf-8")
    (folder / manifest["files"][0]["file"]).write_bytes(data)
    manifest["files"][0]["sha256"] = hashlib.sha256(data).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return manifest["district"]


def test_one_district_changed_reexecutes_its_pages_and_the_province_pages_only(province, tmp_path):
    root = copy_of(province, tmp_path)
    site = root / "reports" / "site"
    before = tree_hashes(site)
    changed = change_district(root / "raw", 2)
    report = build_in(root)
    executed = sorted(r.name for r in report.results if not r.cached)
    s = slug(changed)
    assert executed == sorted(["compare"] + [f"{s}/{p}" for p in DISTRICT_PAGES if p != "index"])
    assert sorted(r.name.split(":")[0] for r in report.finished) == sorted([changed, "compare"])
    after = tree_hashes(site)
    differ = {name for name in before if before[name] != after.get(name)}
    others = [slug(d) for d in DISTRICTS if d != changed]
    assert not [n for n in differ if n.split("/")[0] in others], "an unchanged district's pack changed"
    assert f"{s}/summary.html" in differ and "index.html" in differ
    assert build_in(root).status == "up-to-date"


def test_failing_page_names_district_and_page_and_publishes_nothing(province, tmp_path):
    import nbformat

    root = copy_of(province, tmp_path)
    notebooks = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, notebooks)
    nb = nbformat.read(notebooks / "area.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell('if district == "Tổng Hợp 002":\n    raise RuntimeError("boom")'))
    nbformat.write(nb, notebooks / "area.ipynb")
    site = root / "reports" / "site"
    before = tree_hashes(site)
    with pytest.raises(CchcError, match=r"Tổng Hợp 002: area-tthc \(cell \d+: RuntimeError: boom\).*Nothing was "
                                        r"published") as exc:
        build_in(root, notebooks=notebooks)
    assert "Tổng Hợp 001: area" not in str(exc.value)
    assert tree_hashes(site) == before
    assert not [p for p in (root / "reports").iterdir() if p.name.startswith(".cchc-build-")]


def test_one_district_alone_reuses_the_province_runs(province, tmp_path):
    root = province["root"]
    report = build_in(root, out=tmp_path / "alone", district="Tổng Hợp 003")
    assert all(r.cached for r in report.results)  # the same runs as in the province site
    site = report.site
    assert {p.name for p in site.glob("*.html")} == {f"{p}.html" for p in DISTRICT_PAGES}
    assert not (site / "compare.html").exists() and not [p for p in site.iterdir() if p.is_dir()
                                                        and p.name not in ("assets", "data")]
    assert report.pdf.name == "danh-gia-cchc-tong-hop-003.pdf" and report.pdf.exists()
    index = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="data/indicators.csv"' in index and "../" not in index


def test_province_pages_read_on_a_phone_and_pass_axe(province, browser):
    """The pages new in a province site (its index, a district's index with its way up): the layout checks and
    axe-core's WCAG 2.1 AA rules of test_screen.py."""
    if not AXE.exists():
        pytest.skip("axe-core is not installed (cd tests/js && npm ci)")
    source = AXE.read_text(encoding="utf-8")
    site = province["site"]
    problems = []
    for page in (site / "index.html", site / slug(DISTRICTS[0]) / "index.html"):
        for width in WIDTHS:
            browser.open(page.resolve().as_uri(), width)
            m = browser.evaluate(LAYOUT)
            if m["page"] > m["window"] + 1 or m["narrow"]:
                problems.append(f"{page.name} at {width}px: {m}")
            browser.evaluate(source)
            problems += browser.evaluate(
                "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
                ".then(r => r.violations.map(v => v.id + ': ' + v.help))", awaited=True)
    assert not problems, "\n".join(problems)
