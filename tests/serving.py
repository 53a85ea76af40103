"""Driving `cophandbook serve` in a subprocess, as a browser would: shared by the tests."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bs4 import BeautifulSoup

EXEMPLAR_FILE = "content/skills/toasts/exemplars/wedding-toast.md"
EXEMPLAR_PAGE = "/skills/toasts/exemplars/wedding-toast/"
WAIT = 10.0  # seconds; a rebuild takes well under one


@dataclass
class Preview:
    proc: subprocess.Popen[str]
    site: Path
    port: int
    workspace: Path
    output: list[str] = field(default_factory=list)

    def request(self, target: bytes | str, host: str | None = None,
                method: str = "GET") -> tuple[int, dict[str, str], bytes]:
        return request(self.port, target, host, method)

    def page(self, path: str) -> BeautifulSoup:
        status, _, body = self.request(path)
        assert status == 200, (path, status)
        return BeautifulSoup(body, "html.parser")

    def build_number(self, path: str = EXEMPLAR_PAGE) -> int:
        return int(self.page(path).select_one("#cophandbook-live")["data-build"])


def request(port: int, target: bytes | str, host: str | None = None,
            method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """One HTTP request, its target's bytes exactly as given: (status, headers, body)."""
    raw = target.encode() if isinstance(target, str) else target
    host_line = f"Host: {host or f'127.0.0.1:{port}'}\r\n".encode()
    return exchange(port, method.encode() + b" " + raw + b" HTTP/1.1\r\n" + host_line
                    + b"Connection: close\r\n\r\n")


def exchange(port: int, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send `raw` as it is and read the answer until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
        sock.sendall(raw)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert data, "the server closed the connection without an answer"
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), headers, body


def start(site: Path, *args: str) -> Preview:
    # With the fault handler on, a preview that hangs can be made to show where (see stop).
    proc = subprocess.Popen(
        [sys.executable, "-m", "cophandbook", "serve", str(site), "--port", "0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONFAULTHANDLER": "1"})
    lines: list[str] = []
    while not lines or not lines[-1].startswith("Built into"):  # after any build problems
        lines.append(proc.stdout.readline())
        assert lines[-1], lines
    serving = re.search(r"at http://127\.0\.0\.1:(\d+)/", "".join(lines))
    workspace = re.search(r"Built into (\S+), removed", lines[-1])
    assert serving and workspace, lines
    preview = Preview(proc, site, int(serving.group(1)), Path(workspace.group(1)), lines)
    threading.Thread(target=lambda: preview.output.extend(proc.stdout), daemon=True).start()
    return preview


def stop(preview: Preview, signum: int = signal.SIGINT) -> int:
    preview.proc.send_signal(signum)
    try:
        return preview.proc.wait(timeout=WAIT)
    except subprocess.TimeoutExpired:
        # SIGABRT makes the fault handler print every thread's stack: the failure then says
        # where the preview was stuck.
        preview.proc.send_signal(signal.SIGABRT)
        preview.proc.wait(timeout=WAIT)
        time.sleep(0.2)  # the reading thread takes the last lines
        raise AssertionError(f"the preview did not stop within {WAIT} s of signal {signum}; "
                             "its output, with the stacks of its threads:\n"
                             + "".join(preview.output)) from None


class EventStream:
    """The page script's event stream, read in a thread: build numbers as they come."""

    def __init__(self, preview: Preview, since: int) -> None:
        self.builds: queue.Queue[int] = queue.Queue()
        self.sock = socket.create_connection(("127.0.0.1", preview.port), timeout=WAIT * 3)
        self.sock.sendall(f"GET /__cophandbook__/events?build={since} HTTP/1.1\r\n"
                          f"Host: localhost:{preview.port}\r\n\r\n".encode())
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.sock.makefile("rb"):
            if line.startswith(b"data: "):
                self.builds.put(int(line[6:]))

    def next_build(self) -> int:
        return self.builds.get(timeout=WAIT)

    def close(self) -> None:
        self.sock.close()
