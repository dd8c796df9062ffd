"""Scale benchmark over a SYNTHETIC corpus (prints figures, asserts nothing).

Writes N synthetic district reports derived from the reference report (cchc_analysis.synthetic: each with the six
yearly columns 2015-2020 of the reference), then, in a fresh process per size and side by side:

- read: the bare read, discover + read + extract + tidy of every report (``parse_report``), in as many worker
  processes as the end-to-end build uses, so the ratio below holds on any machine; timed just before and just after
  the end-to-end build, and their mean taken (on a shared machine the speed drifts by tens of percent within seconds:
  a read bracketing the build cancels a steady drift, where one read before it was a noisy yardstick at 100
  districts, half a second);
- end to end: what `cchc parse` does (``workflow.parse_and_write``): discover, read, tidy, validate, prose layer,
  evaluation, and every output written (CSV, Parquet, datapackage.json, the Excel workbook), with an empty cache;
- ratio: end to end / read (the aim: at most 3);
- one changed: one district's report replaced by another, then the same command with the cache the cold build
  filled (what a researcher waits for after adding or correcting one district), and its share of the cold build;
- = scratch: on the first run of each size (not timed; `--no-identity` skips it), whether every file the rebuild
  after one change wrote is byte-identical to those of a build of the changed corpus from scratch (no cache): the
  cache's promise checked at scale, where the workbook's layout and the writer's shortcuts differ from the small
  corpora of the tests; the benchmark exits non-zero, naming the files, when one differs;
- memory: peak resident set of the main process (ru_maxrss) and of the largest child process of the builds and of
  the read before them (the workers, the copier: their own high-water mark, ``VmHWM``, read from /proc while they
  run; ``RUSAGE_CHILDREN`` would report, for a child that runs a program, the size of the parent it was started
  from).

Sizes default to 100, 350 and 700 districts (700: about the number of districts in Vietnam before 2025). Each timed
run starts with the files written before it flushed (``os.sync``, not timed): a run does not pay for the write-back
of what the previous one wrote. The machine's load average is printed: figures measured while other work runs are
noisy.

Each size is measured ``--repeat`` times (default 3), each run in a fresh process over a fresh corpus, every run
printed, then a line of their medians: the figures to quote. On this shared 2-core machine one run's figures move by
10-15% (at 100 districts a run is a 0.5 s read beside a 1.5 s build), so a single run can land either side of an
aim its median meets or misses; three runs of every size take about two minutes.

Run: `make bench-corpus` or `.venv/bin/python benchmarks/bench_corpus.py [--sizes 100 350 700] [--workers N]
[--repeat R] [--compare]` (--compare also times notebooks/compare.ipynb over the written dataset, kernel start
included).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "raw" / "tuan-giao" / "bao-cao-tong-ket-cchc-2011-2020.txt"


def change_one_district(corpus: Path) -> Path:
    """Replace the first district's report by another synthetic one (other figures), manifest updated."""
    from cchc_analysis.synthetic import synthetic_report

    folder = sorted(p for p in corpus.iterdir() if p.is_dir())[0]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    entry = next(e for e in manifest["files"] if e.get("kind", "report") == "report")
    data = synthetic_report(REFERENCE.read_text(encoding="utf-8"), manifest["district"], seed=987_654).encode()
    (folder / entry["file"]).write_bytes(data)
    entry["sha256"] = hashlib.sha256(data).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
                                          encoding="utf-8")
    return folder


def _read_only(report) -> int:
    from cchc_analysis.dataset.build import parse_report

    return len(parse_report(report).result.observations)  # nothing large goes back to the main process


def bare_read(corpus: Path, workers: int | None) -> float:
    from cchc_analysis.dataset.build import _mapper
    from cchc_analysis.read.manifest import discover

    start = time.perf_counter()
    reports = discover([corpus])
    with _mapper(len(reports), workers) as map_reports:
        map_reports(_read_only, reports)
    return time.perf_counter() - start


