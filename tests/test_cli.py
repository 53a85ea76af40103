import subprocess
import sys

from cophandbook.cli import main


def test_build_command_prints_where_and_how(make_site, capsys):
    site = make_site()
    assert main(["build", str(site)]) == 0
    out = capsys.readouterr().out
    assert "_site" in out and "http.server" in out


def test_the_build_summary_says_what_was_written_kept_and_cached(make_site, capsys):
    import re
    site = make_site()
    assert main(["build", str(site)]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    match = re.fullmatch(r"Built (\d+) pages \((\d+) files\) into .* in [\d.]+ s: "
                         r"(\d+) written\.", first)
    assert match and match[2] == match[3]  # a first build writes every file
    exemplar = site / "content/skills/toasts/exemplars/wedding-toast.md"
    exemplar.write_text(exemplar.read_text() + "\nOne more line.\n")
    assert main(["build", str(site)]) == 0
    again = capsys.readouterr().out.splitlines()[0]
    match = re.fullmatch(r"Built (\d+) pages \((\d+) files\) into .* in [\d.]+ s: "
                         r"(\d+) written, (\d+) unchanged \((\d+) pages not rendered again, "
                         r"(\d+) files not read again, (\d+) bodies from the cache\)\.", again)
    assert match, again
    files, written, unchanged, kept, unread, cached = map(int, match.groups()[1:])
    assert 0 < written < 10 and written + unchanged == files and kept > 10 and cached > 5
    sources = len(list((site / "content").rglob("*.md")))
    assert unread == sources - 1  # all but the edited file
    assert main(["build", str(site)]) == 0
    assert capsys.readouterr().out.startswith("Nothing changed: the ")


def test_errors_are_listed_with_file_line_and_exit_1(make_site, capsys):
    site = make_site({"content/skills/toasts/exemplars/x.md":
                      "---\ntitle: X\nlevel: novize\n---\n",
                      "content/sessions/s.md": "---\ntitle: S\ndate: soon\n---\n"})
    assert main(["build", str(site)]) == 1
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if ": error: " in line]
    assert any(line.endswith("x.md:3:1: error: unknown level 'novize'")
               or "x.md:3:1: error: unknown level 'novize'" in line for line in lines)
    assert any("s.md:3:1: error: 'date' should be a date" in line for line in lines)
    assert "hint: did you mean 'novice'?" in err
    assert "Traceback" not in err


def test_usage_errors_exit_2(tmp_path, capsys):
    assert main(["build", str(tmp_path / "nowhere")]) == 2
    proc = subprocess.run([sys.executable, "-m", "cophandbook", "frobnicate"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "usage" in proc.stderr


def test_folder_without_settings_is_an_error_not_a_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "cophandbook", "build", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert "no handbook.yml" in proc.stderr and "Traceback" not in proc.stderr


def test_version():
    proc = subprocess.run([sys.executable, "-m", "cophandbook", "--version"],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("cophandbook ")


def test_build_base_url_overrides_the_setting(make_site, capsys):
    from tests.conftest import page
    site = make_site()
    assert main(["build", str(site), "--base-url", "https://org.github.io/circle"]) == 0
    home = page(site / "_site", "")
    assert home.select_one("a.brand")["href"] == "/circle/"
    assert "https://org.github.io/circle/skills/toasts/" in (site / "_site/sitemap.xml").read_text()
    assert main(["build", str(site), "--base-url", "ftp://x"]) == 1
    assert "--base-url must be a path or an http(s) URL" in capsys.readouterr().err


def test_a_path_that_cannot_be_written_is_an_error_not_a_traceback(tmp_path):
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    proc = subprocess.run([sys.executable, "-m", "cophandbook", "new",
                           str(tmp_path / "notes.txt" / "hb")], capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    assert "Not a directory" in proc.stderr and "Traceback" not in proc.stderr


def test_the_command_ends_with_its_output_written_and_its_exit_status(make_site):
    """The command ends its process without Python's clean-up: what it printed to a pipe
    (buffered, unlike a terminal) still arrives, and its exit status is the command's."""
    import os
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    site = make_site()
    built = subprocess.run([sys.executable, "-m", "cophandbook", "build", str(site)],
                           capture_output=True, text=True, env=env)
    assert built.returncode == 0, built.stderr
    assert built.stdout.startswith("Built ") and "http.server" in built.stdout
    assert (site / "_site" / "index.html").is_file()
    (site / "handbook.yml").write_text("title: [unclosed\n")
    failed = subprocess.run([sys.executable, "-m", "cophandbook", "check", str(site)],
                            capture_output=True, text=True, env=env)
    assert failed.returncode == 1
    assert "handbook.yml:2:1: error: invalid YAML" in failed.stdout
    assert "Traceback" not in failed.stderr
