#!/usr/bin/env python3
"""How long after saving an exemplar does the preview show it?

    python bench/serve_latency.py [--edits 20] [--site example-site] [--no-browser]
    python bench/serve_latency.py --pages 10000 [--build-first] [--search] [--edits 10]

Copies the handbook (or, with --pages, generates one of that many pages with the shared
generator, ../shared/bench/make_handbook.py beside the project) to a temporary folder,
starts `cophandbook serve` on a free port, then edits one exemplar again and again
(appending a line with a new marker each time) and measures, from the moment the file is
written and closed:

- event: until the reload event arrives on the page script's event stream;
- http:  until a GET of the exemplar's page returns the new marker (after that event);
- browser: until an open page in headless Chromium (Debian's /usr/bin/chromium, driven by
  Playwright), having reloaded itself, paints its new content (its first-contentful-paint,
  read from the page on the same wall clock): what a contributor sees. Playwright only
  notices a little later, so that delay is not counted.

It also reports the server's own rebuild times ("rebuilt in N ms"), how long the preview
took to start (from launching it to its first build served; with --build-first, after a
`cophandbook build` of the same handbook, whose cache the preview starts from), and the
first save on its own: it comes --settle seconds after the start (default 5, as a person
would take to open a file), once the preview has tidied up after its first build. The body
cache is a temporary one. Nothing is timed inside the test suite; this script is the
measurement.
"""

from __future__ import annotations

import argparse
import os
import platform
import queue
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = ROOT.parent / "shared" / "bench" / "make_handbook.py"
EXEMPLAR = "content/skills/impromptu-speaking/exemplars/the-bus-stop.md"
CHROMIUM = Path("/usr/bin/chromium")


def page_of(site: Path, exemplar: Path) -> str:
    """The site path of an exemplar's page: skills/<skill>/exemplars/<slug>/."""
    skill = exemplar.relative_to(site / "content" / "skills").parts[0]
    return f"skills/{skill}/exemplars/{exemplar.stem}/"


