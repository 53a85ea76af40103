#!/usr/bin/env bash
# Install cophandbook with its test tools into .venv, then lint and run the whole test suite.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -k ladder`).
# In CI (CI=true) Debian's Chromium is installed first, so the browser tests always run;
# elsewhere they are skipped, with the reason, when /usr/bin/chromium is missing.
# axe-core (the accessibility checker the browser tests inject) comes from npm, pinned by
# tests/browser/package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v npm > /dev/null || missing+=(npm)
if [ "${CI:-}" = "true" ] && [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" > /dev/null
fi
if command -v npm > /dev/null; then
  npm ci --prefix tests/browser --silent --no-audit --no-fund
fi
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
