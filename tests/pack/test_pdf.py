"""The printed pack (issue 12): at most 25 tagged A4 pages (PDF/UA, /Lang set) in both languages, a cover that names
the programme, the district, the source and the data's date, a table of contents, page numbers, the pages of
site.yaml meant for paper, and no word or number broken or run together in the text a reader extracts."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from pypdf import PdfReader

from cchc_analysis.errors import CchcError
from cchc_analysis.pack import pdf as D
from cchc_analysis.pack import views
from cchc_analysis.pack.catalog import catalog
from cchc_analysis.pack.plan import site

ROOT = Path(__file__).resolve().parents[2]
MAX_PAGES = 25


@pytest.fixture(scope="module")
def pack_en(tmp_path_factory, processed):
    """The English pack, every area."""
    from cchc_analysis.pack.build import build

    root = tmp_path_factory.mktemp("pack-en")
    report = build(processed=processed, out=root / "reports", cache=root / "cache", notebooks=ROOT / "notebooks",
                   parse=False, quiet=True, jobs=2, lang="en")
    return {"site": report.site, "pdf": report.pdf}


@pytest.fixture(scope="module", params=["vi", "en"])
def printed(request, pack):
    if request.param == "vi":
        return "vi", pack["site"], pack["pdf"]
    en = request.getfixturevalue("pack_en")
    return "en", en["site"], en["pdf"]


def pdftotext(path: Path, layout: bool = True) -> str:
    args = ["pdftotext", "-enc", "UTF-8"] + (["-layout"] if layout else []) + [str(path), "-"]
    return unicodedata.normalize("NFC", subprocess.run(args, check=True, capture_output=True, text=True).stdout)


def test_page_count_size_and_page_numbers(printed):
    lang, _site, pdf = printed
    reader = PdfReader(str(pdf))
    n = len(reader.pages)
    assert n <= MAX_PAGES, f"{lang}: {n} pages"
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4
    pages = pdftotext(pdf).split("\f")
    assert f"{n} / {n}" in pages[n - 1]  # numbered to the last page
    assert "1 / " not in pages[0]  # the cover carries no number


def test_tagged_with_language_and_title(printed):
    lang, _site, pdf = printed
    reader = PdfReader(str(pdf))
    root = reader.trailer["/Root"]
    assert root["/Lang"] == lang
    assert root["/MarkInfo"]["/Marked"] is True or root["/MarkInfo"]["/Marked"] == True  # noqa: E712
    tree = root["/StructTreeRoot"].get_object()
    assert tree["/K"]  # a structure tree with content
    xmp = root["/Metadata"].get_object().get_data().decode("utf-8", "replace")
    assert "pdfuaid:part" in xmp.lower()  # declares PDF/UA
    assert reader.metadata.title.startswith(catalog(lang)["paper"]["title"][:20])
    assert root["/ViewerPreferences"]["/DisplayDocTitle"]


def test_cover_and_contents(printed, pack):
    lang, site_dir, pdf = printed
    text = catalog(lang)["paper"]
    pages = pdftotext(pdf).split("\f")
    cover = " ".join(pages[0].split())
    ds = pack["ds"]
    place = text["place"].format(district=ds.district, province=ds.province)
    assert " ".join(text["title"].format(place=place).split()) in cover
    for key in ("source", "data_date", "produced"):
        assert text[key].lower() in cover.lower(), key
    assert "31/3/2020" in cover and text["produced_text"] in cover
    contents = " ".join(pages[1].split())
    assert text["contents"] in contents
    for name in D.on_paper(names_in_order(site_dir)):
        title = D.first_heading((site_dir / name).read_text(encoding="utf-8"))
        assert re.search(re.escape(title) + r" ?\.+ ?\d+", contents), title


def names_in_order(site_dir: Path) -> list[str]:
    """The pages of site.yaml present in the built site, in order (areas in nav order of the index)."""
    index = (site_dir / "index.html").read_text(encoding="utf-8")
    hrefs = re.findall(r'href="([a-z0-9_\-]+\.html)"', index)
    return [h for h in dict.fromkeys(hrefs) if h != "index.html" and (site_dir / h).exists()]


def test_pages_left_off_paper_follow_site_yaml(monkeypatch):
    pages = [dict(p) for p in site()["pages"]]
    areas = next(p for p in pages if p["name"] == "area-{area}")
    areas["pdf"] = False
    monkeypatch.setattr(D, "site", lambda: {"pages": pages})
    assert D.on_paper(["overview.html", "area-tthc.html", "area-cbccvc.html"]) == ["overview.html"]
    areas["pdf"] = "no"
    with pytest.raises(CchcError, match="'pdf' must be true or false"):
        D.on_paper(["overview.html"])


class Visible(HTMLParser):
    """The words of a document's text, outside elements the print stylesheet hides."""

    HIDDEN = ("screen-only", "celltag_screen-only", "celltag_parameters", "celltag_injected-parameters")
    VOID = {"br", "img", "col", "meta", "link", "hr", "input", "source"}

    def __init__(self):
        super().__init__()
        self.stack: list[bool] = []
        self.words: set[str] = set()

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        classes = (dict(attrs).get("class") or "").split()
        self.stack.append(any(c in self.HIDDEN for c in classes) or tag in ("style", "title", "script"))

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not any(self.stack):
            self.words.update(words_of(data))


