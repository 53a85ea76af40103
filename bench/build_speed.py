"""Build speed against the floor, on large synthetic handbooks.

    python bench/build_speed.py [--pages 1000 5000 10000] [--runs 3] [--search]

For each size, generates a handbook with the shared generator (../shared/bench/make_handbook.py
beside the project, or --generator), then measures, as medians of --runs:

- floor: read + split front matter + YAML (CSafeLoader) + markdown-it-py render + a trivial
  Jinja2 template + write, per page, in 2 processes: what any Python generator must do;
- cold: `cophandbook build` with no body cache and no output;
- no change: the same build again;
- one edit: a build after appending a paragraph to one exemplar's body (words the site has);
- with --search, one edit that adds a word new to the site (every search shard again);

and the peak memory of cophandbook with its worker processes (PSS, sampled from /proc). Prints a
Markdown table with the machine it ran on. Search is off unless --search.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GENERATOR = ROOT.parent / "shared" / "bench" / "make_handbook.py"


# -- the floor --------------------------------------------------------------------------------

def _floor_chunk(job: tuple[list[str], str, str]) -> int:
    import jinja2
    import yaml
    from markdown_it import MarkdownIt

    paths, source_root, out_root = job
    md = MarkdownIt("commonmark").enable("table")
    template = jinja2.Environment(autoescape=True).from_string(
        "<!doctype html><title>{{ title }}</title><main>{{ body | safe }}</main>")
    for rel in paths:
        text = Path(source_root, rel).read_text(encoding="utf-8")
        _, front, body = text.split("---\n", 2) if text.startswith("---\n") else ("", "", text)
        meta = yaml.load(front, Loader=yaml.CSafeLoader) or {}
        html = template.render(title=meta.get("title", rel), body=md.render(body))
        target = Path(out_root, rel).with_suffix(".html")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
    return len(paths)


def floor(site: Path, out: Path) -> float:
    shutil.rmtree(out, ignore_errors=True)
    content = site / "content"
    files = sorted(p.relative_to(content).as_posix() for p in content.rglob("*.md"))
    started = time.perf_counter()
    chunks = [files[i::8] for i in range(8)]
    with ProcessPoolExecutor(max_workers=2) as pool:
        done = sum(pool.map(_floor_chunk, [(c, str(content), str(out)) for c in chunks]))
    assert done == len(files)
    return time.perf_counter() - started


# -- cophandbook ------------------------------------------------------------------------------

class PeakRss:
    """Samples the memory of a process and its descendants: the sum of their proportional
    set sizes (PSS), so pages that forked workers share with their parent count once, not
    once per process as summed RSS would."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
        found, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo.extend(children.get(pid, []))
        return found

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            total = 0
            for pid in self._tree():
                try:
                    status = Path(f"/proc/{pid}/smaps_rollup").read_text()
                except OSError:
                    continue
                match = re.search(r"^Pss:\s+(\d+) kB", status, re.M)
                total += int(match.group(1)) * 1024 if match else 0
            self.peak = max(self.peak, total)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def cophandbook_build(site: Path, out: Path) -> tuple[float, int, str]:
    started = time.perf_counter()
    env = {**os.environ, "COPHANDBOOK_CACHE": str(out.parent / "body-cache")}
    proc = subprocess.Popen([sys.executable, "-m", "cophandbook", "build", str(site), "-o",
                             str(out)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, cwd=ROOT, env=env)
    rss = PeakRss(proc.pid)
    output, _ = proc.communicate()
    seconds = time.perf_counter() - started
    peak = rss.stop()
    if proc.returncode != 0:
        raise SystemExit(f"cophandbook build failed:\n{output}")
    return seconds, peak, output.strip().splitlines()[0]


def edit_one_exemplar(site: Path, n: int, new_word: bool = False) -> None:
    """Append a paragraph to one exemplar's body: its own last line again (words the site
    has), or, with `new_word`, a word the site has never used, which makes the search index
    every shard again (see cophandbook/search.py)."""
    exemplar = sorted((site / "content" / "skills").glob("*/exemplars/*.md"))[0]
    text = exemplar.read_text(encoding="utf-8")
    paragraph = f"Zyxquorbled{n}." if new_word else text.rstrip().rsplit("\n", 1)[-1]
    exemplar.write_text(f"{text}\n{paragraph}\n", encoding="utf-8")


def measure(pages: int, runs: int, search: bool, generator: Path, work: Path) -> dict:
    site = work / f"site-{pages}"
    subprocess.run([sys.executable, str(generator), str(site), "--pages", str(pages)],
                   check=True, stdout=subprocess.DEVNULL)
    settings = site / "handbook.yml"
    settings.write_text(re.sub(r"(?m)^search: .*$", f"search: {str(search).lower()}",
                               settings.read_text()))
    floors, colds, unchanged, edits, new_words, peaks = [], [], [], [], [], []
    for run in range(runs):
        floors.append(floor(site, work / "floor-out"))
        shutil.rmtree(work / "body-cache", ignore_errors=True)  # cold: no cache either
        out = work / f"out-{pages}"
        shutil.rmtree(out, ignore_errors=True)
        seconds, peak, _ = cophandbook_build(site, out)
        colds.append(seconds)
        peaks.append(peak)
        seconds, peak, _ = cophandbook_build(site, out)
        unchanged.append(seconds)
        peaks.append(peak)
        edit_one_exemplar(site, run)
        seconds, peak, summary = cophandbook_build(site, out)
        edits.append(seconds)
        peaks.append(peak)
        if search:
            edit_one_exemplar(site, run, new_word=True)
            seconds, peak, _ = cophandbook_build(site, out)
            new_words.append(seconds)
            peaks.append(peak)
        print(f"  {pages} pages, run {run + 1}: floor {floors[-1]:.2f} s, cold {colds[-1]:.2f} s,"
              f" no change {unchanged[-1]:.2f} s, one edit {edits[-1]:.2f} s "
              + (f"(a new word: {new_words[-1]:.2f} s) " if search else "")
              + f"({summary})", file=sys.stderr, flush=True)
    return {"pages": pages, "floor": statistics.median(floors),
            "cold": statistics.median(colds), "unchanged": statistics.median(unchanged),
            "edit": statistics.median(edits), "rss": max(peaks),
            "new_word": statistics.median(new_words) if new_words else None}


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(line.split(":", 1)[1].strip() for line in
                   Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name"))
    return (f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, nargs="+", default=[1000, 5000, 10000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--search", action="store_true")
    parser.add_argument("--generator", type=Path, default=GENERATOR)
    args = parser.parse_args()
    if not args.generator.is_file():
        parser.error(f"no generator at {args.generator}; pass --generator PATH")
    with tempfile.TemporaryDirectory(prefix="cophandbook-bench-") as work:
        rows = [measure(n, args.runs, args.search, args.generator, Path(work))
                for n in args.pages]
    print(f"{time.strftime('%Y-%m-%d')}, {machine()}, search {'on' if args.search else 'off'},"
          f" medians of {args.runs}\n")
    new_word = " one edit, a new word |" if args.search else ""
    print(f"| pages | floor | cold build | × floor | no-change rebuild | one-edit rebuild |"
          f"{new_word} peak memory (PSS) |")
    print("|---" * (8 if args.search else 7) + "|")
    for r in rows:
        extra = f" {r['new_word']:.2f} s |" if args.search else ""
        print(f"| {r['pages']:,} | {r['floor']:.2f} s | {r['cold']:.2f} s | "
              f"{r['cold'] / r['floor']:.2f} | {r['unchanged']:.2f} s | {r['edit']:.2f} s |"
              f"{extra} {r['rss'] / 2**20:.0f} MB |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