def start(site: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], str, list[str]]:
    proc = subprocess.Popen([sys.executable, "-m", "cophandbook", "serve", str(site),
                             "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, cwd=ROOT, env=env)
    first = proc.stdout.readline()
    url = re.search(r"at (http://\S+)", first)
    if not url:
        sys.exit(f"the preview did not start: {first}")
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True).start()
    return proc, url.group(1), lines


def events(url: str, since: int) -> queue.Queue[float]:
    """Arrival times of reload events on the page script's stream."""
    arrivals: queue.Queue[float] = queue.Queue()
    host, port = re.match(r"http://([^:/]+):(\d+)", url).groups()
    sock = socket.create_connection((host, int(port)))
    sock.sendall(f"GET /__cophandbook__/events?build={since} HTTP/1.1\r\n"
                 f"Host: {host}\r\n\r\n".encode())

    def read() -> None:
        for line in sock.makefile("rb"):
            if line.startswith(b"data: "):
                arrivals.put(time.perf_counter())

    threading.Thread(target=read, daemon=True).start()
    return arrivals


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def edit(file: Path, original: str, marker: str) -> float:
    file.write_text(original + f"\n{marker}\n", encoding="utf-8")
    return time.perf_counter()


def summary(name: str, samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p90 = ms[min(len(ms) - 1, round(0.9 * (len(ms) - 1)))]
    return (f"{name:<10} n={len(ms):<3} min {ms[0]:6.0f}  median {statistics.median(ms):6.0f}  "
            f"p90 {p90:6.0f}  max {ms[-1]:6.0f}  ms")


def measure_http(url: str, page: str, file: Path, original: str, edits: int
                 ) -> tuple[list, list]:
    page_url = url + page
    build = int(re.search(r'data-build="(\d+)"', fetch(page_url)).group(1))
    arrivals = events(url, build)
    to_event, to_page = [], []
    for n in range(edits):
        marker = f"HTTP-MARKER-{n}-{time.time_ns()}"
        written = edit(file, original, marker)
        arrived = arrivals.get(timeout=60)
        while marker not in fetch(page_url):
            time.sleep(0.001)
        to_event.append(arrived - written)
        to_page.append(time.perf_counter() - written)
        time.sleep(0.3)  # let the watcher settle, as between two saves
    return to_event, to_page


PAINTED = """() => {
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  return paint ? performance.timeOrigin + paint.startTime : null;
}"""


def measure_browser(url: str, page_path: str, file: Path, original: str, edits: int
                    ) -> list[float]:
    """Save → the reloaded page's first contentful paint, both on the wall clock."""
    from playwright.sync_api import sync_playwright

    samples = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"])
        page = browser.new_page()
        page.goto(url + page_path)
        for n in range(edits):
            marker = f"BROWSER-MARKER-{n}-{time.time_ns()}"
            file.write_text(original + f"\n{marker}\n", encoding="utf-8")
            written_ms = time.time() * 1000
            page.wait_for_function(f"document.body && document.body.innerText.includes("
                                   f"'{marker}')", timeout=60_000)
            page.wait_for_function(PAINTED, timeout=60_000)
            samples.append((page.evaluate(PAINTED) - written_ms) / 1000)
            time.sleep(0.3)
        browser.close()
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--site", type=Path, default=ROOT / "example-site")
    parser.add_argument("--pages", type=int, help="generate a handbook of this many pages")
    parser.add_argument("--generator", type=Path, default=GENERATOR)
    parser.add_argument("--build-first", action="store_true",
                        help="run `cophandbook build` before starting the preview")
    parser.add_argument("--search", action="store_true",
                        help="with --pages: search on (it is off otherwise)")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--settle", type=float, default=5.0,
                        help="seconds between the preview starting and the first save")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cophandbook-bench-"))
    site = work / "site"
    env = {**os.environ, "COPHANDBOOK_CACHE": str(work / "body-cache")}
    if args.pages:
        subprocess.run([sys.executable, str(args.generator), str(site), "--pages",
                        str(args.pages)], check=True, stdout=subprocess.DEVNULL)
        settings = site / "handbook.yml"
        settings.write_text(re.sub(r"(?m)^search: .*$", f"search: {str(args.search).lower()}",
                                   settings.read_text(encoding="utf-8")), encoding="utf-8")
        file = sorted((site / "content" / "skills").glob("*/exemplars/*.md"))[0]
        name = (f"a generated handbook of {args.pages} pages, "
                f"search {'on' if args.search else 'off'}")
    else:
        shutil.copytree(args.site, site, ignore=shutil.ignore_patterns("_site", ".*"))
        file = site / EXEMPLAR
        name = args.site.name
    page = page_of(site, file)
    original = file.read_text(encoding="utf-8")
    if args.build_first:
        subprocess.run([sys.executable, "-m", "cophandbook", "build", str(site), "-o",
                        str(work / "out")], check=True, stdout=subprocess.DEVNULL, env=env,
                       cwd=ROOT)
        name += ", built once before"
    launched = time.perf_counter()
    proc, url, output = start(site, env)
    started = time.perf_counter() - launched
    try:
        time.sleep(args.settle)
        to_event, to_page = measure_http(url, page, file, original, args.edits)
        browser = []
        if not args.no_browser and CHROMIUM.is_file():
            browser = measure_browser(url, page, file, original, args.edits)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    rebuilds = [float(m) / 1000 for m in re.findall(r"rebuilt in (\d+) ms", "".join(output))]
    print(f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{name}, {args.edits} edits of one exemplar")
    print(f"started    {started:6.1f} s  (launch → first build served)")
    print("save → …")
    print(summary("event", to_event))
    print(summary("http", to_page))
    print(f"first save → http {to_page[0] * 1000:6.0f} ms  ({args.settle:g} s after the start)")
    if browser:
        print(summary("browser", browser))
    else:
        print("browser    skipped (no Chromium at /usr/bin/chromium, or --no-browser)")
    print(summary("rebuild", rebuilds) + "  (the server's own build time)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
