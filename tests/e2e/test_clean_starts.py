"""Starts that fail cleanly: a port in use, a data directory this user cannot write, a database
without PostGIS for a user who cannot add it; each a one-line error, exit 1, nothing written."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.e2e.harness import clean_env, free_port, najda_command
from tests.pgdatabases import PG_ADMIN_URL, admin_conn, empty_database, require_marker

START_TIMEOUT_S = 90


def _serve(*args: str, user: str | None = None) -> subprocess.CompletedProcess[str]:
    """`najda serve` with a strong admin token; as another system user when given."""
    command = [*najda_command(), "serve", "--host", "127.0.0.1", *args]
    if user is not None:
        command = [shutil.which("runuser") or "runuser", "-u", user, "--", *command]
    env = clean_env(NAJDA_ADMIN_TOKEN=secrets.token_urlsafe(32), NAJDA_DEMO_AREA="sahil")
    return subprocess.run(
        command, capture_output=True, text=True, timeout=START_TIMEOUT_S, env=env, check=False
    )


def _one_line_error(done: subprocess.CompletedProcess[str], starts: str) -> str:
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr  # one line, no traceback
    assert lines[0].startswith(starts), lines[0]
    return lines[0]


def test_a_port_in_use_is_said_in_one_line_and_nothing_is_written(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = _serve("--port", str(port), "--data-dir", str(data))
    _one_line_error(done, f"najda: cannot listen on 127.0.0.1:{port}")
    assert not data.exists()


def test_a_data_directory_this_user_cannot_write_is_refused_before_anything(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    mounted = False
    if os.geteuid() == 0:  # root writes through any mode: a read-only file system instead
        mount = ["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(data)]
        done = subprocess.run(mount, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            pytest.fail(f"cannot make a read-only directory as root: {done.stderr}")
        mounted = True
    else:
        data.chmod(0o500)
    try:
        done = _serve("--port", str(free_port()), "--data-dir", str(data))
        line = _one_line_error(done, f"najda: data directory {data} is not writable")
        assert "--data-dir" in line
        assert list(data.iterdir()) == []
    finally:
        if mounted:
            subprocess.run(["umount", str(data)], check=False)
        data.chmod(0o755)


@pytest.fixture
def database_without_postgis() -> Iterator[str]:
    """An empty database, and the URL of an ordinary user (no superuser) who owns it."""
    suffix = uuid.uuid4().hex[:10]
    role, password = f"najda_plain_{suffix}", suffix
    require_marker()
    try:
        admin = admin_conn()
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL needed: {exc}")
    with admin:
        admin.execute(f"CREATE ROLE {role} LOGIN NOSUPERUSER PASSWORD '{password}'")
    try:
        with empty_database("najda_test_nogis", owner=role) as admin_url:
            host = admin_url.split("@", 1)[1]
            yield f"postgresql://{role}:{password}@{host}"
    finally:
        with admin_conn() as admin:
            admin.execute(f"DROP ROLE IF EXISTS {role}")


@pytest.mark.postgres
def test_a_database_without_postgis_for_a_plain_user_is_refused_and_left_empty(
    database_without_postgis: str, tmp_path: Path
) -> None:
    url = database_without_postgis
    done = _serve("--port", str(free_port()), "--data-dir", str(tmp_path / "d"),
                  "--database-url", url)  # fmt: skip
    line = _one_line_error(done, "najda: the database has no PostGIS")
    assert "nothing was written" in line
    admin_url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + url.rsplit("/", 1)[1]
    with psycopg.connect(admin_url) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
        extensions = conn.execute("SELECT extname FROM pg_extension").fetchall()
    assert tables == []
    assert ("postgis",) not in extensions
