"""Shared fixtures: real SQLite files and real PostgreSQL/PostGIS databases, one per test."""

from __future__ import annotations

import os
import sys

# Keep compiled modules (and pytest's rewritten test modules) in __pycache__ even where the
# environment says not to (PYTHONDONTWRITEBYTECODE, as on this project's CI machine): every
# xdist worker, test server and CLI subprocess otherwise compiles Najda from source again, about
# a second of CPU each. Set before the imports below, and inherited by subprocesses.
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

from collections.abc import Generator, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING  # noqa: E402

import pytest  # noqa: E402

from najda.projections.store.environment import postgres_env, sqlite_env  # noqa: E402
from tests.fakes import new_dispatch  # noqa: E402
from tests.pgdatabases import (  # noqa: E402
    IN_CI,
    PG_ADMIN_URL,
    Clones,
    set_running,
)
from tests.pgtemplate import RunTemplate, run_template  # noqa: E402
from tests.run_shared import close_shared_dir, open_shared_dir, shared_dir  # noqa: E402

if TYPE_CHECKING:  # the controlling process runs no test: it need not import the application
    from najda.domain.application import Dispatch

__all__ = ["IN_CI", "PG_ADMIN_URL"]
_OWN_SHARED_DIR = pytest.StashKey[Path]()
_RUN_TEMPLATE = pytest.StashKey[RunTemplate]()


def pytest_configure(config: pytest.Config) -> None:
    """The controlling process makes the directory its xdist workers share (they inherit it
    through the environment; a run without workers shares it with itself), and starts making
    the run's PostGIS template (tests/pgtemplate.py)."""
    directory = open_shared_dir()
    if directory is not None:
        config.stash[_OWN_SHARED_DIR] = directory
        config.stash[_RUN_TEMPLATE] = RunTemplate(directory).start()


def pytest_unconfigure(config: pytest.Config) -> None:
    """The process that made the shared directory drops the run's template and removes the
    directory after the run."""
    template = config.stash.get(_RUN_TEMPLATE, None)
    directory = config.stash.get(_OWN_SHARED_DIR, None)
    try:
        if template is not None:
            template.close()
    finally:
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
def pg_template() -> str:
    """The run's PostGIS template database (made once by the controlling process, which drops
    it at the end)."""
    shared = shared_dir()
    assert shared is not None, "tests/conftest.py's pytest_configure makes the shared directory"
    return run_template(shared)


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
