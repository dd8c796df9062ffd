"""Vietnamese text helpers: cleaning cells for display, and an accent-folded key used only for matching."""

from __future__ import annotations

import re
import unicodedata

_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*\s*/?>")
_EDGE_PUNCT = " \t.,;:"


def strip_tags(text: str) -> str:
    """Remove inline markup such as ``<i>`` left by the document export."""
    return _TAG.sub("", text) if "<" in text else text


def clean(text: str) -> str:
    """Display form of a cell: NFC, no tags, single spaces, trimmed."""
    text = unicodedata.normalize("NFC", strip_tags(text)).replace("\u00a0", " ")
    return " ".join(text.split())  # = re.sub(r"\s+", " ", text).strip(): \s and str.isspace are one set


def _base_letter(char: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))


# every accented Latin letter -> its base letter, combining marks -> nothing (one table, built once)
FOLD_TABLE = {code: _base_letter(chr(code)) for code in [*range(0xC0, 0x250), *range(0x1E00, 0x1F00)]
               if _base_letter(chr(code)) != chr(code)}
FOLD_TABLE.update({code: None for code in range(0x300, 0x370)})
FOLD_TABLE.update({ord("đ"): "d", ord("Đ"): "d"})


def fold(text: str) -> str:
    """Matching key: lower case, no diacritics (đ -> d), single spaces, no edge punctuation.

    Never shown to a reader; used so that "Tinh đến" matches "Tính đến" and "Chỉ tiêu." matches "chỉ tiêu".
    """
    return clean(text).lower().translate(FOLD_TABLE).strip(_EDGE_PUNCT)


def starts_lowercase(text: str) -> bool:
    text = clean(text)
    return bool(text) and text[0].isalpha() and text[0].islower()


_NOT_WORD = re.compile(r"[^\w\s]")


def match_key(text: str) -> str:
    """Looser key for matching a row label to its spec: folded, all punctuation dropped."""
    return " ".join(_NOT_WORD.sub(" ", fold(text)).split())


_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    """File and page names: folded, ASCII letters and digits joined by hyphens ("Tuần Giáo" -> "tuan-giao")."""
    return _NOT_SLUG.sub("-", fold(text)).strip("-") or "district"


def format_number(value: float | None, lang: str = "vi", decimals: int = 2) -> str:
    """2232 -> "2.232" (vi) / "2,232" (en); 99.95 -> "99,95" / "99.95"; None or NaN -> ""."""
    if value is None or value != value:
        return ""
    rounded = round(float(value), decimals) or 0.0  # no "-0"
    if rounded.is_integer():  # most figures are counts: what the general form gives them, without its zeros
        text = f"{int(rounded):,}"
    else:
        text = f"{rounded:,.{decimals}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
    if lang == "vi" and ("," in text or "." in text):
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def format_date(iso: str) -> str:
    """"2020-03-31" -> "31/3/2020": day/month/year, the way both packs print dates."""
    if not iso:
        return ""
    year, month, day = iso.split("-")
    return f"{int(day)}/{int(month)}/{year}"
