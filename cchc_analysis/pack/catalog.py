"""The pack's UI strings: one catalog per language, ``text/vi.yaml`` and ``text/en.yaml``, with the same keys.

Sections: ``views`` (a district's pages), ``how_to_read``, ``units``, ``compare`` (the comparison page), ``site``
(index and build), ``downloads`` (one description per data file), ``wording`` and ``plurals`` (how data is
worded, ``pack.wording``), ``fact_units`` (stated figures' units), ``readme`` (the data folder's README),
``summary``, ``verdicts`` and ``method`` (the evaluation's pages), ``paper`` (the PDF). A template gets one as
``t``.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

from cchc_analysis.errors import CchcError

LANGS = ("vi", "en")


@cache
def catalog(lang: str) -> dict:
    """Every UI string of one language (read once per process)."""
    if lang not in LANGS:
        raise CchcError(f"unknown language {lang!r}; use one of: {', '.join(LANGS)}")
    source = resources.files("cchc_analysis.pack").joinpath("text", f"{lang}.yaml")
    with source.open(encoding="utf-8") as f:
        return yaml.load(f, Loader=yaml.CSafeLoader)
