"""Watching a handbook's inputs with watchfiles, for the preview.

watchfiles groups the events of one save (editors write, rename and touch) and yields them
once nothing more happened for `STEP_MS`, which is the rebuild's debounce.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from watchfiles import Change, DefaultFilter, watch

from cophandbook.routes import STATIC_DIR
from cophandbook.settings import SETTINGS_FILE
from cophandbook.sources import CONTENT_DIR
from cophandbook.theme import TEMPLATES_DIR

STEP_MS = 20  # quiet time after the last event before a rebuild (one save's events)
READY_PROBE_MS = 100
INPUT_FOLDERS = (CONTENT_DIR, STATIC_DIR, TEMPLATES_DIR)


class InputFilter(DefaultFilter):
    """A handbook's inputs only: handbook.yml, content/, static/ and templates/ (so its own
    _site/ output is ignored), and everything in the theme."""

    def __init__(self, site: Path, theme: Path) -> None:
        super().__init__()
        self.site = site.resolve()
        self.theme = theme.resolve()

    def __call__(self, change: Change, path: str) -> bool:
        if not super().__call__(change, path):
            return False  # editor swap files, .git and the like
        file = Path(path)
        if file.is_relative_to(self.theme):
            return True
        if not file.is_relative_to(self.site):
            return False
        parts = file.relative_to(self.site).parts
        return parts == (SETTINGS_FILE,) or (bool(parts) and parts[0] in INPUT_FOLDERS)


def watch_inputs(site: Path, theme: Path, on_change: Callable[[set[Path]], None],
                 stop: threading.Event, ready: threading.Event) -> None:
    """Call `on_change` with the changed paths after each burst of changes, until `stop`.
    `ready` is set once the watch is in place: changes before that could be missed."""
    folders = {site.resolve(), theme.resolve()}
    # An empty yield after each quiet `READY_PROBE_MS` is the sign the watch is running.
    for changes in watch(*folders, watch_filter=InputFilter(site, theme), step=STEP_MS,
                         rust_timeout=READY_PROBE_MS, yield_on_timeout=True,
                         stop_event=stop, raise_interrupt=False):
        ready.set()
        if changes:
            on_change({Path(path) for _, path in changes})
