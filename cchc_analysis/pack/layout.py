"""Page fragments from Jinja2 templates (``templates/views/``, autoescape on): Python computes rows and figures as
plain dicts and lists, a template macro lays them out; nothing here or in views.py writes a tag.

Template sources are joined line by line when loaded (a newline and the indentation after it are dropped), so a
template can be written one element a line and still give the compact HTML the pages have always had.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import jinja2
from jinja2.ext import Extension
from markupsafe import Markup

VIEWS_DIR = Path(__file__).resolve().parent / "templates" / "views"


class JoinLines(Extension):
    """Drop each line break of a template source and the indentation that follows it."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        return re.sub(r"\n[ \t]*", "", source)


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(VIEWS_DIR)), autoescape=True,
                              undefined=jinja2.StrictUndefined, extensions=[JoinLines])


def _entities(text: str) -> Markup:
    """Quotes escaped as ``html.escape`` writes them (``&quot;``, ``&#x27;``), as the pages always had them;
    MarkupSafe writes ``&#34;`` and ``&#39;``. Both only ever come from escaping, never from data."""
    return Markup(text.replace("&#34;", "&quot;").replace("&#39;", "&#x27;"))


def macro(template: str, name: str, *args, **kwargs) -> Markup:
    """Call one macro of a template under ``templates/views/`` and return its HTML."""
    return _entities(str(getattr(environment().get_template(template).module, name)(*args, **kwargs)))


def page(template: str, **context) -> str:
    """A whole document from a template under ``templates/views/`` (the PDF's source)."""
    return str(_entities(environment().get_template(template).render(**context)))
