"""Checks made before a start touches the store: a start that cannot succeed writes nothing."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from najda.api.settings import Settings
from najda.projections.store.environment import asyncpg_dsn


class CannotStart(RuntimeError):
    """Raised when the server cannot start here; the message says why, in one line."""


def check_data_dir(data_dir: Path) -> None:
    """The data directory exists (or can be made) and this user may write in it."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise CannotStart(
            f"data directory {data_dir}: cannot create it ({exc.strerror})"
        ) from None
    if not data_dir.is_dir():
        raise CannotStart(f"data directory {data_dir}: not a directory")
    probe = data_dir / f".najda-write-probe-{uuid.uuid4().hex}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise CannotStart(
            f"data directory {data_dir} is not writable ({exc.strerror}): give the user "
            f"running najda write access, or choose another with --data-dir"
        ) from None
    store = data_dir / "najda.sqlite"
    if store.exists() and not os.access(store, os.R_OK | os.W_OK):
        raise CannotStart(f"event store {store} is not readable and writable by this user")


def check_postgis(url: str, description: str) -> None:
    """The database answers and has PostGIS, or this user may create it (it is then made)."""
    import psycopg

    dsn = asyncpg_dsn(url)
    try:
        with psycopg.connect(dsn, connect_timeout=5, autocommit=True) as conn:
            row = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone()
            if row is not None:
                return
            available = conn.execute(
                "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'"
            ).fetchone()
            if available is None:
                raise CannotStart(
                    "PostGIS is not installed on the database server (Debian: apt-get install"
                    " postgresql-15-postgis-3); nothing was written"
                )
            try:
                conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            except psycopg.Error as exc:
                reason = str(exc).strip().splitlines()[0]
                raise CannotStart(
                    f"the database has no PostGIS and this user cannot create it ({reason});"
                    " ask an administrator for CREATE EXTENSION postgis; nothing was written"
                ) from None
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise CannotStart(f"cannot open the event store ({description}): {reason}") from None


def check_policy_roads(settings: Settings) -> None:
    """A policy that ranks by road needs roads: a JEMSS network, an imported area, or the
    real demo area (imported at start)."""
    from najda.api.areas import area_dir
    from najda.projections.policies.dispatch import POLICIES

    if settings.policy is None or POLICIES[settings.policy]().ranking != "road":
        return
    demo = settings.wants_demo and settings.demo_area == "liechtenstein"
    if settings.road_network is None and not demo and not area_dir(settings.data_dir).exists():
        raise CannotStart(
            f"policy {settings.policy} ranks by road and this server has no road network "
            "(import an area with `najda area import`, or give --road-network)"
        )


def preflight(settings: Settings) -> None:
    """Everything a start needs that can be checked without writing to the store."""
    check_data_dir(settings.data_dir)  # the store, the audit key, the area live there
    check_policy_roads(settings)
    if settings.database_url is not None:
        check_postgis(settings.database_url, settings.store_description())
