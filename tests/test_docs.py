"""The contributor docs stay in step with the code: every problem code and every option."""

import argparse
import re

import yaml

from cophandbook.cli import _parser
from cophandbook.pageids import TEMPLATE_IDS
from cophandbook.schema import ALLOWED_KEYS
from tests.conftest import ROOT

PACKAGE = ROOT / "cophandbook"
DOCS = ROOT / "docs"
# A code is the first argument of problems.error/warning (or of the `report` alias in fields).
CODE_CALL = re.compile(r"\b(?:error|warning|report)\(\s*\"([a-z][a-z0-9-]*)\"")


def codes_in_source() -> set[str]:
    return {code for path in PACKAGE.rglob("*.py") for code in CODE_CALL.findall(path.read_text())}


def documented_codes() -> set[str]:
    return set(re.findall(r"^### `([a-z][a-z0-9-]*)`$", (DOCS / "problems.md").read_text(), re.M))


def test_every_problem_code_is_documented_and_every_documented_code_exists():
    source = codes_in_source()
    assert len(source) > 30  # the pattern still finds the calls
    assert source - documented_codes() == set(), "codes missing from docs/problems.md"
    assert documented_codes() - source == set(), "docs/problems.md lists codes that are gone"


def test_every_command_and_option_is_documented():
    text = (DOCS / "commands.md").read_text()
    subparsers = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in subparsers.choices.items():
        assert f"## `cophandbook {name}" in text, name
        for action in command._actions:
            for flag in action.option_strings:
                if flag not in ("-h", "--help"):
                    assert f"`{flag}" in text, f"{name} {flag}"


def test_docs_link_to_files_that_exist():
    for doc in [ROOT / "README.md", *DOCS.glob("*.md")]:
        prose = re.sub(r"```.*?```|`[^`]*`", "", doc.read_text(), flags=re.S)  # not examples
        for target in re.findall(r"\]\(([^)#:]+\.md)(?:#[^)]*)?\)", prose):
            assert (doc.parent / target).is_file(), f"{doc.name} links to missing {target}"


def format_sections() -> dict[str, str]:
    """docs/format.md's section of each kind ("### exemplar: …") → its text."""
    sections: dict[str, list[str]] = {}
    current, fenced = None, False
    for line in (DOCS / "format.md").read_text().splitlines():
        fenced ^= line.startswith("```")
        heading = re.match(r"^(#{2,3}) (\w+)?", line) if not fenced else None
        if heading:
            current = heading.group(2) if heading.group(1) == "###" else None
            sections.setdefault(current, [])
        if current:
            sections[current].append(line)
    return {kind: "\n".join(lines) for kind, lines in sections.items() if kind}


def test_the_format_reference_documents_every_key_of_every_kind_with_an_example():
    sections = format_sections()
    assert set(sections) == set(ALLOWED_KEYS)
    for kind, section in sections.items():
        documented = set(re.findall(r"^\| `(\w+)` \|", section, re.M))
        documented |= {"title", "summary", "type"}  # common to every kind
        assert documented == set(ALLOWED_KEYS[kind]), kind
        example = re.search(r"```(?:markdown|yaml)\n(?:---\n)?(.*?)(?:---\n.*?)?```", section, re.S)
        assert example, f"no example for {kind}"
        meta = yaml.safe_load(example.group(1))
        assert meta["title"] and set(meta) <= set(ALLOWED_KEYS[kind]), kind


def test_the_format_reference_lists_every_reserved_id():
    text = (DOCS / "format.md").read_text()
    section = text[text.index("**Reserved ids.**"):]
    section = section[: section.index("\n\n")]
    listed = set(re.findall(r"`([a-z][a-z0-9-]*)`", section.split("the theme's:", 1)[1]))
    assert listed == TEMPLATE_IDS, (sorted(TEMPLATE_IDS - listed), sorted(listed - TEMPLATE_IDS))
