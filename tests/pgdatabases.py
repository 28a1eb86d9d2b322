"""Throwaway PostgreSQL databases for tests: one PostGIS template per session, its clones
handed to one test at a time and put back fresh for the next."""

from __future__ import annotations

import os
import threading
import uuid
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager

import psycopg
import pytest

from tests.pgreset import Objects, end_other_sessions, objects, reset

PG_ADMIN_URL = os.environ.get("NAJDA_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
TEMPLATE_EXTENSIONS = ("postgis", "pg_trgm", "unaccent")
"""Extensions every test database starts with (set up once, in the session's template)."""


def unavailable(reason: str) -> None:
    """Skip locally; fail in CI, where a PostGIS test that cannot run must not pass silently."""
    if IN_CI:
        pytest.fail(f"PostgreSQL/PostGIS needed but unavailable in CI: {reason}")
    pytest.skip(f"PostgreSQL/PostGIS unavailable: {reason}")


def admin_conn() -> psycopg.Connection[tuple[object, ...]]:
    """An autocommit connection to the administration database."""
    return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)


def url_of(name: str) -> str:
    """The URL of database `name` on the test server."""
    return f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"


def unique_name(prefix: str) -> str:
    """A database name no other test or parallel session uses."""
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


def drop_database(name: str, *, template: bool = False) -> None:
    """Drop a database (closing its sessions); a template is unmarked first."""
    with admin_conn() as conn:
        if template:
            conn.execute(f'ALTER DATABASE "{name}" WITH IS_TEMPLATE false')
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_running: list[pytest.Item] = []


def set_running(item: pytest.Item | None) -> None:
    """Record the test being set up (the conftest's hook), for `require_marker`."""
    _running[:] = [] if item is None else [item]


def require_marker() -> None:
    """Fail the running test if it uses PostgreSQL without the `postgres` marker."""
    if _running and _running[0].get_closest_marker("postgres") is None:
        pytest.fail(
            f"{_running[0].nodeid} uses a PostgreSQL database but has no"
            " `postgres` marker (add @pytest.mark.postgres or mark its parameter)",
            pytrace=False,
        )


def make_template(name: str | None = None) -> str:
    """Create a template (named `name`, or a new name): a database with PostGIS, pg_trgm and
    unaccent.

    It is marked as a template that accepts no connections, so nothing can hold a session
    on it while a test clones it (CREATE DATABASE ... TEMPLATE refuses a template in use).
    """
    name = name or unique_name("najda_template")
    try:
        create_database(name)
    except psycopg.OperationalError as exc:
        unavailable(str(exc))
    try:
        with psycopg.connect(url_of(name), autocommit=True, connect_timeout=5) as conn:
            for extension in TEMPLATE_EXTENSIONS:
                conn.execute(f"CREATE EXTENSION IF NOT EXISTS {extension}")
        with admin_conn() as conn:
            conn.execute(f'ALTER DATABASE "{name}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false')
    except psycopg.Error as exc:
        drop_database(name, template=True)
        unavailable(f"cannot create extensions {', '.join(TEMPLATE_EXTENSIONS)}: {exc}")
    return name


def create_database(name: str, options: str = "") -> None:
    """CREATE DATABASE `name` with its options (`TEMPLATE "t"`, `OWNER o`), if any.

    Its sessions commit without waiting for the WAL to reach the disk (synchronous_commit
    off): a commit is visible to every other session at once all the same, and only a crash
    of the whole server, which no test makes on this one, could lose the last commits of a
    throwaway database. The clusters a test stops or kills (tests/pgcluster.py) keep the
    server's default.
    """
    with admin_conn() as conn:
        conn.execute(f'CREATE DATABASE "{name}"{options}')
        conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')


@contextmanager
def _throwaway_database(prefix: str, options: str = "") -> Iterator[str]:
    """A fresh database (its URL) for the running test, dropped on leaving; the test is
    skipped (failed in CI) when the server cannot make it."""
    require_marker()
    name = unique_name(prefix)
    try:
        create_database(name, options)
    except psycopg.OperationalError as exc:
        unavailable(str(exc))
    try:
        yield url_of(name)
    finally:
        drop_database(name)


def cloned_database(template: str, prefix: str = "najda_test") -> AbstractContextManager[str]:
    """A fresh database copied from `template` (its URL), dropped on leaving."""
    return _throwaway_database(prefix, f' TEMPLATE "{template}"')


