"""The pack as its readers see it (issue 12): one language per pack, readable on a 390 px phone and a 1280 px
screen, and no WCAG 2.1 AA violation that axe-core finds.

Both packs (vi and en) are built once per session from data/raw/. Every page the build produces is tested, whatever
site.yaml lists. The browser is Debian's chromium, driven through the Chrome DevTools Protocol (websocket-client);
axe-core comes from npm into tests/js/ (.ci/run and the Makefile install it); nothing is downloaded at run time.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from cchc_analysis.pack import build as B

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
AXE = ROOT / "tests" / "js" / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (390, 1280)

# English words that never belong on a Vietnamese page (function words and the words of the old English wording)
# ("in", "to", "no", "an" are Vietnamese words too: not listed)
ENGLISH_STOP = set("""the and of is for with from not by are as at be this that which was were has have
total parts part line lines percent persons rank count check checks prose table warning error note yes none
between more than less does equal equals value values share shares workbook sheet data summary items""".split())
IDENTIFIER = [re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b"), re.compile(r"\b\d{4}-\d{2}-\d{2}\b"), re.compile(r"<NA>"),
              re.compile(r"\bnan\b|\bNone\b")]
# what a reader must never meet either: a date taken apart ("30 - 3 - 2020"), a citation said twice in one breath
GARBLED = [re.compile(r"\b\d{1,2} - \d{1,2} - \d{4}\b"), re.compile(r"(Phụ lục \d+), \1\b(?!,)"),
           re.compile(r"(Appendix \d+), \1\b(?!,)")]
VI_LETTER = re.compile(r"[^\W\d_a-zA-Z]")


@pytest.fixture(scope="module")
def packs(tmp_path_factory):
    from cchc_analysis.workflow import parse_and_write

    root = tmp_path_factory.mktemp("screen")
    parse_and_write([ROOT / "data" / "raw"], root / "processed")
    out = {}
    for lang in ("vi", "en"):
        report = B.build(processed=root / "processed", out=root / "reports", cache=root / "cache", notebooks=NOTEBOOKS,
                         parse=False, quiet=True, jobs=2, lang=lang)
        out[lang] = report.site
    out["processed"] = root / "processed"
    return out


def pages_of(site: Path) -> list[Path]:
    return sorted(site.glob("*.html"))


class VisibleText(HTMLParser):
    """The text a reader sees, split into text outside and inside lang="vi" elements (style and title left out)."""

    VOID = {"meta", "link", "img", "br", "hr", "col", "input", "source"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []
        self.outside: list[str] = []
        self.inside: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        a = dict(attrs)
        vi = (a.get("lang") == "vi") or (bool(self.stack) and self.stack[-1][1] and a.get("lang") in (None, "vi"))
        if a.get("lang") == "en":
            vi = False
        self.stack.append((tag, vi))
        if tag in ("style", "script", "title", "head"):
            self.hidden += 1

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        while self.stack:
            t, _ = self.stack.pop()
            if t in ("style", "script", "title", "head"):
                self.hidden -= 1
            if t == tag:
                break

    def handle_data(self, data):
        if self.hidden or not data.strip():
            return
        vi = self.stack[-1][1] if self.stack else False
        (self.inside if vi else self.outside).append(data)


def visible(path: Path) -> VisibleText:
    v = VisibleText()
    v.feed(path.read_text(encoding="utf-8"))
    return v


def proper_names(processed: Path) -> list[str]:
    import csv

    with open(processed / "districts.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return sorted({r[k] for r in rows for k in ("district", "province")}, key=len, reverse=True)


def test_vietnamese_pages_have_no_english_and_no_identifiers(packs):
    problems = []
    for p in pages_of(packs["vi"]):
        v = visible(p)
        text = " ".join(v.outside + v.inside)  # file names included: the downloads are named by what they hold
        words = {w.lower() for w in re.findall(r"[A-Za-z]+", text)}
        english = sorted(words & ENGLISH_STOP)
        if english:
            problems.append(f"{p.name}: English words {english[:12]}")
        for pattern in IDENTIFIER:
            found = sorted(set(pattern.findall(text)))
            if found:
                problems.append(f"{p.name}: identifiers {found[:8]}")
    assert not problems, "\n".join(problems)


def test_no_page_takes_a_date_apart_or_cites_one_place_twice(packs):
    problems = []
    for lang in ("vi", "en"):
        for p in pages_of(packs[lang]):
            text = " ".join(" ".join(visible(p).outside + visible(p).inside).split())
            for pattern in GARBLED:
                for m in pattern.finditer(text):
                    problems.append(f"{lang} {p.name}: …{text[max(0, m.start() - 40):m.end() + 20]}…")
    assert not problems, "\n".join(problems[:20])


def test_the_garbled_patterns_find_what_they_are_for():
    assert GARBLED[0].search("2011 - 30 - 3 - 2020") and not GARBLED[0].search("2011 - 30/3/2020")
    assert GARBLED[1].search("(Phụ lục 6, Phụ lục 6)") and not GARBLED[1].search("(Phụ lục 6, chỉ tiêu 2; Phụ lục 6")
    assert not GARBLED[0].search("2015 - 2020") and not GARBLED[1].search("Phụ lục 6, Phụ lục 7")


def test_english_pages_have_vietnamese_only_inside_lang_vi(packs):
    names = proper_names(packs["processed"])
    problems = []
    for p in pages_of(packs["en"]):
        v = visible(p)
        text = " ".join(v.outside)
        for name in names:  # the district's and province's own names are names, not Vietnamese text
            text = text.replace(name, "")
        letters = VI_LETTER.findall(text)
        if letters:
            i = VI_LETTER.search(text).start()
            problems.append(f"{p.name}: {len(letters)} Vietnamese letters outside lang=vi, "
                            f"e.g. …{text[max(0, i - 60):i + 40]}…")
    assert not problems, "\n".join(problems)


def test_every_section_of_the_prose_is_on_a_page(packs):
    sections = json.loads((packs["processed"] / "sections.json").read_text(encoding="utf-8"))
    html_all = " ".join(p.read_text(encoding="utf-8") for p in pages_of(packs["vi"]))
    import html as H

    missing = [s["heading"] for s in sections if H.escape(s["heading"].strip()) not in html_all]
    assert not missing, missing
    area = (packs["vi"] / "area-tthc.html").read_text(encoding="utf-8")
    assert '<div class="narrative-text screen-only">' in area and "<details" in area


def test_every_error_is_in_the_annex(packs):
    import csv

    with open(packs["processed"] / "quality.csv", encoding="utf-8") as f:
        errors = [r for r in csv.DictReader(f) if r["severity"] == "error"]
    annex = (packs["vi"] / "annex.html").read_text(encoding="utf-8")
    assert "1.899" in annex and "1.982" in annex  # the prose error 89 + 1.899 ≠ 1.982
    # findings that differ only by year are merged: the annex lists fewer items than there are errors and warnings
    assert 0 < annex.count('class="finding error"') <= len(errors)
    assert "các năm 2015, 2016, 2017, 2018, 2019" in annex
    for a in ("tthc", "cbccvc"):
        page = (packs["vi"] / f"area-{a}.html").read_text(encoding="utf-8")
        assert f'href="annex.html#annex-{a}"' in page
        assert "quality" not in re.findall(r'<table class="([^"]*)"', page)


# --------------------------------------------------------------------------------------------------- the browser

def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Browser:
    """Headless chromium driven through the DevTools protocol: open a page at a width, screenshot, evaluate."""

    def __init__(self, binary: str, profile: Path):
        import websocket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.proc = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
             "--allow-file-access-from-files", f"--remote-debugging-port={port}", f"--user-data-dir={profile}",
             "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import urllib.request

        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as r:
                    targets = [t for t in json.load(r) if t.get("type") == "page"]
                if targets:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.close()
                raise RuntimeError("chromium did not start its DevTools endpoint")
            time.sleep(0.2)
        self.ws = websocket.create_connection(targets[0]["webSocketDebuggerUrl"], timeout=120, suppress_origin=True)
        self.n = 0
        self.call("Page.enable")
        self.call("Runtime.enable")

    def call(self, method: str, **params):
        self.n += 1
        self.ws.send(json.dumps({"id": self.n, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.n:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def open(self, url: str, width: int) -> None:
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=900, deviceScaleFactor=1,
                  mobile=width < 500)
        self.call("Page.navigate", url=url)
        for _ in range(200):
            state = self.evaluate("document.readyState")
            if state == "complete":
                return
            time.sleep(0.05)

    def evaluate(self, expression: str, awaited: bool = False):
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=awaited)
        if "exceptionDetails" in r:
            raise RuntimeError(str(r["exceptionDetails"])[:500])
        return r["result"].get("value")

    def screenshot(self, path: Path) -> None:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self.ws.close()
        except Exception:  # noqa: BLE001 - closing anyway
            pass
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    binary = _chromium()
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must install Debian's chromium (.ci/run) for this check")
        pytest.skip("chromium is not installed here (.ci/run installs it in CI)")
    pytest.importorskip("websocket")
    b = Browser(binary, tmp_path_factory.mktemp("profile"))
    yield b
    b.close()


# what a page must not do on a narrow screen: run wider than the window, or squeeze a table cell to a few letters
LAYOUT = """(() => {
  const doc = document.documentElement;
  const narrow = [];
  for (const td of document.querySelectorAll('table.data td, table.data th')) {
    const w = td.getBoundingClientRect().width;
    if (td.textContent.trim().length > 3 && w < 40)
      narrow.push(td.textContent.trim().slice(0, 30) + ' ' + Math.round(w));
  }
  return {page: doc.scrollWidth, window: window.innerWidth, narrow: narrow.slice(0, 5)};
})()"""


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_pages_at_phone_and_screen_width(packs, browser, lang, tmp_path):
    """Every page at 390 and 1280 px: no sideways scrolling of the page (tables scroll in their own box), no table
    cell squeezed under 40 px; a screenshot of each (kept with CCHC_KEEP_SCREENSHOTS=<folder>)."""
    problems = []
    for page in pages_of(packs[lang]):
        for width in WIDTHS:
            browser.open(page.resolve().as_uri(), width)
            m = browser.evaluate(LAYOUT)
            if m["page"] > m["window"] + 1:
                problems.append(f"{page.name} at {width}px: page {m['page']}px wide")
            if m["narrow"]:
                problems.append(f"{page.name} at {width}px: squeezed cells {m['narrow']}")
            shot = tmp_path / f"{lang}-{page.stem}-{width}.png"
            browser.screenshot(shot)
            assert shot.stat().st_size > 5_000, shot.name
    keep = os.environ.get("CCHC_KEEP_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for shot in tmp_path.glob("*.png"):
            shutil.copy(shot, Path(keep) / shot.name)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_axe_finds_no_wcag_aa_violation(packs, browser, lang):
    if not AXE.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("CI must install axe-core (npm ci in tests/js, see .ci/run)")
        pytest.skip("axe-core is not installed (cd tests/js && npm ci)")
    source = AXE.read_text(encoding="utf-8")
    found = []
    for page in pages_of(packs[lang]):
        for width in WIDTHS:
            browser.open(page.resolve().as_uri(), width)
            browser.evaluate(source)
            result = browser.evaluate(
                "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
                ".then(r => r.violations.map(v => v.id + ' (' + v.nodes.length + '): ' + v.help + ' | '"
                " + v.nodes.slice(0, 2).map(n => n.target.join(' ')).join(', ')))", awaited=True)
            found += [f"{page.name} at {width}px: {v}" for v in result]
    assert not found, "\n".join(found)


def test_data_folder_has_a_bilingual_readme(packs):
    for lang in ("vi", "en"):
        readme = (packs[lang] / "data" / "README.md").read_text(encoding="utf-8")
        assert "CC BY 4.0" in readme and "indicators.csv" in readme and "quality.csv" in readme
        assert "Cách trích dẫn" in readme and "How to cite" in readme  # both languages, the pack's first
        first = readme.split("\n", 1)[0]
        assert first.startswith("# Số liệu" if lang == "vi" else "# Data")
