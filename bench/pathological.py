"""Time to build one page of each of cmark's pathological inputs (tests/pathological_inputs.py).

    python bench/pathological.py [--scale 1.0] [--allow-html] [--pages 1] [--only NAME ...]

Each input becomes the body of a page in a small handbook (of `--pages` pages, each with the
input, to time what many such files cost a build together), built with `cophandbook build` in
a fresh process, with an empty body cache. The target is at most 5 s per file, whether the
page renders or the build reports the input (`markdown-too-slow`, `markdown-too-deep`,
`file-too-large`, `build-too-slow`). Prints a Markdown table: seconds, exit status and the
codes reported.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.pathological_inputs import cases  # noqa: E402

SETTINGS = """\
title: Pathological
search: false
levels:
  - {{id: novice, name: Novice}}
markdown: {{allow_html: {allow_html}}}
"""


def build_one(folder: Path, body: str, allow_html: bool,
              pages: int = 1) -> tuple[float, int, list[str]]:
    shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(folder.with_name("body-cache"), ignore_errors=True)
    (folder / "content").mkdir(parents=True)
    (folder / "handbook.yml").write_text(SETTINGS.format(allow_html=str(allow_html).lower()))
    (folder / "content" / "index.md").write_text("---\ntitle: Home\n---\nHome.\n")
    for page in range(pages):
        name = "input.md" if pages == 1 else f"input-{page + 1}.md"
        (folder / "content" / name).write_text(f"---\ntitle: Input\n---\n{body}\n")
    env = {**os.environ, "COPHANDBOOK_CACHE": str(folder.with_name("body-cache"))}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "cophandbook", "build", str(folder)],
                          capture_output=True, text=True, cwd=ROOT, env=env)
    seconds = time.perf_counter() - started
    codes = sorted(set(re.findall(r"\[([a-z-]+)\]$", done.stderr + done.stdout, re.M)))
    if "Traceback" in done.stderr:
        codes.append("TRACEBACK")
    return seconds, done.returncode, codes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--allow-html", action="store_true")
    parser.add_argument("--pages", type=int, default=1, help="pages with each input")
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args()
    print(f"{platform.node()}: {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}, scale {args.scale}, "
          f"allow_html {args.allow_html}, {args.pages} page(s) per input\n")
    print("| input | KB | seconds | exit | reported |\n|---|---|---|---|---|")
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for name, body in cases(args.scale).items():
            if args.only and name not in args.only:
                continue
            seconds, status, codes = build_one(Path(tmp) / "site", body, args.allow_html,
                                               args.pages)
            worst = max(worst, seconds)
            print(f"| {name} | {len(body.encode()) // 1024} | {seconds:.2f} | {status} | "
                  f"{', '.join(codes) or '-'} |", flush=True)
    print(f"\nslowest: {worst:.2f} s (target: at most 5 s per file)")


if __name__ == "__main__":
    main()
