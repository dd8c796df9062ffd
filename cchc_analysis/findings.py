"""One finding of a check (tables, prose, year data): the rows of quality.csv.

A finding is structured: what was checked, how bad, where (appendix, indicator ids, year, Phụ lục 8 target, the
report's lines) and what was found as a message key with its parameters. The wording lives in one catalog
(``messages.yaml``, Vietnamese and English), so every page can word a finding in its own language; the English
``message`` of quality.csv is rendered from it. Nothing reads message text back.

A parameter is a plain value (text, or a number already formatted as the check prints it) or a nested message
``{"key": ..., "params": {...}}``, rendered in the same language: optional clauses ("; 2 part(s) left blank") are
nested messages or the empty text; a list is rendered item by item, joined by "; ".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from json.encoder import c_make_encoder, encode_basestring
from pathlib import Path

import yaml

SEVERITIES = ("error", "warning", "info", "ok")
LANGUAGES = ("en", "vi")
CATALOG_FILE = Path(__file__).parent / "messages.yaml"
# what json.dumps(params, ensure_ascii=False, sort_keys=True, separators=(",", ":")) would build for every finding:
# the C encoder that JSONEncoder.encode makes for each call, made once (no circular check: params are trees)
_PARAMS_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))
_ENCODE_PARAMS = (c_make_encoder(None, _PARAMS_JSON.default, encode_basestring, None, ":", ",", True, False, True)
                  if c_make_encoder is not None else None)


def load_yaml(text: str):
    """``yaml.safe_load`` with libyaml's parser where PyYAML has it: the same data, several times faster (the
    package's catalogs and rules are read once per process, and a worker process is one)."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@lru_cache(maxsize=1)
def message_catalog() -> dict[str, dict[str, str]]:
    """key -> {language: template}; templates name their parameters as ``{name}``."""
    return load_yaml(CATALOG_FILE.read_text(encoding="utf-8"))


def nested(key: str, **params) -> dict:
    """A message used as the parameter of another one."""
    return {"key": key, "params": params}


def render(key: str, params: dict, lang: str = "en") -> str:
    """The message ``key`` worded in ``lang`` with ``params`` (nested messages rendered the same way)."""
    template = message_catalog()[key][lang]
    # most parameters are plain values: only the nested ones go through _rendered
    return template.format_map({name: _rendered(value, lang) if isinstance(value, _NESTED) else value
                                for name, value in params.items()})


_NESTED = (dict, list)


def _rendered(value, lang: str):
    if isinstance(value, dict):
        return render(value["key"], value["params"], lang)
    if isinstance(value, list):
        return "; ".join(_rendered(item, lang) for item in value)
    return value


@dataclass(frozen=True, init=False)
class Finding:
    district: str
    check: str
    severity: str
    key: str
    params: dict = field(default_factory=dict)
    appendix: int | None = None
    indicator_ids: tuple[str, ...] = ()
    year: int | None = None
    target: int | None = None
    source_lines: tuple[int, ...] = ()

    def __init__(self, district: str, check: str, severity: str, key: str, params: dict | None = None,
                 appendix: int | None = None, indicator_ids: tuple[str, ...] = (), year: int | None = None,
                 target: int | None = None, source_lines: tuple[int, ...] = ()):
        """The fields set in one step: a frozen dataclass' own ``__init__`` sets them one at a time through
        ``object.__setattr__``, which cost more than the rest of making a finding (a report has a hundred)."""
        if key not in message_catalog():
            raise ValueError(f"finding message key {key!r} has no wording in {CATALOG_FILE.name}")
        self.__dict__.update(district=district, check=check, severity=severity, key=key,
                             params={} if params is None else params, appendix=appendix, indicator_ids=indicator_ids,
                             year=year, target=target, source_lines=source_lines)

    @property
    def indicator_id(self) -> str:
        """The indicator the finding is filed under (the first of those it names)."""
        return self.indicator_ids[0] if self.indicator_ids else ""

    def message(self, lang: str = "en") -> str:
        return render(self.key, self.params, lang)

    def as_row(self) -> dict:
        # by hand: dataclasses.asdict deep-copies field by field, a real cost with a corpus' findings
        lines = self.source_lines
        message, params = _row_texts(self.key, self.params)
        return {"district": self.district, "check": self.check, "severity": self.severity,
                "appendix": self.appendix, "indicator_id": self.indicator_ids[0] if self.indicator_ids else "",
                "year": self.year, "target": self.target, "message": message, "message_key": self.key,
                "params": params, "source_lines": ";".join(map(str, sorted(set(lines)))) if len(lines) > 1 else
                                                  (str(lines[0]) if lines else "")}


def _params_json(params: dict) -> str:
    if _ENCODE_PARAMS is None:
        return _PARAMS_JSON.encode(params)
    return "".join(_ENCODE_PARAMS(params, 0))



_TEXT = frozenset({str})


def _row_texts(key: str, params: dict) -> tuple[str, str]:
    """``render(key, params)`` and ``_params_json(params)`` in one walk: a nested message of plain texts (an
    indicator's name, a clause) recurs in many findings of a report (every period of a row), so it is worded and
    encoded once per process (``_nested_texts``); the rest is what the encoder does (keys sorted, compact). The
    plain texts are the message's parameters as they are (``shown``: a copy only where some are not)."""
    shown, encoded = None, []
    for name, head in _layout(tuple(params)):
        value = params[name]
        if value.__class__ is str:
            encoded.append(head + encode_basestring(value))
            continue
        if shown is None:
            shown = params.copy()
        texts = _nested_texts(value) if value.__class__ is dict and len(value) == 2 else None
        if texts is None:  # a number, a list, a nested message with other values: as render and the encoder take them
            texts = _rendered(value, "en"), _params_json(value)
        shown[name] = texts[0]
        encoded.append(head + texts[1])
    return message_catalog()[key]["en"].format_map(params if shown is None else shown), "{" + ",".join(encoded) + "}"


@lru_cache(maxsize=1024)
def _layout(names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """A finding's parameter names as the encoder orders them, each with its encoded key: a check gives its
    findings the same names, so they are sorted and encoded once per process."""
    return tuple((name, f"{encode_basestring(name)}:") for name in sorted(names))


_NESTED_TEXTS: dict[tuple, tuple[str, str]] = {}


def _nested_texts(value: dict) -> tuple[str, str] | None:
    """The worded and encoded texts of a nested message (a dict of two items) whose parameters are all texts (None
    for any other value).
    Looked up before its values' types are asked: a key of texts only equals no key holding a number or None."""
    try:
        key = (value["key"], tuple(value["params"].items()))
        texts = _NESTED_TEXTS.get(key)
    except (KeyError, TypeError, AttributeError):  # not a nested message, or one holding a list or a message
        return None
    if texts is None and _TEXT.issuperset(map(type, value["params"].values())):
        if len(_NESTED_TEXTS) >= 8192:  # (bounded: a worker judges hundreds of reports)
            _NESTED_TEXTS.clear()
        params = value["params"]
        texts = _NESTED_TEXTS[key] = render(key[0], params), _params_json({"key": key[0], "params": params})
    return texts
