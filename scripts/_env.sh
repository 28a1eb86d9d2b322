# Shared set-up for scripts/serve.sh and scripts/test.sh (sourced, not run).
# Makes a virtualenv in $VENV with the project installed; installs Debian packages on demand.

PYTHON="${PYTHON:-python3}"
VENV="${NAJDA_VENV:-.venv}"
SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi

apt_updated=""
apt_install() {
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "need the Debian packages: $* (no apt-get here; install them by hand)" >&2
        return 1
    fi
    if [ -z "$apt_updated" ]; then $SUDO apt-get update -qq; apt_updated=1; fi
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

make_venv() {
    # $1: the pip extras to install, e.g. "[dev]" or "".
    # Installs editable (`pip install -e`): the folders install as one package `najda`
    # (pyproject's package-dir); the committed link tree `najda/<folder> -> ../<folder>` is what
    # the editable install and mypy resolve `najda.*` through (README, "Layout").
    if [ ! -L najda/domain ]; then
        echo "najda/domain is not the link ../domain: run python3 scripts/regroup.py" >&2
        exit 1
    fi
    if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        echo "Najda needs Python 3.11 or newer ($PYTHON is $("$PYTHON" -V 2>&1))" >&2
        exit 1
    fi
    if [ ! -x "$VENV/bin/python" ]; then
        if ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
            echo "== installing python3-venv (Debian)"
            apt_install python3-venv
        fi
        "$PYTHON" -m venv "$VENV"
    fi
    echo "== installing Najda$1 into $VENV (log: $VENV/install.log)"
    if ! { "$VENV/bin/python" -m pip install -q --upgrade pip \
        && "$VENV/bin/python" -m pip install -q -e ".$1"; } >"$VENV/install.log" 2>&1; then
        cat "$VENV/install.log" >&2
        echo "installing Najda failed (the log is above and in $VENV/install.log)" >&2
        exit 1
    fi
}
