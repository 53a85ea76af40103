"""One build at a time writes an output folder, and what a killed one left is cleared safely.

A build holds an exclusive lock on a file beside the output (`._site.cophandbook.lock`)
from before it looks at the output until it is done with it, then removes it; a second
build into the same folder waits for it. The lock is the kernel's (`flock`): it ends with
the process that held it, however that ends, so there is never a stale lock to clear by
hand.

The lock file also lists the working folders its holder made (its claims): the staging
folder, the undo folder and the old output moved aside for the swap. A build that ends
removes them and the file; one that is killed leaves both, and the next holder removes
those folders, or puts back an output that was moved aside. Nothing is removed that is not
claimed there and named as cophandbook names its folders.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

LOCK_SUFFIX = ".cophandbook.lock"
# How cophandbook names its working folders: beside the output (`._site.<token>.staging`),
# or, for an output that cannot be swapped, inside it (`.cophandbook.<token>.staging`).
_WORKING = re.compile(r"\..+\.[0-9a-f]{8}\.(staging|undo|previous)")


def lock_path(out: Path) -> Path:
    out = out.resolve()
    return out.parent / f".{out.name}{LOCK_SUFFIX}"


def legacy_previous(out: Path) -> Path:
    """Where versions before claims moved the old output aside for the swap."""
    out = out.resolve()
    return out.parent / f".{out.name}.previous"


class OutputLock:
    """`with OutputLock(out, waiting):` holds the lock on `out`, calling `waiting` with a
    message first when another build holds it."""

    def __init__(self, out: Path, waiting: Callable[[str], None] | None = None) -> None:
        self.out = out.resolve()
        self.path = lock_path(self.out)
        self.waiting = waiting
        self._fd = -1
        self._claims: list[str] = []
        self._owner = os.getpid()

    def __enter__(self) -> OutputLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        told = False
        while True:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                try:
                    fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    if self.waiting is not None and not told:
                        self.waiting(f"Another build ({self._holder()}) is writing "
                                     f"{self.out}; waiting for it to finish.")
                        told = True
                    fcntl.flock(self._fd, fcntl.LOCK_EX)
                if self._still_the_file():
                    break
            except BaseException:
                os.close(self._fd)
                raise
            os.close(self._fd)  # the holder removed it as it finished: lock the new one
        try:
            left = self._read().get("claims", [])
            self._write()
            self._clear(left if isinstance(left, list) else [])
        except BaseException:
            os.close(self._fd)
            self._fd = -1
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        # Removed while still locked: a build waiting on it then finds it gone, and locks
        # the file the next build makes. Kept when it still lists a folder to clear. A
        # forked worker shares the lock, and leaves it to the build.
        with contextlib.suppress(OSError):
            if os.getpid() != self._owner:
                pass
            elif self._claims:
                self._write(holder=False)
            else:
                os.unlink(self.path)
        os.close(self._fd)  # and with it the lock
        self._fd = -1

    def _still_the_file(self) -> bool:
        """Whether the locked file is still the one at the lock's path."""
        try:
            here = os.stat(self.path)
        except FileNotFoundError:
            return False
        mine = os.fstat(self._fd)
        return (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino)

    def claim(self, folder: Path) -> Path:
        """Note `folder` as this build's before it is made, so that a build killed at any
        moment after leaves it to be cleared by the next one."""
        self._claims.append(os.path.relpath(folder, self.out.parent))
        self._write()
        return folder

    def release(self, folder: Path) -> None:
        with contextlib.suppress(ValueError):
            self._claims.remove(os.path.relpath(folder, self.out.parent))
            self._write()

    def _holder(self) -> str:
        info = self._read()
        pid, started = info.get("pid"), info.get("started")
        if isinstance(pid, int) and isinstance(started, str):
            return f"process {pid}, started {started}"
        return "of another process"

    def _read(self) -> dict[str, object]:
        try:
            data = json.loads(os.pread(self._fd, 1 << 16, 0).decode("utf-8") or "{}")
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, *, holder: bool = True) -> None:
        info: dict[str, object] = {"claims": self._claims}
        if holder:
            info.update(pid=os.getpid(),
                        started=dt.datetime.now().astimezone().isoformat(timespec="seconds"))
        data = json.dumps(info).encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)

    def _clear(self, claims: list[object]) -> None:
        """Remove the working folders a killed build claimed; first put back an output it
        had moved aside and not yet replaced."""
        folders = [folder for folder in map(self._claimed, claims) if folder is not None]
        if not os.path.lexists(self.out):
            aside = [f for f in folders if f.name.endswith(".previous")]
            for previous in [*aside, legacy_previous(self.out)]:
                if previous.is_dir() and not previous.is_symlink():
                    with contextlib.suppress(OSError):
                        os.replace(previous, self.out)
                    break
        for folder in folders:
            if folder.is_dir() and not folder.is_symlink():
                shutil.rmtree(folder, ignore_errors=True)

    def _claimed(self, claim: object) -> Path | None:
        """The folder a claim names, if it is one cophandbook could have made: directly
        beside the output or directly inside it, named as its working folders are."""
        if not isinstance(claim, str):
            return None
        folder = self.out.parent / claim
        if not _WORKING.fullmatch(folder.name):
            return None
        if folder.parent not in (self.out.parent, self.out) or ".." in Path(claim).parts:
            return None
        return folder
