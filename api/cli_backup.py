"""`najda backup DEST` and `najda restore SRC`: consistent copies of a live store."""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from najda.api.settings import Settings
from najda.projections.store.environment import asyncpg_dsn

# The table eventsourcing's SQLite recorder keeps the events in.
EVENTS_TABLE = "stored_events"


class BackupError(RuntimeError):
    """Raised when a backup or restore cannot be made; the message says why."""


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(data_dir=args.data_dir, database_url=args.database_url)


def _private(path: Path) -> None:
    """Only the owner may read a copy of the store (it holds personal data)."""
    os.chmod(path, 0o600)


# --- SQLite: the online backup API -------------------------------------------------------


def _sqlite_events(conn: sqlite3.Connection) -> int:
    """How many events a SQLite store holds; BackupError when it is not an event store."""
    try:
        row = conn.execute(f"SELECT count(*) FROM {EVENTS_TABLE}").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"not a Najda event store ({exc})") from None
    return int(row[0])


def _sqlite_copy(source: Path, target: Path) -> int:
    """Copy a (possibly live) SQLite store page by page into a new file; its event count.

    The backup API reads a consistent snapshot, committed WAL frames included, which a
    plain file copy of a running store does not. The copy is written beside the target and
    renamed into place, so a failed copy never leaves a half-written store behind.
    """
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot open {source}: {exc}") from None
    try:
        _sqlite_events(src)  # refuse what is not an event store before writing anything
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
            events = _sqlite_events(dst)  # the snapshot's own count
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            dst.close()
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        src.close()
    _private(partial)
    partial.replace(target)
    return events


def _sqlite_is_empty(path: Path) -> bool:
    if not path.exists():
        return True
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        exists = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (EVENTS_TABLE,)
        ).fetchone()
        return exists is None or _sqlite_events(conn) == 0
    finally:
        conn.close()


# --- PostgreSQL: pg_dump and pg_restore ------------------------------------------------------


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return found


def _pg_run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = [ln for ln in done.stderr.strip().splitlines() if ln.strip()]
        raise BackupError(lines[-1] if lines else f"{command[0]} failed ({done.returncode})")


def _pg_user_tables(url: str) -> list[str]:
    import psycopg

    with psycopg.connect(url, connect_timeout=10) as conn:
        rows = conn.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables"
            " WHERE table_schema NOT IN ('pg_catalog', 'information_schema', 'tiger',"
            " 'tiger_data', 'topology') AND table_name <> 'spatial_ref_sys'"
        ).fetchall()
    return [str(r[0]) for r in rows]


def _pg_head(url: str) -> int:
    """The newest notification position of the store at `url`, read by the application."""
    from najda.domain.application import Dispatch
    from najda.geo.distance import great_circle_m
    from najda.projections.base import NotificationSource
    from najda.projections.store.environment import postgres_env

    dispatch = Dispatch(postgres_env(url, pool_size=1), distance=great_circle_m)
    try:
        return NotificationSource(dispatch).head()
    finally:
        dispatch.close()


# --- the commands -----------------------------------------------------------------------------


def backup(args: argparse.Namespace) -> int:
    """Write a consistent copy of the store to DEST (it must not exist yet)."""
    settings = _settings(args)
    dest: Path = args.dest
    if dest.exists():
        raise BackupError(f"{dest} exists; a backup never overwrites a file")
    if not dest.parent.is_dir():
        raise BackupError(f"{dest.parent} is not a directory")
    if settings.database_url is None:
        if not settings.sqlite_path.exists():
            raise BackupError(f"no event store at {settings.sqlite_path}")
        events = _sqlite_copy(settings.sqlite_path, dest)
    else:
        url = asyncpg_dsn(settings.database_url)
        events = _pg_head(url)  # the dump, taken after, holds at least these
        partial = dest.with_name(dest.name + ".partial")
        try:
            _pg_run([_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={partial}", url])
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        _private(partial)
        partial.replace(dest)
    print(f"backed up {settings.store_description()} to {dest} (head {events} or later)")
    return 0


def restore(args: argparse.Namespace) -> int:
    """Restore a backup into an empty store, then print how many events it holds."""
    settings = _settings(args)
    src: Path = args.src
    if not src.is_file():
        raise BackupError(f"{src}: no such backup file")
    if settings.database_url is None:
        target = settings.sqlite_path
        if not _sqlite_is_empty(target):
            raise BackupError(f"{target} already holds events; restore only into an empty store")
        settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        target.unlink(missing_ok=True)
        for suffix in ("-wal", "-shm"):
            target.with_name(target.name + suffix).unlink(missing_ok=True)
        events = _sqlite_copy(src, target)
    else:
        url = asyncpg_dsn(settings.database_url)
        if tables := _pg_user_tables(url):
            raise BackupError(
                f"the database already holds tables ({', '.join(sorted(tables)[:3])}…);"
                " restore only into an empty database"
            )
        _pg_run(
            [
                _tool("pg_restore"),
                "--no-owner",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={url}",
                str(src),
            ]
        )
        events = _pg_head(url)
    print(f"restored {events} events into {settings.store_description()}")
    return 0


def _guarded(command: Any) -> Any:
    def run(args: argparse.Namespace) -> int:
        try:
            return int(command(args))
        except BackupError as exc:
            print(f"najda: {exc}", file=sys.stderr)
            return 1

    run.__doc__ = command.__doc__
    return run


def add_commands(commands: Any, store_options: Any) -> None:
    """Register `backup` and `restore` on `najda`'s sub-parsers."""
    p = commands.add_parser(
        "backup",
        help="write a consistent copy of the store (SQLite online backup or pg_dump)",
        description="Copy the event store, read models included, while Najda runs.",
    )
    p.add_argument("dest", type=Path, metavar="DEST", help="the backup file to write (new)")
    store_options(p)
    p.set_defaults(run=_guarded(backup))
    p = commands.add_parser(
        "restore",
        help="restore a backup into an empty store",
        description="Restore a file written by `najda backup` into an empty store; then "
        "check it with `najda audit verify`.",
    )
    p.add_argument("src", type=Path, metavar="SRC", help="a file written by najda backup")
    store_options(p)
    p.set_defaults(run=_guarded(restore))