class ChildPeaks:
    """The largest high-water mark (``VmHWM``) of the processes this one's main thread started, sampled from /proc
    while they run (0 where there is no such file)."""

    def __init__(self, every: float = 0.02):
        import threading

        self.peak_kb, self.every, self._stop = 0, every, threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> ChildPeaks:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        children = f"/proc/{os.getpid()}/task/{os.getpid()}/children"  # (processes started by the main thread)
        while not self._stop.wait(self.every):
            try:
                with open(children) as f:
                    pids = f.read().split()
            except OSError:  # not Linux
                return
            self.peak_kb = max([self.peak_kb, *map(_hwm_kb, pids)])


def _hwm_kb(pid: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            return next((int(line.split()[1]) for line in f if line.startswith("VmHWM:")), 0)
    except OSError:  # gone meanwhile
        return 0


def measure(corpus: Path, out: Path, cache: Path, workers: int | None, check_identity: bool) -> dict:
    sys.path.insert(0, str(ROOT))
    from cchc_analysis.dataset.build import PARALLEL_MIN_REPORTS
    from cchc_analysis.dataset.cache import package_fingerprint
    from cchc_analysis.workflow import parse_and_write

    package_fingerprint()  # once per process, as `cchc parse` pays it: not a per-district cost

    n = len([p for p in corpus.iterdir() if p.is_dir()])
    used = workers or ((os.cpu_count() or 1) if n >= PARALLEL_MIN_REPORTS else 1)
    os.sync()
    with ChildPeaks() as cold_children:
        read_before = bare_read(corpus, workers)
        os.sync()
        start = time.perf_counter()
        summary = parse_and_write([corpus], out, cache, workers)
        cold_s = time.perf_counter() - start
    os.sync()  # (not timed: the cold build's files written back)
    # (its workers' memory left out: forked from this process after the cold build, they start with its pages)
    read_after = bare_read(corpus, workers)
    change_one_district(corpus)
    os.sync()  # (the cold build's 300 MB still being written back would slow the rebuild's renames)
    with ChildPeaks() as warm_children:
        start = time.perf_counter()
        parse_and_write([corpus], out, cache, workers)
        warm_s = time.perf_counter() - start
    rss_main_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)  # (before the scratch build)
    differing = None
    if check_identity:  # (not timed) the rebuild's outputs against a build of the changed corpus from scratch
        scratch = out.with_name(out.name + "-scratch")
        parse_and_write([corpus], scratch, None, workers)
        differing = differing_files(out, scratch)
    return {"districts": n, "workers": used, "summary": summary.splitlines()[0],
            "read_s": round((read_before + read_after) / 2, 3), "read_before_s": round(read_before, 3),
            "read_after_s": round(read_after, 3),
            "cold_s": round(cold_s, 2), "one_changed_s": round(warm_s, 2),
            "rss_main_mb": rss_main_mb,
            "rss_worker_mb": round(max(cold_children.peak_kb, warm_children.peak_kb) / 1024),
            "differing": differing}


def differing_files(one: Path, other: Path) -> list[str]:
    """The files, relative paths, present in only one of two output folders or with other bytes."""
    def digests(folder: Path) -> dict[str, str]:
        return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in folder.rglob("*") if p.is_file()}

    mine, theirs = digests(one), digests(other)
    return sorted(name for name in mine.keys() | theirs.keys() if mine.get(name) != theirs.get(name))


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


