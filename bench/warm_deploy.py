"""What the starter's publish workflow saves a deploy: two deploys from fresh clones, the
second after a one-file change, with and without the first's cache restored.

    python bench/warm_deploy.py [--pages 1000] [--generator PATH]

Generates a handbook with the shared generator, commits it to a git repository, then plays a
CI runner: a fresh clone at a fixed path, the build the workflow runs (`cophandbook build`,
search as the handbook has it), and the workflow's own cache paths (read from
`cophandbook/starter-handbook/dot-github/workflows/publish.yml`) saved after the build and
restored before the next. Prints the time of each build as a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
GENERATOR = ROOT.parent / "shared" / "bench" / "make_handbook.py"
WORKFLOW = ROOT / "cophandbook" / "starter-handbook" / "dot-github" / "workflows" / "publish.yml"


def git(folder: Path, *args: str, date: str = "2026-03-02T12:00:00") -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.org",
           "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@example.org",
           "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True, env=env)


def cache_paths(workspace: Path, home: Path) -> list[Path]:
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["build"]["steps"]
    written = next(s for s in steps if s.get("name") == "Restore the last build")["with"]["path"]
    return [Path(p.replace("~", str(home), 1)) if p.startswith("~") else workspace / p
            for p in written.split()]


def build(workspace: Path, home: Path) -> tuple[float, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COPHANDBOOK_CACHE", "XDG_CACHE_HOME")}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "cophandbook", "build"], cwd=workspace,
                          env={**env, "HOME": str(home), "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(done.stdout + done.stderr)
    return seconds, done.stdout.strip().splitlines()[-2]


def fresh_clone(origin: Path, workspace: Path, home: Path) -> None:
    shutil.rmtree(workspace, ignore_errors=True)
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    subprocess.run(["git", "clone", "--quiet", str(origin), str(workspace)], check=True)


def copy(source: Path, target: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, target, symlinks=True)
    elif source.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--generator", type=Path, default=GENERATOR)
    parser.add_argument("--no-search", action="store_true",
                        help="build without search (the generated handbook has it on)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cophandbook-deploy-") as work:
        origin, runner = Path(work) / "origin", Path(work) / "runner"
        workspace, home, store = runner / "work" / "site", runner / "home", Path(work) / "store"
        subprocess.run([sys.executable, str(args.generator), str(origin), "--pages",
                        str(args.pages)], check=True, capture_output=True)
        settings = origin / "handbook.yml"
        if args.no_search:
            settings.write_text(settings.read_text().replace("search: true", "search: false"))
        git(origin, "init", "-q", "-b", "main")
        git(origin, "add", ".")
        git(origin, "commit", "-q", "-m", "start")

        fresh_clone(origin, workspace, home)
        first, first_summary = build(workspace, home)
        for index, path in enumerate(cache_paths(workspace, home)):
            copy(path, store / str(index))

        exemplar = next(origin.glob("content/skills/*/exemplars/*.md"))
        exemplar.write_text(exemplar.read_text() + "\nOne more line of the transcript.\n")
        git(origin, "commit", "-q", "-am", "one line", date="2026-03-03T12:00:00")  # a day on

        fresh_clone(origin, workspace, home)
        cold, _ = build(workspace, home)
        fresh_clone(origin, workspace, home)
        for index, path in enumerate(cache_paths(workspace, home)):
            copy(store / str(index), path)
        warm, warm_summary = build(workspace, home)

    print(f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {platform.system()} {platform.release()}\n")
    print("| pages | search | first deploy | next deploy, cold | next deploy, cache restored |")
    print("|---|---|---|---|---|")
    print(f"| {args.pages:,} | {'off' if args.no_search else 'on'} | {first:.2f} s | "
          f"{cold:.2f} s | {warm:.2f} s |")
    print(f"\nfirst: {first_summary}\nwarm: {warm_summary}")


if __name__ == "__main__":
    main()
