"""Throwaway PostgreSQL clusters made by a test: stopped, killed, replicated and promoted."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import psycopg

from tests.e2e.harness import free_port

PG_VERSION = "15"
BIN = Path(f"/usr/lib/postgresql/{PG_VERSION}/bin")
START_TIMEOUT_S = 30.0


class ClusterUnavailable(RuntimeError):
    """Raised when this machine cannot make a PostgreSQL cluster (no server binaries)."""


def _as_owner() -> list[str]:
    """Run server binaries as `postgres` when we are root (initdb refuses root)."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        raise ClusterUnavailable("running as root without runuser")
    return [runuser, "-u", "postgres", "--"]


class PgCluster:
    """One PostgreSQL cluster in a temporary directory on a free port of 127.0.0.1."""

    def __init__(self, root: Path | None = None, port: int | None = None) -> None:
        if not (BIN / "initdb").exists():
            raise ClusterUnavailable(f"no PostgreSQL {PG_VERSION} server binaries in {BIN}")
        self.root = root or Path(tempfile.mkdtemp(prefix="najda-pg-"))
        self.data = self.root / "data"
        self.port = port or free_port()
        self.log = self.root / "server.log"
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        os.chmod(self.root, 0o700)

    @property
    def url(self) -> str:
        """The URL of this cluster's `postgres` database."""
        return self.url_for("postgres")

    def url_for(self, database: str) -> str:
        """The URL of one database of this cluster."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [*_as_owner(), *(str(a) for a in args)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
        return done

    def init(self, settings: Sequence[str] = ()) -> PgCluster:
        """initdb with trust on the loopback, listening on this cluster's port."""
        self._run(BIN / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.configure(
            [
                f"port = {self.port}",
                "listen_addresses = '127.0.0.1'",
                f"unix_socket_directories = '{self.root}'",
                "fsync = on",
                "wal_level = replica",
                "max_wal_senders = 5",
                "hot_standby = on",
                *settings,
            ]
        )
        with (self.data / "pg_hba.conf").open("a") as hba:
            hba.write("host replication postgres 127.0.0.1/32 trust\n")
        return self

    def configure(self, lines: Sequence[str]) -> None:
        """Append settings to postgresql.conf (read at the next start or reload)."""
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n".join(lines) + "\n")

    def start(self) -> PgCluster:
        """Start the server and wait until it accepts connections."""
        self._run(BIN / "pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "30", "start")
        self.wait_ready()
        return self

    def wait_ready(self) -> None:
        """Wait (bounded) until the server answers a query."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                with psycopg.connect(self.url, connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.1)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (`fast` rolls back sessions; `immediate` is a crash)."""
        self._run(BIN / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop", check=False)

    def kill(self) -> None:
        """kill -9 the postmaster, as a crash of the machine would."""
        pid_file = self.data / "postmaster.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().splitlines()[0])
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + START_TIMEOUT_S
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)

    def standby_of(self, primary: PgCluster, name: str = "standby") -> PgCluster:
        """Make this cluster a streaming hot standby of `primary` (pg_basebackup)."""
        self._run(
            BIN / "pg_basebackup",
            "-D", self.data,
            "-h", "127.0.0.1",
            "-p", str(primary.port),
            "-U", "postgres",
            "-X", "stream",
            "-c", "fast",
        )  # fmt: skip
        self._run("touch", self.data / "standby.signal")
        self.configure(
            [
                f"port = {self.port}",
                f"unix_socket_directories = '{self.root}'",
                f"primary_conninfo = 'host=127.0.0.1 port={primary.port} user=postgres"
                f" application_name={name}'",
            ]
        )
        return self

    def promote(self) -> None:
        """Promote a standby to primary and wait until it accepts writes."""
        self._run(BIN / "pg_ctl", "-D", self.data, "-w", "promote")
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            with psycopg.connect(self.url, connect_timeout=2) as conn:
                row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
                if row is not None and not row[0]:
                    return
            time.sleep(0.1)
        raise RuntimeError("the standby did not leave recovery in time")

    def destroy(self) -> None:
        """Stop the server and remove its files."""
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
