"""Commands: parse arguments, call one function, print the report, return the exit code."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import difflib
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from cophandbook import __version__
from cophandbook.build import DEFAULT_OUTPUT, build, prepare
from cophandbook.check import check
from cophandbook.coverage_table import coverage_json, coverage_text
from cophandbook.diagnostics import Diagnostics
from cophandbook.history import repository_root
from cophandbook.origin import installed
from cophandbook.report import (
    FORMATS,
    display_path,
    github_report,
    json_report,
    summary,
    text_report,
)
from cophandbook.scaffold import ITEM_KINDS, NewItem, ScaffoldError, create_item
from cophandbook.starter import create_site, default_title
from cophandbook.views import coverage

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2

NEW_USAGE = """\
cophandbook new SITE [TITLE]
       cophandbook new {exemplar,exercise,session,skill,guide} [TITLE] [--skill S] \
[--level L] [--site SITE] [--slug SLUG] [--date YYYY-MM-DD]"""


class UsageError(Exception):
    """A mistake in the command's arguments: exit 2 with the message."""


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date written YYYY-MM-DD") from None


def _site_argument(command: argparse.ArgumentParser) -> None:
    command.add_argument("site", nargs="?", default=Path("."), type=Path,
                         help="the handbook folder (default: the current folder)")


