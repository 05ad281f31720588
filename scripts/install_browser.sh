#!/usr/bin/env bash
# Install what the teaching app's browser test (tests/test_app.py) needs, and nothing else:
#   - Debian's chromium package (apt), never a downloaded browser build;
#   - the app's extra (solara, solara-assets, ipyvuetify<3, ipyvue<3, altair) and Playwright
#     from PyPI into the project's venv. Playwright drives /usr/bin/chromium through
#     executable_path, so `playwright install` is never run.
# Idempotent: each step is skipped when what it installs is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"

if ! command -v chromium >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
    echo "install_browser: installing Debian's chromium (apt)"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium
fi

if ! "$PY" -c "import playwright.sync_api, solara, solara_assets, ipyvuetify, altair" 2>/dev/null
then
    echo "install_browser: installing the app extra and playwright (pip)"
    "$PY" -m pip install -q -e ".[app]" playwright
fi

chromium --version 2>/dev/null || true
"$PY" -c "from importlib.metadata import version as v; print('playwright', v('playwright'), '/ solara', v('solara'))"
