"""Vietnamese text helpers: cleaning cells for display, and an accent-folded key used only for matching."""

from __future__ import annotations

import re
import unicodedata

_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*\s*/?>")
_SPACE = re.compile(r"\s+")
_EDGE_PUNCT = " \t.,;:"


def strip_tags(text: str) -> str:
    """Remove inline markup such as ``<i>`` left by the document export."""
    return _TAG.sub("", text)


def clean(text: str) -> str:
    """Display form of a cell: NFC, no tags, single spaces, trimmed."""
    text = unicodedata.normalize("NFC", strip_tags(text)).replace("\u00a0", " ")
    return _SPACE.sub(" ", text).strip()


def fold(text: str) -> str:
    """Matching key: lower case, no diacritics (đ -> d), single spaces, no edge punctuation.

    Never shown to a reader; used so that "Tinh đến" matches "Tính đến" and "Chỉ tiêu." matches "chỉ tiêu".
    """
    text = clean(text).lower().replace("đ", "d")
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return text.strip(_EDGE_PUNCT)


def starts_lowercase(text: str) -> bool:
    text = clean(text)
    return bool(text) and text[0].isalpha() and text[0].islower()


_NOT_WORD = re.compile(r"[^\w\s]")


def match_key(text: str) -> str:
    """Looser key for matching a row label to its spec: folded, all punctuation dropped."""
    return _SPACE.sub(" ", _NOT_WORD.sub(" ", fold(text))).strip()