class _Version(argparse.Action):
    """`--version`, on one line however long the place it was installed from (argparse's
    own action wraps it to the terminal's width)."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        print(f"cophandbook {__version__} (from {installed().where})")
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cophandbook",
        description="Publish the handbook of a community of practice as a static site.",
    )
    parser.add_argument("--version", action=_Version, nargs=0,
                        help="show the version, and where it was installed from")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    build_cmd = commands.add_parser("build", help="build the site into a folder")
    _site_argument(build_cmd)
    build_cmd.add_argument("-o", "--output", type=Path, default=None,
                           help=f"output folder (default: SITE/{DEFAULT_OUTPUT})")
    build_cmd.add_argument("--base-url", default=None, metavar="URL",
                           help="where the site is hosted, replacing base_url of handbook.yml "
                                "(e.g. https://org.github.io/handbook/)")

    check_cmd = commands.add_parser(
        "check", help="report every problem, with file and line, without building",
        description="Report every problem of the handbook without writing anything. Exit 0 "
                    "when clean (warnings allowed unless --strict), 1 on problems.")
    _site_argument(check_cmd)
    check_cmd.add_argument("--format", choices=FORMATS, default="text",
                           help="text for people (default), json for tools, github for "
                                "annotations on a pull request")
    check_cmd.add_argument("--strict", action="store_true", help="warnings fail too")

    new_cmd = commands.add_parser(
        "new", usage=NEW_USAGE, help="start a handbook, or add an exemplar, exercise, …",
        description="'new SITE' writes a starter handbook into a new or empty folder. "
                    "'new exemplar|exercise|session|skill|guide TITLE' writes a content file "
                    "with its front matter filled in, and prints its path.")
    new_cmd.add_argument("what", metavar="SITE|KIND",
                         help=f"a folder for a new handbook, or one of: {', '.join(ITEM_KINDS)}")
    new_cmd.add_argument("title", nargs="?", default=None, metavar="TITLE",
                         help="the title (asked for when missing, on a terminal)")
    new_cmd.add_argument("--skill", help="the skill it belongs to (exemplar, exercise, session)")
    new_cmd.add_argument("--level", help="the level (exemplar: of the work; exercise: who it "
                                         "is for)")
    new_cmd.add_argument("--site", type=Path, default=None,
                         help="the handbook folder (default: the current folder)")
    new_cmd.add_argument("--slug", help="the file name without .md (default: from the title)")
    new_cmd.add_argument("--date", type=_date, help="the date (exemplar, session; default: "
                                                   "today)")

    serve_cmd = commands.add_parser(
        "serve", help="preview the site, rebuilt and reloaded as you edit",
        description="Build into a temporary folder and serve it on this computer; each change "
                    "rebuilds it and reloads open pages, and problems show over the page.")
    _site_argument(serve_cmd)
    serve_cmd.add_argument("--port", type=int, default=8000,
                           help="the port (default: 8000; 0 picks a free one)")
    serve_cmd.add_argument("--host", default="127.0.0.1",
                           help="the address to listen on (default: 127.0.0.1, this computer "
                                "only)")
    serve_cmd.add_argument("--open", action="store_true", help="open the preview in a browser")

    coverage_cmd = commands.add_parser(
        "coverage", help="which levels and criteria still lack exemplars or exercises")
    _site_argument(coverage_cmd)
    coverage_cmd.add_argument("--format", choices=("text", "json"), default="text")
    return parser


def _require_folder(site: Path) -> None:
    if not site.is_dir():
        raise UsageError(f"{site} is not a folder")


def _print_problems(problems: Diagnostics) -> None:
    report = text_report(problems)
    if report:
        print(report, file=sys.stderr)


# -- commands ---------------------------------------------------------------------------------

class _TerminalProgress:
    """A progress line on stderr, for builds long enough to wonder about, on a terminal only."""

    AFTER_SECONDS = 2.0

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.shown = False
        self.enabled = sys.stderr.isatty()

    def stage(self, name: str, total: int) -> Callable[[int], None]:
        def report(done: int) -> None:
            if not self.enabled or time.perf_counter() - self.started < self.AFTER_SECONDS:
                return
            print(f"\r{name}: {done:,} of {total:,}\033[K", end="", file=sys.stderr,
                  flush=True)
            self.shown = True
        return report

    def clear(self) -> None:
        if self.shown:
            print("\r\033[K", end="", file=sys.stderr, flush=True)


def _build(args: argparse.Namespace) -> int:
    _require_folder(args.site)
    started = time.perf_counter()
    progress = _TerminalProgress()
    result = build(args.site, args.output, base_url=args.base_url, progress=progress,
                   waiting=lambda message: print(message, file=sys.stderr, flush=True))
    progress.clear()
    _print_problems(result.problems)
    if result.problems.has_errors or result.output is None:
        print("Build failed; " + ("the output is incomplete (see above)."
                                  if result.output_changed else
                                  "the previous output, if any, is untouched."),
              file=sys.stderr)
        return EXIT_PROBLEMS
    seconds = time.perf_counter() - started
    where = display_path(result.output)
    if result.unchanged:
        print(f"Nothing changed: the {result.pages} pages in {where} are up to date "
              f"({seconds:.2f} s).")
        return EXIT_OK
    kept = (f", {result.files_kept} unchanged" if result.files_kept else "")
    reused = [f"{count} {what}" for count, what in (
        (result.pages_reused, "pages not rendered again"),
        (result.sources_cached, "files not read again"),
        (result.bodies_cached, "bodies from the cache")) if count]
    print(f"Built {result.pages} pages ({result.files} files) into {where} in {seconds:.2f} s: "
          f"{result.files_written} written{kept}"
          + (f" ({', '.join(reused)})" if reused else "") + ".")
    print(f"To browse it: python3 -m http.server --directory {where} 8000, "
          "then open http://127.0.0.1:8000/")
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    _require_folder(args.site)
    result = check(args.site)
    problems = result.problems
    failed = problems.has_errors or (args.strict and bool(problems.warnings))
    if args.format == "json":
        print(json_report(problems))
    elif args.format == "github":
        if problems.items:
            print(github_report(problems, repository_root(args.site)))
        print(f"cophandbook check: {summary(problems)}", file=sys.stderr)
    elif problems.items:
        print(text_report(problems))
    else:
        print(f"No problems in {result.sources} files.")
    return EXIT_PROBLEMS if failed else EXIT_OK


def _ask_title(kind: str) -> str:
    if not sys.stdin.isatty():
        raise UsageError(f"give the {kind}'s title: cophandbook new {kind} \"A clear title\"")
    try:
        title = input(f"Title of the new {kind}: ").strip()
    except EOFError:
        title = ""
    if not title:
        raise UsageError("a title is needed")
    return title


def _new_site(args: argparse.Namespace) -> int:
    options = [name for name in ("skill", "level", "site", "slug", "date")
               if getattr(args, name) is not None]
    if options:
        raise UsageError(f"--{options[0]} applies to new content, not to a new handbook; "
                         f"the kinds of content are: {', '.join(ITEM_KINDS)}")
    guess = difflib.get_close_matches(args.what, ITEM_KINDS, n=1, cutoff=0.8)
    folder = Path(args.what)
    if guess and not folder.exists() and "/" not in args.what:
        raise UsageError(f"did you mean 'cophandbook new {guess[0]}'? To start a handbook "
                         f"in a folder named '{args.what}', write ./{args.what}")
    origin = installed()
    create_site(folder, args.title or default_title(folder), dt.date.today(), origin)
    where = display_path(folder)
    print(f"Created a new handbook in {where}. Next:")
    print(f"  cd {where}")
    print("  cophandbook serve    # a preview at http://127.0.0.1:8000/ that reloads as you edit")
    print("  cophandbook check    # every problem, with its file and line")
    print("Put it on GitHub: .github/workflows check pull requests and publish the site with "
          "GitHub Pages. CONTRIBUTING.md explains how to contribute.")
    if not origin.requirement:
        print(f"Note: this cophandbook was installed from {origin.where}, which GitHub's "
              "runners cannot reach. Before the workflows can install it, requirements.txt "
              "needs a version published on PyPI or a git URL; it says how to write either.",
              file=sys.stderr)
    return EXIT_OK


def _new_item(args: argparse.Namespace) -> int:
    site: Path = args.site or Path(".")
    _require_folder(site)
    title = args.title if args.title is not None else _ask_title(args.what)
    request = NewItem(args.what, title.strip(), args.skill, args.level, args.slug, args.date)
    paths = create_item(site, request, dt.date.today())
    for path in paths:
        print(f"Created {display_path(path)}")
    target = "" if site == Path(".") else f" {display_path(site)}"
    print(f"Fill it in, then run: cophandbook check{target}")
    return EXIT_OK


def _new(args: argparse.Namespace) -> int:
    try:
        if args.what in ITEM_KINDS:
            return _new_item(args)
        return _new_site(args)
    except ScaffoldError as exc:
        if exc.usage:
            raise UsageError(str(exc)) from None
        print(f"cophandbook new: error: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS


def _coverage(args: argparse.Namespace) -> int:
    _require_folder(args.site)
    problems = Diagnostics()
    prepared = prepare(args.site, problems)
    errors = Diagnostics(problems.errors)
    if prepared is None:
        _print_problems(errors)
        return EXIT_PROBLEMS
    skills = coverage(prepared.derived)
    print(coverage_json(skills) if args.format == "json" else coverage_text(skills))
    if errors.items:
        _print_problems(errors)
        print("Some files have errors, so they are not counted above; run 'cophandbook check'.",
              file=sys.stderr)
        return EXIT_PROBLEMS
    return EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    _require_folder(args.site)
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, not {args.port}")
    # Imported here so that other commands do not pay for the server's imports.
    from cophandbook.serve.preview import run as run_preview

    return run_preview(args.site, args.host, args.port, args.open)


COMMANDS = {"build": _build, "check": _check, "new": _new, "coverage": _coverage,
            "serve": _serve}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"cophandbook {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # the file system said no: permissions, a full disk
        print(f"cophandbook {args.command}: error: {exc.strerror or exc}"
              + (f": {exc.filename}" if exc.filename else ""), file=sys.stderr)
        return EXIT_PROBLEMS
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130


def run() -> None:
    """The `cophandbook` command. Once a command has returned, everything it wrote is closed;
    the process then ends without Python freeing a large build's objects one by one, which
    is a noticeable share of a large handbook's rebuild (docs/benchmarks.md)."""
    code = main()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # closed, or a reader gone (| head)
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
