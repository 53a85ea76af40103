"""handbook.yml → frozen Settings. Mistyped values are errors at their line; unknown keys
are warnings (errors in `check`), so that a typo does not take the site down."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from cophandbook.diagnostics import Diagnostics, Location
from cophandbook.fields import SLUG_RE, Fields, describe
from cophandbook.history import repository_root
from cophandbook.model import FeedbackTheme, Level, Settings, Written
from cophandbook.pageids import theme_element
from cophandbook.yamltext import Located, YamlProblem, decode, parse_yaml

SETTINGS_FILE = "handbook.yml"
DEFAULT_MAX_FILE_MB = 5  # the largest content file read, unless `max_file_mb` says otherwise

# The Dreyfus model of skill acquisition: widely known, and every step is observable.
DEFAULT_LEVELS = (
    Level("novice", "Novice", "Follows the steps; needs the rules spelled out.", 0),
    Level("advanced-beginner", "Advanced beginner", "Recognises situations from experience.", 1),
    Level("competent", "Competent", "Plans deliberately and takes responsibility for choices.", 2),
    Level("proficient", "Proficient", "Sees the whole and notices what matters most.", 3),
    Level("expert", "Expert", "Acts fluently from a deep, intuitive grasp.", 4),
)

_KEYS = (
    "title",
    "description",
    "base_url",
    "language",
    "repo_url",
    "edit_branch",
    "repo_path",
    "levels",
    "search",
    "markdown",
    "feedback_themes",
    "max_file_mb",
)


def _max_file_bytes(fields: Fields, problems: Diagnostics) -> int:
    """`max_file_mb` in bytes: a positive number of megabytes (1.5 is fine)."""
    default = DEFAULT_MAX_FILE_MB * 1024 * 1024
    if not fields.has("max_file_mb"):
        return default
    value = fields.entries["max_file_mb"].value
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 2**20:
        problems.error("invalid-setting", "'max_file_mb' should be a positive number of "
                       f"megabytes, not {describe(value)}", fields.loc("max_file_mb"),
                       f"write it like 'max_file_mb: {DEFAULT_MAX_FILE_MB * 2}'")
        return default
    return int(value * 1024 * 1024)


def _base(value: str, loc: Location | None, problems: Diagnostics,
          name: str = "'base_url'") -> tuple[str, str]:
    """Split base_url into (path, absolute site URL or "")."""
    parts = urlsplit(value)
    if parts.scheme and parts.scheme not in ("http", "https"):
        problems.error("invalid-setting", f"{name} must be a path or an http(s) URL", loc)
        return "/", ""
    if any(seg in ("..", ".") for seg in parts.path.split("/")) or "\\" in value:
        problems.error("invalid-setting", f"{name} may not contain '.', '..' or '\\'", loc)
        return "/", ""
    path = "/" + parts.path.strip("/") + "/" if parts.path.strip("/") else "/"
    site_url = f"{parts.scheme}://{parts.netloc}{path}".rstrip("/") if parts.scheme else ""
    return path, site_url


def _levels(fields: Fields, problems: Diagnostics) -> tuple[Level, ...]:
    if not fields.has("levels"):
        return DEFAULT_LEVELS
    levels: list[Level] = []
    seen: dict[str, int] = {}
    for item in fields.node_list("levels"):
        loc = Location(fields.path, item.line, item.col)
        if isinstance(item.value, str):  # "- novice" is short for {id: novice}
            item_fields = Fields.shorthand("id", item, fields.path, problems)
        elif isinstance(item.value, dict):
            item_fields = Fields(item, fields.path, problems)
        else:
            problems.error("wrong-type", "each level should be a mapping with an id", loc)
            continue
        item_fields.reject_unknown(("id", "name", "summary"), "a level")
        level_id = item_fields.slug("id", required=True)
        if level_id is None:
            continue
        if level_id in seen:
            problems.error(
                "duplicate-id",
                f"level '{level_id}' is listed twice (first on line {seen[level_id]})",
                loc,
            )
            continue
        seen[level_id] = item.line
        element = theme_element(level_id)
        if element is not None:
            # Kept all the same, so what names it hears nothing more: one mistake, one error.
            problems.error(
                "reserved-id", f"level id '{level_id}' is taken: the skill and criterion pages "
                f"give its section that id, and {element} has that id too",
                item_fields.loc("id"),
                "rename the level (here and where rubrics, exemplars and exercises name it): "
                "a page with one id twice breaks the links and scripts that look for it")
        name = item_fields.text("name") or level_id.replace("-", " ").capitalize()
        levels.append(Level(level_id, name, item_fields.text("summary") or "", len(levels)))
    if not levels and not problems.has_errors:
        problems.error("invalid-setting", "'levels' lists no level", fields.loc("levels"))
    return tuple(levels) or DEFAULT_LEVELS


def _themes(fields: Fields, problems: Diagnostics) -> tuple[FeedbackTheme, ...]:
    themes: list[FeedbackTheme] = []
    for item in fields.node_list("feedback_themes"):
        if not isinstance(item.value, dict):
            problems.error(
                "wrong-type",
                "each feedback theme should be a mapping with id, name and description",
                Location(fields.path, item.line, item.col),
            )
            continue
        theme = Fields(item, fields.path, problems)
        theme.reject_unknown(("id", "name", "description", "criteria", "exercises"),
                             "a feedback theme")
        theme_id = theme.slug("id", required=True)
        if theme_id is None:
            continue
        if any(t.id == theme_id for t in themes):
            problems.error("duplicate-id", f"feedback theme '{theme_id}' is listed twice",
                           theme.loc("id"))
            continue
        name = theme.text("name") or theme_id.replace("-", " ").capitalize()
        themes.append(FeedbackTheme(
            theme_id, name, theme.text("description") or "",
            criteria_refs=tuple(Written(text, loc) for text, loc in theme.text_list("criteria")),
            exercise_refs=tuple(Written(text, loc) for text, loc in theme.text_list("exercises")),
        ))
    return tuple(themes)


def _repo_path(site: Path) -> str:
    """The handbook folder's path inside its git repository, found without running git."""
    root = repository_root(site)
    return site.resolve().relative_to(root).as_posix().strip(".") if root else ""


