"""The ``cchc`` command. Each sub-command is a thin shell around a library function; errors print without tracebacks."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cchc_analysis.errors import CchcError

DEFAULT_RAW = Path("data/raw")
DEFAULT_PROCESSED = Path("data/processed")
DEFAULT_REPORTS = Path("reports")


def _cmd_parse(args: argparse.Namespace) -> int:
    from cchc_analysis.pipeline import parse_and_write

    summary = parse_and_write(args.reports or [DEFAULT_RAW], Path(args.out))
    print(summary)
    return 0


def _cmd_build(args: argparse.Namespace) -> int:
    from cchc_analysis.build import run_build

    return run_build(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cchc", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("parse", help="report(s) -> tidy dataset in data/processed/")
    p.add_argument("reports", nargs="*", type=Path,
                   help="report files or folders (default: every report listed in a manifest under data/raw/)")
    p.add_argument("--out", default=str(DEFAULT_PROCESSED), help="output folder (default: %(default)s)")
    p.set_defaults(func=_cmd_parse)

    b = sub.add_parser("build", help="parse, execute the notebooks, render the HTML site and PDF into reports/")
    b.add_argument("--raw", default=str(DEFAULT_RAW), type=Path, help="raw data folder (default: %(default)s)")
    b.add_argument("--processed", default=str(DEFAULT_PROCESSED), type=Path)
    b.add_argument("--out", default=str(DEFAULT_REPORTS), type=Path, help="output folder (default: %(default)s)")
    b.add_argument("--lang", choices=["vi", "en"], default="vi")
    b.add_argument("--jobs", type=int, default=2, help="parallel notebook workers (default: %(default)s)")
    b.add_argument("--force", action="store_true", help="re-execute every notebook, ignoring the cache")
    b.add_argument("--area", action="append", metavar="AREA",
                   help="build only this area's page (repeatable; default: all seven)")
    b.add_argument("--district", help="district to build (default: the only one in the dataset)")
    b.add_argument("--notebooks", type=Path, help="folder with area.ipynb and overview.ipynb (default: notebooks)")
    b.add_argument("--cache-dir", type=Path, help="build cache (default: .build)")
    b.add_argument("--no-parse", action="store_true", help="use the processed folder as it is; do not run the parser")
    b.add_argument("--timeout", type=int, help="execution timeout per cell, seconds (default: 300)")
    b.set_defaults(func=_cmd_build)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CchcError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
