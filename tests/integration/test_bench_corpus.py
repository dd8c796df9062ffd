"""The scale benchmark (`make bench-corpus`, the measure of issue 16) runs end to end over a small corpus and prints
what it promises: each run, then the line of their medians, and the rebuild after one change checked against a
build from scratch. Its figures are not checked here: timing belongs to the benchmark, not to tests."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_corpus_benchmark_prints_every_run_then_their_medians():
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_corpus.py"), "--sizes", "12",
                           "--repeat", "2"], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    header = next(line for line in proc.stdout.splitlines() if line.split()[:2] == ["districts", "workers"])
    assert "ratio" in header and "one changed s" in header and "RSS worker MB" in header and "= scratch" in header
    rows = [line.split() for line in proc.stdout.splitlines() if line.split()[:1] == ["12"]]
    assert len(rows) == 3 and rows[-1][-1] == "(median)" and all("(load" in " ".join(row) for row in rows[:2])
    for row in rows[:2]:  # districts, workers, reads, read s, read ms/d, e2e s, e2e ms/d, ratio, ...
        assert row[1] == str(os.cpu_count() or 1)  # a corpus of 12 is read by a worker a core, as a large one
        read_before, read_after = map(float, row[2].split("/"))  # (printed to two places)
        read, e2e, ratio = float(row[3]), float(row[5]), float(row[7])
        assert abs(read - (read_before + read_after) / 2) <= 0.01
        assert e2e > 0 and ratio == round(e2e / read, 1)
    assert rows[0][12] == "yes" and rows[1][12] == "-"  # the rebuild checked against a build from scratch, once


def _bench_module():
    spec = importlib.util.spec_from_file_location("bench_corpus", ROOT / "benchmarks" / "bench_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_identity_check_names_every_file_that_differs_or_is_missing(tmp_path):
    one, other = tmp_path / "one", tmp_path / "other"
    for folder in (one, other):
        (folder / "sub").mkdir(parents=True)
        (folder / "same.csv").write_bytes(b"a,b\n")
    (one / "sub" / "changed.csv").write_bytes(b"1\n")
    (other / "sub" / "changed.csv").write_bytes(b"2\n")
    (one / "only-here.json").write_text("{}")
    differing_files = _bench_module().differing_files
    assert differing_files(one, other) == ["only-here.json", "sub/changed.csv"]
    assert differing_files(one, one) == []
