"""The preview's request handling, piece by piece: targets, paths, hosts, the page script;
then a server in a thread, for what a client can do to it."""

import json
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cophandbook.serve import http
from cophandbook.serve.http import (
    BadRequest,
    LiveScript,
    LiveState,
    PreviewHandler,
    PreviewServer,
    Snapshot,
    decode_target,
    host_allowed,
    inject,
    locate,
    since_build,
)
from tests.serving import WAIT, exchange, request


@pytest.mark.parametrize(("target", "decoded"), [
    ("/", "/"),
    ("/guides/caf%C3%A9/?x=1#top", "/guides/café/"),
    ("/%2e%2e/%2e%2e/etc/passwd", "/../../etc/passwd"),  # decoded once, refused by locate
    ("/%252e%252e/etc", "/%2e%2e/etc"),  # double encoding stays a literal name
    ("/a%00b", "/a\0b"),
])
def test_decode_target(target, decoded):
    assert decode_target(target)[0] == decoded


@pytest.mark.parametrize("target", [
    "/%zz", "/%e9", "/%C3%28", "/abc%", "/\xff\xfe", "/a b", "/a\x00", "relative",
    "http://evil.example/", "/" + "a" * 20_000,
])
def test_malformed_targets_are_bad_requests(target):
    with pytest.raises(BadRequest):
        decode_target(target)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    site = tmp_path / "build"
    (site / "guides" / "safety").mkdir(parents=True)
    (site / "guides" / "safety" / "index.html").write_text("<p>safety</p>")
    (site / "index.html").write_text("<p>home</p>")
    (tmp_path / "secret.txt").write_text("outside")
    os.symlink(tmp_path / "secret.txt", site / "leak.txt")
    os.symlink(tmp_path, site / "up")
    return site


@pytest.mark.parametrize(("path", "file", "location"), [
    ("/", "index.html", None),
    ("/guides/safety/", "guides/safety/index.html", None),
    ("/guides/safety", None, "/guides/safety/"),
    ("/../secret.txt", None, None),
    ("/guides/../../secret.txt", None, None),
    ("/./index.html", None, None),
    ("/..\\secret.txt", None, None),
    ("/index.html\0.png", None, None),
    ("/leak.txt", None, None),  # a symlink leading out of the build folder
    ("/up/secret.txt", None, None),
    ("/nothing/", None, None),
])
def test_locate_serves_only_files_inside_the_folder(root, path, file, location):
    found = locate(root, "/", path)
    assert found.file == ((root / file).resolve() if file else None)
    assert found.location == location


def test_locate_under_a_base_path(root):
    assert locate(root, "/handbook/", "/handbook/").file == (root / "index.html").resolve()
    assert locate(root, "/handbook/", "/handbook").location == "/handbook/"
    assert locate(root, "/handbook/", "/").location == "/handbook/"
    assert locate(root, "/handbook/", "/index.html").file is None
    assert locate(root, "/handbook/", "/handbook/../handbook/index.html").file is None


@pytest.mark.parametrize(("header", "bound", "allowed"), [
    ("127.0.0.1:8000", "127.0.0.1", True),
    ("localhost:8000", "127.0.0.1", True),
    ("LOCALHOST", "127.0.0.1", True),
    ("[::1]:8000", "127.0.0.1", True),
    ("preview.localhost:8000", "127.0.0.1", True),
    (None, "127.0.0.1", True),
    ("evil.example:8000", "127.0.0.1", False),
    ("127.0.0.1.evil.example", "127.0.0.1", False),
    ("192.168.1.20:8000", "127.0.0.1", False),
    ("192.168.1.20:8000", "0.0.0.0", True),  # bound to every interface: IP addresses are fine
    ("evil.example", "0.0.0.0", False),  # ... but a name could be rebound
    ("box.lan:8000", "box.lan", True),
])
def test_host_header(header, bound, allowed):
    assert host_allowed(header, bound) is allowed


def test_the_page_script_carries_problems_that_cannot_close_it():
    message = "unknown level '</script><img src=x onerror=alert(1)>' & more"
    snapshot = Snapshot(7, None, "/", [{"path": "a.md", "line": 3, "column": 1,
                                        "severity": "error", "code": "unknown-level",
                                        "message": message, "hint": None}])
    snippet = LiveScript.load().snippet(snapshot).decode()
    assert snippet.count("</script>") == 2  # only the two tags' own ends
    data = re.search(r'id="cophandbook-problems">(.*?)</script>', snippet).group(1)
    assert json.loads(data)[0]["message"] == message
    assert 'data-build="7"' in snippet and "innerHTML" not in snippet


@pytest.mark.parametrize(("query", "since"), [
    ("", -1), ("other=1", -1), ("build=0", 0), ("build=42", 42), ("build=007&x=%C2%B2", 7),
])
def test_since_build(query, since):
    assert since_build(query) == since


@pytest.mark.parametrize("query", [
    "build=", "build=%C2%B2", "build=%EF%BC%93", "build=+1", "build=1%0A", "build=1&build=1",
    "build=" + "1" * 19,
])
def test_since_build_refuses_what_is_not_a_build_number(query):
    with pytest.raises(BadRequest):
        since_build(query)


def test_inject_before_the_last_body_end():
    assert inject(b"<body><p>x</p></BODY>", b"<s>") == b"<body><p>x</p><s></BODY>"
    assert inject(b"<p>fragment</p>", b"<s>") == b"<p>fragment</p><s>"


