#!/usr/bin/env bash
# Install everything the tests need (Debian packages, a virtualenv) and run the whole suite
# (on two pytest-xdist workers; NAJDA_TEST_WORKERS=N sets how many, 0 runs in one process).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_env.sh

PG_VERSION=15
PG_URL="${NAJDA_TEST_PG:-postgresql://postgres@127.0.0.1:5432/postgres}"

# PostgreSQL with PostGIS. The machine normally runs PostgreSQL already; install and start it
# when it does not, and let the local `postgres` user in over TCP without a password (trust on
# the loopback only), as the tests connect to 127.0.0.1:5432 as postgres.
if ! command -v pg_lsclusters >/dev/null 2>&1; then
    echo "== installing PostgreSQL $PG_VERSION"; apt_install "postgresql-$PG_VERSION"
fi
if [ ! -f "/usr/share/postgresql/$PG_VERSION/extension/postgis.control" ]; then
    echo "== installing PostGIS"; apt_install "postgresql-$PG_VERSION-postgis-3"
fi
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    echo "== starting PostgreSQL"
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" main start || true
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
as_postgres() {
    if [ "$(id -u)" = "0" ]; then su postgres -c "$1"; else sudo -u postgres sh -c "$1"; fi
}
if [ -z "${NAJDA_TEST_PG:-}" ] && ! psql "$PG_URL" -Atqc 'select 1' >/dev/null 2>&1; then
    hba="$(as_postgres "psql -Atqc 'show hba_file'")"
    echo "== letting the local postgres user in on the loopback ($hba)"
    as_postgres "{ echo 'host all postgres 127.0.0.1/32 trust'; \
        echo 'host all postgres ::1/128 trust'; cat '$hba'; } > '$hba.najda' && mv '$hba.najda' '$hba'"
    as_postgres "psql -Atqc 'select pg_reload_conf()'" >/dev/null
fi

# Headless Chromium for the browser tests (Debian's package; Playwright never downloads one).
if [ ! -x /usr/bin/chromium ]; then
    echo "== installing Chromium"; apt_install chromium
fi

make_venv "[dev]"

echo "== ruff"; "$VENV/bin/ruff" check .
echo "== mypy"; "$VENV/bin/mypy"
# pytest-xdist workers (NAJDA_TEST_WORKERS, 2 by default: the whole suite took 13 min 44 s on
# two workers against about 26 min in one process; 0 runs it in this process): each worker has
# its own template database, clones, ports and temporary directories; the run imports the
# Liechtenstein area once, in whichever worker first needs it (tests/area_fixture.py);
# `loadscope` runs each module whole on one worker (its module fixtures built once, its tests in
# their order).
WORKERS="${NAJDA_TEST_WORKERS:-2}"
echo "== pytest ($WORKERS workers)"; "$VENV/bin/pytest" -n "$WORKERS" --dist loadscope "$@"
