"""Per-district cost benchmark: prints figures, asserts nothing.

What one district costs in the unit a worker runs for it (``dataset.build.district_result`` with the evaluation,
as `cchc parse` runs it), split into stages, in ONE process over N SYNTHETIC districts: the read (read + extract +
tidy: what the bare read of ``bench_corpus.py`` measures), the validation checks, the prose layer, the quality table,
the evaluation, the district's parts of every table (Arrow and CSV bytes), the frames the checks, prose and
evaluation read (only a district with year files has any: the others are read as ``Columns``), the JSON piece of
its sections, and the rest (year files, sorting). Wall time per pass, the median of R passes; the first district is
run once before (YAML rules and catalogs loaded: a fixed cost per process, not a district's), and the garbage
collector is tuned as in a worker (``dataset.build.tuned_collector``). The machine's load average is printed:
figures measured while other work runs are noisy, so compare runs made side by side.

Costed as a district of a corpus of 700 (its large tables' workbook rows not formatted: the workbook leaves them
out; ``--corpus-size 20``: as in a corpus of 20, where they are).

Run: `make bench-district` or `.venv/bin/python benchmarks/bench_district.py [--districts 20] [--passes 3]
[--profile N] [--corpus-size 700]` (--profile: also the N most expensive functions of one pass, cProfile,
cumulative time).
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import functools
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cchc_analysis.dataset.build as build  # noqa: E402
import cchc_analysis.workflow as workflow  # noqa: E402
from cchc_analysis.read.manifest import discover  # noqa: E402
from cchc_analysis.synthetic import write_corpus  # noqa: E402

REFERENCE = ROOT / "data" / "raw" / "tuan-giao" / "bao-cao-tong-ket-cchc-2011-2020.txt"
# (module, function, stage): the functions ``district_result`` calls, each timed where it is looked up
STAGES = [(build, "parse_report", "read (read, extract, tidy)"), (build, "run_checks", "validation checks"),
          (build, "analyse_narrative", "prose layer"), (build, "findings_rows", "quality rows"),
          (workflow, "district_evaluation", "evaluation"), (build, "from_rows", "parts (Arrow + CSV)"),
          (build, "part_and_columns", "parts (Arrow + CSV)"), (build, "from_frame", "parts from frames"),
          (build, "to_frame", "frames to judge"),
          (build, "json_piece", "JSON piece (sections)")]


def timed(spent: collections.Counter, module, name: str, stage: str) -> None:
    """Replace ``module.name`` by the same function adding its wall time to ``spent[stage]``."""
    function = getattr(module, name)

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[stage] += time.perf_counter() - start

    setattr(module, name, wrapper)


def one_pass(reports, corpus_size: int) -> None:
    for report in reports:
        build.district_result((report, True, workflow.evaluate_one, corpus_size, workflow.PIECES_ONLY))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--districts", type=int, default=20)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--profile", type=int, default=0)
    parser.add_argument("--corpus-size", type=int, default=700,
                        help="the corpus the districts are costed for (default 700: a national one, whose large "
                             "tables are not formatted for the workbook; see dataset.build.fits_workbook)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, build.tuned_collector():  # as in a worker process
        write_corpus(REFERENCE, Path(tmp), args.districts)
        reports = discover([Path(tmp)])
        one_pass(reports[:1], args.corpus_size)
        if args.profile:
            profile = cProfile.Profile()
            profile.runcall(one_pass, reports, args.corpus_size)
            pstats.Stats(profile).sort_stats("cumulative").print_stats(args.profile)
        spent: collections.Counter = collections.Counter()
        for module, name, stage in STAGES:
            timed(spent, module, name, stage)
        passes = []
        for _ in range(args.passes):
            spent.clear()
            start = time.perf_counter()
            one_pass(reports, args.corpus_size)
            total = time.perf_counter() - start
            passes.append({**spent, "rest (year files, sorting)": total - sum(spent.values()), "unit": total})
    per_district = {stage: statistics.median(p[stage] for p in passes) / len(reports) * 1000 for stage in passes[0]}
    print(f"{len(reports)} SYNTHETIC districts, one process, median of {args.passes} passes, "
          f"load average {os.getloadavg()[0]:.2f}")
    for stage, ms in per_district.items():
        print(f"  {stage:28s} {ms:6.1f} ms/district")
    read = per_district[STAGES[0][2]]
    print(f"  unit / read: {per_district['unit'] / read:.1f}x")


if __name__ == "__main__":
    main()
