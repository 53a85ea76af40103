"""The preview's request handling, piece by piece: targets, paths, hosts, the page script."""

import json
import os
import re
from pathlib import Path

import pytest

from cophandbook.serve.http import (
    BadRequest,
    LiveScript,
    Snapshot,
    decode_target,
    host_allowed,
    inject,
    locate,
)


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


def test_inject_before_the_last_body_end():
    assert inject(b"<body><p>x</p></BODY>", b"<s>") == b"<body><p>x</p><s></BODY>"
    assert inject(b"<p>fragment</p>", b"<s>") == b"<p>fragment</p><s>"
