"""What a notebook kernel pays to import the package: ``python -X importtime`` in fresh processes.

Prints, as the median of several fresh processes, the cumulative time of each top-level package the kernel's
imports pull in (a package's figure includes what it imports itself), the total, and the ten most expensive single
imports. The aim is a total under 0.8 s. Figures vary with the machine's load; compare runs made side by side.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys

KERNEL_IMPORTS = ("cchc_analysis.pack.views", "cchc_analysis.pack.charts", "cchc_analysis.pack.compare",
                  "cchc_analysis.dataset.io")
RUNS = 7
LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$")


def import_times(modules: tuple[str, ...]) -> dict[str, tuple[int, int]]:
    """module -> (cumulative µs, nesting depth) of every import of one fresh interpreter."""
    code = "; ".join(f"import {m}" for m in modules)
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True,
                            check=True)
    times = {}
    for line in result.stderr.splitlines():
        match = LINE.match(line)
        if match:
            times[match[4]] = (int(match[2]), len(match[3]) // 2)
    return times


def main() -> None:
    runs = [import_times(KERNEL_IMPORTS) for _ in range(RUNS)]

    def median(module: str) -> float:
        return statistics.median(run.get(module, (0, 0))[0] for run in runs) / 1e6

    total = statistics.median(sum(us for us, depth in run.values() if depth == 0) for run in runs) / 1e6
    modules = set().union(*runs)
    print(f"import {', '.join(KERNEL_IMPORTS)}  (median of {RUNS} fresh processes)")
    print("cumulative time of each top-level package (5 ms or more):")
    packages = sorted(((median(m), m) for m in modules if "." not in m), reverse=True)
    for seconds, name in packages:
        if seconds >= 0.005:
            print(f"  {name:<40} {seconds:7.3f} s")
    print(f"  {'total':<40} {total:7.3f} s   (aim: under 0.8 s)")
    print("ten most expensive imports (cumulative):")
    for seconds, name in sorted(((median(m), m) for m in modules), reverse=True)[:10]:
        print(f"  {name:<40} {seconds:7.3f} s")


if __name__ == "__main__":
    main()
