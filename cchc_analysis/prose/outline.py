"""The report's heading structure as a tree of sections, each with its line range and text.

A CCHC summary report follows the provincial template:

    Phần thứ nhất / hai / ba          part      (title on the same line or on the upper-case lines below)
    I. II. III.                        roman
    1.  1.1.  4.1.1.                   decimal   (depth = number of components)
    a) b) ... đ) e)                    letter
    - Một là: ... Bảy là:              ordinal   (list items of the lessons learnt)

Headings are nested with a stack by rank, so the tree never depends on the numbers being right: a second
"3.2." after "3.2." becomes the next sibling (with a note "expected 3.3"), "Bây là" is read as "Bảy là" (with a
note), and a decimal heading whose prefix does not match its parent ("4.1.1." under "3.") is still placed by
its depth. Every slip is recorded in ``Node.notes`` so a reader can see it; none is silently "fixed" in the
text.

Line numbers are 1-based, as in the raw file. The narrative ends at the closing formula ("Trên đây là ...")
or, failing that, at the first appendix heading ("Phụ lục 1").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from cchc_analysis.text import FOLD_TABLE

PART_WORDS = {"nhất": 1, "nhứt": 1, "hai": 2, "ba": 3, "tư": 4, "bốn": 4, "năm": 5, "sáu": 6}
ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "X": 10}
# Vietnamese legal documents letter their points a, b, c, d, đ, e, g, h, i, k, ... (no ă, â, ê, f, j ...)
LETTERS = "a b c d đ e g h i k l m n o p q r s t u v x y".split()
# Ordinals of list items ("Một là:"); the values are the intended numbers. Known slips map to the intended word.
ORDINALS = {"một": 1, "hai": 2, "ba": 3, "bốn": 4, "năm": 5, "sáu": 6, "bảy": 7, "bẩy": 7, "tám": 8,
            "chín": 9, "mười": 10}
ORDINAL_SLIPS = {"bây": ("bảy", 7), "bẫy": ("bảy", 7), "môt": ("một", 1), "bôn": ("bốn", 4)}

RANK = {"part": 0, "roman": 1}  # decimal: 1 + depth; letter: 20; ordinal: 21
LETTER_RANK = 20
ORDINAL_RANK = 21

_PART = re.compile(r"^\**\s*Phần\s+thứ\s+(\w+)\b\s*(.*)$", re.IGNORECASE)
_ROMAN = re.compile(r"^\**\s*(X|IX|VIII|VII|VI|V|IV|III|II|I)\s*[.)]\s+(\S.*)$")
_DECIMAL = re.compile(r"^\**\s*(\d{1,2}(?:\.\d{1,2}){0,3})\.\s+(\S.*)$")      # "1. ", "4.1.1. "
_DECIMAL_NODOT = re.compile(r"^\**\s*(\d{1,2}(?:\.\d{1,2}){1,3})\s+(\S.*)$")  # "1.1 " (no final dot)
_LETTER = re.compile(r"^\**\s*([a-zđ])\s*\)\s+(\S.*)$")
_ORDINAL = re.compile(r"^[-–•+]?\s*\**\s*(\w+)\s+là\s*\**\s*:?\s*\**\s*(.*)$", re.IGNORECASE)
_CLOSING = re.compile(r"^\s*(Trên đây là|Nơi nhận\s*:)", re.IGNORECASE)
_APPENDIX = re.compile(r"^\s*\**\s*Phụ\s+lục\s+(\d+|[IVX]+)\b", re.IGNORECASE)
# an emphasis pair (*text*, **text**) of the document export; a lone * ("(*)", "5 * 3", a bullet) is text and stays
_EMPHASIS = re.compile(r"(?<![\w*])(\*{1,3})(?=[^\s*)])(.+?)(?<=[^\s*(])\1(?![\w*])")

# A line longer than this is a paragraph, not a heading, unless it is a numbered item (see _heading_at).
MAX_HEADING_CHARS = 200


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


class _FoldedWords(dict):
    """word -> its folded form, per process: Vietnamese prose is a few thousand syllables over and over, and a dict
    look-up (in C, through ``map``) costs less than lowering and translating each letter again. FOLD_TABLE maps no
    character to or from a space, and lowering a word is lowering it within the text (a capital sigma's context ends
    at a space), so folding word by word is folding the text; a word that folds to nothing, a stray combining mark, is
    dropped as the split would."""

    MAX_WORDS = 200_000

    def __missing__(self, word: str) -> str:
        if len(self) >= self.MAX_WORDS:
            self.clear()
        folded = self[word] = word.lower().translate(FOLD_TABLE)
        return folded


_FOLDED_WORDS = _FoldedWords()


def folded_words(text: str) -> list[str]:
    """The words of :func:`fold`'s key, in order."""
    return list(filter(None, map(_FOLDED_WORDS.__getitem__, nfc(text).split())))


