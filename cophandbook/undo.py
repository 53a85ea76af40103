"""Changes to a live output folder that can be taken back until they are all made.

A rebuild updates the output in place: it removes the pages that went, and moves the new
and changed ones in from its staging folder. Every change is noted before it is made, and
what it replaces is kept in an undo folder on the same file system (a hard link to each
replaced file, the removed files themselves), so a change that fails half way (no
permission, a full disk) is undone, and the output is left as it was; if undoing fails
too, `roll_back` names exactly the paths that stay changed.

Each file is replaced by a rename, which readers of the site see happen at once: a page is
never missing or cut short while the update runs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from cophandbook.output_paths import OutputError, inside


class Changes:
    """Changes made to `out`, with what they replaced kept in `undo` (a new folder)."""

    def __init__(self, out: Path, undo: Path) -> None:
        self.out = out
        self.out_real = os.path.realpath(out)
        self.undo = undo
        # (what was done, to which path under `out`), in the order it was done.
        self._done: list[tuple[str, str]] = []

    def remove(self, rel: str) -> None:
        """Take `rel` out of the output (nothing when it is not there)."""
        target = inside(self.out, rel)
        if not os.path.lexists(target):
            return
        self._folder_of(rel, make=False)
        kept = self._kept(rel)
        self._done.append(("removed", rel))
        os.replace(target, kept)

    def place(self, source: Path, rel: str) -> None:
        """Move `source` (a file, or a whole folder) to `rel` in the output, in place of
        whatever is there."""
        target = inside(self.out, rel)
        self._folder_of(rel, make=True)
        if not os.path.lexists(target):
            self._done.append(("created", rel))
        elif source.is_dir() or (target.is_dir() and not target.is_symlink()):
            # A rename replaces a file by a file only: anything else goes aside first.
            self._done.append(("replaced", rel))
            os.replace(target, self._kept(rel))
        else:
            kept = self._kept(rel)
            self._done.append(("replaced", rel))
            try:
                os.link(target, kept, follow_symlinks=False)
            except OSError:  # a file system without hard links
                shutil.copy2(target, kept, follow_symlinks=False)
        os.replace(source, target)

    def roll_back(self) -> list[str]:
        """Undo every change, last first; the paths that could not be put back."""
        left: list[str] = []
        for what, rel in reversed(self._done):
            try:
                self._undo(what, rel)
            except OSError:
                left.append(rel)
        self._done = []
        return sorted(left)

    def _undo(self, what: str, rel: str) -> None:
        target = self.out.joinpath(*rel.split("/"))
        kept = self.undo.joinpath(*rel.split("/"))
        if what == "made":
            with contextlib.suppress(FileNotFoundError):
                target.rmdir()
        elif what == "created":
            if os.path.lexists(target):
                _delete(target)
        elif os.path.lexists(kept):  # replaced or removed, and what was there is kept
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)  # the new folder that took the old one's place
            os.replace(kept, target)

    def _kept(self, rel: str) -> Path:
        kept = self.undo.joinpath(*rel.split("/"))
        kept.parent.mkdir(parents=True, exist_ok=True)
        return kept

    def _folder_of(self, rel: str, *, make: bool) -> None:
        """Check that `rel`'s folder in the output does not lead out of it through a link
        (unlike a staging folder, the output may hold links someone else put there), and
        make the folders it needs, noting each so that it is removed if the update fails."""
        parts = rel.split("/")[:-1]
        folder = self.out
        if make and not os.path.lexists(folder):
            self._done.append(("made", ""))
            folder.mkdir(parents=True)
        for index, part in enumerate(parts):
            folder = folder / part
            if make and not os.path.lexists(folder):
                self._done.append(("made", "/".join(parts[:index + 1])))
                folder.mkdir()
        real = os.path.realpath(folder)
        if real != self.out_real and not real.startswith(self.out_real + os.sep):
            raise OutputError(f"refusing to write {rel}: its folder in {self.out} is a link "
                              f"to {real}, outside the output folder")


def _delete(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()
