"""The wheel carries everything a plain `pip install` needs: the theme, the starter and the
preview's page script."""

import subprocess
import sys
import zipfile

from tests.conftest import ROOT


def test_wheel_holds_the_theme_and_every_starter_file(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--disable-pip-version-check", str(ROOT), "-w", str(tmp_path)],
                   check=True, capture_output=True)
    (wheel,) = tmp_path.glob("cophandbook-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"cophandbook/{p.relative_to(ROOT / 'cophandbook').as_posix()}"
                for p in (ROOT / "cophandbook" / "starter-handbook").rglob("*") if p.is_file()}
    expected |= {f"cophandbook/themes/{p.relative_to(ROOT / 'themes').as_posix()}"
                 for p in (ROOT / "themes").rglob("*") if p.is_file()}
    expected.add("cophandbook/serve/live.js")
    assert len(expected) > 30
    assert expected - names == set()