# -- a server in a thread -----------------------------------------------------------------------

SHORT = 0.3  # seconds: the lowered timeouts these tests wait out


@pytest.fixture
def served(tmp_path: Path) -> Iterator[PreviewServer]:
    """A preview server on a free port, serving one page as build 1."""
    root = tmp_path / "build"
    root.mkdir()
    (root / "index.html").write_text("<body><p>home</p></body>")
    state = LiveState()
    state.publish(Snapshot(1, root, "/", []))
    server = PreviewServer(("127.0.0.1", 0), state, LiveScript.load())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield server
    state.close()
    server.shutdown()
    server.server_close()
    thread.join(WAIT)


def events_target(query: str = "") -> str:
    return http.EVENTS + (f"?{query}" if query else "")


@pytest.mark.parametrize("query", [
    "build=%C2%B2",  # a superscript two: str.isdigit() says yes, int() says no
    "build=%D9%A3",  # an Arabic-Indic three
    "build=-1", "build=1.5", "build=", "build=%FF", "build=1&build=2",
    "build=" + "9" * 40,
])
def test_bad_event_queries_get_400_without_a_traceback(served, capfd, query):
    status, headers, body = request(served.server_port, events_target(query))
    assert status == 400 and headers["Content-Type"] == "text/plain; charset=utf-8"
    assert body.startswith(b"Bad request: ")
    assert "Traceback" not in capfd.readouterr().err
    assert request(served.server_port, "/")[0] == 200


@pytest.mark.parametrize("raw", [
    b"GET / HTTP/1.\xc2\xb2\r\n\r\n",
    b"GET / HTTP/\xb2.1\r\n\r\n",
    b"BREW / HTTP/1.0\r\n\r\n",
    b"GET /" + b"x" * 70_000 + b" HTTP/1.0\r\n\r\n",
    b"GET / HTTP/1.0\r\nX-Long: " + b"x" * 70_000 + b"\r\n\r\n",
])
def test_malformed_requests_get_a_plain_text_answer_without_a_traceback(served, capfd, raw):
    status, headers, body = exchange(served.server_port, raw)
    assert 400 <= status < 600 and headers["Content-Type"] == "text/plain; charset=utf-8"
    assert b"<" not in body and body.startswith(str(status).encode())
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.parametrize(("target", "status"), [
    ("/", 200),
    ("/missing", 404),
    ("/%zz", 400),
    (events_target(), 200),
    (events_target("build=1"), 200),
    (events_target("build=%C2%B2"), 400),
])
def test_head_gets_headers_and_no_body(served, target, status):
    # `exchange` reads until the server closes the connection, within its socket timeout:
    # a stream that never ends fails it.
    got, headers, body = request(served.server_port, target, method="HEAD")
    assert (got, body) == (status, b"")
    if target.startswith(http.EVENTS) and status == 200:
        assert headers["Content-Type"] == "text/event-stream"


def test_idle_connections_are_closed_and_others_still_answered(served, monkeypatch):
    monkeypatch.setattr(PreviewHandler, "request_timeout", SHORT)
    port = served.server_port
    with (socket.create_connection(("127.0.0.1", port), timeout=WAIT) as idle,
          socket.create_connection(("127.0.0.1", port), timeout=WAIT) as unfinished):
        unfinished.sendall(b"GET / HTTP/1.1\r\nHost: local")
        assert request(port, "/")[0] == 200
        assert idle.recv(1024) == b""  # closed by the server, long before WAIT
        assert unfinished.recv(1024) == b""


def test_a_request_trickled_a_byte_at_a_time_is_cut_off(served, monkeypatch):
    monkeypatch.setattr(PreviewHandler, "request_timeout", SHORT)
    pace = SHORT / 4  # each byte comes well within the timeout of the one before
    headers = b"GET / HTTP/1.1\r\n" + b"X-Slow: yes\r\n" * 50  # more than WAIT's worth
    with socket.create_connection(("127.0.0.1", served.server_port)) as sock:
        sock.settimeout(pace)
        for sent in range(int(WAIT / pace)):
            try:
                sock.sendall(headers[sent:sent + 1])
                if sock.recv(1024) == b"":
                    break
            except TimeoutError:
                continue
            except ConnectionError:
                break
        else:
            pytest.fail(f"the server still read a request trickled over {WAIT} s")


def test_an_event_stream_outlives_the_request_timeout_with_its_keep_alives(served,
                                                                           monkeypatch):
    monkeypatch.setattr(PreviewHandler, "request_timeout", SHORT)
    monkeypatch.setattr(PreviewHandler, "write_timeout", SHORT)
    monkeypatch.setattr(http, "KEEPALIVE_SECONDS", SHORT / 3)
    with socket.create_connection(("127.0.0.1", served.server_port), timeout=WAIT) as sock:
        sock.sendall(f"GET {events_target('build=1')} HTTP/1.1\r\n"
                     f"Host: localhost\r\n\r\n".encode())
        lines = sock.makefile("rb")
        assert lines.readline().startswith(b"HTTP/1.0 200")
        started, keep_alives = time.monotonic(), 0
        while time.monotonic() - started < SHORT * 4:  # quiet for several timeouts over
            keep_alives += lines.readline() == b": keep-alive\n"
        assert keep_alives >= 3
        served.state.publish(Snapshot(2, served.state.snapshot.root, "/", []))
        while (line := lines.readline()) != b"event: build\n":
            assert line, "the stream ended"
        assert lines.readline() == b"data: 2\n"
