#!/usr/bin/env bash
# Install everything the tests need (Debian packages, a virtualenv) and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${NAJDA_VENV:-.venv}"
SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi

apt_updated=""
apt_install() {
    if [ -z "$apt_updated" ]; then $SUDO apt-get update -qq; apt_updated=1; fi
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

# PostgreSQL 15 with PostGIS (the server itself is provided by the machine; start it if stopped).
if ! command -v pg_lsclusters >/dev/null 2>&1; then
    echo "== installing PostgreSQL 15"; apt_install postgresql-15
fi
if [ ! -f /usr/share/postgresql/15/extension/postgis.control ]; then
    echo "== installing PostGIS"; apt_install postgresql-15-postgis-3
fi
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    echo "== starting PostgreSQL"
    $SUDO pg_ctlcluster --skip-systemctl-redirect 15 main start || true
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi

# Python environment with the project and its test tools.
if [ ! -x "$VENV/bin/python" ]; then "$PYTHON" -m venv "$VENV"; fi
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -e '.[dev]'

echo "== ruff"; "$VENV/bin/ruff" check .
echo "== mypy"; "$VENV/bin/mypy"
echo "== pytest"; "$VENV/bin/pytest" "$@"
