"""Put a used test database back as its template made it, so the next test can have it.

A clone of the session's template holds the extensions' objects only, with the template's own
object ids (CREATE DATABASE ... TEMPLATE copies the catalogs). What a test adds (tables, views,
sequences, functions, types, triggers, schemas, extensions) has other ids: `reset` drops every
object whose id the fresh clone did not have, and says whether what is left is exactly the
fresh clone's set. Dropping a test's few tables is much cheaper for the server than a DROP
DATABASE and a CREATE DATABASE, which copies the whole template (PostGIS's tables included)
through the write-ahead log.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

#: Catalogs of objects a test could make that the reset does not drop itself: a new one there
#: (a collation, a rule on a template table, a constraint added to one, a large object, ...)
#: leaves the database unlike a fresh clone, so it is dropped and cloned anew instead.
_OTHER_CATALOGS = (
    "pg_attrdef",
    "pg_am",
    "pg_amop",
    "pg_amproc",
    "pg_cast",
    "pg_collation",
    "pg_constraint",
    "pg_conversion",
    "pg_default_acl",
    "pg_foreign_data_wrapper",
    "pg_foreign_server",
    "pg_language",
    "pg_largeobject_metadata",
    "pg_opclass",
    "pg_operator",
    "pg_opfamily",
    "pg_policy",
    "pg_publication_rel",
    "pg_rewrite",
    "pg_statistic_ext",
    "pg_transform",
    "pg_ts_config",
    "pg_ts_dict",
    "pg_ts_parser",
    "pg_ts_template",
    "pg_user_mapping",
)

#: Every object a test could leave behind, as (kind, object id): the ones in the schemas of its
#: own that the reset drops by kind; and the rest as one digest (with id 0) of every row of the
#: other catalogs, the database's own settings, the public schema's privileges and the count of
#: PostGIS's reference rows (computed by the server: thousands of rows, most of them PostGIS's).
_OBJECTS = (
    """
WITH own AS (
    SELECT oid FROM pg_namespace
    WHERE nspname NOT IN ('pg_catalog', 'information_schema')
      AND nspname NOT LIKE 'pg\\_toast%' AND nspname NOT LIKE 'pg\\_temp\\_%'
), other(what) AS (
    SELECT 'setting:' || array_to_string(setconfig, ',') FROM pg_db_role_setting
        WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
    UNION ALL SELECT 'privileges:' || coalesce(nspacl::text, '') FROM pg_namespace
        WHERE nspname = 'public'
    UNION ALL SELECT 'spatial_ref_sys rows:' || count(*)::text FROM spatial_ref_sys
"""
    + "".join(f"    UNION ALL SELECT '{c}:' || oid::text FROM {c}\n" for c in _OTHER_CATALOGS)
    + """)
SELECT 'schema'::text, oid FROM pg_namespace WHERE oid IN (SELECT oid FROM own)
UNION ALL SELECT 'relation:' || relkind::text, oid FROM pg_class
    WHERE relnamespace IN (SELECT oid FROM own)
UNION ALL SELECT 'routine:' || prokind::text, oid FROM pg_proc
    WHERE pronamespace IN (SELECT oid FROM own)
UNION ALL SELECT 'type:' || typtype::text, oid FROM pg_type
    WHERE typnamespace IN (SELECT oid FROM own) AND typrelid = 0 AND typelem = 0