def fold(text: str) -> str:
    """Accent-folded, lower-case matching key (đ -> d). Only for matching, never for display."""
    return " ".join(filter(None, map(_FOLDED_WORDS.__getitem__, nfc(text).split())))


def clean_inline(text: str) -> str:
    """Display form of a heading or paragraph: no emphasis markers, single spaces."""
    if "*" in text:  # the pattern's look-arounds cost more than the test, and few lines have emphasis
        text = _without_emphasis(text)
    if _single_spaced(text):
        return text  # what the split and join would give back, at a fraction of their cost on a long paragraph
    return " ".join(text.split())  # single spaces, trimmed


def _without_emphasis(text: str) -> str:
    """``_EMPHASIS`` removed, the pattern run only from the character before the first star to the one after the
    last (every match lies within, look-arounds included): the pattern starts with a look-behind, so the regular
    expression engine tries it at every position of a long paragraph whose one emphasis is near its end."""
    start, end = max(text.find("*") - 1, 0), text.rfind("*") + 2
    return text[:start] + _EMPHASIS.sub(r"\2", text[start:end]) + text[end:]


def _single_spaced(text: str) -> bool:
    """No whitespace but single spaces, none at either end (every other whitespace character is unprintable)."""
    return text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " "


@dataclass
class Node:
    """One heading of the outline and everything under it until the next heading of the same or higher rank."""

    kind: str                     # part | roman | decimal | letter | ordinal | root
    label: str                    # the numbering as printed: "Phần thứ nhất", "II", "3.2", "đ", "Bây là"
    number: tuple[int, ...]       # the intended number: (1,), (3, 2), (5,) for đ, (7,) for "Bây là"
    title: str                    # heading text without its numbering (for a numbered paragraph: its text), cleaned
    line: int                     # 1-based line of the heading
    rank: int
    first_line: int = 0           # = line
    last_line: int = 0            # last non-empty line before the next heading of same/higher rank
    inline: bool = False          # a numbered paragraph ("1.1. Tiếp tục ...") rather than a heading line
    notes: list[str] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)
    parent: Node | None = field(default=None, repr=False)
    id: str = ""
    body: list[tuple[int, str]] = field(default_factory=list)  # (line, raw text) of own lines, no children

    # -- navigation ---------------------------------------------------------------------------------------
    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()

    def ancestors(self) -> list[Node]:
        out, node = [], self.parent
        while node is not None and node.kind != "root":
            out.append(node)
            node = node.parent
        return out[::-1]

    @property
    def heading(self) -> str:
        """The heading as a reader sees it, numbering included."""
        if self.kind == "part":
            return f"{self.label}: {self.title}" if self.title else self.label
        if self.kind == "roman":
            return f"{self.label}. {self.title}"
        if self.kind == "decimal":
            return f"{self.label}. {self.title}"
        if self.kind == "letter":
            return f"{self.label}) {self.title}"
        if self.kind == "ordinal":
            return f"{self.label}: {self.title}"
        return self.title

    def lines(self) -> list[tuple[int, str]]:
        """All (line, text) pairs of this node and its descendants, in document order (that of the outline's tree: a
        node's own lines lie between its heading and its first child, its children in order; no sort needed)."""
        out = list(self.body)
        for child in self.children:
            child._lines_into(out)
        return out

    def _lines_into(self, out: list[tuple[int, str]]) -> None:
        out += self.body
        for child in self.children:
            child._lines_into(out)

    def text(self, include_heading: bool = False) -> str:
        """The section's prose: paragraphs separated by blank lines; a paragraph cut by a page break
        (a line ending without final punctuation followed by one starting in lower case) is rejoined."""
        texts = [clean_inline(raw) for line, raw in self.lines() if line != self.line]
        if include_heading or self.inline:
            # a title is in clean_inline's form already (a long numbered paragraph, costly to check again), unless
            # stars left by the first cleaning could pair now
            texts.insert(0, self.title if "*" not in self.title else clean_inline(self.title))
        paragraphs: list[str] = []
        for t in texts:
            if not t:
                continue
            if paragraphs and _continues(paragraphs[-1], t):
                paragraphs[-1] = paragraphs[-1] + " " + t
            else:
                paragraphs.append(t)
        return "\n\n".join(paragraphs)

    def find(self, node_id: str) -> Node | None:
        for n in self.walk():
            if n.id == node_id:
                return n
        return None


