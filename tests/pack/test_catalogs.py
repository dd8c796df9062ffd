"""The pack's UI strings live in one catalog per language, and its HTML only in templates.

Both catalogs must have exactly the same keys (and list lengths), no empty value, NFC text; no Python module of the
package may hold an HTML tag in a string literal (pages are laid out by the Jinja2 templates under
``cchc_analysis/pack/templates/``).
"""

from __future__ import annotations

import ast
import re
import unicodedata
from pathlib import Path

import pytest

from cchc_analysis.pack.catalog import LANGS, catalog

PACKAGE = Path(__file__).resolve().parents[2] / "cchc_analysis"
ELEMENTS = ("a abbr article b body br caption code col colgroup dd div dl dt em figure footer h1 h2 h3 h4 h5 h6 head "
            "header hr html i img li link main meta nav ol p pre section small span strong style sub sup table tbody "
            "td th thead title tr ul").split()
TAG = re.compile(r"</?(?:{})(?:\s[^<>]*)?/?>".format("|".join(ELEMENTS)), re.IGNORECASE)


def shape(value, path=""):
    """Every key path of a catalog, with the length of each list (the items of a list are positional)."""
    if isinstance(value, dict):
        return {p for k, v in value.items() for p in shape(v, f"{path}.{k}")}
    if isinstance(value, list):
        return {f"{path}[{len(value)}]"} | {p for i, v in enumerate(value) for p in shape(v, f"{path}[{i}]")}
    return {path}


def leaves(value):
    if isinstance(value, dict):
        return [x for v in value.values() for x in leaves(v)]
    if isinstance(value, list):
        return [x for v in value for x in leaves(v)]
    return [value]


def test_catalogs_have_the_same_keys():
    vi, en = shape(catalog("vi")), shape(catalog("en"))
    assert vi == en, f"only in vi: {sorted(vi - en)}; only in en: {sorted(en - vi)}"


@pytest.mark.parametrize("lang", LANGS)
def test_catalog_values_are_non_empty_nfc_text(lang):
    for value in leaves(catalog(lang)):
        assert isinstance(value, str) and value.strip(), value
        assert unicodedata.is_normalized("NFC", value), value


def test_tag_pattern_finds_html():
    assert TAG.search('<td class="num">') and TAG.search("</table>") and TAG.search("<br/>")
    assert not TAG.search("text/<lang>.yaml") and not TAG.search("<district>-<year>.xlsx")


# Not HTML for a page: the inline markup of the report's text export, which the Word and PDF readers write too.
SOURCE_MARKUP = {("read/location.py", "<i>"), ("read/location.py", "</i>")}


def test_no_html_tags_in_python_string_literals():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                      if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                      and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if id(node) in docstrings:
                continue  # describes, builds nothing
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and TAG.search(node.value) \
                    and (path.relative_to(PACKAGE).as_posix(), node.value) not in SOURCE_MARKUP:
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {node.value[:60]!r}")
    assert not found, "HTML in Python (write it in a template):\n" + "\n".join(found)


def test_every_english_unit_of_a_stated_figure_has_its_singular():
    """"1 person", not "1 people": facts_rows takes the singular (text/wording.yaml, en.singular) for a figure of 1."""
    from cchc_analysis.pack.wording import rules

    singular = rules()["en"]["singular"]
    counted = {word for word in catalog("en")["fact_units"].values() if word not in ("%", "m²", "(rank)")}
    assert counted <= set(singular), sorted(counted - set(singular))


def test_a_stated_figure_of_one_is_worded_in_the_singular():
    import pandas as pd

    from cchc_analysis.dataset.model import Dataset
    from cchc_analysis.pack import views

    facts = pd.DataFrame([{"id": "x_one", "area": "tthc", "value": "1", "unit": "persons", "counts": "officers",
                           "period": "2011/2020", "quote": "01 cán bộ", "line": "", "qualifier": ""},
                          {"id": "x_two", "area": "tthc", "value": "2", "unit": "persons", "counts": "officers",
                           "period": "2011/2020", "quote": "02 cán bộ", "line": "", "qualifier": ""}])
    ds = Dataset(indicators=pd.DataFrame(), facts=facts)
    assert [r["value"] for r in views.facts_rows(ds, "tthc", "en")] == ["1 person", "2 people"]
    assert [r["value"] for r in views.facts_rows(ds, "tthc", "vi")] == ["1 người", "2 người"]
