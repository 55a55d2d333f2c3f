#!/usr/bin/env bash
# Ping An with a demo centre on this machine: installs it in .venv if needed, builds a fresh
# demo database (SQLite, in ./pingan-data unless PINGAN_DATA_DIR says otherwise), prints a
# login for every role and serves http://127.0.0.1:8000. Extra arguments go to `pingan demo`
# (for example --no-serve to build the data and exit).
#
# The demo settings make their own keys in the data directory, which production never does
# (docs/deployment.md); this script chooses them explicitly, whatever the shell says.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/_common.sh
. "$ROOT/scripts/_common.sh"

ensure_venv
# With the analytics extra (DuckDB, pyarrow), so the national-scale commands can be tried
# on the demo centre too (`pingan indicators --engine duckdb`, `pingan synth --format parquet`).
ensure_installed analytics
DJANGO_SETTINGS_MODULE=pingan.settings.demo exec "$VENV/bin/pingan" demo "$@"
