"""`cophandbook serve`: build into a temporary folder, serve it, and rebuild on change.

Three threads: the HTTP server, the watcher (which also runs each rebuild, so builds never
overlap), and the main thread, which waits for Ctrl-C and then cleans up: the temporary
folder is removed, and the user's own output folder is never touched.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import itertools
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
import webbrowser
from pathlib import Path
from typing import TextIO

from cophandbook.report import display_path, records, text_report
from cophandbook.search import SearchError
from cophandbook.serve.builder import Outcome, PreviewBuilder
from cophandbook.serve.http import LOOPBACK_NAMES, LiveScript, LiveState, PreviewServer, Snapshot
from cophandbook.serve.watch import watch_inputs
from cophandbook.theme import default_theme

WATCH_START_SECONDS = 10
QUIET_SECONDS = 1.0  # tidy up (collect garbage, re-index search) once saves pause this long


class Preview:
    """Publishes each build's outcome to the server, and says what happened."""

    def __init__(self, site: Path, workspace: Path, out: TextIO, err: TextIO) -> None:
        self.site = site
        self.builder = PreviewBuilder(site, workspace)
        self.state = LiveState()
        self.out, self.err = out, err
        self._numbers = itertools.count(1)
        self._building = threading.Lock()  # the first build and the watcher's never overlap
        self._tidy_timer: threading.Timer | None = None
        self._tidy_timer_lock = threading.Lock()
        # One tidy-up at a time, for the latest build only: re-indexing a large handbook
        # takes Pagefind far longer than saves come, and much memory.
        self._tidying = threading.Lock()
        self._latest: Outcome | None = None

    def rebuild(self, changed: set[Path] | None = None) -> None:
        with self._building:
            self._rebuild(changed)

    def _postpone_tidying(self) -> None:
        """A build is starting: tidying up (a full collection holds every thread while it
        walks what the preview keeps) waits until saves pause after it."""
        with self._tidy_timer_lock:
            if self._tidy_timer is not None:
                self._tidy_timer.cancel()

    def catch_up(self) -> None:
        """Build again if an input changed since the last build began (an edit made while
        it ran, before the watch was in place)."""
        with self._building:
            if self.builder.inputs_changed():
                self._rebuild(None)

    def _rebuild(self, changed: set[Path] | None) -> None:
        self._postpone_tidying()
        try:
            outcome = self.builder.build()
        except OSError as exc:  # a file vanished mid-save; its next event rebuilds
            print(f"Could not read the handbook: {exc}", file=self.err, flush=True)
            return
        except Exception:  # a bug must not stop the preview; show it and keep serving
            print("cophandbook: internal error while building (please report it):\n"
                  + traceback.format_exc(), file=self.err, flush=True)
            return
        self._publish(outcome, changed)
        self._when_saves_pause(outcome, 0 if changed is None else QUIET_SECONDS)

    def _when_saves_pause(self, outcome: Outcome, delay: float) -> None:
        """Tidy up once saves pause: collect the garbage of earlier builds (builds do not
        collect; see PreviewBuilder.build), bring the folder the next build writes up to
        this one (PreviewBuilder.mirror), and re-index search. Each takes long enough on a
        large handbook to slow the next save's rebuild, were it done then."""
        with self._tidy_timer_lock:
            self._latest = outcome
            if self._tidy_timer is not None:
                self._tidy_timer.cancel()
            self._tidy_timer = threading.Timer(delay, self._tidy, (outcome,))
            self._tidy_timer.daemon = True
            self._tidy_timer.start()

    def _tidy(self, outcome: Outcome) -> None:
        with self._tidying:
            # A newer build came meanwhile, or one is under way: its own turn comes after it.
            if outcome is not self._latest or self.builder.building:
                return
            gc.collect()
            # On failure what was done is kept: the next build writes the rest, or says why not.
            with contextlib.suppress(OSError):
                self.builder.mirror()
            try:
                self.builder.refresh_search(outcome)
            except (SearchError, OSError) as exc:
                print(f"Search in the preview is not up to date: {exc}", file=self.err,
                      flush=True)

    def stop_tidying(self) -> None:
        self._postpone_tidying()

    def _publish(self, outcome: Outcome, changed: set[Path] | None) -> None:
        previous = self.state.snapshot
        failed = outcome.root is None
        quiet = not failed and outcome.changed == 0 and not previous.problems
        # A build that changed nothing keeps its number, so open pages do not reload.
        number = previous.build if quiet and previous.root else next(self._numbers)
        self.state.publish(Snapshot(
            build=number,
            root=outcome.root or previous.root,
            base_path=outcome.base_path,
            problems=records(outcome.problems) if failed else [],
        ))
        what = ", ".join(sorted(display_path(p) for p in changed)) if changed else ""
        prefix = f"{what} changed: " if what else ""
        if outcome.problems.items:
            print(text_report(outcome.problems), file=self.err, flush=True)
        if failed:
            print(f"{prefix}the build failed; the preview shows the last good build, with "
                  "these problems over the page.", file=self.err, flush=True)
        elif changed is not None:
            print(f"{prefix}rebuilt in {outcome.seconds * 1000:.0f} ms, "
                  f"{outcome.changed} file{'s' * (outcome.changed != 1)} changed.",
                  file=self.out, flush=True)


