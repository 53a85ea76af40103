#!/usr/bin/env bash
# Install cophandbook with its test tools into .venv, then lint and run the whole test suite.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -k ladder`).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
