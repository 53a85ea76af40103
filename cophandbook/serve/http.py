"""The preview's HTTP side: the last good build, served safely, with live reload.

Only files inside the current build folder are served. Request paths are decoded once,
strictly (bad percent-encoding or bytes that are not UTF-8 are a 400), and a path with `..`,
a backslash or NUL, or one that resolves outside the folder through a symlink, is a 404.
Requests naming a host other than the bound address or localhost are refused, so a web page
cannot reach the preview through DNS rebinding. A malformed request gets a short plain-text
error (a 400 for a bad path or query value), never a traceback; HEAD gets headers only, the
event stream's included; a connection whose request does not arrive in time is closed, so idle
sockets cannot use up the server's file handles.

HTML responses get a small script: it reloads the page when a new build is published
(Server-Sent Events) and shows the last build's problems over the page.
"""

from __future__ import annotations

import io
import ipaddress
import json
import mimetypes
import os
import re
import shutil
import socket
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote_to_bytes

RESERVED = "/__cophandbook__/"
EVENTS = RESERVED + "events"
MAX_TARGET = 4096  # longer request targets are refused (a real page path is far shorter)
KEEPALIVE_SECONDS = 15.0
REQUEST_SECONDS = 20.0  # for the whole request line and headers, however they trickle in
WRITE_SECONDS = 60.0  # for each write: a client that stops reading is let go
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
# ASCII digits only: str.isdigit() also accepts digits int() refuses, such as superscripts.
_BUILD_NUMBER = re.compile(r"[0-9]{1,18}")


class BadRequest(Exception):
    """A request target that is not a well-formed path."""


# -- what the server serves -------------------------------------------------------------------

@dataclass(frozen=True)
class Snapshot:
    """The state pages are served from; replaced whole, so a request sees one build."""

    build: int  # counts every build, good or failed: pages reload when it changes
    root: Path | None  # the last good build's folder; None until one succeeded
    base_path: str  # the site's base_url path, "/" or "/handbook/"
    problems: list[dict[str, object]]  # the last build's problems, for the overlay


