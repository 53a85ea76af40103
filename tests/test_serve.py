"""`cophandbook serve` in a subprocess on a free port, driven as a browser would."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from bs4 import BeautifulSoup

from tests.conftest import EXEMPLAR, MINIMAL, SETTINGS, write_files
from tests.serving import (
    EXEMPLAR_FILE,
    EXEMPLAR_PAGE,
    WAIT,
    EventStream,
    Preview,
    start,
    stop,
)


@pytest.fixture
def preview(make_site) -> Iterator[Preview]:
    running = start(make_site())
    yield running
    if running.proc.poll() is None:
        stop(running)


@pytest.fixture(scope="module")
def steady(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Preview]:
    """One preview for the tests that only read; nothing edits its site."""
    site = write_files(tmp_path_factory.mktemp("steady") / "site", MINIMAL)
    (site.parent / "secret.txt").write_text("TOP SECRET")
    running = start(site)
    yield running
    stop(running)


def test_serves_the_site_with_the_page_script(steady):
    preview = steady
    status, headers, body = preview.request("/")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    soup = BeautifulSoup(body, "html.parser")
    assert soup.select_one("a.brand").text == "Test Circle"
    assert soup.select_one("body > script#cophandbook-live")  # injected, just before </body>
    status, headers, body = preview.request("/assets/style.css")
    assert status == 200 and headers["Content-Type"].startswith("text/css")
    assert b"cophandbook-live" not in body
    status, headers, _ = preview.request(EXEMPLAR_PAGE.rstrip("/"))
    assert status == 301 and headers["Location"] == EXEMPLAR_PAGE
    status, _, body = preview.request("/no/such/page/")
    assert status == 404 and b"cophandbook-live" in body
    status, _, body = preview.request("/", method="HEAD")
    assert status == 200 and body == b""


def test_an_edit_sends_a_reload_event_and_new_content(preview):
    events = EventStream(preview, preview.build_number())
    write_files(preview.site, {EXEMPLAR_FILE: EXEMPLAR + "\nA brand-new closing line.\n"})
    new_build = events.next_build()
    events.close()
    page = preview.page(EXEMPLAR_PAGE)
    assert "A brand-new closing line." in page.select_one(".work").text
    assert int(page.select_one("#cophandbook-live")["data-build"]) == new_build
    assert json.loads(page.select_one("#cophandbook-problems").text) == []


def test_a_broken_edit_keeps_the_last_good_page_with_an_overlay_and_the_fix_recovers(preview):
    events = EventStream(preview, preview.build_number())
    broken = EXEMPLAR.replace("level: competent", "level: <b>nope</b>")
    write_files(preview.site, {EXEMPLAR_FILE: broken + "\nNever shown.\n"})
    events.next_build()
    page = preview.page(EXEMPLAR_PAGE)
    assert page.select_one("h1").text == "Wedding toast"  # the last good build
    assert "Never shown." not in page.text
    (problem,) = json.loads(page.select_one("#cophandbook-problems").text)
    assert problem["path"].endswith("wedding-toast.md") and problem["line"] == 3
    assert problem["code"] == "unknown-level" and "<b>nope</b>" in problem["message"]
    assert not page.select("#cophandbook-problems b")  # the message stays text
    write_files(preview.site, {EXEMPLAR_FILE: EXEMPLAR + "\nFixed.\n"})
    events.next_build()
    events.close()
    page = preview.page(EXEMPLAR_PAGE)
    assert "Fixed." in page.select_one(".work").text
    assert json.loads(page.select_one("#cophandbook-problems").text) == []


def test_a_stream_that_connects_after_a_build_is_told_at_once(preview):
    current = preview.build_number()
    events = EventStream(preview, current - 1)
    assert events.next_build() == current
    events.close()


@pytest.mark.parametrize("target", [
    b"/../../../../etc/passwd",
    b"/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    b"/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
    b"/%252e%252e/%252e%252e/etc/passwd",
    b"/..\\..\\etc\\passwd",
    b"/..%5c..%5cetc%5cpasswd",
    b"/index.html%00.png",
    b"/assets/../../secret.txt",
])
def test_paths_leading_outside_get_404(steady, target):
    status, _, body = steady.request(target)
    assert status == 404 and b"TOP SECRET" not in body and b"root:" not in body


def test_a_symlink_leading_outside_the_build_gets_404(preview):
    secret = preview.site.parent / "secret.txt"
    secret.write_text("TOP SECRET")
    for build in preview.workspace.glob("build-*"):
        os.symlink(secret, build / "leak.txt")
    status, _, body = preview.request("/leak.txt")
    assert status == 404 and b"TOP SECRET" not in body


@pytest.mark.parametrize("target", [
    b"/%zz", b"/caf%e9", b"/%C3%28", b"/\xff\xfe", b"/" + b"a" * 20_000,
])
def test_malformed_requests_get_400_and_the_server_keeps_running(steady, target):
    status, _, _ = steady.request(target)
    assert status == 400
    assert steady.request("/")[0] == 200


def test_requests_for_another_host_are_refused(steady):
    status, _, body = steady.request("/", host=f"evil.example:{steady.port}")
    assert status == 403 and b"localhost" in body
    assert steady.request("/", host=f"localhost:{steady.port}")[0] == 200


def test_an_edit_the_moment_the_preview_is_up_is_not_missed(make_site):
    site = make_site()
    running = start(site)  # returns as soon as the preview says where it serves
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR + "\nStraight away.\n"})
    try:
        deadline = time.monotonic() + WAIT
        while "Straight away." not in running.page(EXEMPLAR_PAGE).text:
            assert time.monotonic() < deadline, "the edit was never built"
            time.sleep(0.05)
    finally:
        stop(running)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_exits_cleanly_and_removes_the_temporary_folder(preview, signum):
    assert preview.workspace.is_dir()
    assert stop(preview, signum) == 0
    assert not preview.workspace.exists()
    assert any("Stopped" in line for line in preview.output)
    assert not (preview.site / "_site").exists()  # never the user's output folder


def test_the_users_output_folder_is_never_touched(make_site):
    site = make_site()
    (site / "_site").mkdir()
    (site / "_site" / "mine.txt").write_text("keep")
    running = start(site)
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR + "\nEdited.\n"})
    time.sleep(0.5)
    assert stop(running) == 0
    assert [p.name for p in (site / "_site").iterdir()] == ["mine.txt"]


def test_a_site_that_does_not_build_at_first_shows_its_problems(make_site):
    site = make_site({EXEMPLAR_FILE: EXEMPLAR.replace("level: competent", "level: nope")})
    running = start(site)
    try:
        events = EventStream(running, 1)
        status, _, body = running.request("/anything/")
        assert status == 503
        problems = json.loads(BeautifulSoup(body, "html.parser")
                              .select_one("#cophandbook-problems").text)
        assert [p["code"] for p in problems] == ["unknown-level"]
        write_files(site, {EXEMPLAR_FILE: EXEMPLAR})
        events.next_build()
        events.close()
        assert running.page(EXEMPLAR_PAGE).select_one("h1").text == "Wedding toast"
    finally:
        stop(running)


def test_a_port_in_use_is_a_clear_error(make_site):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "cophandbook", "serve", str(make_site()),
                               "--port", str(port)], capture_output=True, text=True,
                              timeout=WAIT)
    assert proc.returncode == 1
    assert "the port is in use; choose another with --port" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_any_other_host_than_this_computer_is_warned_about(make_site):
    running = start(make_site(), "--host", "0.0.0.0")
    try:
        assert running.request("/")[0] == 200
        time.sleep(0.2)
    finally:
        stop(running)
    assert any("reachable from other machines" in line for line in running.output)


def test_the_site_is_served_under_its_base_url(make_site):
    from tests.conftest import SETTINGS
    site = make_site({"handbook.yml": SETTINGS + "base_url: /circle/\n"})
    running = start(site)
    try:
        assert re.search(r"at http://127\.0\.0\.1:\d+/circle/ ", running.output[0])
        status, headers, _ = running.request("/")
        assert status == 302 and headers["Location"] == "/circle/"
        home = running.page("/circle/")
        links = [a["href"] for a in home.select("a[href^='/']")]
        assert links and all(href.startswith("/circle/") for href in links)
        assert all(running.request(href)[0] == 200 for href in links)
        assert running.request("/skills/toasts/")[0] == 404
    finally:
        stop(running)


def test_open_starts_the_browser_at_the_preview(make_site, tmp_path, monkeypatch):
    opened = tmp_path / "opened.txt"
    record = f"{sys.executable} -c \"import sys; open({str(opened)!r}, 'w').write(sys.argv[1])\""
    monkeypatch.setenv("BROWSER", record + " %s")
    running = start(make_site(), "--open")
    try:
        deadline = time.monotonic() + WAIT
        while not opened.exists():
            assert time.monotonic() < deadline, "no browser was started"
            time.sleep(0.05)
        assert opened.read_text() == f"http://127.0.0.1:{running.port}/"
    finally:
        stop(running)


def test_listens_on_ipv6_loopback(make_site):
    try:
        socket.create_server(("::1", 0), family=socket.AF_INET6).close()
    except OSError:
        pytest.skip("this machine has no IPv6 loopback")
    proc = subprocess.Popen([sys.executable, "-m", "cophandbook", "serve", str(make_site()),
                             "--port", "0", "--host", "::1"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        line = proc.stdout.readline()
        port = int(re.search(r"http://\[::1\]:(\d+)/", line).group(1))
        with socket.create_connection(("::1", port), timeout=WAIT) as sock:
            sock.sendall(f"GET / HTTP/1.0\r\nHost: [::1]:{port}\r\n\r\n".encode())
            assert sock.recv(64).startswith(b"HTTP/1.0 200")
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=WAIT) == 0


def test_search_in_the_preview_catches_up_once_saves_pause(make_site):
    site = make_site({"handbook.yml": SETTINGS + "search: true\n"})
    running = start(site)
    try:
        def entry() -> bytes | None:
            status, _, body = running.request("/pagefind/site/pagefind-entry.json")  # one shard
            return body if status == 200 and body else None

        deadline = time.monotonic() + WAIT
        while (first := entry()) is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert first, "the first build was never indexed"
        events = EventStream(running, running.build_number())
        write_files(site, {EXEMPLAR_FILE: EXEMPLAR + "\nA zanzibar closing line.\n"})
        events.next_build()
        events.close()
        assert entry() == first  # served at once, with the index it had
        deadline = time.monotonic() + WAIT
        while entry() == first and time.monotonic() < deadline:
            time.sleep(0.1)
        assert entry() not in (first, None), "the index never caught up with the edit"
    finally:
        stop(running)
