"""A corpus rebuilt from cached per-report results is the corpus built from scratch, byte for byte; the cache never
trusts an entry it cannot vouch for; the writer's shortcuts (pieces, worker processes) change no byte; the workbook
keeps what a spreadsheet can use and says where the rest is. Fixtures: SYNTHETIC districts beside the reference."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pickle
import shutil
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from cchc_analysis.cli import main as cli_main
from cchc_analysis.dataset import io
from cchc_analysis.dataset.blobs import Segment
from cchc_analysis.dataset.cache import FORMAT, ResultCache
from cchc_analysis.dataset.package import write_workbook
from cchc_analysis.synthetic import synthetic_report, write_corpus
from cchc_analysis.workflow import evaluated_dataset, parse_and_write

ROOT = Path(__file__).resolve().parents[2]


def snapshot(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def change_district(folder: Path, reference_path: Path, seed: int) -> None:
    """Replace the district's report by another synthetic one (other figures); the manifest records it."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    entry = next(e for e in manifest["files"] if e.get("kind", "report") == "report")
    data = synthetic_report(reference_path.read_text(encoding="utf-8"), manifest["district"], seed).encode()
    (folder / entry["file"]).write_bytes(data)
    entry["sha256"] = hashlib.sha256(data).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


@pytest.fixture
def corpus(tmp_path, reference_path) -> Path:
    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "data" / "raw" / "tuan-giao", raw / "tuan-giao")  # the real one: curated facts too
    write_corpus(reference_path, raw, 3)
    return raw


def test_cold_warm_and_changed_builds_are_byte_identical(corpus, tmp_path, reference_path):
    cache = tmp_path / "cache"
    parse_and_write([corpus], tmp_path / "cold", cache)
    entries = sorted(p.name for p in cache.glob("*.entry"))
    assert len(entries) == 4
    parse_and_write([corpus], tmp_path / "warm", cache)
    assert snapshot(tmp_path / "warm") == snapshot(tmp_path / "cold")

    change_district(corpus / "synthetic-002", reference_path, seed=4242)
    parse_and_write([corpus], tmp_path / "changed", cache)
    parse_and_write([corpus], tmp_path / "scratch", None)
    assert snapshot(tmp_path / "changed") == snapshot(tmp_path / "scratch")
    assert snapshot(tmp_path / "changed") != snapshot(tmp_path / "cold")
    # one entry replaced, the three others reused (the stale one is kept, within the bound, for a switch back)
    after = sorted(p.name for p in cache.glob("*.entry"))
    assert len(set(after) - set(entries)) == 1 and set(entries) <= set(after)


def test_only_the_changed_report_is_read_again(corpus, tmp_path, reference_path, monkeypatch):
    from cchc_analysis.dataset import build

    cache = tmp_path / "cache"
    evaluated_dataset([corpus], cache)
    change_district(corpus / "synthetic-001", reference_path, seed=99)
    read = []
    original = build.parse_report
    monkeypatch.setattr(build, "parse_report", lambda report: read.append(report.path.name) or original(report))
    evaluated_dataset([corpus], cache, workers=1)
    assert read == ["synthetic-001-bao-cao.txt"]


@dataclasses.dataclass
class Stored:
    """A result without texts (what the cache asks of a result: it can be told where its segments are)."""
    n: int

    def with_segments(self, move):
        return self


def _entry(folder: Path, key: str, result: object) -> bytes:
    header = pickle.dumps({"format": FORMAT, "key": key, "path": os.path.abspath(folder / f"{key}.entry"),
                           "result": result})
    return (0).to_bytes(8, "little") + len(header).to_bytes(8, "little") + header


def _header(data: bytes) -> dict:
    body, length = int.from_bytes(data[:8], "little"), int.from_bytes(data[8:16], "little")
    return pickle.loads(data[16 + body:16 + body + length])


@pytest.mark.parametrize("damage", ["truncated", "garbage", "foreign key", "other format", "not validated",
                                    "moved", "longer"])