WORD = re.compile(r"[^\W_]+", re.UNICODE)


def words_of(text: str) -> set[str]:
    """Lower-case words; a hyphenated word also counts joined (pdftotext joins a word hyphenated at a line end)."""
    text = unicodedata.normalize("NFC", text).lower()
    return set(WORD.findall(text)) | set(WORD.findall(re.sub(r"(?<=\w)-(?=\w)", "", text)))


def svg_words(doc: str) -> set[str]:
    """The words of the charts (SVG images embedded as data URIs; their text is text in the PDF too)."""
    import base64

    found: set[str] = set()
    for b64 in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', doc):
        svg = base64.b64decode(b64).decode("utf-8")
        for t in re.findall(r">([^<>]+)</text>", svg):
            found |= words_of(t)
    return found


def test_no_word_or_number_broken_or_run_together(printed, pack):
    lang, site_dir, pdf = printed
    text = pdftotext(pdf)
    assert not re.search(r"(?:19|20)\d\d(?:19|20)\d\d", text.replace("20112020", "")), "year headers run together"
    for bad in ("ThayThay", "Đạ/t", "201/8"):
        assert bad not in text
    order = names_in_order(site_dir)
    pages = {n: (site_dir / n).read_text(encoding="utf-8") for n in order}
    doc = D.pdf_document(pages, order, {"district": pack["ds"].district, "district_line": ""}, lang, pack["ds"])
    vis = Visible()
    vis.feed(doc)
    words = vis.words | svg_words(doc) | {str(i) for i in range(200)}  # page numbers
    strange = sorted(words_of(pdftotext(pdf, layout=False)) - words)
    assert not strange, f"{lang}: words in the PDF that the pages do not have (broken?): {strange[:30]}"


def word_boxes(pdf: Path) -> list[tuple[float, list[tuple[float, float, float, float, str]]]]:
    """Per page: its width and the box of every word (pdftotext -bbox)."""
    import html

    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    pages = []
    for pg in out.split("<page ")[1:]:
        width = float(re.search(r'width="([\d.]+)"', pg).group(1))
        words = [(float(a), float(b), float(c), float(d), html.unescape(t)) for a, b, c, d, t in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', pg)]
        pages.append((width, sorted(words, key=lambda r: (r[1], r[0]))))
    return pages


def overlaps(words) -> list[tuple[str, str]]:
    """Pairs of words on one line whose boxes overlap: text run together ("20152016", "ThayThay")."""
    found = []
    for i, a in enumerate(words):
        for b in words[i + 1:i + 60]:
            if b[1] >= a[3]:
                break
            same_line = min(a[3], b[3]) - max(a[1], b[1]) > 0.5 * (a[3] - a[1])
            if same_line and min(a[2], b[2]) - max(a[0], b[0]) > 1.0:
                found.append((a[4], b[4]))
    return found


def test_tables_fit_the_page_and_no_text_runs_together(printed):
    lang, _site, pdf = printed
    for n, (width, words) in enumerate(word_boxes(pdf), 1):
        past = [w[4] for w in words if w[2] > width - 30]  # the right margin is 13 mm (37 pt)
        assert not past, f"{lang} page {n}: text past the right margin: {past[:10]}"
        assert not overlaps(words), f"{lang} page {n}: words drawn over each other: {overlaps(words)[:10]}"


def test_overlap_detector_finds_run_together_words():
    line = [(10, 100, 30, 108, "2015"), (28, 100, 48, 108, "2016"), (60, 100, 80, 108, "2017")]
    assert overlaps(line) == [("2015", "2016")]
    assert overlaps([(10, 100, 30, 108, "a"), (10, 110, 30, 118, "b")]) == []  # two lines of one cell


def test_a_pdf_leaves_no_temporary_font_folder_behind(pack, tmp_path, monkeypatch):
    """WeasyPrint copies the pack's fonts into a ``weasyprint-*`` folder of the system's temporary folder; each build
    left one behind (1.4 MB) before the PDF step removed it."""
    import tempfile

    site_dir = pack["site"]
    order = names_in_order(site_dir)[:1]
    pages = {n: (site_dir / n).read_text(encoding="utf-8") for n in order}
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "system-tmp"))
    (tmp_path / "system-tmp").mkdir()
    D.build_pdf(pages, order, {"district": pack["ds"].district, "district_line": ""}, "vi", site_dir,
                tmp_path / "one.pdf", pack["ds"])
    assert (tmp_path / "one.pdf").stat().st_size > 0
    assert list((tmp_path / "system-tmp").iterdir()) == []


