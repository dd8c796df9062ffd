"""Per-area sections of the prose: each outline node mapped to a reform area and a kind (results, limitations,
causes, ...) by the declarative rules below; list items (lessons, tasks, solutions, recommendations) get an area
from the keywords in their text, or ``general`` when no area clearly dominates."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from cchc_analysis.prose.outline import Node, Outline, fold, folded_words

AREAS = ["chi_dao_dieu_hanh", "the_che", "tthc", "to_chuc_bo_may", "cbccvc", "tai_chinh_cong", "hien_dai_hoa"]
KINDS = ["results", "limitations", "causes", "overall_assessment", "lessons", "tasks_2021_2030",
         "solutions_2021_2030", "recommendations"]

# ---------------------------------------------------------------------------------------------------------
# Declarative mapping rules (folded text: lower case, no accents, đ -> d)

# A heading names an area when it contains one of these (checked in this order; first match wins).
AREA_HEADING_KEYWORDS: list[tuple[str, list[str]]] = [
    ("chi_dao_dieu_hanh", ["chi dao, dieu hanh", "chi dao dieu hanh"]),
    ("the_che", ["cai cach the che", "the che"]),
    ("tthc", ["cai cach tthc", "thu tuc hanh chinh", "tthc"]),
    ("to_chuc_bo_may", ["to chuc bo may"]),
    ("cbccvc", ["can bo, cong chuc, vien chuc", "doi ngu can bo", "cbccvc"]),
    ("tai_chinh_cong", ["tai chinh cong"]),
    ("hien_dai_hoa", ["hien dai hoa"]),
]

# A heading names a kind when it contains one of these (in this order: "Những tồn tại, hạn chế và nguyên nhân"
# is limitations; a sibling "Nguyên nhân" then holds the causes).
KIND_HEADING_KEYWORDS: list[tuple[str, list[str]]] = [
    ("limitations", ["ton tai", "han che", "yeu kem"]),
    ("causes", ["nguyen nhan"]),
    ("lessons", ["bai hoc"]),
    ("results", ["ket qua", "mat tich cuc", "dat duoc"]),
]
# (tasks, solutions and recommendations are kinds given by their part: see CONTEXT_RULES)

# Context given by an enclosing heading (first match wins; `part` / `node_kind` restrict where a rule applies).
# `kind` forces the kind of everything under it and `aspect_from_kind` keeps the kind named by a sub-heading as
# the section's aspect; `area` forces the area; `default_kind` is the kind of sub-sections whose heading names
# none; `items` emits one section per list item (numbered paragraph), its area found by AREA_TEXT_KEYWORDS.
CONTEXT_RULES: list[dict[str, Any]] = [
    {"match": ["danh gia chung ve cai cach", "danh gia chung ve cchc"], "kind": "overall_assessment",
     "area": "general", "aspect_from_kind": True},
    {"match": ["tinh hinh trien khai"], "node_kind": "roman", "area": "chi_dao_dieu_hanh",
     "default_kind": "results"},
    {"match": ["bai hoc kinh nghiem"], "kind": "lessons", "items": True},
    {"match": ["nhiem vu"], "part": 2, "kind": "tasks_2021_2030", "items": True},
    {"match": ["giai phap"], "part": 2, "kind": "solutions_2021_2030", "items": True},
    {"match": ["kien nghi", "de xuat"], "part": 3, "kind": "recommendations", "items": True},
]

# Keywords that assign a list item (lesson, task, solution, recommendation) to an area by its text.
AREA_TEXT_KEYWORDS: dict[str, list[str]] = {
    "chi_dao_dieu_hanh": ["lanh dao", "chi dao", "tuyen truyen", "nguoi dung dau", "thi dua", "kiem tra",
                          "so ket", "tong ket"],
    "the_che": ["qppl", "quy pham phap luat", "the che", "luat ban hanh"],
    "tthc": ["tthc", "thu tuc hanh chinh", "mot cua", "niem yet", "phan anh kien nghi", "phan anh, kien nghi",
             "tiep nhan ho so", "bien dong"],
    "to_chuc_bo_may": ["to chuc bo may", "sap xep", "don vi su nghiep", "chinh quyen dia phuong", "18-nq/tw",
                       "19-nq/tw"],
    "cbccvc": ["tinh gian bien che", "ky luat", "ky cuong", "tien luong", "dao tao", "boi duong", "cong vu",
               "doi ngu", "dai ngo", "pham chat"],
    "tai_chinh_cong": ["tai chinh", "ngan sach", "tu chu", "kinh phi", "ke toan", "tai san"],
    "hien_dai_hoa": ["cong nghe thong tin", "cntt", "dien tu", "iso", "truc tuyen", "du lieu", "phan mem",
                     "4.0", "so hoa"],
}
ITEM_AREA_MIN_HITS = 2        # an item needs at least this many keyword hits for its best area ...
ITEM_AREA_MARGIN = 1          # ... and this many more than the runner-up; otherwise its area is "general"


@lru_cache(maxsize=4096)
def _folded_title(title: str) -> str:
    """A heading's matching key (cached, as what its words name below: the template's headings recur in every
    report, and each is asked for its area, its kind and its context rule, again for each heading above it)."""
    return fold(title)


def _named(h: str, table: list[tuple[str, list[str]]]) -> str | None:
    """The first entry of ``table`` one of whose keywords the folded heading ``h`` contains."""
    for name, keys in table:
        if any(k in h for k in keys):
            return name
    return None


@lru_cache(maxsize=4096)
def _title_area(title: str) -> str | None:
    return _named(_folded_title(title), AREA_HEADING_KEYWORDS)


@lru_cache(maxsize=4096)
def _title_kind(title: str) -> str | None:
    return _named(_folded_title(title), KIND_HEADING_KEYWORDS)


@lru_cache(maxsize=4096)
def _title_rules(title: str) -> tuple[dict, ...]:
    """The CONTEXT_RULES whose words the heading has, in their order (where they apply is the node's matter)."""
    h = _folded_title(title)
    return tuple(rule for rule in CONTEXT_RULES if any(k in h for k in rule["match"]))


def _heading_area(node: Node) -> str | None:
    return _title_area(node.title)


def _heading_kind(node: Node) -> str | None:
    if node.inline:          # a numbered paragraph says what to do, it does not name a kind
        return None
    return _title_kind(node.title)


def _part_of(node: Node) -> int | None:
    for a in node.ancestors() + [node]:
        if a.kind == "part":
            return a.number[0]
    return None


def _context_rule(node: Node) -> dict | None:
    if node.inline:
        return None
    for rule in _title_rules(node.title):
        if "part" in rule and _part_of(node) != rule["part"]:
            continue
        if "node_kind" in rule and node.kind != rule["node_kind"]:
            continue
        return rule
    return None


def item_area(text: str) -> tuple[str, dict[str, int]]:
    """Area of a list item from keyword hits in its text; "general" unless one area clearly dominates."""
    words = folded_words(text)
    t = " ".join(words)
    # a keyword is counted only where each of its words is within a word of the text (where it occurs, it is): most
    # items name few areas, and a scan of the text per keyword cost more than the rest of the prose layer's matching
    present = set().union(*map(_TOKENS_IN.__getitem__, set(words)))
    found: dict[str, int] = {}
    for area, key in [(area, key) for area, key, tokens in _KEYWORD_TOKENS if tokens <= present]:
        if n := t.count(key):  # (areas in AREA_TEXT_KEYWORDS' order: the keywords are)
            found[area] = found.get(area, 0) + n
    # the areas with hits, most first (ties in AREAS' order); an area without is a runner-up with none
    ranked = sorted(found.items(), key=_by_hits)
    best, n = ranked[0] if ranked else ("general", 0)
    runner = ranked[1][1] if len(ranked) > 1 else 0
    if n >= ITEM_AREA_MIN_HITS and n - runner >= ITEM_AREA_MARGIN:
        return best, found
    return "general", found


# the words of AREA_TEXT_KEYWORDS' keywords; each keyword with its words
_TOKENS = sorted({token for keys in AREA_TEXT_KEYWORDS.values() for key in keys for token in key.split()})
_KEYWORD_TOKENS = [(area, key, frozenset(key.split())) for area, keys in AREA_TEXT_KEYWORDS.items() for key in keys]


class _TokensIn(dict):
    """folded word -> the keywords' words it contains, per process (the words of prose recur)."""

    MAX_WORDS = 200_000

    def __missing__(self, word: str) -> frozenset[str]:
        if len(self) >= self.MAX_WORDS:
            self.clear()
        tokens = self[word] = frozenset(token for token in _TOKENS if token in word)
        return tokens


_TOKENS_IN = _TokensIn()


_AREA_RANK = {area: i for i, area in enumerate(AREAS)}


def _by_hits(item: tuple[str, int]) -> tuple[int, int]:
    return -item[1], _AREA_RANK[item[0]]


def _section(node: Node, area: str, kind: str, basis: str, aspect: str | None = None, hits=None,
             text: str | None = None) -> dict:
    return {
        "id": node.id,
        "area": area,
        "kind": kind,
        "aspect": aspect,
        "heading": node.heading,
        "path": [a.heading for a in node.ancestors()],
        "text": node.text() if text is None else text,
        "first_line": node.first_line,
        "last_line": node.last_line,
        "area_basis": basis,
        "area_keyword_hits": hits or {},
        "notes": list(node.notes),
    }


def _kinds_below(node: Node, below: dict[int, set[str]]) -> set[str]:
    """Fill ``below`` (id of a node -> the kinds its descendants' headings name) for ``node``'s subtree, in one walk;
    return those of ``node`` and its descendants."""
    kinds: set[str] = set()
    for child in node.children:
        kinds |= _kinds_below(child, below)
    below[id(node)] = kinds
    own = _heading_kind(node)
    return kinds | {own} if own else kinds


def _with_rule(ctx: dict, rule: dict) -> dict:
    """The context under a heading that matches a CONTEXT_RULES entry."""
    ctx = dict(ctx)
    for key in ("kind", "default_kind", "aspect_from_kind"):
        if key in rule:
            ctx[key] = rule[key]
    if rule.get("items"):
        ctx["items"] = True
        ctx["aspect_from_kind"] = False
        ctx.pop("area", None)
    if "area" in rule:
        ctx["area"], ctx["area_basis"] = rule["area"], "heading"
    return ctx


def _visit_items(node: Node, ctx: dict, rule: dict | None, sections: list[dict], below: dict) -> None:
    """Under a list heading: one section per item, its area from its keywords."""
    if node.inline or (rule is not None and not node.children and node.body):
        text = node.text()
        area, hits = item_area(text)
        sections.append(_section(node, area, ctx["kind"], "keywords" if area != "general" else "none", hits=hits,
                                 text=text))
        return
    for child in node.children:
        _visit(child, ctx, sections, below)


def _visit(node: Node, ctx: dict, sections: list[dict], below: dict) -> None:
    rule = _context_rule(node)
    ctx = _with_rule(ctx, rule) if rule else dict(ctx)
    if ctx.get("items"):
        _visit_items(node, ctx, rule, sections, below)
        return
    area_h = _heading_area(node)
    if area_h and ctx.get("area") != "general":
        ctx["area"], ctx["area_basis"] = area_h, "heading"
    kinds = below[id(node)]
    kind = _heading_kind(node) or (ctx.get("default_kind") if kinds <= {ctx.get("default_kind")} else None)
    if kind and ctx.get("area") and kinds <= {kind}:
        basis = ctx.get("area_basis", "heading")
        if ctx.get("kind") and ctx.get("aspect_from_kind"):
            sections.append(_section(node, ctx["area"], ctx["kind"], basis, aspect=kind))
        else:
            sections.append(_section(node, ctx["area"], kind, basis))
        return
    for child in node.children:
        _visit(child, ctx, sections, below)


def build_sections(outline: Outline) -> list[dict]:
    """Map outline nodes to (area, kind) sections. A node is emitted whole when every kind named below it is
    its own kind; otherwise its children are examined. Nodes with no area or no kind are not emitted."""
    sections: list[dict] = []
    below: dict[int, set[str]] = {}
    _kinds_below(outline.root, below)
    for part in outline.root.children:
        _visit(part, {}, sections, below)
    return sections


def line_areas(outline: Outline, sections: list[dict] | None = None) -> dict[int, tuple[str, str]]:
    """1-based line -> (section id, area) of the section it is in (``sections``: the outline's, when built)."""
    out: dict[int, tuple[str, str]] = {}
    for s in build_sections(outline) if sections is None else sections:
        for ln in range(s["first_line"], s["last_line"] + 1):
            out[ln] = (s["id"], s["area"])
    return out