def test_a_damaged_foreign_or_unvalidated_entry_is_rebuilt_not_trusted(damage, corpus, tmp_path):
    cache = tmp_path / "cache"
    parse_and_write([corpus], tmp_path / "cold", cache)
    victim = sorted(cache.glob("*.entry"))[0]
    data = victim.read_bytes()
    header = _header(data)
    if damage == "not validated":  # written by a run killed before its rows were checked against the schema
        ResultCache(cache).invalidate([victim.stem])
    else:
        victim.write_bytes({
            "truncated": data[: len(data) - 10],
            "garbage": b"not an entry",
            "foreign key": data.replace(header["key"].encode(), b"0" * 64, 1),
            "other format": data.replace(FORMAT.encode(), b"cchc-parse-cache/0", 1),
            "moved": data.replace(header["path"].encode(), header["path"].replace("cache", "cachf").encode()),
            "longer": data + b"\0",
        }[damage])
    parse_and_write([corpus], tmp_path / "again", cache)
    assert snapshot(tmp_path / "again") == snapshot(tmp_path / "cold")
    assert victim.read_bytes() == data and victim.stem in ResultCache(cache).valid  # rewritten whole, valid again


def _break_rows(monkeypatch, district: str | None = None):
    """Make the rows of ``district`` (None: of every district) break the schema (a unit no spec has); returns the
    unbroken ``district_result``."""
    from cchc_analysis.dataset import build

    original = build.district_result

    def broken(task):
        one = original(task)
        if district is None or one.meta.district == district:
            frame = build.to_frame([one.parts["indicators"]], "indicators")
            frame.loc[0, "unit"] = "furlongs"
            one.parts["indicators"] = build.from_frame(frame, "indicators")
        return one

    monkeypatch.setattr(build, "district_result", broken)
    return original


def test_a_district_whose_rows_break_the_schema_leaves_no_valid_entry(corpus, tmp_path, monkeypatch):
    from cchc_analysis.dataset import build
    from cchc_analysis.errors import CchcError

    original = _break_rows(monkeypatch, "Tổng Hợp 002")
    with pytest.raises(CchcError, match="synthetic-002.*unit"):
        parse_and_write([corpus], tmp_path / "out", tmp_path / "cache", workers=1)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    assert list((tmp_path / "cache").glob("*.entry")) and not ResultCache(tmp_path / "cache").valid
    monkeypatch.setattr(build, "district_result", original)
    parse_and_write([corpus], tmp_path / "out", tmp_path / "cache", workers=1)  # read again, not trusted
    parse_and_write([corpus], tmp_path / "scratch", None, workers=1)
    assert snapshot(tmp_path / "out") == snapshot(tmp_path / "scratch")


def test_a_valid_entry_computed_again_is_valid_only_once_its_rows_pass_again(corpus, tmp_path, monkeypatch):
    from cchc_analysis.errors import CchcError

    cache = tmp_path / "cache"
    parse_and_write([corpus], tmp_path / "out", cache, workers=1)
    valid = ResultCache(cache).valid
    victims = [p for p in cache.glob("*.entry") if p.stem in valid]
    for victim in victims:
        victim.write_bytes(b"damaged")  # every district computed again
    _break_rows(monkeypatch)
    with pytest.raises(CchcError, match="unit"):
        parse_and_write([corpus], tmp_path / "out", cache, workers=1)
    assert not ResultCache(cache).valid & {p.stem for p in victims}


def test_prune_keeps_a_bounded_number_of_unused_entries(tmp_path):
    for i in range(40):
        (tmp_path / f"{i:064d}.entry").write_bytes(_entry(tmp_path, f"{i:064d}", Stored(i)))
    ResultCache(tmp_path).commit([f"{i:064d}" for i in range(40)] + ["e" * 64])  # (an entry since removed)
    (tmp_path / f"{5:064d}.ok").touch()  # a validity marker of an older format
    (tmp_path / "old-format.pkl").write_bytes(b"an entry of cchc-parse-cache/2")
    (tmp_path / ".tmp-stray").write_bytes(b"half written by a run killed long ago")
    os.utime(tmp_path / ".tmp-stray", (0, 0))
    (tmp_path / ".tmp-writing").write_bytes(b"being written by a run now")
    fresh = ResultCache(tmp_path)
    assert fresh.get(f"{3:064d}") == Stored(3) and fresh.get("f" * 64) is None
    removed = fresh.prune()
    left = sorted(p.stem for p in tmp_path.glob("*.entry"))
    assert sorted(ResultCache(tmp_path).valid) == left and not list(tmp_path.glob("*.ok"))
    assert f"{3:064d}" in left and not (tmp_path / ".tmp-stray").exists() and (tmp_path / ".tmp-writing").exists()
    assert not (tmp_path / "old-format.pkl").exists()
    assert len(left) == 1 + len(fresh.used) + 16 and removed == (40 - len(left)) + 3