class LiveState:
    """The current snapshot, and a way for event streams to wait for the next one."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._snapshot = Snapshot(0, None, "/", [])
        self.closed = False

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    def publish(self, snapshot: Snapshot) -> None:
        with self._changed:
            self._snapshot = snapshot
            self._changed.notify_all()

    def wait(self, since: int, timeout: float) -> int:
        """The build number once it differs from `since`, or after `timeout` seconds."""
        with self._changed:
            self._changed.wait_for(lambda: self._snapshot.build != since or self.closed, timeout)
            return self._snapshot.build

    def close(self) -> None:
        with self._changed:
            self.closed = True
            self._changed.notify_all()


# -- paths ------------------------------------------------------------------------------------

def decode_target(target: str) -> tuple[str, str]:
    """(decoded path, query) of a request target; BadRequest when it is malformed."""
    if len(target) > MAX_TARGET:
        raise BadRequest("the path is too long")
    # The request line arrives as Latin-1: any byte over 127 means it was not a valid URL.
    if not target.isascii() or any(ord(c) < 0x21 or ord(c) == 0x7F for c in target):
        raise BadRequest("the path holds characters a URL cannot")
    path, _, query = target.partition("?")
    path = path.partition("#")[0]
    if not path.startswith("/"):
        raise BadRequest("the path must start with /")
    if _BAD_ESCAPE.search(path):
        raise BadRequest("bad percent-encoding")
    try:
        return unquote_to_bytes(path).decode("utf-8"), query
    except UnicodeDecodeError:
        raise BadRequest("the path is not UTF-8") from None


def since_build(query: str) -> int:
    """The build an event stream's page shows, from its query; -1 when it names none, so the
    stream tells the current build at once. BadRequest when the value is not a build number."""
    values = parse_qs(query, keep_blank_values=True).get("build")
    if values is None:
        return -1
    if len(values) != 1 or not _BUILD_NUMBER.fullmatch(values[0]):
        raise BadRequest("build must be one build number")
    return int(values[0])


@dataclass(frozen=True)
class Found:
    """Where a path leads: a file, a redirect, or nothing (file and location both None)."""

    file: Path | None = None
    location: str | None = None


def locate(root: Path, base_path: str, path: str) -> Found:
    """The file inside `root` that a decoded URL path names, never one outside it."""
    if "\0" in path or "\\" in path:
        return Found()
    if path + "/" == base_path:
        return Found(location=base_path)
    if not path.startswith(base_path):
        return Found(location=base_path) if path == "/" else Found()
    parts = path[len(base_path):].split("/")
    if any(part in (".", "..") for part in parts):
        return Found()
    candidate = root.joinpath(*(part for part in parts if part))
    if candidate.is_dir():
        if not path.endswith("/"):
            return Found(location=path + "/")
        candidate = candidate / "index.html"
    real, top = candidate.resolve(), root.resolve()
    if not real.is_relative_to(top) or not real.is_file():
        return Found()
    return Found(file=real)


def host_allowed(header: str | None, bound: str) -> bool:
    """Whether a Host header names this preview: localhost, or the address it is bound to.
    Bound to every interface, any IP address is fine too: DNS rebinding needs a name."""
    if not header:
        return True  # HTTP/1.0 clients; browsers always send one
    name = header.strip().lower()
    name = name[1:].partition("]")[0] if name.startswith("[") else name.rpartition(":")[0] or name
    if name in LOOPBACK_NAMES or name.endswith(".localhost") or name == bound.lower():
        return True
    if bound in ("0.0.0.0", "::", ""):
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return False
        return True
    return False


# -- the page script --------------------------------------------------------------------------

@dataclass(frozen=True)
class LiveScript:
    source: str

    @classmethod
    def load(cls) -> LiveScript:
        return cls(resources.files(__package__).joinpath("live.js").read_text("utf-8"))

    def snippet(self, snapshot: Snapshot) -> bytes:
        """The tags added before </body>. Problems travel as JSON with <, > and & escaped, so
        no message can close the script; the script shows them with textContent only."""
        problems = (json.dumps(snapshot.problems, ensure_ascii=False)
                    .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))
        return (f'<script type="application/json" id="cophandbook-problems">{problems}</script>'
                f'<script id="cophandbook-live" data-build="{snapshot.build}" '
                f'data-events="{EVENTS}">{self.source}</script>').encode()


def inject(html: bytes, snippet: bytes) -> bytes:
    at = html.lower().rfind(b"</body>")
    return html[:at] + snippet + html[at:] if at >= 0 else html + snippet


WAITING_PAGE = (b"<!doctype html><html lang=\"en\"><meta charset=\"utf-8\">"
                b"<title>cophandbook preview</title><body><main><h1>No build yet</h1>"
                b"<p>The handbook has not built yet; its problems are listed here, and the page "
                b"reloads when they are fixed.</p></main></body></html>")


# -- the server -------------------------------------------------------------------------------

class DeadlineReader(io.RawIOBase):
    """A socket read against one deadline for a whole request rather than a timeout for each
    read, so a client sending a byte now and then cannot hold its connection open."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.deadline = time.monotonic()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request did not arrive in time")
        self._sock.settimeout(left)
        return self._sock.recv_into(buffer)


