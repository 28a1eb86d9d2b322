"""Store configuration: event-store environment for SQLite files and PostgreSQL URLs."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

#: libpq's target_session_attrs values (PostgreSQL 14+).
SESSION_ATTRS = ("any", "read-write", "read-only", "primary", "standby", "prefer-standby")


def is_postgres_url(url: str) -> bool:
    """True for postgresql:// and postgres:// URLs."""
    return urlparse(url).scheme in ("postgresql", "postgres", "postgresql+asyncpg")


def secure_umask() -> None:
    """Files this process creates from now on (the store, its journal) are its user's only."""
    os.umask(0o077)


def secure_data_dir(path: Path) -> None:
    """Make the embedded store's directory (0700) and files (0600) its owner's only.

    A directory shared with others (sticky, like /tmp) keeps its mode; the files are
    tightened wherever they are.
    """
    directory = path.parent
    if not directory.exists():
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = directory.stat()
    if info.st_uid == os.getuid() and not info.st_mode & stat.S_ISVTX:
        directory.chmod(0o700)
    for file in directory.glob(path.name + "*"):  # the store and its -wal, -shm, -journal
        if file.is_file() and file.stat().st_uid == os.getuid():
            file.chmod(0o600)


def sqlite_env(path: Path) -> dict[str, str]:
    """eventsourcing environment for the embedded SQLite store in one file (made private)."""
    secure_data_dir(path)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(path),
        "SQLITE_LOCK_TIMEOUT": "10",
        "APPLICATION_RECORDER_TOPIC": "najda.projections.audit.witness:WitnessingSQLiteRecorder",
    }


def postgres_hosts(url: str) -> tuple[str, str]:
    """The URL's hosts and ports as libpq lists ("h1,h2", "5432,5433"): a URL may name
    several hosts (`postgresql://user@primary:5432,standby:5432/najda`) for fail-over."""
    netloc = urlparse(url).netloc.rpartition("@")[2]
    hosts: list[str] = []
    ports: list[str] = []
    for entry in netloc.split(",") if netloc else []:
        if entry.startswith("["):  # [IPv6]:port
            host, _, rest = entry[1:].partition("]")
            port = rest.removeprefix(":")
        else:
            host, _, port = entry.partition(":")
        if port and not port.isdigit():
            raise ValueError(f"not a port number in the PostgreSQL URL: {port!r}")
        hosts.append(unquote(host) or "127.0.0.1")
        ports.append(port or "5432")
    if not hosts:
        return "127.0.0.1", "5432"
    return ",".join(hosts), ",".join(ports)


def postgres_env(url: str, *, pool_size: int = 10) -> dict[str, str]:
    """eventsourcing environment for PostgreSQL from a URL (user, password, hosts, ports, db).

    `?target_session_attrs=read-write` (libpq's option, for a URL naming a primary and its
    standby) is passed to libpq through PGTARGETSESSIONATTRS, which eventsourcing's pool and
    asyncpg both honour: every new connection then goes to whichever host accepts writes.
    """
    parts = urlparse(url)
    if not is_postgres_url(url):
        raise ValueError(f"not a PostgreSQL URL: {url!r}")
    dbname = parts.path.lstrip("/")
    if not dbname:
        raise ValueError("the PostgreSQL URL names no database")
    attrs = parse_qs(parts.query).get("target_session_attrs")
    if attrs:
        if attrs[-1] not in SESSION_ATTRS:
            raise ValueError(
                f"target_session_attrs must be one of {', '.join(SESSION_ATTRS)}"
                f" (got {attrs[-1]!r})"
            )
        os.environ["PGTARGETSESSIONATTRS"] = attrs[-1]
    host, port = postgres_hosts(url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(dbname),
        "POSTGRES_HOST": host,
        "POSTGRES_PORT": port,
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_MAX_OVERFLOW": str(pool_size),
        "POSTGRES_CONNECT_TIMEOUT": "5",
        "POSTGRES_LOCK_TIMEOUT": "5",
        # A connection is checked before use, so that after a fail-over the pool drops
        # connections to the old primary instead of failing a command on each of them.
        "POSTGRES_PRE_PING": "y" if "," in host else "n",
        "APPLICATION_RECORDER_TOPIC": "najda.projections.audit.witness:WitnessingPostgresRecorder",
    }


def asyncpg_dsn(url: str) -> str:
    """The URL in the form asyncpg accepts."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)
