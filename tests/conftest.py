"""Shared fixtures: real SQLite files and real PostgreSQL/PostGIS databases, one per test."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from najda.domain.application import Dispatch
from najda.projections.store.environment import postgres_env, sqlite_env
from tests.fakes import new_dispatch
from tests.pgdatabases import (
    IN_CI,
    PG_ADMIN_URL,
    Clones,
    drop_database,
    make_template,
    set_running,
)
from tests.run_shared import close_shared_dir, open_shared_dir

__all__ = ["IN_CI", "PG_ADMIN_URL"]
_OWN_SHARED_DIR = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    """The controlling process makes the directory its xdist workers share (they inherit it
    through the environment; a run without workers shares it with itself)."""
    directory = open_shared_dir()
    if directory is not None:
        config.stash[_OWN_SHARED_DIR] = directory


def pytest_unconfigure(config: pytest.Config) -> None:
    """The process that made the shared directory removes it after the run."""
    directory = config.stash.get(_OWN_SHARED_DIR, None)
    if directory is not None:
        close_shared_dir(directory)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, object, object]:
    """Let the database fixtures see which test they serve (for the marker check)."""
    set_running(item)
    try:
        return (yield)
    finally:
        set_running(None)


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """This session's PostGIS template database (made once, dropped at the end)."""
    name = make_template()
    try:
        yield name
    finally:
        drop_database(name, template=True)


@pytest.fixture(scope="session")
def pg_clones(pg_template: str) -> Iterator[Clones]:
    """Clones of the template, made one ahead and dropped behind the running test."""
    clones = Clones(pg_template)
    try:
        yield clones
    finally:
        clones.close()


@pytest.fixture
def pg_url(pg_clones: Clones) -> Iterator[str]:
    """A fresh PostgreSQL database with PostGIS (a clone of the template), dropped after."""
    with pg_clones.database() as url:
        yield url


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    """A path for a fresh SQLite event store file."""
    return tmp_path / "events.sqlite"


@pytest.fixture
def sqlite_app(sqlite_path: Path) -> Iterator[Dispatch]:
    """A Dispatch application on a real SQLite file."""
    app = new_dispatch(env=sqlite_env(sqlite_path))
    try:
        yield app
    finally:
        app.close()


@pytest.fixture
def postgres_app(pg_url: str) -> Iterator[Dispatch]:
    """A Dispatch application on a real PostgreSQL database."""
    app = new_dispatch(env=postgres_env(pg_url))
    try:
        yield app
    finally:
        app.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_app(request: pytest.FixtureRequest) -> Dispatch:
    """The Dispatch application on each real store in turn."""
    app: Dispatch = request.getfixturevalue(f"{request.param}_app")
    return app
