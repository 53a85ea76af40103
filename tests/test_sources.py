from pathlib import PurePosixPath

from cophandbook.diagnostics import Diagnostics
from cophandbook.sources import discover, kind_from_place


def test_kind_from_place():
    cases = {
        "skills/a/index.md": ("skill", "a"),
        "skills/a/rubric.md": ("rubric", "a"),
        "skills/a/exemplars/x.md": ("exemplar", "a"),
        "skills/a/exercises/x.md": ("exercise", "a"),
        "sessions/2026-01-01-x.md": ("session", ""),
        "guides/facilitation/running.md": ("page", ""),
        "index.md": ("page", ""),
    }
    for rel, expected in cases.items():
        assert kind_from_place(PurePosixPath(rel)) == expected, rel


def test_type_overrides_place_and_order_is_sorted(make_site):
    site = make_site({
        "content/extra/b-toast.md":
            "---\ntitle: B\ntype: exemplar\nskill: toasts\nlevel: novice\n---\n",
        "content/extra/a.md": "---\ntitle: A\n---\n",
    })
    problems = Diagnostics()
    found = discover(site, problems)
    sources = found.sources
    assert found.files == {s.rel for s in sources}
    rels = [s.rel for s in sources]
    assert rels == sorted(rels)
    kinds = {s.rel: s.kind for s in sources}
    assert kinds["extra/b-toast.md"] == "exemplar" and kinds["extra/a.md"] == "page"


def test_unknown_type_and_non_markdown(make_site):
    site = make_site({"content/x.md": "---\ntitle: X\ntype: recipe\n---\n",
                      "content/photo.png": b"\x89PNG"})
    problems = Diagnostics()
    discover(site, problems)
    found = {d.code: d for d in problems}
    assert found["unknown-type"].location.line == 3
    assert not found["not-markdown"].is_error