COLUMNS = [("districts", "districts", 9), ("workers", "workers", 7), ("reads", "reads s", 9), ("read_s", "read s", 7),
           ("read_ms", "read ms/d", 9), ("cold_s", "e2e s", 7), ("e2e_ms", "e2e ms/d", 8), ("ratio", "ratio", 5),
           ("one_changed_s", "one changed s", 13), ("share", "% of cold", 9), ("rss_main_mb", "RSS main MB", 11),
           ("rss_worker_mb", "RSS worker MB", 13), ("identical", "= scratch", 9)]


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        workers = None if sys.argv[5] == "auto" else int(sys.argv[5])
        print(json.dumps(measure(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]), workers,
                                 sys.argv[6] == "identity")))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 350, 700])
    parser.add_argument("--workers", default="auto", help="worker processes (default: one per core)")
    parser.add_argument("--compare", action="store_true", help="also time compare.ipynb over each dataset")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per size, each over a fresh corpus, then their medians (default 3)")
    parser.add_argument("--no-identity", action="store_true",
                        help="skip the check that the rebuild equals a build from scratch (first run of each size)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    sys.path.insert(0, str(ROOT))

    print(f"SYNTHETIC corpus (6 yearly columns per district), {os.cpu_count()} cores, workers={args.workers}; "
          f"fresh process per size; load average at start {os.getloadavg()[0]:.2f}")
    print("read = discover+read+extract+tidy of every report (same workers), the mean of a read before and one after "
          "the e2e build (both shown); e2e = `cchc parse` from an empty cache "
          "(read, tidy, validate, prose, evaluate, write CSV/Parquet/datapackage/Excel); one changed = the same "
          "after replacing one district's report, cache warm; = scratch: its outputs byte-identical to a build of the "
          "changed corpus from scratch (checked on the first run of each size)")
    print(" ".join(f"{title:>{width}}" for _, title, width in COLUMNS) + ("  compare s" if args.compare else ""))
    mismatched: list[str] = []
    for size in args.sizes:
        runs = []
        for i in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                runs.append(one_run(size, Path(tmp), args.workers, check_identity=i == 0 and not args.no_identity))
                mismatched += runs[-1]["differing"] or []
                line = " ".join(f"{runs[-1][key]!s:>{width}}" for key, _, width in COLUMNS)
                if args.compare:
                    line += f"  {time_compare(Path(tmp) / 'processed', Path(tmp)):>9}"
                print(f"{line}   (load {os.getloadavg()[0]:.2f})", flush=True)
        if args.repeat > 1:
            print(" ".join(f"{median_of(runs, key)!s:>{width}}" for key, _, width in COLUMNS) + "   (median)",
                  flush=True)
    if mismatched:
        raise SystemExit("the rebuild after one change is not byte-identical to a build from scratch: "
                         + ", ".join(sorted(set(mismatched))))


def one_run(size: int, tmp: Path, workers: str, check_identity: bool = False) -> dict:
    """One measurement of ``size`` districts in a fresh process over a fresh corpus in ``tmp`` (and, when
    ``check_identity``, the check that its rebuild equals a build from scratch)."""
    from cchc_analysis.synthetic import write_corpus

    corpus = tmp / "raw"
    write_corpus(REFERENCE, corpus, size)
    proc = subprocess.run([sys.executable, __file__, "--child", str(corpus), str(tmp / "processed"),
                           str(tmp / "cache"), workers, "identity" if check_identity else "-"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-2000:])
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    r["reads"] = f"{r['read_before_s']:.2f}/{r['read_after_s']:.2f}"
    r["read_ms"] = round(r["read_s"] / r["districts"] * 1000, 1)
    r["e2e_ms"] = round(r["cold_s"] / r["districts"] * 1000, 1)
    r["ratio"] = round(r["cold_s"] / r["read_s"], 1)
    r["share"] = f"{r['one_changed_s'] / r['cold_s']:.1%}"
    r["identical"] = "-" if r["differing"] is None else "NO" if r["differing"] else "yes"
    return r


def median_of(runs: list[dict], key: str):
    """The median of a column over runs (the ratio and the share: of each run's own, not of the medians)."""
    if key == "share":
        return f"{statistics.median(r['one_changed_s'] / r['cold_s'] for r in runs):.1%}"
    if key in ("reads", "identical"):  # (each run's own: no median)
        return ""
    value = statistics.median(r[key] for r in runs)
    return int(value) if isinstance(value, float) and value.is_integer() else round(value, 2)

if __name__ == "__main__":
    main()
