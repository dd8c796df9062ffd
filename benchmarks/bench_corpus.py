"""Scale benchmark over a SYNTHETIC corpus (prints figures, asserts nothing).

Writes N synthetic district reports derived from the reference report (cchc_analysis.synthetic; each 6 years,
2015-2020), then in a fresh process per size: parse them into one dataset (discover + extract + tidy + validate,
with the prose layer), write data/processed-style outputs, and report wall time and peak memory (max RSS).
Sizes default to 100, 350 and 700 districts (700: about the number of districts in Vietnam before 2025), so the
growth of cost with the number of districts can be read off.

Run: `.venv/bin/python benchmarks/bench_corpus.py [--sizes 100 350 700]`.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "raw" / "tuan-giao" / "bao-cao-tong-ket-cchc-2011-2020.txt"


def measure(corpus: Path, out: Path) -> dict:
    sys.path.insert(0, str(ROOT))
    from cchc_analysis.pipeline import build_dataset, discover, write_dataset

    start = time.perf_counter()
    dataset = build_dataset(discover([corpus]))
    parsed = time.perf_counter() - start
    start = time.perf_counter()
    write_dataset(dataset, out)
    written = time.perf_counter() - start
    return {"districts": int(dataset.districts.shape[0]), "observations": int(len(dataset.indicators)),
            "findings": int(len(dataset.quality)), "parse_s": round(parsed, 2), "write_s": round(written, 2),
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(measure(Path(sys.argv[2]), Path(sys.argv[3]))))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 350, 700])
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from cchc_analysis.synthetic import write_corpus

    print("synthetic corpus (6 years per district), fresh process per size; parse = discover+extract+tidy+"
          "validate+prose, write = CSV, Parquet, datapackage, Excel")
    print(f"{'districts':>9} {'observations':>12} {'findings':>9} {'parse s':>8} {'write s':>8} {'ms/district':>11} "
          f"{'max RSS MB':>10}")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            corpus = Path(tmp) / "raw"
            write_corpus(REFERENCE, corpus, size)
            proc = subprocess.run([sys.executable, __file__, "--child", str(corpus), str(Path(tmp) / "out")],
                                  capture_output=True, text=True, check=True)
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            print(f"{r['districts']:>9} {r['observations']:>12} {r['findings']:>9} {r['parse_s']:>8} "
                  f"{r['write_s']:>8} {r['parse_s'] / r['districts'] * 1000:>11.1f} {r['max_rss_mb']:>10}")


if __name__ == "__main__":
    main()