class Clones:
    """Databases of one template for one test each: a few are made ahead while tests run, and
    a used one is put back as the template made it (`tests/pgreset.py`) for a later test, on
    worker threads, so tests wait for neither.

    CREATE and DROP DATABASE copy the whole template through the write-ahead log, about 15 MB
    with PostGIS: the server's share of the suite's CPU was about a third. Putting a used
    database back drops only what its test added. One that cannot be put back exactly (an
    object of a kind `reset` does not know) is dropped, and a new clone takes its place.

    A used database is put back when the next one is handed out (and dropped at `close`), not as
    its test's `pg_url` is torn down: pytest tears fixtures down in the reverse order of their
    set-up, so a server a test started before asking for `pg_url` is still running then, and
    a forced drop under it left it retrying a vanished database until its stop timed out. Its
    sessions are closed before it is put back.
    """

    def __init__(
        self, template: str, prefix: str = "najda_test", ahead: int = 2, threads: int = 4
    ) -> None:
        self._template = template
        self._prefix = prefix
        self._ahead_count = max(1, ahead)
        self._reuse = True  # until `close`
        self._worker = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="najda-clones")
        self._ahead: deque[Future[str]] = deque()
        self._used: list[str] = []  # handed out, to put back once their test is torn down
        self._made: set[str] = set()  # every name a database of this pool has had
        self._made_lock = threading.Lock()
        self._fresh: Objects | None = None  # the objects of a fresh clone (all clones alike)
        self._fresh_lock = threading.Lock()
        self._put_back_names: set[str] = set()
        self.reused = 0  # how many databases were handed out again (for the fixtures' test)

    def _named(self) -> str:
        name = unique_name(self._prefix)
        with self._made_lock:
            self._made.add(name)
        return name

    def _clone(self) -> str:
        name = self._named()
        create_database(name, f' TEMPLATE "{self._template}"')
        if self._reuse:
            with self._fresh_lock:
                if self._fresh is None:
                    with psycopg.connect(url_of(name), connect_timeout=5) as conn:
                        self._fresh = objects(conn)
        return name

    def _put_back(self, name: str) -> str:
        """The used database `name` as a fresh clone under a new name (a client its test left
        behind can no longer reach it: the rename fails while one is connected); or a new
        clone, if it cannot be put back."""
        try:
            with admin_conn() as conn:
                end_other_sessions(conn, name)
            if self._fresh is not None and reset(url_of(name), self._fresh):
                renamed = self._named()
                with admin_conn() as conn:
                    conn.execute(f'ALTER DATABASE "{name}" RENAME TO "{renamed}"')
                self._put_back_names.add(renamed)
                return renamed
        except psycopg.Error:
            pass  # whatever went wrong, a new clone takes its place
        drop_database(name)
        return self._clone()

    def _recycle_used(self) -> None:
        while self._used:
            name = self._used.pop()
            if self._reuse:
                self._ahead.append(self._worker.submit(self._put_back, name))

    def _refill(self) -> None:
        while len(self._ahead) < self._ahead_count:
            self._ahead.append(self._worker.submit(self._clone))

    @contextmanager
    def database(self) -> Iterator[str]:
        """A database as fresh as a new clone (its URL) for the running test."""
        require_marker()
        self._recycle_used()  # the previous test, servers and all, is torn down by now
        self._refill()
        ahead = self._ahead.popleft()
        self._refill()
        try:
            name = ahead.result(timeout=300)
        except psycopg.OperationalError as exc:
            unavailable(str(exc))
        self.reused += name in self._put_back_names
        try:
            yield url_of(name)
        finally:
            self._used.append(name)

    def close(self) -> None:
        """Drop every database this pool made, under whatever name it has now (those made
        ahead and being put back included), once its workers are done."""
        self._reuse = False
        self._used.clear()
        self._worker.shutdown(wait=True)
        with admin_conn() as conn:
            rows = conn.execute("SELECT datname FROM pg_database").fetchall()
        left = sorted(self._made & {str(row[0]) for row in rows})
        with ThreadPoolExecutor(max_workers=4, thread_name_prefix="najda-drops") as drops:
            for done in [drops.submit(drop_database, name) for name in left]:
                done.result()  # raises if a database cannot be dropped


def empty_database(
    prefix: str = "najda_test_empty", owner: str | None = None
) -> AbstractContextManager[str]:
    """A fresh database with no extension (its admin URL), dropped on leaving."""
    return _throwaway_database(prefix, f" OWNER {owner}" if owner else "")