def _continues(prev: str, nxt: str) -> bool:
    if not prev or prev[-1] in ".;:!?)”\"…":
        return False
    return (nxt[:1].isalpha() and nxt[:1].islower()) or (prev[-1].isalpha() and nxt[:1].isdigit())


@dataclass
class Outline:
    root: Node
    body_first_line: int          # first line after the title block
    body_last_line: int           # last line of the narrative (before the closing formula / appendices)
    notes: list[str]

    def nodes(self) -> list[Node]:
        return [n for n in self.root.walk() if n.kind != "root"]

    def find(self, node_id: str) -> Node | None:
        return self.root.find(node_id)

    def node_at(self, line: int) -> Node | None:
        """The deepest node whose range contains ``line``."""
        containing = [n for n in self.nodes() if n.first_line <= line <= n.last_line]
        return max(containing, key=lambda n: (n.first_line, n.rank)) if containing else None


# --------------------------------------------------------------------------------------------------------
_PART_NUMBERS = {fold(word): number for word, number in PART_WORDS.items()}  # "nhat" -> 1, "tu" -> 4


def _heading_at(text: str) -> tuple[str, str, tuple[int, ...], str, list[str]] | None:
    """Classify one line. Returns (kind, label, number, title, notes) or None for a paragraph line."""
    s = text.strip()
    return _heading_of(s) if s else None


def _heading_of(s: str) -> tuple[str, str, tuple[int, ...], str, list[str]] | None:
    """:func:`_heading_at` of a stripped, non-empty line."""
    # the numbered patterns start, after emphasis markers and spaces, with what they number: most lines of prose
    # are tried against the ordinal pattern alone
    first = s.lstrip("*").lstrip()[:1]
    heading = _numbered(s, first) if first in _NUMBERING_STARTS or first.isdecimal() else None
    return heading or _ordinal(s)


_NUMBERING_STARTS = frozenset("PpIVX" + "".join(LETTERS))


def _numbered(s: str, first: str) -> tuple[str, str, tuple[int, ...], str, list[str]] | None:
    """A part, roman, decimal or letter heading (``first``: the line's first character after emphasis and spaces)."""
    m = _PART.match(s) if first in "Pp" else None
    if m and fold(m.group(1)) in _PART_NUMBERS:
        word = m.group(1).lower()
        num = PART_WORDS.get(word) or _PART_NUMBERS[fold(word)]
        title = clean_inline(m.group(2)).strip(" :.-")
        return "part", f"Phần thứ {word}", (num,), title, []
    m = _ROMAN.match(s) if first in "IVX" else None
    if m and len(s) <= MAX_HEADING_CHARS:
        return "roman", m.group(1), (ROMAN[m.group(1)],), clean_inline(m.group(2)), []
    m = (_DECIMAL.match(s) or _DECIMAL_NODOT.match(s)) if first.isdecimal() else None
    if m:
        label = m.group(1)
        # "2.232 người ..." is a number at the start of a sentence, not a heading: a heading's components
        # are small and the dotted form has no 3-digit group
        parts = label.split(".")
        if max(map(len, parts)) <= 2:
            return "decimal", label, tuple(map(int, parts)), clean_inline(m.group(2)), []
    m = _LETTER.match(s) if first in LETTERS else None
    if m and m.group(1) in LETTERS:
        return "letter", m.group(1), (LETTERS.index(m.group(1)) + 1,), clean_inline(m.group(2)), []
    return None


def _ordinal(s: str) -> tuple[str, str, tuple[int, ...], str, list[str]] | None:
    """An ordinal list item ("Một là: ..."), its known slips read as the intended word (with a note)."""
    m = _ORDINAL.match(s)
    if m:
        word = m.group(1).lower()
        notes: list[str] = []
        if word in ORDINALS:
            num = ORDINALS[word]
        elif word in ORDINAL_SLIPS:
            intended, num = ORDINAL_SLIPS[word]
            notes.append(f'numbering slip: "{m.group(1)} là" read as "{intended.capitalize()} là" ({num})')
        else:
            return None
        return "ordinal", f"{m.group(1)} là", (num,), clean_inline(m.group(2)), notes
    return None


def _rank(kind: str, number: tuple[int, ...]) -> int:
    if kind == "decimal":
        return 1 + len(number)
    if kind == "letter":
        return LETTER_RANK
    if kind == "ordinal":
        return ORDINAL_RANK
    return RANK[kind]


