"""The PostgreSQL test fixtures: clones of one PostGIS template, isolated, dropped, marked."""

from __future__ import annotations

import psycopg
import pytest

from tests.pgdatabases import TEMPLATE_EXTENSIONS, Clones, admin_conn, cloned_database, unique_name
from tests.pgreset import objects


def _exists(url: str) -> bool:
    name = url.rsplit("/", 1)[1]
    with admin_conn() as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
    return row is not None and row[0] == 1


@pytest.mark.postgres
def test_a_test_database_starts_with_postgis_and_the_text_search_extensions(pg_url: str) -> None:
    with psycopg.connect(pg_url) as conn:
        names = {r[0] for r in conn.execute("SELECT extname FROM pg_extension").fetchall()}
        point = conn.execute("SELECT ST_AsText(ST_MakePoint(9.5, 47.1))").fetchone()
    assert set(TEMPLATE_EXTENSIONS) <= names
    assert point == ("POINT(9.5 47.1)",)


@pytest.mark.postgres
def test_clones_of_the_template_are_isolated_and_dropped_on_leaving(pg_template: str) -> None:
    with cloned_database(pg_template) as first, cloned_database(pg_template) as second:
        assert first != second
        with psycopg.connect(first, autocommit=True) as conn:
            conn.execute("CREATE TABLE only_here (x int)")
        with psycopg.connect(second) as conn:
            found = conn.execute("SELECT to_regclass('only_here')").fetchone()
        assert found == (None,)
        assert _exists(first)
    assert not _exists(first)
    assert not _exists(second)


#: What a test may leave in its database: every kind of object `tests/pgreset.py` drops.
LEFT_BY_A_TEST = (
    "CREATE TABLE written (id serial PRIMARY KEY, x int, at geometry(Point, 4326))",
    "INSERT INTO written (x, at) VALUES (1, ST_MakePoint(9.5, 47.1))",
    "CREATE INDEX written_x ON written (x)",
    "CREATE INDEX on_spatial_ref_sys ON spatial_ref_sys (auth_name)",
    "CREATE VIEW written_view AS SELECT x FROM written",
    "CREATE MATERIALIZED VIEW written_mat AS SELECT x FROM written",
    "CREATE SEQUENCE counter",
    "CREATE TYPE mood AS ENUM ('calm', 'busy')",
    "CREATE DOMAIN positive AS int CHECK (VALUE > 0)",
    "CREATE TYPE pair AS (a int, b int)",
    "CREATE FUNCTION touched() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
    "CREATE TRIGGER on_write BEFORE INSERT ON written FOR EACH ROW EXECUTE FUNCTION touched()",
    "CREATE SCHEMA elsewhere",
    "CREATE TABLE elsewhere.kept (y text)",
    "CREATE EXTENSION IF NOT EXISTS fuzzystrmatch",
)


@pytest.mark.postgres
def test_a_used_database_comes_back_as_fresh_as_a_new_clone(pg_template: str) -> None:
    prefix = unique_name("najda_test_pool")  # no other session's databases share it
    clones = Clones(pg_template, prefix=prefix, ahead=1)
    handed: list[str] = []
    oids: list[int] = []
    fresh: list[frozenset[tuple[str, int]]] = []
    left_open: list[psycopg.Connection[tuple[object, ...]]] = []
    try:
        for _ in range(3):
            with clones.database() as url:
                conn = psycopg.connect(url, autocommit=True)
                left_open.append(conn)  # like a test server not yet stopped: closed for reuse
                row = conn.execute(
                    "SELECT oid FROM pg_database WHERE datname = current_database()"
                ).fetchone()
                assert row is not None
                oids.append(int(str(row[0])))
                fresh.append(objects(conn))
                assert conn.execute("SELECT to_regclass('written')").fetchone() == (None,)
                for statement in LEFT_BY_A_TEST:
                    conn.execute(statement)
                assert objects(conn) != fresh[-1]
                handed.append(url)
        # The first database, handed out again, under a new name: a client its first test left
        # behind (a server that reconnects) can no longer reach the next test's data.
        with pytest.raises(psycopg.OperationalError, match="does not exist"):
            psycopg.connect(handed[0], connect_timeout=5).close()
    finally:
        clones.close()
        for conn in left_open:
            conn.close()
    assert clones.reused == 1 and oids[2] == oids[0] and handed[2] != handed[0]
    assert fresh[2] == fresh[1] == fresh[0]  # ... with a new clone's objects only
    with admin_conn() as conn:
        left = conn.execute(
            "SELECT count(*) FROM pg_database WHERE starts_with(datname, %s)", (prefix,)
        ).fetchone()
    assert left == (0,)  # the used ones and the one made ahead are all dropped


@pytest.mark.postgres
def test_a_database_that_cannot_be_put_back_is_replaced_by_a_new_clone(pg_template: str) -> None:
    prefix = unique_name("najda_test_pool")
    clones = Clones(pg_template, prefix=prefix, ahead=1)
    oids: list[int] = []
    try:
        for _ in range(3):
            with clones.database() as url, psycopg.connect(url, autocommit=True) as conn:
                row = conn.execute(
                    "SELECT oid FROM pg_database WHERE datname = current_database()"
                ).fetchone()
                assert row is not None
                oids.append(int(str(row[0])))
                # An object of a kind the reset does not drop: the database cannot be put back.
                conn.execute('CREATE COLLATION left_behind FROM "C"')
    finally:
        clones.close()
    assert clones.reused == 0 and len(set(oids)) == 3  # a new clone each time
    with admin_conn() as conn:
        left = conn.execute(
            "SELECT count(*) FROM pg_database WHERE starts_with(datname, %s)", (prefix,)
        ).fetchone()
    assert left == (0,)


@pytest.mark.postgres
def test_the_template_accepts_no_connection_so_cloning_never_meets_one(pg_template: str) -> None:
    with admin_conn() as conn:
        row = conn.execute(
            "SELECT datistemplate, datallowconn FROM pg_database WHERE datname = %s",
            (pg_template,),
        ).fetchone()
    assert row == (True, False)


def test_a_database_fixture_fails_a_test_without_the_postgres_marker() -> None:
    with pytest.raises(pytest.fail.Exception, match="no `postgres` marker"):  # noqa: SIM117
        with cloned_database("never_created"):
            pass
