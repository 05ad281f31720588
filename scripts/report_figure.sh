#!/usr/bin/env bash
# Regenerate the README's picture of a report's first page (results/figures/report.png): a
# default run (scripts/summary_figure.sh, which also refreshes summary.png), its HTML report,
# and the report rendered headless by Debian's chromium (scripts/install_browser.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/summary_figure.sh
.venv/bin/cscsim report results/run
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,1600 \
    --screenshot="$PWD/results/figures/report.png" "file://$PWD/results/run/report.html" \
    2>/dev/null
echo "wrote results/figures/report.png"