UNION ALL SELECT 'trigger', oid FROM pg_trigger WHERE NOT tgisinternal
UNION ALL SELECT 'event trigger', oid FROM pg_event_trigger
UNION ALL SELECT 'extension', oid FROM pg_extension
UNION ALL SELECT 'publication', oid FROM pg_publication
UNION ALL SELECT 'other objects:' || md5(string_agg(what, ',' ORDER BY what)), 0 FROM other
"""
)

Objects = frozenset[tuple[str, int]]

#: How to drop an object of each kind, by its id (the first two are never ids of a fresh clone).
_DROPS: dict[str, str] = {
    "schema": "SELECT format('DROP SCHEMA IF EXISTS %%I CASCADE', nspname) "
    "FROM pg_namespace WHERE oid = %s",
    "extension": "SELECT format('DROP EXTENSION IF EXISTS %%I CASCADE', extname) "
    "FROM pg_extension WHERE oid = %s",
    "event trigger": "SELECT format('DROP EVENT TRIGGER IF EXISTS %%I', evtname) "
    "FROM pg_event_trigger WHERE oid = %s",
    "publication": "SELECT format('DROP PUBLICATION IF EXISTS %%I', pubname) "
    "FROM pg_publication WHERE oid = %s",
    "trigger": "SELECT format('DROP TRIGGER IF EXISTS %%I ON %%s CASCADE', tgname, "
    "tgrelid::regclass) FROM pg_trigger WHERE oid = %s",
    "relation:r": "SELECT format('DROP TABLE IF EXISTS %%s CASCADE', oid::regclass) "
    "FROM pg_class WHERE oid = %s",
    "relation:p": "SELECT format('DROP TABLE IF EXISTS %%s CASCADE', oid::regclass) "
    "FROM pg_class WHERE oid = %s",
    "relation:v": "SELECT format('DROP VIEW IF EXISTS %%s CASCADE', oid::regclass) "
    "FROM pg_class WHERE oid = %s",
    "relation:m": "SELECT format('DROP MATERIALIZED VIEW IF EXISTS %%s CASCADE', "
    "oid::regclass) FROM pg_class WHERE oid = %s",
    "relation:S": "SELECT format('DROP SEQUENCE IF EXISTS %%s CASCADE', oid::regclass) "
    "FROM pg_class WHERE oid = %s",
    "relation:f": "SELECT format('DROP FOREIGN TABLE IF EXISTS %%s CASCADE', oid::regclass) "
    "FROM pg_class WHERE oid = %s",
    "relation:i": "SELECT format('DROP INDEX IF EXISTS %%s CASCADE', oid::regclass) "
    "FROM pg_class WHERE oid = %s",
    "relation:c": "SELECT format('DROP TYPE IF EXISTS %%s CASCADE', oid::regclass::text) "
    "FROM pg_class WHERE oid = %s",
    "routine:f": "SELECT format('DROP FUNCTION IF EXISTS %%s CASCADE', oid::regprocedure) "
    "FROM pg_proc WHERE oid = %s",
    "routine:w": "SELECT format('DROP FUNCTION IF EXISTS %%s CASCADE', oid::regprocedure) "
    "FROM pg_proc WHERE oid = %s",
    "routine:p": "SELECT format('DROP PROCEDURE IF EXISTS %%s CASCADE', oid::regprocedure) "
    "FROM pg_proc WHERE oid = %s",
    "routine:a": "SELECT format('DROP AGGREGATE IF EXISTS %%s CASCADE', oid::regprocedure) "
    "FROM pg_proc WHERE oid = %s",
    "type:e": "SELECT format('DROP TYPE IF EXISTS %%s CASCADE', oid::regtype) "
    "FROM pg_type WHERE oid = %s",
    "type:d": "SELECT format('DROP DOMAIN IF EXISTS %%s CASCADE', oid::regtype) "
    "FROM pg_type WHERE oid = %s",
    "type:r": "SELECT format('DROP TYPE IF EXISTS %%s CASCADE', oid::regtype) "
    "FROM pg_type WHERE oid = %s",
    "type:m": "SELECT format('DROP TYPE IF EXISTS %%s CASCADE', oid::regtype) "
    "FROM pg_type WHERE oid = %s",
    "type:b": "SELECT format('DROP TYPE IF EXISTS %%s CASCADE', oid::regtype) "
    "FROM pg_type WHERE oid = %s",
}
#: Kinds in the order they are dropped: containers first, so their contents go with them.
_ORDER = tuple(_DROPS)


def objects(conn: psycopg.Connection[tuple[object, ...]]) -> Objects:
    """The database's objects outside the system schemas, as (kind, object id)."""
    return frozenset((str(kind), int(str(oid))) for kind, oid in conn.execute(_OBJECTS))


def end_other_sessions(admin: psycopg.Connection[tuple[object, ...]], name: str) -> None:
    """Close every session on database `name` (what a stopped test server may have left)."""
    admin.execute(
        "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
        " WHERE datname = %s AND pid <> pg_backend_pid()",
        (name,),
    )


def reset(url: str, fresh: Objects) -> bool:
    """Drop whatever a test added to the database at `url` (sessions on it already closed);
    True when its objects are then exactly `fresh`'s, the objects of a fresh clone."""
    # A lock a stopped test's session still held must not hang the run: give up (the caller
    # then drops the database and clones another).
    options = "-c lock_timeout=5s -c statement_timeout=60s"
    with psycopg.connect(url, autocommit=True, connect_timeout=5, options=options) as conn:
        for _ in range(3):  # a CASCADE may take others along; a second round finds the rest
            now = objects(conn)
            droppable = [o for o in now - fresh if o[0] in _DROPS]
            if not droppable:
                return now == fresh  # else an object the reset does not drop is left
            with conn.transaction():
                for kind in _ORDER:
                    for _, oid in sorted(o for o in droppable if o[0] == kind):
                        row = conn.execute(_DROPS[kind], (oid,)).fetchone()
                        if row is not None:
                            conn.execute(sql.SQL(str(row[0])))
        return objects(conn) == fresh
