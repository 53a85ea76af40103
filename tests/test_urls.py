from cophandbook.urls import Urls


def test_href_and_absolute_under_a_sub_path():
    urls = Urls("/hb/", "https://org.github.io/hb")
    assert urls.href("skills/x/") == "/hb/skills/x/"
    assert urls.href("/static.png") == "/hb/static.png"
    assert urls.absolute("sessions/") == "https://org.github.io/hb/sessions/"
    assert Urls("/", "").absolute("sessions/") == "/sessions/"


def test_output_files():
    assert Urls.output_file("") == "index.html"
    assert Urls.output_file("skills/x/") == "skills/x/index.html"
    assert Urls.output_file("sessions/feed.xml") == "sessions/feed.xml"
    assert Urls.rubric_cell("s", "c", "l") == "skills/s/rubric/#c--l"
