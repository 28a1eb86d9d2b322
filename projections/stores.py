"""Store configuration: event-store environment for SQLite files and PostgreSQL URLs."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from urllib.parse import unquote, urlparse


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
    }


def postgres_env(url: str, *, pool_size: int = 10) -> dict[str, str]:
    """eventsourcing environment for PostgreSQL from a URL (user, password, host, port, db)."""
    parts = urlparse(url)
    if not is_postgres_url(url):
        raise ValueError(f"not a PostgreSQL URL: {url!r}")
    dbname = parts.path.lstrip("/")
    if not dbname:
        raise ValueError("the PostgreSQL URL names no database")
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(dbname),
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_MAX_OVERFLOW": str(pool_size),
        "POSTGRES_CONNECT_TIMEOUT": "5",
        "POSTGRES_LOCK_TIMEOUT": "5",
        "POSTGRES_PRE_PING": "n",
    }


def asyncpg_dsn(url: str) -> str:
    """The URL in the form asyncpg accepts."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)
