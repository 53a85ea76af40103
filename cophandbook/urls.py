"""Site paths of every item, and their URLs under base_url.

A *site path* is relative to the site root: "" for the home page, "skills/x/" for a folder
page, "sessions/feed.xml" for a file. `href()` turns it into a link that honours base_url.
"""

from __future__ import annotations

from dataclasses import dataclass

from cophandbook.model import Exemplar, Exercise, Page, Session, Settings

SEARCH_DIR = "pagefind"  # the site folder of the search index (cophandbook.search writes it)


@dataclass(frozen=True)
class Urls:
    base_path: str
    site_url: str

    @classmethod
    def of(cls, settings: Settings) -> Urls:
        return cls(settings.base_path, settings.site_url)

    def href(self, site_path: str) -> str:
        return self.base_path + site_path.lstrip("/")

    def absolute(self, site_path: str) -> str:
        """A full URL when base_url is one, else the root-relative link."""
        if self.site_url:
            return f"{self.site_url}/{site_path.lstrip('/')}"
        return self.href(site_path)

    @staticmethod
    def output_file(site_path: str) -> str:
        """The file a site path is written to, relative to the output folder."""
        if site_path == "" or site_path.endswith("/"):
            return site_path + "index.html"
        return site_path

    # -- site paths -------------------------------------------------------------------------

    @staticmethod
    def skill(skill_id: str) -> str:
        return f"skills/{skill_id}/"

    @staticmethod
    def level(skill_id: str, level_id: str) -> str:
        return f"skills/{skill_id}/levels/{level_id}/"

    @staticmethod
    def level_pack(skill_id: str, level_id: str) -> str:
        return f"skills/{skill_id}/levels/{level_id}/pack/"

    @staticmethod
    def criterion(skill_id: str, criterion_id: str) -> str:
        return f"skills/{skill_id}/criteria/{criterion_id}/"

    @staticmethod
    def assess(skill_id: str) -> str:
        return f"skills/{skill_id}/assess/"

    @staticmethod
    def next_steps(skill_id: str) -> str:
        return f"skills/{skill_id}/assess/steps.json"

    @staticmethod
    def calibrate(skill_id: str) -> str:
        return f"skills/{skill_id}/calibrate/"

    @staticmethod
    def calibrate_item(item: Exemplar) -> str:
        return f"skills/{item.skill}/calibrate/{item.slug}/"

    @staticmethod
    def rubric(skill_id: str) -> str:
        return f"skills/{skill_id}/rubric/"

    @staticmethod
    def rubric_cell(skill_id: str, criterion_id: str, level_id: str) -> str:
        return f"skills/{skill_id}/rubric/#{criterion_id}--{level_id}"

    @staticmethod
    def exemplar(item: Exemplar) -> str:
        return f"skills/{item.skill}/exemplars/{item.slug}/"

    @staticmethod
    def exercise(item: Exercise) -> str:
        return f"skills/{item.skill}/exercises/{item.slug}/"

    @staticmethod
    def session(item: Session) -> str:
        return f"sessions/{item.slug}/"

    @staticmethod
    def page(item: Page) -> str:
        return item.url_path

    @staticmethod
    def theme(theme_id: str) -> str:
        return f"feedback/{theme_id}/"

    @staticmethod
    def asset(name: str) -> str:
        return f"assets/{name}"
