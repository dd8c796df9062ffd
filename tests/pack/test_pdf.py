"""The printed pack (issue 12): at most 25 tagged A4 pages (PDF/UA, /Lang set) in both languages, a cover that names
the programme, the district, the source and the data's date, a table of contents, page numbers, the pages of
site.yaml meant for paper, and no word or number broken or run together in the text a reader extracts."""

from __future__ import annotations

import re
import subprocess
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import pytest
from pypdf import PdfReader

from cchc_analysis.pack import pdf as D
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
    pages[1]["pdf"] = False  # the area pages
    monkeypatch.setattr(D, "site", lambda: {"pages": pages})
    assert D.on_paper(["overview.html", "area-tthc.html", "area-cbccvc.html"]) == ["overview.html"]


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
