"""The PostgreSQL test fixtures: clones of one PostGIS template, isolated, dropped, marked."""

from __future__ import annotations

import psycopg
import pytest

from tests.pgdatabases import TEMPLATE_EXTENSIONS, Clones, admin_conn, cloned_database, unique_name


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


@pytest.mark.postgres
def test_clones_made_ahead_are_fresh_each_time_and_none_is_left_after_close(
    pg_template: str,
) -> None:
    prefix = unique_name("najda_test_pool")  # no other session's clones share it
    clones = Clones(pg_template, prefix=prefix)
    used = []
    try:
        for _ in range(3):
            with clones.database() as url:
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute("CREATE TABLE written (x int)")
                used.append(url)
    finally:
        clones.close()
    assert len(set(used)) == 3  # each test its own database, never a used one again
    with admin_conn() as conn:
        left = conn.execute(
            "SELECT count(*) FROM pg_database WHERE starts_with(datname, %s)", (prefix,)
        ).fetchone()
    assert left == (0,)  # the used ones and the one made ahead are all dropped


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
