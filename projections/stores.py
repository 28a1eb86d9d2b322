"""Store configuration: event-store environment for SQLite files and PostgreSQL URLs."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse


def is_postgres_url(url: str) -> bool:
    """True for postgresql:// and postgres:// URLs."""
    return urlparse(url).scheme in ("postgresql", "postgres", "postgresql+asyncpg")


def sqlite_env(path: Path) -> dict[str, str]:
    """eventsourcing environment for the embedded SQLite store in one file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(path),
        "SQLITE_LOCK_TIMEOUT": "10",
        "APPLICATION_RECORDER_TOPIC": "projections.witness:WitnessingSQLiteRecorder",
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
        "APPLICATION_RECORDER_TOPIC": "projections.witness:WitnessingPostgresRecorder",
    }


def asyncpg_dsn(url: str) -> str:
    """The URL in the form asyncpg accepts."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)
