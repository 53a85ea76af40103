from pathlib import Path

from cophandbook.diagnostics import Diagnostics
from cophandbook.settings import DEFAULT_LEVELS, load_settings


def load(tmp_path: Path, text: str):
    (tmp_path / "handbook.yml").write_text(text)
    problems = Diagnostics()
    return load_settings(tmp_path, problems), problems


def test_defaults_when_only_title(tmp_path):
    settings, problems = load(tmp_path, "title: Circle\n")
    assert not problems.items
    assert settings.levels == DEFAULT_LEVELS
    assert settings.base_path == "/" and settings.site_url == ""
    assert settings.language == "en" and not settings.search and not settings.allow_html


def test_unknown_key_is_a_warning_with_line_and_suggestion(tmp_path):
    _, problems = load(tmp_path, "title: Circle\nbase_ulr: /x/\n")
    (d,) = problems.items
    assert not d.is_error and d.code == "unknown-key" and d.location.line == 2
    assert "base_url" in d.hint


def test_mistyped_value_is_an_error(tmp_path):
    _, problems = load(tmp_path, "title: Circle\nsearch: sometimes\n")
    (d,) = problems.items
    assert d.code == "wrong-type" and d.location.line == 2


def test_missing_title(tmp_path):
    _, problems = load(tmp_path, "description: no title\n")
    assert [d.code for d in problems] == ["missing-field"]


def test_absolute_base_url_gives_path_and_site_url(tmp_path):
    settings, problems = load(tmp_path, "title: C\nbase_url: https://org.github.io/handbook\n")
    assert not problems.items
    assert settings.base_path == "/handbook/"
    assert settings.site_url == "https://org.github.io/handbook"


def test_levels_in_order_with_ranks(tmp_path):
    settings, _ = load(tmp_path, "title: C\nlevels:\n  - {id: a, name: A}\n  - b\n")
    assert [(lvl.id, lvl.name, lvl.rank) for lvl in settings.levels] == [
        ("a", "A", 0), ("b", "B", 1)]


def test_duplicate_level_and_bad_level_key(tmp_path):
    _, problems = load(tmp_path, "title: C\nlevels:\n  - {id: a}\n  - {id: a, nmae: x}\n")
    assert sorted(d.code for d in problems) == ["duplicate-id", "unknown-key"]


def test_missing_file_is_a_diagnostic(tmp_path):
    problems = Diagnostics()
    assert load_settings(tmp_path, problems) is None
    assert [d.code for d in problems] == ["missing-settings"]


def test_repo_path_found_from_git_folder(tmp_path):
    (tmp_path / ".git").mkdir()
    site = tmp_path / "docs" / "handbook"
    site.mkdir(parents=True)
    settings, _ = load(site, "title: C\n")
    assert settings.repo_path == "docs/handbook"
