#!/usr/bin/env bash
# Make and check the release files, everything a release does short of uploading them:
#   bash scripts/release.sh [TAG]
# TAG (or GITHUB_REF_NAME, as the release workflow has it), when given, must be v<version>.
# The version is cophandbook/__init__.py's, and CHANGELOG.md must have a section for it.
# Writes dist/ (an sdist and a wheel), runs `twine check --strict` on them, then installs the
# wheel into a new virtual environment, away from this checkout, and builds the example
# handbook and a new starter handbook with it.
#
# RELEASE_OFFLINE=1 (for the test suite): build with this Python's own build tools
# (--no-isolation), and give the new environment this Python's installed packages as its
# dependencies instead of installing them from a package index.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"

version=$("$python" -c 'import re, pathlib; print(re.search(r"__version__ = \"([^\"]+)\"", pathlib.Path("cophandbook/__init__.py").read_text())[1])')
tag="${1:-${GITHUB_REF_NAME:-}}"
if [ -n "$tag" ] && [ "$tag" != "v$version" ]; then
  echo "release: the tag $tag does not match the version $version in cophandbook/__init__.py (tag v$version)" >&2
  exit 1
fi
if ! grep -q "^## \[$version\]" CHANGELOG.md; then
  echo "release: CHANGELOG.md has no section '## [$version]'" >&2
  exit 1
fi

rm -rf dist
build_args=()
[ "${RELEASE_OFFLINE:-}" = "1" ] && build_args+=(--no-isolation)
"$python" -m build "${build_args[@]}" --outdir dist .
"$python" -m twine check --strict dist/*
wheel=$(ls dist/cophandbook-"$version"-py3-none-any.whl)
ls dist/cophandbook-"$version".tar.gz > /dev/null

# The wheel on its own: a new environment in a folder of its own, run from there.
smoke=$(mktemp -d)
trap 'rm -rf "$smoke"' EXIT
"$python" -m venv "$smoke/venv"
if [ "${RELEASE_OFFLINE:-}" = "1" ]; then
  # Dependencies from this Python's packages (a path in a .pth file: its own .pth files, an
  # editable install of this checkout among them, are not read).
  "$python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' \
    > "$("$smoke/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/release-dependencies.pth"
  "$smoke/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-index --no-deps --ignore-installed "$PWD/$wheel"
else
  "$smoke/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$PWD/$wheel"
fi
cp -R example-site "$smoke/example-site"
rm -rf "$smoke/example-site/_site"
(
  cd "$smoke"
  venv/bin/cophandbook --version
  venv/bin/python -c 'import cophandbook, pathlib; assert pathlib.Path(cophandbook.__file__).resolve().is_relative_to(pathlib.Path("venv").resolve()), cophandbook.__file__'
  venv/bin/cophandbook build example-site
  venv/bin/cophandbook new starter
  venv/bin/cophandbook build starter
)
echo "release: dist/ holds cophandbook $version, checked; its wheel built the example handbook and a new one"
