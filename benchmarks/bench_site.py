"""Benchmark of a province site (issue 14): prints figures, asserts nothing.

For each size N: a SYNTHETIC corpus of N districts (``cchc_analysis.synthetic.write_corpus``) plus the reference
report, in a temporary folder, built by ``cchc build`` as a user runs it (a fresh process, parse included):
  1. cold          - empty build cache: parse, every notebook, every PDF, the site;
  2. warm          - again with nothing changed (median of 3 runs);
  3. one changed   - one synthetic district's report rewritten (other figures), then built: its pages, the
                     comparison and the province index only.
Prints the seconds, the notebooks executed, the cost per district and the load average (the machine is shared:
figures measured under load are noisy).

Usage: .venv/bin/python benchmarks/bench_site.py [--sizes 10 20 50] [--jobs 2] [--no-reference] [--keep DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
REFERENCE = ROOT / "data" / "raw" / "tuan-giao"


def make_corpus(raw: Path, n: int, reference: bool) -> None:
    sys.path.insert(0, str(ROOT))
    from cchc_analysis.synthetic import write_corpus

    write_corpus(REFERENCE / "bao-cao-tong-ket-cchc-2011-2020.txt", raw, n)
    if reference:
        shutil.copytree(REFERENCE, raw / "tuan-giao")


def change_district(raw: Path, i: int, seed: int) -> str:
    """Rewrite synthetic district ``i``'s report with other figures (and its manifest's checksum)."""
    from cchc_analysis.synthetic import synthetic_report

    folder = raw / f"synthetic-{i:03d}"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    text = (REFERENCE / "bao-cao-tong-ket-cchc-2011-2020.txt").read_text(encoding="utf-8")
    data = synthetic_report(text, manifest["district"], seed).encode("utf-8")
    (folder / manifest["files"][0]["file"]).write_bytes(data)
    manifest["files"][0]["sha256"] = hashlib.sha256(data).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return manifest["district"]


def cchc_build(work: Path, jobs: int) -> tuple[float, int, str]:
    """(seconds, notebooks executed, last line) of one ``cchc build`` in a fresh process."""
    cmd = [str(BIN / "cchc"), "build", "--raw", str(work / "raw"), "--processed", str(work / "processed"),
           "--out", str(work / "reports"), "--cache-dir", str(work / "cache"), "--jobs", str(jobs)]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - t0
    if done.returncode:
        raise SystemExit(f"cchc build failed:\n{done.stderr[-3000:]}")
    executed = len(re.findall(r"\] ok ", done.stderr))
    return seconds, executed, done.stderr.strip().splitlines()[-1]


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def measure(n: int, jobs: int, reference: bool, keep: Path | None) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"bench-site-{n}-"))
    try:
        make_corpus(work / "raw", n, reference)
        districts = n + (1 if reference else 0)
        print(f"\n{districts} districts ({n} SYNTHETIC{' + the reference report' if reference else ''}), "
              f"{jobs} workers; load average before: {load()}", flush=True)
        cold, executed, line = cchc_build(work, jobs)
        print(f"  cold         {cold:7.1f} s  {executed} notebooks executed, {cold / districts:.1f} s per district; "
              f"load {load()}\n               {line}", flush=True)
        warm = []
        for _ in range(3):
            warm.append(cchc_build(work, jobs))
        print(f"  warm         {statistics.median(w[0] for w in warm):7.2f} s  (median of 3; runs "
              f"{', '.join(f'{w[0]:.2f}' for w in warm)}), {max(w[1] for w in warm)} notebooks executed", flush=True)
        name = change_district(work / "raw", 1, seed=1001)
        changed, executed_changed, line = cchc_build(work, jobs)
        print(f"  one changed  {changed:7.1f} s  ({name}: {executed_changed} notebooks executed); load {load()}\n"
              f"               {line}", flush=True)
        return {"districts": districts, "cold": cold, "warm": statistics.median(w[0] for w in warm),
                "changed": changed, "executed_cold": executed, "executed_changed": executed_changed}
    finally:
        if keep:
            shutil.copytree(work, keep / work.name)
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10], help="SYNTHETIC districts (default 10)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--no-reference", action="store_true", help="without the reference report")
    ap.add_argument("--keep", type=Path, help="copy each built corpus and site here")
    args = ap.parse_args()
    print(f"bench-site: {os.cpu_count()} CPUs; targets for 10 districts: cold < 180 s, warm < 1 s, "
          f"one changed < 20 s")
    rows = [measure(n, args.jobs, not args.no_reference, args.keep) for n in args.sizes]
    print("\ndistricts  cold s  s/district  warm s  one changed s")
    for r in rows:
        print(f"{r['districts']:9d} {r['cold']:7.1f} {r['cold'] / r['districts']:11.1f} {r['warm']:7.2f} "
              f"{r['changed']:14.1f}")


if __name__ == "__main__":
    main()
