"""Benchmark of ``cchc build`` (issues 4 and 10): prints figures, asserts nothing.

Side by side, on the same processed dataset and notebooks:
  1. naive loop  - what a user would script: per notebook, the ``papermill`` CLI then ``jupyter nbconvert --to html
                   --no-input`` (HTML only: no PDF, no index, no downloads);
  2. cold build  - ``cchc build`` with an empty cache: executes every notebook (worker processes), renders the site,
                   the downloads and the PDF;
  3. warm build  - ``cchc build`` again with nothing changed (median of several runs, in a fresh process each time,
                   as a user runs it), and whether a kernel was started.

Usage: .venv/bin/python benchmarks/bench_build.py [--processed data/processed] [--jobs 2] [--skip-naive]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def district_jobs(processed: Path) -> list:
    """The district pack's pages, as ``cchc build`` plans them from site.yaml (the naive loop runs the same)."""
    sys.path.insert(0, str(ROOT))
    from cchc_analysis.dataset.io import load_dataset
    from cchc_analysis.pack.plan import BuildPaths, plan_jobs, read_areas

    district = load_dataset(processed, tables=("indicators",)).district_names()[0]
    paths = BuildPaths(ROOT / "data" / "raw", processed, ROOT / "reports", ROOT / "notebooks", ROOT / ".build", "vi")
    return plan_jobs(paths, district, read_areas(), "vi", compare=False)


def naive_loop(jobs: list, work: Path, env: dict) -> float:
    t0 = time.perf_counter()
    for job in jobs:
        nb = Path(job.notebook)
        out = work / f"{job.name}.ipynb"
        cmd = [str(BIN / "papermill"), str(nb), str(out), "-k", "python3", "--cwd", str(nb.parent)]
        for k, v in job.parameters.items():
            if v is not None:
                cmd += ["-p", k, str(v)]
        subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(out)], check=True,
                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def cchc_build(processed: Path, out: Path, cache: Path, jobs: int, force: bool = False) -> tuple[float, str]:
    cmd = [str(BIN / "cchc"), "build", "--no-parse", "--processed", str(processed), "--out", str(out),
           "--cache-dir", str(cache), "--jobs", str(jobs)] + (["--force"] if force else [])
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"cchc build failed:\n{proc.stderr}")
    return elapsed, proc.stderr


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--processed", type=Path, default=ROOT / "data" / "processed")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--warm-runs", type=int, default=5)
    ap.add_argument("--skip-naive", action="store_true")
    args = ap.parse_args()
    if not (args.processed / "indicators.csv").exists():
        raise SystemExit(f"{args.processed}/indicators.csv missing: run `cchc parse` first")
    work = Path(tempfile.mkdtemp(prefix="bench-build-"))
    try:
        sys.path.insert(0, str(ROOT))
        from cchc_analysis.pack.execute import build_environment, ensure_kernelspec

        env = dict(os.environ, **build_environment(work / "naive-cache"))
        ensure_kernelspec(env)
        jobs = district_jobs(args.processed)
        print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; {len(jobs)} notebooks "
              f"({', '.join(job.name for job in jobs)})")
        naive = None
        if not args.skip_naive:
            (work / "naive").mkdir()
            naive = naive_loop(jobs, work / "naive", env)
            print(f"naive loop (papermill CLI + nbconvert CLI, HTML only): {naive:6.1f} s")
        cold, log = cchc_build(args.processed, work / "reports", work / "cache", args.jobs)
        detail = log.strip().splitlines()[-1]
        print(f"cold cchc build (--jobs {args.jobs}, HTML + PDF + downloads): {cold:6.1f} s   [{detail}]")
        if naive:
            print(f"  speed-up over the naive loop: {naive / cold:.1f}x (aim: at least 5x)")
        warm = []
        for _ in range(args.warm_runs):
            t, log = cchc_build(args.processed, work / "reports", work / "cache", args.jobs)
            warm.append(t)
            assert "up to date" in log, log
        print(f"warm rebuild, nothing changed (process start included): median {statistics.median(warm):.2f} s, "
              f"min {min(warm):.2f} s over {len(warm)} runs; kernels started: 0 (aim: under 0.3 s)")
        stamp = json.loads(next((work / "cache").glob("publish-*.json")).read_text())
        print(f"outputs: {len(stamp['outputs'])} files, "
              f"{sum((work / 'reports' / p).stat().st_size for p in stamp['outputs']) / 1e6:.1f} MB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
