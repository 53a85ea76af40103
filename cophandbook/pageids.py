"""The ids the default theme gives elements of its pages, and the ids rendering gives notes
and footnotes: what no heading, criterion or level may take, or a page would hold one id
twice and its skip link, menu or level chooser would find the wrong element.

The one list of them: markdown.py numbers a heading that would take one, and validation
refuses a criterion or level id that is one (`reserved-id`). A test keeps the list in step
with the theme's templates and scripts.
"""

from __future__ import annotations

import re

# id → the element that has it, as a message names it.
THEME_IDS: dict[str, str] = {
    # Every page (base.html, macros.html)
    "main": "the page's main content, where the skip link leads",
    "site-nav": "the site menu",
    "site-search-q": "the search box in the page header",
    "my-level": "the 'My level' chooser",
    # Home page
    "skills-heading": "the home page's heading 'Skills we practise'",
    "levels-heading": "the home page's heading 'The levels'",
    "sessions-heading": "the heading 'Latest sessions' (home page) or 'Sessions that raised "
                        "it' (feedback theme pages)",
    "guides-heading": "the home page's heading 'Guides'",
    # Skill, rubric, level, criterion and pack pages
    "ladder-heading": "the skill page's heading 'The ladder'",
    "matrix-caption": "the rubric table's caption",
    "changes-heading": "the level page's heading 'What changes at the next level'",
    "exemplars-heading": "the level page's heading 'Exemplars at ...'",
    "exercises-heading": "the level page's heading 'Exercises for this level'",
    "next-heading": "the level page's heading 'Look one level up'",
    "practise-heading": "the criterion page's heading 'Exercises that practise ...'",
    "pack-rubric": "the level pack's heading 'The rubric at ...'",
    "pack-exemplars": "the level pack's heading 'Exemplars at ...'",
    "pack-exercises": "the level pack's heading 'Exercises for ...'",
    # Exemplar, exercise and session pages
    "further-heading": "the exemplar page's heading 'What would take it further'",
    "assessment-heading": "the exemplar page's heading 'Assessment'",
    "neighbours-heading": "the exemplar page's heading 'The same criteria one level down and "
                          "one up'",
    "reviewed-heading": "the heading 'Reviewed in' (exemplar pages) or 'Exemplars reviewed' "
                        "(session pages)",
    "used-heading": "the exercise page's heading 'Run in'",
    "ran-heading": "the session page's heading 'Exercises run'",
    "feedback-heading": "the session page's heading 'Feedback themes'",
    "rhythm-heading": "the sessions page's heading 'Rhythm'",
    "work-heading": "the feedback theme page's heading 'Work on this'",
    # The exercise catalog
    "catalog-filters": "the exercise catalog's filters",
    "filter-level": "the exercise catalog's level filter",
    "filter-criterion": "the exercise catalog's criterion filter",
    "filter-minutes": "the exercise catalog's time filter",
    # The search page
    "search-form": "the search page's form",
    "search-q": "the search page's search box",
    "search-kind": "the search page's filter by kind",
    "search-skill": "the search page's filter by skill",
    "search-level": "the search page's filter by level",
    "search-status": "the search page's status line",
    "search-results": "the search page's results",
    # Self-assessment and calibration
    "assessment": "the self-assessment form",
    "assess-status": "the self-assessment's status line",
    "assess-tools": "the self-assessment's tools",
    "steps-heading": "the self-assessment's heading 'My next steps'",
    "next-steps-list": "the self-assessment's list of next steps",
    "calibration-list": "the calibration page's list of exemplars",
    "calibration-start": "the calibration page's start button",
    "calibration-summary": "the calibration page's summary",
    "summary-heading": "the calibration summary's heading",
    "summary-caption": "the calibration summary's table caption",
    "placing": "the calibration form",
    "place-heading": "the calibration form's heading 'Your placement'",
    "reveal": "the calibration's reveal of the handbook's placement",
    "calibration-progress": "the calibration's progress line",
}
TEMPLATE_IDS = frozenset(THEME_IDS)
# Ids given by rendering itself: annotations (note-1) and footnotes (fn1, fnref1, fnref1:2).
RENDER_ID = re.compile(r"note-\d+|fn\d+|fnref\d+(?::\d+)?")


def theme_element(value: str) -> str | None:
    """The element of a page that has the id `value`, or None when no page gives it one."""
    if value in THEME_IDS:
        return THEME_IDS[value]
    if value.startswith("note-") and RENDER_ID.fullmatch(value):
        return "an annotation's note (note-1, note-2, …) in a page's text"
    if RENDER_ID.fullmatch(value):
        return "a footnote (fn1, fnref1, …) in a page's text"
    return None


# Rendered Markdown separates attributes by one space (see theme.py's scope_ids).
_ID_OR_FRAGMENT = re.compile(r' (?:id="|href="#)[^"]*"')


def without_ids(html: str) -> str:
    """A passage of rendered Markdown to quote on another page: without its ids (a heading's,
    a footnote's), which belong to the page it comes from and would repeat or meet that
    page's own, and without the in-page links that led to them there."""
    return _ID_OR_FRAGMENT.sub("", html)
