"""Shared fixtures: real SQLite files and real PostgreSQL/PostGIS databases, one per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from domain.application import Dispatch
from projections.stores import postgres_env, sqlite_env

PG_ADMIN_URL = os.environ.get("NAJDA_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(reason: str) -> None:
    """Skip locally; fail in CI, where a PostGIS test that cannot run must not pass silently."""
    if IN_CI:
        pytest.fail(f"PostgreSQL/PostGIS needed but unavailable in CI: {reason}")
    pytest.skip(f"PostgreSQL/PostGIS unavailable: {reason}")


def _admin_conn() -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database with PostGIS, dropped after the test."""
    name = f"najda_test_{uuid.uuid4().hex[:12]}"
    try:
        with _admin_conn() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        _unavailable(str(exc))
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    url = f"{base}/{name}"
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    except psycopg.Error as exc:
        _drop(name)
        _unavailable(f"cannot create extension postgis: {exc}")
    try:
        yield url
    finally:
        _drop(name)


def _drop(name: str) -> None:
    with _admin_conn() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    """A path for a fresh SQLite event store file."""
    return tmp_path / "events.sqlite"


@pytest.fixture
def sqlite_app(sqlite_path: Path) -> Iterator[Dispatch]:
    """A Dispatch application on a real SQLite file."""
    app = Dispatch(env=sqlite_env(sqlite_path))
    try:
        yield app
    finally:
        app.close()


@pytest.fixture
def postgres_app(pg_url: str) -> Iterator[Dispatch]:
    """A Dispatch application on a real PostgreSQL database."""
    app = Dispatch(env=postgres_env(pg_url))
    try:
        yield app
    finally:
        app.close()


@pytest.fixture(params=["sqlite", "postgres"])
def store_app(request: pytest.FixtureRequest) -> Dispatch:
    """The Dispatch application on each real store in turn."""
    app: Dispatch = request.getfixturevalue(f"{request.param}_app")
    return app