class PreviewServer(ThreadingHTTPServer):
    daemon_threads = True  # event streams must not keep the process alive
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], state: LiveState, script: LiveScript) -> None:
        if ":" in address[0]:  # an IPv6 address such as ::1
            self.address_family = socket.AF_INET6
        super().__init__(address, PreviewHandler)
        self.state = state
        self.script = script
        self.bound_host = address[0]

    def handle_error(self, request: object, client_address: object) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the browser went away mid-response: nothing to report
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class PreviewHandler(BaseHTTPRequestHandler):
    server: PreviewServer
    server_version = "cophandbook-preview"
    # Errors the standard library answers itself (a broken request line, an unknown method,
    # headers too long) read like ours. A request too broken to name its HTTP version still
    # gets a status line, so the client sees an error rather than a bare body.
    error_content_type = "text/plain; charset=utf-8"
    error_message_format = "%(code)d %(message)s.\n"
    default_request_version = "HTTP/1.0"
    request_timeout = REQUEST_SECONDS
    write_timeout = WRITE_SECONDS

    def setup(self) -> None:
        super().setup()
        self.rfile.close()  # it holds the socket open until closed
        self._reader = DeadlineReader(self.connection)
        self.rfile = io.BufferedReader(self._reader)

    def handle_one_request(self) -> None:
        self._reader.deadline = time.monotonic() + self.request_timeout
        super().handle_one_request()  # a TimeoutError there closes the connection quietly

    def parse_request(self) -> bool:
        parsed = super().parse_request()
        # The request is read (its body, if any, is never); what is left is writing.
        self.connection.settimeout(self.write_timeout)
        return parsed

    def log_message(self, format: str, *args: object) -> None:
        pass  # the terminal is for build results, not for every request

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def _respond(self, send_body: bool) -> None:
        if not host_allowed(self.headers.get("Host"), self.server.bound_host):
            self._plain(403, "This preview only answers to localhost.", send_body)
            return
        try:
            path, query = decode_target(self.path)
        except BadRequest as exc:
            self._plain(400, f"Bad request: {exc}.", send_body)
            return
        if path == EVENTS:
            try:
                since = since_build(query)
            except BadRequest as exc:
                self._plain(400, f"Bad request: {exc}.", send_body)
                return
            self._events(since, send_body)
            return
        snapshot = self.server.state.snapshot
        if snapshot.root is None:
            self._send(503, "text/html; charset=utf-8", self._page(WAITING_PAGE, snapshot),
                       send_body)
            return
        found = locate(snapshot.root, snapshot.base_path, path)
        if found.location is not None:
            # "/" → base_url may change with handbook.yml, so that one is not permanent.
            self.send_response(302 if path == "/" else 301)
            self.send_header("Location", quote(found.location) + (f"?{query}" if query else ""))
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif found.file is not None:
            self._file(found.file, 200, snapshot, send_body)
        else:
            missing = snapshot.root / "404.html"
            if missing.is_file():
                self._file(missing, 404, snapshot, send_body)
            else:
                self._plain(404, "Not found.", send_body)

    def _page(self, html: bytes, snapshot: Snapshot) -> bytes:
        return inject(html, self.server.script.snippet(snapshot))

    def _file(self, file: Path, status: int, snapshot: Snapshot, send_body: bool) -> None:
        try:
            handle = file.open("rb")
        except OSError:  # an old build removed while this request was under way
            self._plain(404, "Not found.", send_body)
            return
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        with handle:
            if kind == "text/html":
                self._send(status, "text/html; charset=utf-8",
                           self._page(handle.read(), snapshot), send_body)
                return
            if kind.startswith("text/") or kind in ("application/xml", "image/svg+xml"):
                kind += "; charset=utf-8"
            self._headers(status, kind, os.fstat(handle.fileno()).st_size)
            if send_body:
                shutil.copyfileobj(handle, self.wfile)  # media can be large: stream it

    def _plain(self, status: int, text: str, send_body: bool) -> None:
        self._send(status, "text/plain; charset=utf-8", text.encode() + b"\n", send_body)

    def _send(self, status: int, kind: str, body: bytes, send_body: bool) -> None:
        self._headers(status, kind, len(body))
        if send_body:
            self.wfile.write(body)

    def _headers(self, status: int, kind: str, length: int) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(length))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()

    def _events(self, since: int, send_body: bool) -> None:
        """A Server-Sent Events stream: `build` events carry each new build's number."""
        state = self.server.state
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if not send_body:
            return
        try:
            while not state.closed:
                current = state.wait(since, KEEPALIVE_SECONDS)
                if current != since:
                    self.wfile.write(f"event: build\ndata: {current}\n\n".encode())
                    since = current
                else:
                    self.wfile.write(b": keep-alive\n\n")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the page went away