def test_a_run_without_cache_leaves_no_folder_behind(corpus, tmp_path):
    import tempfile

    before = set(Path(tempfile.gettempdir()).glob("cchc-parse-*"))
    parse_and_write([corpus], tmp_path / "out", None)
    evaluated_dataset([corpus])
    assert set(Path(tempfile.gettempdir()).glob("cchc-parse-*")) == before


def test_a_report_that_is_a_pipe_is_the_parse_error_not_a_hang(corpus, tmp_path):
    from cchc_analysis.errors import CchcError

    report = corpus / "synthetic-001" / "synthetic-001-bao-cao.txt"
    report.unlink()
    os.mkfifo(report)
    with pytest.raises(CchcError, match="not a regular file"):
        parse_and_write([corpus], tmp_path / "out", tmp_path / "cache")


def test_cli_parse_cache_options(corpus, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli_main(["parse", str(corpus), "--out", "a", "--no-cache"]) == 0
    assert not (tmp_path / ".build").exists()
    assert cli_main(["parse", str(corpus), "--out", "b"]) == 0
    assert len(list((tmp_path / ".build" / "parse").glob("*.entry"))) == 4
    assert cli_main(["parse", str(corpus), "--out", "c", "--cache-dir", "elsewhere"]) == 0
    assert len(list((tmp_path / "elsewhere").glob("*.entry"))) == 4
    assert snapshot(tmp_path / "a") == snapshot(tmp_path / "b") == snapshot(tmp_path / "c")


def test_pieces_and_worker_processes_change_no_byte(corpus, tmp_path, monkeypatch):
    from cchc_analysis import workflow
    from cchc_analysis.dataset import build

    dataset = evaluated_dataset([corpus])
    io.write_dataset(dataset, tmp_path / "plain", workers=1)
    used = []
    monkeypatch.setattr(workflow, "sheet_pieces", lambda results: used.append(build.sheet_pieces(results)) or used[-1])
    parse_and_write([corpus], tmp_path / "pieces", None)  # CSV, JSON and workbook rows formatted per district
    assert snapshot(tmp_path / "pieces") == snapshot(tmp_path / "plain")
    assert {"indicators", "quality", "targets", "evaluation"} <= set(used[-1])  # a small corpus: its large tables too
    # districts that did not format them (cached for a large corpus): the workbook formats them whole
    monkeypatch.setattr(build, "fits_workbook", lambda rows, corpus_size: False)
    parse_and_write([corpus], tmp_path / "whole", None)
    assert not {"indicators", "quality"} & set(used[-1]) and "targets" in used[-1]
    assert snapshot(tmp_path / "whole") == snapshot(tmp_path / "plain")
    monkeypatch.setattr(io, "PARALLEL_WRITE_ROWS", 0)
    monkeypatch.setattr(io, "CSV_PIECE_ROWS", 97)  # several pieces per file, joined
    io.write_dataset(dataset, tmp_path / "forked", workers=2)
    assert snapshot(tmp_path / "forked") == snapshot(tmp_path / "plain")


def test_a_table_beyond_the_workbook_has_no_frame_built_for_it(corpus, tmp_path, monkeypatch):
    """A large corpus: its districts format no sheet rows of the quality findings (nor of the observations), and the
    workbook leaves them out: the build reads no frame of them back from their CSV pieces, and writes the same
    bytes."""
    from cchc_analysis.dataset import package, parts

    # the workbook leaves quality, indicators and facts out; the districts format none of their rows (one budget)
    monkeypatch.setattr(package, "WORKBOOK_ROW_BUDGET", 100)
    io.write_dataset(evaluated_dataset([corpus]), tmp_path / "plain", workers=1)
    read_back = []
    original = parts.table_from_csv
    monkeypatch.setattr(parts, "table_from_csv", lambda *a, **k: read_back.append(a[2]) or original(*a, **k))
    parse_and_write([corpus], tmp_path / "pieces", None)
    assert snapshot(tmp_path / "pieces") == snapshot(tmp_path / "plain")
    assert read_back == []
    assert not {"quality", "indicators"} & set(pd.ExcelFile(tmp_path / "pieces" / package.WORKBOOK).sheet_names)


def test_csv_pieces_of_other_dtypes_are_not_used(tmp_path):
    frame = pd.DataFrame({"a": [1.0, 2.5], "b": ["x", "y"]})
    one = pd.DataFrame({"a": [1], "b": ["x"]})  # int64: would print 1, where the table prints 1.0
    piece = (tuple(map(str, one.dtypes)), 1, one.to_csv(index=False, header=False))
    assert not io._usable(frame, [piece, piece])
    same = [(tuple(map(str, frame.dtypes)), 1, frame.iloc[[i]].to_csv(index=False, header=False, lineterminator="\n"))
            for i in range(2)]
    assert not io._usable(frame, same[:1])  # rows missing
    assert io._usable(frame, same)
    header = frame.iloc[0:0].to_csv(index=False, lineterminator="\n")
    io.write_files([(tmp_path / "a.csv", [header] + [text for _, _, text in same])])
    assert (tmp_path / "a.csv").read_bytes() == frame.to_csv(index=False, lineterminator="\n").encode()


def test_the_writer_begins_the_pieces_files_before_the_dataset_and_checks_them_against_it(corpus, tmp_path):
    from cchc_analysis.dataset import build
    from cchc_analysis.workflow import evaluate_one

    with ResultCache(tmp_path / "cache") as cache:
        results = build.district_results(build.discover([corpus]), True, None, cache, then=evaluate_one)
        dataset = build.assemble(results)
        io.write_dataset(dataset, tmp_path / "plain")
        with io.DatasetWriter(tmp_path / "early") as writer:  # its copier started before the pieces are known
            writer.use_pieces(build.csv_pieces(results), build.sheet_pieces(results))
            writer.begin("indicators", dataset.indicators)  # its Parquet file, while the rest would be built
            # begun with the pieces alone, by a process of its own: written before the dataset is given
            assert {"cells", "indicators", "quality", "sections"} <= writer._copied()
            assert (writer.staging / "cells.csv").stat().st_size > 0
            assert not (tmp_path / "early" / "cells.csv").exists()  # nothing in place before ``write``
            writer.write(dataset)
        assert snapshot(tmp_path / "early") == snapshot(tmp_path / "plain")
        assert [p.name for p in (tmp_path / "early").iterdir() if p.name.startswith(".")] == []

        # a table that does not match its pieces (a row fewer) is written from its frame, over the early file; a
        # Parquet file begun from another frame than the dataset's is written anew from the dataset's
        fewer = dataclasses.replace(dataset, cells=dataset.cells.iloc[1:].reset_index(drop=True),
                                    indicators=dataset.indicators.iloc[1:].reset_index(drop=True))
        with io.DatasetWriter(tmp_path / "fewer") as writer:
            writer.use_pieces(build.csv_pieces(results))
            writer.begin("indicators", dataset.indicators)
            writer.write(fewer)
        assert (tmp_path / "fewer" / "cells.csv").read_bytes() == \
            fewer.cells.to_csv(index=False, lineterminator="\n").encode()
        assert len(pd.read_parquet(tmp_path / "fewer" / "indicators.parquet")) == len(fewer.indicators)

        # a copier that could not do its work (here: no such file to copy from) leaves the files to ``write``
        broken = build.csv_pieces(results)
        broken["cells"] = [(dtypes, n, Segment(str(tmp_path / "gone"), text.offset, text.length))
                           for dtypes, n, text in broken["cells"]]
        with io.DatasetWriter(tmp_path / "broken") as writer:
            writer.use_pieces(broken)
            assert writer._copied() == set()
            with pytest.raises(OSError, match="gone"):
                writer.write(dataset)
        assert not (tmp_path / "broken").exists()

        # left without ``write`` (the dataset could not be built): nothing written, no staging folder left
        with pytest.raises(RuntimeError), io.DatasetWriter(tmp_path / "failed") as writer:
            copier = writer._copier
            raise RuntimeError("assembling failed")  # before the pieces were known
        assert not (tmp_path / "failed").exists() and copier.returncode is not None  # nor a process left
        with pytest.raises(RuntimeError), io.DatasetWriter(tmp_path / "failed") as writer:
            writer.use_pieces(build.csv_pieces(results))
            raise RuntimeError("assembling failed")
        assert not (tmp_path / "failed").exists()


def test_workbook_keeps_what_fits_and_says_where_the_rest_is(tmp_path):
    small = pd.DataFrame({"district": ["Tuần Giáo", " lề ", "a & <b>"], "value": [1.5, None, 3.0],
                          "flag": [True, False, None], "text": ["x\x01y", "=1+1", "http://example.org"]})
    big = pd.DataFrame({"district": ["d"] * 30, "value": range(30)})
    frames = {"districts": small, "indicators": big}
    write_workbook(frames, tmp_path / "a.xlsx", budget=10)
    write_workbook(frames, tmp_path / "b.xlsx", budget=10)
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    book = load_workbook(tmp_path / "a.xlsx")
    assert book.sheetnames == ["README", "districts"]
    readme = pd.read_excel(tmp_path / "a.xlsx", sheet_name="README", keep_default_na=False)
    left_out = readme[readme["title"].str.startswith("Observations")].iloc[0]
    assert left_out["sheet"] == "" and left_out["rows"] == 30
    assert "indicators.csv, indicators.parquet" in left_out["note"]
    sheet = book["districts"]
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.b
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert rows == [["Tuần Giáo", 1.5, True, "x_x0001_y"], [" lề ", None, False, "=1+1"],
                    ["a & <b>", 3, None, "http://example.org"]]
    assert sheet["D3"].data_type == "s"  # text stays text, never a formula
    streamed = load_workbook(tmp_path / "a.xlsx", read_only=True)["districts"]
    assert (streamed.max_row, streamed.max_column) == (4, 4)  # sized by its dimension, as Excel does


def test_a_warm_dataset_in_memory_is_the_cold_one(corpus, tmp_path, reference_path):
    """What the pack and notebooks get from ``evaluated_dataset`` (frames built from the cached Arrow pieces) is the
    dataset built without a cache: the same values and dtypes."""
    cache = tmp_path / "cache"
    evaluated_dataset([corpus], cache)
    change_district(corpus / "synthetic-003", reference_path, seed=7)
    warm, scratch = evaluated_dataset([corpus], cache), evaluated_dataset([corpus], None)
    for name in ("indicators", "quality", "targets", "tables", "cells", "districts", "facts", "evaluation",
                 "evaluation_parts", "observations"):
        pd.testing.assert_frame_equal(getattr(warm, name), getattr(scratch, name), check_exact=True)
    assert warm.sections == scratch.sections


def test_a_districts_arrow_batches_are_read_in_one_go_and_give_the_same_frames(corpus, tmp_path):
    from cchc_analysis.dataset.build import district_results
    from cchc_analysis.dataset.parts import to_frame
    from cchc_analysis.read.manifest import discover
    from cchc_analysis.workflow import evaluate_one

    with ResultCache(tmp_path / "cache") as cache:
        district_results(discover([corpus]), True, 1, cache, then=evaluate_one)
    with ResultCache(tmp_path / "cache") as cache:
        results = district_results(discover([corpus]), True, 1, cache, then=evaluate_one)
        assert cache.hits == 4
        stored = [cache.get(one.key) for one in results]  # as the entries hold them: a segment per batch
        for one, entry in zip(results, stored):
            assert all(isinstance(part.arrow, Segment) for part in entry.parts.values())
            assert not any(isinstance(part.arrow, Segment) for part in one.parts.values())
            for name in one.parts:
                pd.testing.assert_frame_equal(to_frame([one.parts[name]], name), to_frame([entry.parts[name]], name))
        first, *_ = stored[0].parts
        gap = {**stored[0].parts, first: dataclasses.replace(stored[0].parts[first], arrow=stored[0].sections[1])}
        scattered = dataclasses.replace(stored[0], parts=gap)  # batches not one span: each read for its frame
        assert scattered.with_arrow_read() is scattered


def test_reports_are_hashed_again_only_when_they_change(corpus, tmp_path, reference_path, monkeypatch):
    from cchc_analysis.dataset import cache as cache_module

    monkeypatch.setattr(cache_module.HashIndex, "MARGIN_NS", 0)  # (the reports were written a moment ago)
    hashed = []
    original = cache_module._report_digest
    monkeypatch.setattr(cache_module, "_report_digest", lambda path: hashed.append(path.name) or original(path))
    parse_and_write([corpus], tmp_path / "cold", tmp_path / "cache")
    assert len(hashed) == 4 and (tmp_path / "cache" / "hashes.json").exists()
    hashed.clear()
    parse_and_write([corpus], tmp_path / "warm", tmp_path / "cache")
    assert hashed == []  # every report vouched for by what stat says of it
    report = corpus / "synthetic-002" / "synthetic-002-bao-cao.txt"
    before = report.stat()
    data = report.read_bytes()
    report.write_bytes(data.replace("Tổng Hợp".encode(), "Tổng Hộp".encode(), 1))  # same size, other bytes
    os.utime(report, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the same modification time
    assert report.stat().st_size == before.st_size
    from cchc_analysis.errors import CchcError

    with pytest.raises(CchcError, match="checksum mismatch"):  # its change time gave it away: read, and refused
        parse_and_write([corpus], tmp_path / "changed", tmp_path / "cache")
    assert hashed == ["synthetic-002-bao-cao.txt"]


def test_a_damaged_hash_index_is_ignored(corpus, tmp_path):
    parse_and_write([corpus], tmp_path / "cold", tmp_path / "cache")
    (tmp_path / "cache" / "hashes.json").write_text("{not json", encoding="utf-8")
    parse_and_write([corpus], tmp_path / "again", tmp_path / "cache")
    assert snapshot(tmp_path / "again") == snapshot(tmp_path / "cold")


def test_tables_written_from_their_pieces_alone_get_no_batches_nor_frames(corpus, tmp_path):
    from cchc_analysis.dataset import build
    from cchc_analysis.read.manifest import discover
    from cchc_analysis.workflow import PIECES_ONLY, evaluate_one

    assert {"cells", "evaluation_parts", "tables", "quality"} <= set(PIECES_ONLY) and "indicators" not in PIECES_ONLY
    as_text = dict(index=False, lineterminator="\n")
    framed = evaluated_dataset([corpus])
    with ResultCache(tmp_path / "cache") as cache:
        results = build.district_results(discover([corpus]), True, 1, cache, then=evaluate_one, unframed=PIECES_ONLY)
        lean = [(name, one.parts[name]) for one in results for name in PIECES_ONLY if name in one.parts]
        assert lean and not any(part.has_batch for _, part in lean)
        assert all(part.has_batch for one in results for name, part in one.parts.items() if name not in PIECES_ONLY)
        left = build.assemble(results, unframed=PIECES_ONLY)
        assert left.cells is None and left.evaluation_parts is None and left.tables is None
        assert left.targets is None and left.evaluation is None and left.quality is None
        for table, column in build.TALLIED.items():  # what the summary counts, counted without the frames
            expected = getattr(framed, table)[column].value_counts()
            assert list(build.corpus_tally(table, results).items()) == list(expected.items())
        assert build.corpus_rows("cells", results) == len(framed.cells)
        asked = build.assemble(results)  # their frames asked all the same: read back from their CSV text
        for table in ("cells", "quality"):  # (the same values: an empty text stays empty, a missing one missing)
            pd.testing.assert_frame_equal(getattr(asked, table), getattr(framed, table))
        results[1].own_rows = False  # a district holding rows of another: its cells are sorted again, as frames
        assert build.assemble(results, unframed=PIECES_ONLY).cells.to_csv(**as_text) == \
            framed.cells.to_csv(**as_text)
    with ResultCache(tmp_path / "cache") as cache:  # entries without batches never serve a build that wants them
        again = build.district_results(discover([corpus]), True, 1, cache, then=evaluate_one)
        assert all(one.fresh and one.parts["cells"].has_batch for one in again)


def test_a_dataset_without_a_table_writes_it_from_its_pieces(corpus, tmp_path):
    from cchc_analysis.dataset import build

    dataset = evaluated_dataset([corpus])
    io.write_dataset(dataset, tmp_path / "plain", workers=1)
    with ResultCache(None) as cache:
        from cchc_analysis.read.manifest import discover
        from cchc_analysis.workflow import evaluate_one

        results = build.district_results(discover([corpus]), True, 1, cache, then=evaluate_one)
        pieces = build.csv_pieces(results)
        io.write_dataset(dataclasses.replace(dataset, cells=None), tmp_path / "pieces", workers=1, pieces=pieces)
        assert snapshot(tmp_path / "pieces") == snapshot(tmp_path / "plain")
        assert "cells" in {r["name"] for r in json.loads((tmp_path / "pieces" / "datapackage.json").read_text())[
            "resources"]}
        io.write_dataset(dataclasses.replace(dataset, cells=None), tmp_path / "none", workers=1)
        assert not (tmp_path / "none" / "cells.csv").exists()  # neither frame nor pieces: not written


def _cannot_start() -> None:
    raise RuntimeError("this worker cannot start")


_DONE_HERE: list = []
_REAL_TASK: list = []


def _counted_task(task):
    """``_district_task``, counted where it runs (module level: sent to the workers by name, should any start)."""
    _DONE_HERE.append(task)
    return _REAL_TASK[0](task)


def test_workers_that_cannot_start_leave_the_work_to_this_process(corpus, tmp_path, monkeypatch):
    from cchc_analysis.dataset import build

    parse_and_write([corpus], tmp_path / "here", None, workers=1)
    monkeypatch.setattr(build, "_worker_started", _cannot_start)  # (every chunk sent out fails: BrokenProcessPool)
    _DONE_HERE.clear()
    _REAL_TASK[:] = [build._district_task]
    monkeypatch.setattr(build, "_district_task", _counted_task)
    parse_and_write([corpus], tmp_path / "fallback", tmp_path / "cache", workers=2)
    assert snapshot(tmp_path / "fallback") == snapshot(tmp_path / "here")
    assert len(_DONE_HERE) == len([p for p in corpus.iterdir() if p.is_dir()])  # all of them done here
    with ResultCache(tmp_path / "cache") as cache:
        assert len(cache.valid) == len([p for p in corpus.iterdir() if p.is_dir()])  # each computed once, stored


def test_a_sheet_given_by_its_pieces_alone_is_the_sheet_of_its_frame(tmp_path):
    from cchc_analysis.dataset.parts import from_rows, to_frame

    rows = [{"district": district, "appendix": 1, "title": f"Bảng {i} & <chú thích>", "first_line": i,
             "last_line": i + 3, "header_lines": f"{i};{i + 1}", "rows": 4, "notes": " lề " if i else None}
            for i, district in enumerate(["Tuần Giáo", "Tuần Giáo", "Mường Ảng"])]
    parts = [from_rows(rows[:2], "tables", sheet=True), from_rows(rows[2:], "tables", sheet=True)]
    frame, sheets = to_frame(parts, "tables"), {"tables": [part.sheet_piece() for part in parts]}
    write_workbook({"tables": frame}, tmp_path / "framed.xlsx")
    write_workbook({"tables": None}, tmp_path / "pieces.xlsx", sheets=sheets)
    assert (tmp_path / "pieces.xlsx").read_bytes() == (tmp_path / "framed.xlsx").read_bytes()
    write_workbook({"tables": None}, tmp_path / "over.xlsx", sheets=sheets, budget=2)  # over the budget: left out
    readme = pd.read_excel(tmp_path / "over.xlsx", sheet_name="README", keep_default_na=False)
    assert list(readme["rows"]) == [3] and list(readme["sheet"]) == [""]
    with pytest.raises(ValueError, match="tables: no frame"):
        write_workbook({"tables": None}, tmp_path / "none.xlsx")


@pytest.mark.parametrize("table", ["observations", "cells", None])
def test_a_district_holding_rows_of_another_says_so(corpus, monkeypatch, table):
    """``own_rows``: whether every row of the district's indicators and cells names it (else the corpus sorts those
    tables whole)."""
    from cchc_analysis.dataset import build
    from cchc_analysis.read.manifest import discover
    from cchc_analysis.workflow import PIECES_ONLY, evaluate_one

    parse = build.parse_report

    def with_a_stray_row(report):
        one = parse(report)
        if table is not None:
            getattr(one.result, table)[-1]["district"] = "Huyện Khác"
        return one

    monkeypatch.setattr(build, "parse_report", with_a_stray_row)
    report = next(r for r in discover([corpus]) if "synthetic" in str(r.path))
    one = build.district_result((report, True, evaluate_one, 4, frozenset(PIECES_ONLY)))
    assert one.own_rows is (table is None)