def _id_segment(node: Node) -> str:
    if node.kind == "part":
        return f"P{node.number[0]}"
    if node.kind == "roman":
        return node.label
    if node.kind == "decimal":
        return ".".join(str(n) for n in node.number)
    if node.kind == "letter":
        return "dd" if node.label == "đ" else node.label
    if node.kind == "ordinal":
        return f"o{node.number[0]}"
    return ""


# what a closing formula or an appendix heading can start with (both patterns ignore case): other lines skip them
_BOUND_STARTS = frozenset("TtNnPp*")


def narrative_bounds(lines: list[str]) -> tuple[int, int]:
    """(first, last) 1-based lines of the narrative: from the first heading to the line before the closing
    formula ("Trên đây là", "Nơi nhận:") or the first appendix heading, whichever comes first."""
    first = None
    end = len(lines)
    for i, raw in enumerate(lines, start=1):
        s = raw.strip()
        if first is None and (h := _heading_at(s)) and h[0] in ("part", "roman"):
            first = i
        if first is not None and s[:1] in _BOUND_STARTS and (_CLOSING.match(s) or _APPENDIX.match(s)):
            end = i - 1
            break
    if first is None:
        first = 1
    while end > first and not lines[end - 1].strip():
        end -= 1
    return first, end


def parse_outline(lines: list[str]) -> Outline:
    """Build the heading tree of the narrative part of a report (``lines[0]`` is line 1)."""
    return outline_of_nfc([nfc(x) for x in lines])


def _narrative(lines: list[str]) -> tuple[int, int, list[tuple[int, str, str]]]:
    """:func:`narrative_bounds` and the narrative's non-empty lines (line, raw text, stripped), in one pass: the
    outline strips each line once and classifies the first lines once (narrative_bounds and its own loop each did)."""
    first, i, n = None, 0, len(lines)
    while first is None and i < n:
        s = lines[i].strip()
        i += 1
        if s and (h := _heading_at(s)) and h[0] in ("part", "roman"):
            first = i
    if first is None:  # no part or roman heading: the whole report, no closing formula looked for
        kept = [(j, raw, s) for j, raw in enumerate(lines, start=1) if (s := raw.strip())]
        return 1, kept[-1][0] if kept else min(n, 1), kept
    kept = []
    for j in range(first, n + 1):
        raw = lines[j - 1]
        s = raw.strip()
        if s:
            if s[0] in _BOUND_STARTS and (_CLOSING.match(s) or _APPENDIX.match(s)):
                break
            kept.append((j, raw, s))
    return first, kept[-1][0] if kept else first - 1, kept  # (none: the first heading closed the narrative)


def outline_of_nfc(lines: list[str]) -> Outline:
    """:func:`parse_outline` of lines already in NFC (the prose stage normalises them once for all its steps)."""
    first, last, kept = _narrative(lines)
    root = Node(kind="root", label="", number=(), title="", line=0, rank=-1, first_line=first, last_line=last)
    stack: list[Node] = [root]
    notes: list[str] = []
    pending_title: Node | None = None   # a part whose title is on the following upper-case line(s)

    for i, raw, s in kept:
        h = _heading_of(s)
        if pending_title is not None:
            letters = [c for c in clean_inline(s) if c.isalpha()]
            if h is None and letters and all(c.isupper() for c in letters):
                pending_title.title = (pending_title.title + " " + clean_inline(s)).strip()
                continue
            pending_title = None
        if h is not None and len(s) > MAX_HEADING_CHARS and h[0] in ("part", "roman"):
            h = None
        if h is None:
            stack[-1].body.append((i, raw))
            continue
        kind, label, number, title, hnotes = h
        rank = _rank(kind, number)
        # an ordinal outside a list of ordinals ("Hai là" mid-text is rare) is only a heading if it is the
        # first of its list or continues one
        while stack[-1].rank >= rank:
            stack.pop()
        parent = stack[-1]
        node = Node(kind=kind, label=label, number=number, title=title, line=i, rank=rank, first_line=i,
                    notes=list(hnotes), parent=parent)
        node.inline = kind in ("decimal", "letter", "ordinal") and (
            len(s) > MAX_HEADING_CHARS or s.rstrip("*").endswith((".", ";"))
            or (kind == "ordinal" and bool(title)))
        _check_numbering(parent, node)
        parent.children.append(node)
        stack.append(node)
        if kind == "part" and not title:
            pending_title = node

    _mark_inline_lists(root)
    _finish(root, last, {}, notes)
    return Outline(root=root, body_first_line=first, body_last_line=last, notes=notes)


