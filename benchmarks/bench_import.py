"""What a notebook kernel pays to import the package: ``python -X importtime`` in a fresh process.

Prints the cumulative time of each top-level package the kernel's imports pull in, the total, and the ten most
expensive single imports (cumulative, so a package's figure includes what it imports). The aim is under 0.8 s.
"""

from __future__ import annotations

import re
import subprocess
import sys

KERNEL_IMPORTS = ("cchc_analysis.pack.views", "cchc_analysis.pack.charts", "cchc_analysis.pack.compare",
                  "cchc_analysis.dataset.io")
LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$")


def import_times(modules: tuple[str, ...]) -> list[tuple[int, int, str]]:
    """(cumulative µs, nesting depth, module) of every import, in the order ``-X importtime`` reports them."""
    code = "; ".join(f"import {m}" for m in modules)
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True,
                            check=True)
    rows = []
    for line in result.stderr.splitlines():
        match = LINE.match(line)
        if match:
            rows.append((int(match[2]), len(match[3]) // 2, match[4]))
    return rows


def main() -> None:
    rows = import_times(KERNEL_IMPORTS)
    total = sum(us for us, depth, _ in rows if depth == 0)
    # a top-level package is imported once; its figure includes the packages it pulls in itself
    packages = [(us, name) for us, _, name in rows if "." not in name and us >= 5000]
    print(f"import {', '.join(KERNEL_IMPORTS)}")
    print("cumulative time of each top-level package (5 ms or more):")
    for us, name in sorted(packages, reverse=True):
        print(f"  {name:<28} {us / 1e6:7.3f} s")
    print(f"total                          {total / 1e6:7.3f} s   (aim: under 0.8 s)")
    print("ten most expensive imports (cumulative):")
    for us, depth, name in sorted(rows, reverse=True)[:10]:
        print(f"  {name:<40} {us / 1e6:7.3f} s")


if __name__ == "__main__":
    main()
