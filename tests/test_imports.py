"""Stages import only from earlier stages: load → validate → derive → render → write."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "cophandbook"

STAGE = {
    "diagnostics": 0, "memo": 0, "parallel": 0, "schemes": 0, "deadline": 0, "kept": 0,
    "pageids": 0,
    "fingerprint": 1,
    "yamltext": 1, "bodytext": 1, "sourcecache": 1, "fields": 1, "history": 1, "settings": 1,
    "sources": 1,
    "model": 2, "schema": 2, "revalidate": 2,
    "urls": 3, "references": 3, "markdown": 3, "bodycache": 3, "derive": 3, "views": 3,
    "practice": 3, "routes": 3, "links": 3, "editorial": 3,
    "theme": 4, "reuse": 4, "render": 4,
    "output_paths": 5, "undo": 5, "lock": 5, "output": 5, "search": 5,
    "caches": 3,
    "pipeline": 6, "build": 6, "check": 6, "origin": 6, "report": 6, "coverage_table": 6,
    "scaffold": 6,
    "starter": 6,
    "serve": 6, "cli": 7, "__main__": 8, "__init__": 0,
}
# The model is the shared language; loading modules may build it.
ALLOWED_BACKWARDS = {("settings", "model"), ("sources", "model")}


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cophandbook"):
            name = node.module.split(".")[1] if "." in node.module else ""
            if name:
                found.add(name)
            else:
                found.update(alias.name for alias in node.names if alias.name in STAGE)
    return found


def module_of(path: Path) -> str:
    """A top-level module's name; a subpackage (serve/) counts as one module."""
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else path.stem


def test_every_module_has_a_stage():
    assert {module_of(p) for p in PACKAGE.rglob("*.py")} <= set(STAGE)


def test_imports_only_point_backwards():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_of(path)
        for imported in imports_of(path):
            if STAGE[imported] > STAGE[module] and (module, imported) not in ALLOWED_BACKWARDS:
                wrong.append(f"{module} (stage {STAGE[module]}) imports {imported} "
                             f"(stage {STAGE[imported]})")
    assert not wrong, wrong


def test_model_has_no_io_markdown_or_templates():
    source = (PACKAGE / "model.py").read_text()
    for forbidden in ("jinja2", "markdown_it", "open(", "read_text", "write_"):
        assert forbidden not in source
