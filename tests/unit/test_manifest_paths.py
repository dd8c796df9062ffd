"""Finding the reports resolves each folder once (``read.manifest.resolved``): the same answers as ``Path.resolve``
for links to folders and files, links in links, relative, missing and '..' paths; and a link out of a district
folder is refused even into a folder whose name begins like it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cchc_analysis.errors import CchcError
from cchc_analysis.read.manifest import raw_file, resolved


@pytest.fixture
def tree(tmp_path, monkeypatch) -> Path:
    (tmp_path / "real" / "sub").mkdir(parents=True)
    (tmp_path / "real" / "sub" / "a.txt").write_text("a", encoding="utf-8")
    (tmp_path / "link").symlink_to(tmp_path / "real", target_is_directory=True)
    (tmp_path / "real" / "to-a").symlink_to("sub/a.txt")
    (tmp_path / "real" / "via").symlink_to(tmp_path / "link" / "sub", target_is_directory=True)
    (tmp_path / "loop").symlink_to("loop")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_resolved_is_what_resolve_says(tree):
    known: dict[str, str] = {}
    for path in ["real/sub/a.txt", "link/sub/a.txt", "link/to-a", "link/via/a.txt", "link/missing/b.txt",
                 "real/sub/../sub/a.txt", ".", "link", tree / "link" / "via", "real/to-a/x"]:
        assert resolved(Path(path), known) == str(Path(path).resolve()), path
    assert _outcome(lambda: resolved(Path("loop") / "x", known)) == _outcome(lambda: str(Path("loop/x").resolve()))


def _outcome(function):
    """What ``function`` returns, or the type of error it raises (a link loop: as this Python's ``resolve``)."""
    try:
        return function()
    except Exception as exc:  # noqa: BLE001
        return type(exc)


def test_a_link_out_of_its_folder_is_refused_into_a_like_named_one(tree):
    (tree / "d").mkdir()
    (tree / "dd").mkdir()
    (tree / "dd" / "r.txt").write_text("r", encoding="utf-8")
    (tree / "d" / "r.txt").symlink_to(tree / "dd" / "r.txt")
    with pytest.raises(CchcError, match="leads outside the district folder"):
        raw_file(tree / "d" / "manifest.json", {"file": "r.txt"}, {})
    os.unlink(tree / "d" / "r.txt")
    (tree / "d" / "r.txt").write_text("r", encoding="utf-8")
    assert raw_file(tree / "d" / "manifest.json", {"file": "r.txt"}, {}) == tree / "d" / "r.txt"
