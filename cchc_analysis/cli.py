"""The ``cchc`` command. Each sub-command is a thin shell around a library function; errors print without tracebacks."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cchc_analysis.concurrency import exclusive, interrupt_on_sigterm
from cchc_analysis.errors import CchcError

DEFAULT_RAW = Path("data/raw")
DEFAULT_PROCESSED = Path("data/processed")
DEFAULT_REPORTS = Path("reports")


def _cmd_parse(args: argparse.Namespace) -> int:
    from cchc_analysis.workflow import DEFAULT_CACHE, parse_and_write

    reports = args.reports or [DEFAULT_RAW]
    cache = None if args.no_cache else Path(args.cache_dir or DEFAULT_CACHE)
    with exclusive(*reports, Path(args.out)):
        summary = parse_and_write(reports, Path(args.out), cache)
    print(summary)
    return 0


def _cmd_build(args: argparse.Namespace) -> int:
    from cchc_analysis.pack.build import run_build

    with exclusive(args.raw, args.processed, args.out):
        return run_build(args)


def _cmd_template(args: argparse.Namespace) -> int:
    from cchc_analysis.dataset.build import build_dataset
    from cchc_analysis.read.manifest import discover
    from cchc_analysis.text import slug as _slug
    from cchc_analysis.updates.template import write_template

    raw = Path(args.raw)
    indicators = build_dataset(discover([raw]), with_narrative=False).indicators
    out = args.out or Path(f"{_slug(args.district)}-{args.year}.{args.format}")
    path = write_template(raw, args.district, args.year, Path(out), args.format, indicators, force=args.force)
    print(f"wrote {path}: fill the column 'Năm {args.year}', then run `cchc ingest {path}`")
    return 0


def _cmd_ingest(args: argparse.Namespace) -> int:
    from cchc_analysis.updates.ingest import ingest

    warnings, summary = ingest(Path(args.file), Path(args.raw), Path(args.processed), replace=args.replace,
                               status=args.status, source=args.source or "")
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(summary)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cchc", description="Turn district CCHC (public-administration-reform) reports into a tidy dataset and "
        "an evaluation pack (HTML site and PDF). Errors print as one line naming the file, and exit with status 2.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("parse", help="report(s) -> tidy dataset in data/processed/")
    p.add_argument("reports", nargs="*", type=Path,
                   help="report files or folders (default: every report listed in a manifest under data/raw/)")
    p.add_argument("--out", default=str(DEFAULT_PROCESSED), help="output folder (default: %(default)s)")
    p.add_argument("--cache-dir", type=Path, help="per-report results by content hash, so an unchanged report is "
                                                  "not read again (default: .build/parse)")
    p.add_argument("--no-cache", action="store_true", help="read every report; neither use nor fill the cache")
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
    b.add_argument("--district", help="the district whose pack to build (default: the only one in the dataset; "
                                      "with several districts the site has the comparison page, and only it when "
                                      "no district is chosen)")
    b.add_argument("--notebooks", type=Path,
                   help="folder with area.ipynb, overview.ipynb and compare.ipynb (default: notebooks)")
    b.add_argument("--cache-dir", type=Path, help="build cache (default: .build)")
    b.add_argument("--no-parse", action="store_true", help="use the processed folder as it is; do not run the parser")
    b.add_argument("--timeout", type=int, help="execution timeout per cell, seconds (default: 300)")
    b.set_defaults(func=_cmd_build)

    t = sub.add_parser("template", help="write the fill-in workbook (or CSV) for a new year's figures")
    t.add_argument("--district", required=True, help="district name, statistical code or data/raw folder")
    t.add_argument("--year", required=True, type=int)
    t.add_argument("--out", type=Path, help="output file (default: <district>-<year>.<format>)")
    t.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
    t.add_argument("--force", action="store_true", help="overwrite an existing output file")
    t.add_argument("--raw", default=str(DEFAULT_RAW), help="raw data folder (default: %(default)s)")
    t.set_defaults(func=_cmd_template)

    i = sub.add_parser("ingest", help="validate a filled template, store it as raw data and rebuild the dataset")
    i.add_argument("file", type=Path)
    i.add_argument("--replace", action="store_true", help="replace a year already present (the old file is kept)")
    i.add_argument("--status", choices=["preliminary", "final"], default="preliminary")
    i.add_argument("--source", help="where the figures come from (default: the file name)")
    i.add_argument("--raw", default=str(DEFAULT_RAW), help="raw data folder (default: %(default)s)")
    i.add_argument("--processed", default=str(DEFAULT_PROCESSED), help="dataset folder (default: %(default)s)")
    i.set_defaults(func=_cmd_ingest)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with interrupt_on_sigterm():
            return args.func(args)
    except CchcError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # disk full, read-only, name too long, permission: one line naming the file
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
