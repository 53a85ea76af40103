"""Commands: parse arguments, call one function, print the report, return the exit code."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from cophandbook import __version__
from cophandbook.build import DEFAULT_OUTPUT, build
from cophandbook.report import display_path, text_report

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cophandbook",
        description="Publish the handbook of a community of practice as a static site.",
    )
    parser.add_argument("--version", action="version", version=f"cophandbook {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    build_cmd = commands.add_parser("build", help="build the site into a folder")
    build_cmd.add_argument("site", nargs="?", default=".", type=Path,
                           help="the handbook folder (default: the current folder)")
    build_cmd.add_argument("-o", "--output", type=Path, default=None,
                           help=f"output folder (default: SITE/{DEFAULT_OUTPUT})")
    return parser


def _build(args: argparse.Namespace) -> int:
    site: Path = args.site
    if not site.is_dir():
        print(f"cophandbook: error: {site} is not a folder", file=sys.stderr)
        return EXIT_USAGE
    started = time.perf_counter()
    result = build(site, args.output)
    report = text_report(result.problems)
    if report:
        print(report, file=sys.stderr)
    if result.problems.has_errors or result.output is None:
        print("Build failed; the previous output, if any, is untouched.", file=sys.stderr)
        return EXIT_PROBLEMS
    seconds = time.perf_counter() - started
    where = display_path(result.output)
    print(f"Built {result.pages} pages ({result.files} files) into {where} in {seconds:.2f} s.")
    print(f"To browse it: python3 -m http.server --directory {where} 8000, "
          "then open http://127.0.0.1:8000/")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "build":
            return _build(args)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
