#!/usr/bin/env bash
# Install Najda in a virtualenv and start it on the embedded default (SQLite, demo area).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_env.sh
make_venv ""
exec "$VENV/bin/najda" serve "$@"
