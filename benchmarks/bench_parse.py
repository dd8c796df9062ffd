"""Parse benchmark: prints figures, asserts nothing.

1. In-process parse of the reference report (read, extract, tidy, validate), median of N runs, split into stages.
2. Throughput over a corpus of 500 copies of the report, in reports per second (each copy is a distinct file
   that is read and parsed; the district-uniqueness rule is bypassed by parsing them one by one).

Run: `make bench` or `.venv/bin/python benchmarks/bench_parse.py [--runs 50] [--corpus 500]`.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cchc_analysis.dataset.build import build_dataset, parse_report  # noqa: E402
from cchc_analysis.read.manifest import discover, identify  # noqa: E402
from cchc_analysis.read.source import read_report  # noqa: E402
from cchc_analysis.tables.extract import extract  # noqa: E402
from cchc_analysis.tables.specs import load_specs  # noqa: E402
from cchc_analysis.tables.tidy import tidy_document  # noqa: E402

REFERENCE = ROOT / "data" / "raw" / "tuan-giao" / "bao-cao-tong-ket-cchc-2011-2020.txt"


def timed(fn, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--corpus", type=int, default=500)
    args = parser.parse_args()

    print(f"machine: {platform.machine()}, Python {platform.python_version()}, report {REFERENCE.name} "
          f"({REFERENCE.stat().st_size:,} bytes)")
    report = discover([REFERENCE])[0]
    load_specs()
    build_dataset([report], with_narrative=False)  # warm-up: imports, spec cache

    source = read_report(REFERENCE)
    meta = identify(source, report)
    document = extract(source)
    stages = {
        "read + decode": lambda: read_report(REFERENCE),
        "extract": lambda: extract(source),
        "tidy": lambda: tidy_document(document, load_specs(), meta),
        "parse_report (all three)": lambda: parse_report(report),
        "build_dataset (+ frames, schema, checks)": lambda: build_dataset([report], with_narrative=False),
    }
    print(f"\nin-process, median of {args.runs} runs:")
    for name, fn in stages.items():
        times = timed(fn, args.runs)
        print(f"  {name:<42} {statistics.median(times) * 1000:8.2f} ms  (min {min(times) * 1000:.2f}, "
              f"max {max(times) * 1000:.2f})")

    with tempfile.TemporaryDirectory() as tmp:
        data = REFERENCE.read_bytes()
        paths = []
        for i in range(args.corpus):
            path = Path(tmp) / f"copy-{i:04d}.txt"
            path.write_bytes(data)
            paths.append(path)
        inputs = [r for r in discover(paths)]
        start = time.perf_counter()
        for item in inputs:
            parse_report(item)
        elapsed = time.perf_counter() - start
    print(f"\ncorpus of {args.corpus} copies, parsed one by one in one process:")
    print(f"  total {elapsed:.2f} s, {args.corpus / elapsed:.1f} reports/s, {elapsed / args.corpus * 1000:.2f} ms "
          f"per report (aim: under 50 ms)")


if __name__ == "__main__":
    main()