def test_the_annex_carries_for_each_step_the_line_a_cut_pdf_shows(pack):
    """The technical annex says, for each number of findings a PDF over its budget may keep, how many more there are
    (hidden on screen and on paper unless the PDF is so cut)."""
    from cchc_analysis.pack import plan

    annex = (pack["site"] / "annex.html").read_text(encoding="utf-8")
    areas = re.findall(r'<ol class="findings">(.*?)</ol>(.*?)</section>', annex, flags=re.S)
    assert areas
    for items, after in areas:
        n = items.count('<li class="finding')
        expected = [(keep, n - keep) for keep in plan.keep_findings() if n > keep]
        shown = [(int(k), text) for k, text in re.findall(r'<p class="note more-findings keep-(\d+)">(.*?)</p>', after)]
        assert [k for k, _ in shown] == [k for k, _ in expected]
        for (_, more), (_, text) in zip(expected, shown):
            assert text == catalog("vi")["paper"]["more_findings"].format(n=more)
    doc = D.pdf_document({"annex.html": annex}, ["annex.html"], {"district": pack["ds"].district,
                                                                   "district_line": ""}, "vi", pack["ds"], keep=4)
    assert "li:nth-child(n+5) { display: none; }" in doc and "p.more-findings.keep-4 { display: block; }" in doc
    assert "nth-child" not in D.pdf_document({"annex.html": annex}, ["annex.html"],
                                             {"district": pack["ds"].district, "district_line": ""}, "vi", pack["ds"])


def test_a_pdf_over_its_page_budget_prints_fewer_findings_and_says_so(pack, tmp_path):
    """A new year's data adds findings to the technical annex: the printed pack keeps within its budget by listing
    fewer of them on paper (all stay on the website), and warns when even that is not enough. Here the annex holds
    every finding of the reference five times over."""
    site_dir = pack["site"]
    order = names_in_order(site_dir)
    pages = {n: (site_dir / n).read_text(encoding="utf-8") for n in order}
    quality = pack["ds"].quality
    copies = [quality.assign(check=quality["check"] + f"-{i}") for i in range(5)]  # (distinct: not merged as one)
    ds = dataclasses.replace(pack["ds"], quality=pd.concat(copies, ignore_index=True))
    areas = list(re.finditer(r'<section[^>]*class="annex-area".*?</section>', pages["annex.html"], flags=re.S))
    pages["annex.html"] = (pages["annex.html"][:areas[0].start()] + str(views.annex_html(ds, "vi"))
                           + pages["annex.html"][areas[-1].end():])
    info = {"district": pack["ds"].district, "district_line": ""}
    assert D.build_pdf(pages, order, info, "vi", site_dir, tmp_path / "cut.pdf", ds) == []
    assert len(PdfReader(str(tmp_path / "cut.pdf")).pages) <= MAX_PAGES
    text = " ".join(pdftotext(tmp_path / "cut.pdf", layout=False).split())
    assert "vấn đề khác của lĩnh vực này" in text
    assert "Lỗi:" in text  # (the errors come first, and stay)


def test_a_pdf_that_cannot_keep_its_budget_is_written_with_a_warning(pack, tmp_path, monkeypatch):
    site_dir = pack["site"]
    order = names_in_order(site_dir)
    pages = {n: (site_dir / n).read_text(encoding="utf-8") for n in order}
    monkeypatch.setattr(D, "max_pages", lambda: 3)  # beyond what cutting the annex can reach
    warned = D.build_pdf(pages, order, {"district": pack["ds"].district, "district_line": ""}, "vi", site_dir,
                         tmp_path / "over.pdf", pack["ds"])
    assert len(warned) == 1 and "over the budget of 3" in warned[0] and "over.pdf" in warned[0]
    assert len(PdfReader(str(tmp_path / "over.pdf")).pages) > 3


def test_the_page_budget_is_read_from_site_yaml(monkeypatch):
    from cchc_analysis.pack import plan

    assert D.max_pages() == MAX_PAGES
    steps = plan.keep_findings()
    assert steps == sorted(steps, reverse=True) and steps[-1] >= 1
    for bad in (0, "25", True, 2.5):
        monkeypatch.setattr(plan, "site", lambda bad=bad: {"pdf_max_pages": bad, "pdf_keep_findings": [bad]})
        with pytest.raises(CchcError, match="pdf_max_pages"):
            plan.max_pages()
        with pytest.raises(CchcError, match="pdf_keep_findings"):
            plan.keep_findings()
    monkeypatch.setattr(plan, "site", lambda: {"pdf_keep_findings": [2, 6]})
    with pytest.raises(CchcError, match="largest first"):
        plan.keep_findings()
