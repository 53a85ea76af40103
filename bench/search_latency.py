#!/usr/bin/env python3
"""How long does a member wait for a first search, and what does it download?

    python bench/search_latency.py SITE_FOLDER [--query WORD] [--runs 3]

SITE_FOLDER is a built site with search on (a `_site` folder). It is served on 127.0.0.1,
and headless Chromium (Debian's /usr/bin/chromium, driven by Playwright) opens its search
page in a fresh browser context each run, so nothing is cached, and searches for WORD:
timed from pressing Enter to the results' status line, with the requests and bytes the
search needed (Pagefind's code and each bundle's metadata, word index and excerpts).
Measured over the loopback as it is, and on a throttled phone (150 ms of latency, 1.6 Mbit/s
down, the CPU slowed 4×, as Chromium's "slow 4G" and mid-range phone presets); each with the
words pasted and Enter pressed as soon as the page has loaded, and typed into the box at five
characters a second (timed from the last key: the page searches once typing pauses, and
opens the index as soon as the box has the focus).
The number of index bundles (see cophandbook/search.py) is what moves these figures most.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from playwright.sync_api import Browser, Request, sync_playwright

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]
PHONE = {"offline": False, "latency": 150, "downloadThroughput": 1.6e6 / 8,
         "uploadThroughput": 0.75e6 / 8}
# The status line once the results for all the words are shown (not those for the words
# typed so far, which a pause while typing may have searched for).
DONE = """query => {
  const status = document.getElementById('search-status').textContent;
  return status.endsWith('.') && status.includes(`\u201c${query}\u201d`);
}"""


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def first_search(browser: Browser, origin: str, query: str, phone: bool, typed: bool
                 ) -> tuple[float, int, int, str]:
    """Seconds from Enter (or the last key typed) to the results, the requests and bytes
    the search needed, and the status line."""
    context = browser.new_context()  # nothing cached from an earlier run
    page = context.new_page()
    finished: list[Request] = []
    page.on("requestfinished", lambda request: finished.append(request))
    if phone:
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", PHONE)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
    page.goto(origin + "/search/")
    page.wait_for_load_state("load")
    before = len(finished)
    if typed:
        page.focus("#search-q")
        page.keyboard.type(query[:-1], delay=200)
        time.sleep(0.2)
        started = time.perf_counter()
        page.keyboard.type(query[-1])
    else:
        started = time.perf_counter()
        page.fill("#search-q", query)
        page.press("#search-q", "Enter")
    page.wait_for_function(DONE, arg=query, timeout=120_000)
    seconds = time.perf_counter() - started
    searched = finished[before:]
    size = sum(request.sizes()["responseBodySize"] for request in searched)
    status = page.inner_text("#search-status")
    context.close()
    return seconds, len(searched), size, status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path, help="a built site with search on")
    parser.add_argument("--query", default="feedback")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    manifest = args.site / "pagefind" / "bundles.json"
    if not manifest.is_file():
        raise SystemExit(f"{manifest} not found: build the site with 'search: true' first")
    bundles = len(json.loads(manifest.read_text(encoding="utf-8"))["bundles"])
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet,
                                                                     directory=str(args.site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_port}"
    print(f"{args.site}: {bundles} bundle{'' if bundles == 1 else 's'}, "
          f"query {args.query!r}, {args.runs} runs")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        for profile, how in itertools.product(("loopback", "phone"), ("Enter", "typed")):
            runs = [first_search(browser, origin, args.query, profile == "phone",
                                 how == "typed") for _ in range(args.runs)]
            seconds = [run[0] for run in runs]
            _, requests, size, status = runs[-1]
            print(f"  {profile}, {how}: first search {min(seconds):.2f}-{max(seconds):.2f} s, "
                  f"{requests} requests, {size / 1024:.0f} KB ({status})")
        browser.close()
    server.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