def _mark_inline_lists(node: Node) -> None:
    """A numbered line is a paragraph item ("1.1. Tiếp tục ..."), not a heading, when it is long or ends a
    sentence; in a list where most items are paragraphs, the others are too (an item cut by a page break)."""
    kids = node.children
    for k in kids:
        # a numbered line continued, after a page break, by a line starting in lower case is a paragraph
        if not k.inline and k.body and not k.title.endswith((".", ":", ";")):
            first = _first_character(k.body[0][1])
            if first.isalpha() and first.islower():
                k.inline = True
    if kids and sum(k.inline for k in kids) * 2 > len(kids):
        for k in kids:
            k.inline = True
    for k in kids:
        _mark_inline_lists(k)


def _first_character(text: str) -> str:
    """``clean_inline(text)[:1]`` without cleaning the whole paragraph: cleaning drops spaces and emphasis stars
    only, so a line whose first visible character is not a star starts with it."""
    first = text.lstrip()[:1]
    return clean_inline(text)[:1] if first == "*" else first


def _check_numbering(parent: Node, node: Node) -> None:
    """Record (never fix) numbering slips: a sibling number that does not follow, a prefix that does not
    match the parent's number."""
    prev = next((c for c in reversed(parent.children) if c.kind == node.kind and c.rank == node.rank), None)
    if prev is not None:
        expected = prev.number[:-1] + (prev.number[-1] + 1,)
        if node.number == prev.number:
            node.notes.append(f"numbering slip: {node.label} repeats the number of line {prev.line}; "
                              f"expected {_fmt(node.kind, expected)}")
        elif node.number != expected and node.kind != "part":
            node.notes.append(f"numbering slip: {node.label} follows {prev.label}; "
                              f"expected {_fmt(node.kind, expected)}")
    elif node.number and node.number[-1] != 1 and node.kind in ("decimal", "letter", "ordinal", "roman"):
        node.notes.append(f"numbering: first item is {node.label}, not 1")
    if node.kind == "decimal" and parent.kind == "decimal" and node.number[:-1] != parent.number:
        node.notes.append(f"numbering slip: {node.label} is under {parent.label}")


def _fmt(kind: str, number: tuple[int, ...]) -> str:
    if kind == "decimal":
        return ".".join(map(str, number))
    if kind == "letter":
        return LETTERS[number[0] - 1] + ")" if 0 < number[0] <= len(LETTERS) else str(number)
    if kind == "roman":
        inv = {v: k for k, v in ROMAN.items()}
        return inv.get(number[0], str(number[0]))
    return str(number[0])


def _finish(root: Node, end: int, seen: dict[str, int], notes: list[str]) -> None:
    """Line ranges, ids and the outline's notes in one walk of the tree (the walk of each cost as much as its work)."""
    root.last_line = end
    _finish_children(root, end, [], seen, notes)
    last = _last_with_content(root)
    if last:
        root.last_line = min(end, last)


def _finish_children(node: Node, end: int, segments: list[str], seen: dict[str, int], notes: list[str]) -> None:
    """:func:`_finish` below ``node``, in document order: a node's id, its notes, then its children's. last_line of
    a node = the last non-empty line before its next sibling (or the parent's end)."""
    kids = node.children
    for idx, child in enumerate(kids):
        child_end = kids[idx + 1].line - 1 if idx + 1 < len(kids) else end
        segs = _assign_id(child, segments, seen)
        notes.extend([f"line {child.line}: {note}" for note in child.notes])
        child.last_line = child_end
        _finish_children(child, child_end, segs, seen, notes)
        child.last_line = min(child_end, _last_with_content(child))  # trailing blank lines trimmed


def _last_with_content(node: Node) -> int:
    """The last line with content, the node's own or a descendant's (0: none): its body lies between its heading
    and its first child, its children in order, so the last of each is the largest."""
    if node.children:
        return node.children[-1].last_line
    return node.body[-1][0] if node.body else node.line


def _assign_id(node: Node, parent_segments: list[str], seen: dict[str, int]) -> list[str]:
    """The node's id from its parent's segments (in document order, so that a repeated id gets its ``~n``); its own
    segments returned for its children."""
    # decimal labels already carry their parents' numbers: P1.II + 3.2 -> "P1.II.3.2"
    if node.kind == "decimal" and node.parent is not None and node.parent.kind == "decimal":
        segs = [*parent_segments[:-1], _id_segment(node)]  # the parent's decimal segment replaced by the full number
    else:
        segs = [*parent_segments, _id_segment(node)]
    base = ".".join(segs)
    count = seen.get(base, 0) + 1
    seen[base] = count
    node.id = base if count == 1 else f"{base}~{count}"
    return segs
