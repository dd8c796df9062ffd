"""Scale benchmark over a SYNTHETIC corpus (prints figures, asserts nothing).

Writes N synthetic district reports derived from the reference report (cchc_analysis.synthetic: each with the six
yearly columns 2015-2020 of the reference), then, in a fresh process per size:

- parse: discover + extract + tidy + validate + prose layer into one dataset (``build_dataset``, worker processes
  by default: one per core);
- write: CSV, Parquet, datapackage.json and the Excel workbook (``write_dataset``);
- memory: peak resident set of the main process and of the largest worker (ru_maxrss);
- compare: ``notebooks/compare.ipynb`` executed by papermill over the written dataset (all districts, all areas),
  kernel start included.

Sizes default to 100, 350 and 700 districts (700: about the number of districts in Vietnam before 2025), so the
growth of cost with the number of districts can be read off the ms/district column.

Run: `make bench-corpus` or `.venv/bin/python benchmarks/bench_corpus.py [--sizes 100 350 700] [--workers N]`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "raw" / "tuan-giao" / "bao-cao-tong-ket-cchc-2011-2020.txt"


def measure(corpus: Path, out: Path, workers: int | None) -> dict:
    sys.path.insert(0, str(ROOT))
    from cchc_analysis.dataset.build import build_dataset
    from cchc_analysis.dataset.io import write_dataset
    from cchc_analysis.evaluation.run import evaluate
    from cchc_analysis.read.manifest import discover

    start = time.perf_counter()
    reports = discover([corpus])
    dataset = build_dataset(reports, workers=workers)
    parsed = time.perf_counter() - start
    start = time.perf_counter()
    dataset.evaluation, dataset.evaluation_parts, dataset.observations = evaluate(dataset, reports)
    evaluated = time.perf_counter() - start
    start = time.perf_counter()
    write_dataset(dataset, out)
    written = time.perf_counter() - start
    return {"districts": int(dataset.districts.shape[0]), "observations": int(len(dataset.indicators)),
            "findings": int(len(dataset.quality)), "parse_s": round(parsed, 2), "evaluate_s": round(evaluated, 2),
            "write_s": round(written, 2),
            "rss_main_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "rss_worker_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)}


def time_compare(processed: Path, workdir: Path) -> float:
    """Seconds to execute the comparison notebook over ``processed`` (papermill, a fresh kernel)."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "papermill", str(ROOT / "notebooks" / "compare.ipynb"), str(workdir / "out.ipynb"),
         "-p", "data_dir", str(processed), "--cwd", str(ROOT / "notebooks"), "--no-progress-bar", "--log-level",
         "ERROR"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"compare.ipynb failed:\n{proc.stderr[-2000:]}")
    return round(time.perf_counter() - start, 2)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        workers = None if sys.argv[4] == "auto" else int(sys.argv[4])
        print(json.dumps(measure(Path(sys.argv[2]), Path(sys.argv[3]), workers)))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 350, 700])
    parser.add_argument("--workers", default="auto", help="parse workers (default: one per core)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from cchc_analysis.synthetic import write_corpus

    print(f"SYNTHETIC corpus (6 yearly columns per district), {os.cpu_count()} cores, workers={args.workers}; "
          "fresh process per size")
    print("parse = discover+extract+tidy+validate+prose; evaluate = verdicts and observations; "
          "write = CSV, Parquet, datapackage, Excel; "
          "compare = compare.ipynb via papermill (kernel start included)")
    header = (f"{'districts':>9} {'observations':>12} {'findings':>9} {'parse s':>8} {'ms/district':>11} "
              f"{'evaluate s':>10} {'write s':>8} {'compare s':>9} {'RSS main MB':>11} {'RSS worker MB':>13}")
    print(header)
    rows = []
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            corpus = Path(tmp) / "raw"
            write_corpus(REFERENCE, corpus, size)
            out = Path(tmp) / "processed"
            proc = subprocess.run([sys.executable, __file__, "--child", str(corpus), str(out), args.workers],
                                  capture_output=True, text=True)
            if proc.returncode != 0:
                raise SystemExit(proc.stderr[-2000:])
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            r["compare_s"] = time_compare(out, Path(tmp))
            rows.append(r)
            print(f"{r['districts']:>9} {r['observations']:>12} {r['findings']:>9} {r['parse_s']:>8} "
                  f"{r['parse_s'] / r['districts'] * 1000:>11.1f} {r['evaluate_s']:>10} {r['write_s']:>8} "
                  f"{r['compare_s']:>9} "
                  f"{r['rss_main_mb']:>11} {r['rss_worker_mb']:>13}", flush=True)
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        scale = last["districts"] / first["districts"]
        print(f"growth from {first['districts']} to {last['districts']} districts (x{scale:.1f}): parse "
              f"x{last['parse_s'] / first['parse_s']:.1f}, write x{last['write_s'] / first['write_s']:.1f}, "
              f"compare x{last['compare_s'] / first['compare_s']:.1f}, main memory "
              f"x{last['rss_main_mb'] / first['rss_main_mb']:.1f}")


if __name__ == "__main__":
    main()