def load_settings(site: Path, problems: Diagnostics, *,
                  base_url: str | None = None) -> Settings | None:
    """`base_url`, when given (`build --base-url`), replaces the one in handbook.yml."""
    path = site / SETTINGS_FILE
    root = _read_root(site, path, problems)
    if root is None:
        return None
    fields = Fields(root, path, problems)
    fields.reject_unknown(_KEYS, SETTINGS_FILE)
    title = fields.text("title", required=True, example="Our Practice Circle") or "Handbook"
    if base_url is not None:
        base_path, site_url = _base(base_url, None, problems, "--base-url")
    else:
        base_path, site_url = _base(fields.text("base_url") or "/", fields.loc("base_url"),
                                    problems)
    repo_url = _repo_url(fields, problems)
    allow_html = _allow_html(fields)
    repo_path = fields.text("repo_path")
    language = _language(fields, problems)
    return Settings(
        title=title,
        description=fields.text("description") or "",
        base_path=base_path,
        site_url=site_url,
        language=language,
        repo_url=repo_url,
        edit_branch=fields.text("edit_branch") or "main",
        repo_path=(repo_path if repo_path is not None else _repo_path(site)).strip("/"),
        levels=_levels(fields, problems),
        search=fields.boolean("search"),
        allow_html=allow_html,
        feedback_themes=_themes(fields, problems),
        max_file_bytes=_max_file_bytes(fields, problems),
    )


def _read_root(site: Path, path: Path, problems: Diagnostics) -> Located | None:
    """handbook.yml's top mapping; None when there is none to read settings from (reported)."""
    if not path.is_file():
        problems.error(
            "missing-settings",
            f"no {SETTINGS_FILE} in {site}",
            Location(path),
            f"a handbook folder holds {SETTINGS_FILE} and content/; "
            "start one with 'cophandbook new SITE'",
        )
        return None
    text = decode(path.read_bytes(), path, problems)
    if text is None:
        return None
    try:
        root = parse_yaml(text)
    except YamlProblem as exc:
        problems.error("invalid-yaml", exc.message, Location(path, exc.line, exc.col), exc.hint)
        return None
    if root is None or not isinstance(root.value, dict):
        problems.error(
            "invalid-setting",
            f"{SETTINGS_FILE} must be a mapping of settings",
            Location(path, 1),
            "start with a line like 'title: Our Practice Circle'",
        )
        return None
    return root


def _repo_url(fields: Fields, problems: Diagnostics) -> str:
    repo_url = (fields.text("repo_url") or "").rstrip("/")
    if repo_url and urlsplit(repo_url).scheme not in ("http", "https"):
        problems.error("invalid-setting", "'repo_url' must be an http(s) URL",
                       fields.loc("repo_url"))
        return ""
    return repo_url


def _allow_html(fields: Fields) -> bool:
    markdown = fields.mapping("markdown")
    if markdown is None:
        return False
    markdown.reject_unknown(("allow_html",), "'markdown'")
    return markdown.boolean("allow_html")


def _language(fields: Fields, problems: Diagnostics) -> str:
    language = fields.text("language") or "en"
    if not SLUG_RE.match(language.lower()):
        problems.error("invalid-setting", f"'language' should be a language tag like 'en', "
                       f"not '{language}'", fields.loc("language"))
        return "en"
    return language
