#!/usr/bin/env bash
# The test command of the README: a fresh virtualenv with everything the suite needs,
# then the whole suite. Run from anywhere inside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${LEDGER_TEST_VENV:-.venv}"

if ! command -v chromium >/dev/null 2>&1; then
  # The report tests open the HTML report in a real headless browser.
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "the report tests need Chromium: install it (Debian/Ubuntu: sudo apt-get install chromium)" >&2
    exit 1
  fi
fi

[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
# torch first and pinned, so that the test extras do not pull a multi-GB CUDA build.
"$venv/bin/python" -m pip install --quiet "torch==2.13.0"
"$venv/bin/python" -m pip install --quiet -e ".[dev]"
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider "$@"