def _url(host: str, port: int, base_path: str) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else "[::1]" if host == "::" else host
    shown = f"[{shown}]" if ":" in shown and not shown.startswith("[") else shown
    return f"http://{shown}:{port}{base_path}"


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def run(site: Path, host: str, port: int, open_browser: bool,
        out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    # SIGTERM stops the preview like Ctrl-C, cleanly; set before there is anything to clean.
    on_main_thread = threading.current_thread() is threading.main_thread()
    previous_handler = signal.signal(signal.SIGTERM, _interrupt) if on_main_thread else None
    workspace = Path(tempfile.mkdtemp(prefix="cophandbook-serve-"))
    stop = threading.Event()
    server: PreviewServer | None = None
    serving = False  # shutdown() waits for serve_forever, so only call it once that runs
    preview = Preview(site, workspace, out, err)
    try:
        try:
            server = PreviewServer((host, port), preview.state, LiveScript.load())
        except OSError as exc:
            taken = exc.errno == errno.EADDRINUSE
            print(f"cophandbook serve: error: cannot listen on {host}:{port}: "
                  + ("the port is in use; choose another with --port" if taken else str(exc)),
                  file=err)
            return 1
        # The first build runs before any other thread starts, so it renders on every core
        # (see parallel.py); once the watch is in place, edits made meanwhile are built.
        preview.rebuild()
        ready = threading.Event()
        threading.Thread(target=watch_inputs, name="watch", daemon=True,
                         args=(site, default_theme(), preview.rebuild, stop, ready)).start()
        if not ready.wait(WATCH_START_SECONDS):
            print("cophandbook serve: warning: watching for changes has not started; edits may "
                  "need a restart to show", file=err, flush=True)
        preview.catch_up()
        url = _url(host, server.server_port, preview.builder.base_path)
        print(f"Serving {display_path(site)} at {url} (Ctrl-C to stop)", file=out, flush=True)
        print(f"Built into {workspace}, removed when the preview stops.", file=out, flush=True)
        if host not in LOOPBACK_NAMES:
            print(f"cophandbook serve: warning: --host {host} makes this preview reachable from "
                  "other machines; it has no password and shows unpublished drafts.",
                  file=err, flush=True)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="http",
                         daemon=True).start()
        serving = True
        if open_browser:
            webbrowser.open(url)
        # Ctrl-C lands here. Sleeping holds no lock: a KeyboardInterrupt raised just after
        # `stop.wait` took its condition's lock would leave it taken, and `stop.set()` below
        # would then wait for it forever.
        while True:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        preview.stop_tidying()
        preview.state.close()
        if server is not None:
            if serving:
                server.shutdown()
            server.server_close()
        shutil.rmtree(workspace, ignore_errors=True)
        if previous_handler is not None:
            signal.signal(signal.SIGTERM, previous_handler)
    print("Stopped; the temporary build folder is removed.", file=out, flush=True)
    return 0
