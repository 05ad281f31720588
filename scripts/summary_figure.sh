#!/usr/bin/env bash
# Regenerate the README's run-summary figure (results/figures/summary.png) from a default run.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/cscsim run --out results/run --quiet
cp results/run/summary.png results/figures/summary.png
echo "wrote results/figures/summary.png"
