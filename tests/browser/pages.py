"""One page of each kind in a built example site, found from its files (not hard-coded), for
tests that must visit every kind of page."""

from __future__ import annotations

from pathlib import Path

# kind → a glob of output files; the first match (in sorted order) stands for the kind.
KIND_GLOBS = {
    "home": "index.html",
    "ladder": "skills/*/index.html",
    "rubric": "skills/*/rubric/index.html",
    "level": "skills/*/levels/*/index.html",
    "level pack": "skills/*/levels/*/pack/index.html",
    "criterion": "skills/*/criteria/*/index.html",
    "self-assessment": "skills/*/assess/index.html",
    "practise judging": "skills/*/calibrate/index.html",
    "judging one piece": "skills/*/calibrate/*/index.html",
    "exemplar": "skills/*/exemplars/*/index.html",
    "exercise": "skills/*/exercises/*/index.html",
    "exercises": "exercises/index.html",
    "sessions": "sessions/index.html",
    "session": "sessions/*/index.html",
    "feedback": "feedback/index.html",
    "feedback theme": "feedback/*/index.html",
    "coverage": "coverage/index.html",
    "guides": "guides/index.html",
    "guide": "guides/*/index.html",
    "search": "search/index.html",
    "not found": "404.html",
}


# Where a kind has pages with and without some feature, stand for it with one that has it.
PREFER = {"guide": "task-list-item", "exemplar": 'class="annotation"'}


def url_path(out: Path, file: Path) -> str:
    rel = file.relative_to(out).as_posix()
    return "/" + (rel[: -len("index.html")] if rel.endswith("index.html") else rel)


def one_of_each_kind(out: Path) -> dict[str, str]:
    found = {}
    for kind, pattern in KIND_GLOBS.items():
        matches = sorted(out.glob(pattern))
        assert matches, f"the example site has no {kind} page ({pattern})"
        marker = PREFER.get(kind)
        richer = [m for m in matches if marker and marker in m.read_text(encoding="utf-8")]
        found[kind] = url_path(out, (richer or matches)[0])
    return found


def every_page(out: Path) -> list[str]:
    return sorted(url_path(out, file) for file in out.rglob("*.html")
                  if "pagefind" not in file.relative_to(out).parts)
