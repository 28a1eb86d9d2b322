"""The PostgreSQL address index: pg_trgm on normalised names, PostGIS for reverse geocoding."""

from __future__ import annotations

from collections.abc import Sequence

from psycopg_pool import ConnectionPool

from najda.geo.area import Area
from najda.projections.addresses.index import (
    AddressRow,
    CrossingRow,
    NameRow,
    NearestAddress,
    NearestStreet,
    area_fingerprint,
    index_rows,
)

SCHEMA = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE TABLE IF NOT EXISTS najda_geo_meta(key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS najda_geo_name(id integer PRIMARY KEY, kind text NOT NULL,
    name text NOT NULL, norm text NOT NULL, municipality text NOT NULL,
    lat double precision NOT NULL, lon double precision NOT NULL, detail text NOT NULL);
CREATE INDEX IF NOT EXISTS najda_geo_name_trgm ON najda_geo_name USING gin (norm gin_trgm_ops);
CREATE TABLE IF NOT EXISTS najda_geo_address(street_id integer NOT NULL,
    housenumber text NOT NULL, number integer NOT NULL, suffix text NOT NULL,
    lat double precision NOT NULL, lon double precision NOT NULL, postcode text NOT NULL,
    municipality text NOT NULL, geom geography(Point, 4326) NOT NULL);
CREATE INDEX IF NOT EXISTS najda_geo_address_street ON najda_geo_address(street_id, number);
CREATE INDEX IF NOT EXISTS najda_geo_address_geom ON najda_geo_address USING gist (geom);
CREATE TABLE IF NOT EXISTS najda_geo_crossing(a integer NOT NULL, b integer NOT NULL,
    lat double precision NOT NULL, lon double precision NOT NULL, municipality text NOT NULL);
CREATE INDEX IF NOT EXISTS najda_geo_crossing_ab ON najda_geo_crossing(a, b);
CREATE TABLE IF NOT EXISTS najda_geo_segment(street_id integer NOT NULL,
    geom geography(LineString, 4326) NOT NULL);
CREATE INDEX IF NOT EXISTS najda_geo_segment_geom ON najda_geo_segment USING gist (geom);
"""
NAME_COLUMNS = "id, kind, name, norm, municipality, lat, lon, detail"
ADDRESS_COLUMNS = "street_id, housenumber, number, suffix, lat, lon, postcode, municipality"
#: Lowest word similarity a candidate name may have (pg_trgm's `<%` operator).
WORD_THRESHOLD = 0.3
#: The trigram search: `<%` is answered by the GIN (gin_trgm_ops) index on `norm`, and only
#: the rows it returns are ranked by `word_similarity` (psycopg parameters: words, words,
#: limit; `%%` is the operator's `%`).
NAMES_SQL = (
    f"SELECT {NAME_COLUMNS} FROM najda_geo_name WHERE %s <%% norm"
    " ORDER BY word_similarity(%s, norm) DESC, id LIMIT %s"
)
#: The benchmarks' baseline: the same indexed trigram query, ids only, no tie-break.
BARE_SQL = (
    "SELECT id FROM najda_geo_name WHERE %s <%% norm"
    " ORDER BY word_similarity(%s, norm) DESC LIMIT %s"
)


class PostgresAddressIndex:
    """The address index in the store's PostgreSQL database."""

    def __init__(self, url: str, max_size: int = 8) -> None:
        self.pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max_size,
            open=True,
            configure=self._configure,
            kwargs={"autocommit": True},
        )
        with self.pool.connection() as conn:
            conn.execute("SELECT pg_advisory_lock(hashtext('najda_geo_schema'))")
            try:
                conn.execute(SCHEMA)
            finally:
                conn.execute("SELECT pg_advisory_unlock(hashtext('najda_geo_schema'))")

    @staticmethod
    def _configure(conn: object) -> None:
        execute = getattr(conn, "execute")  # noqa: B009 - a psycopg Connection
        execute(f"SET pg_trgm.word_similarity_threshold = {WORD_THRESHOLD}")
        # Every query of this pool has an index made for it. The planner prices a scan of the
        # (small) name table below the GIN index because it counts `<%` as one cheap operator,
        # but word_similarity costs tens of microseconds a row: 10-40 ms a query on
        # Liechtenstein's 1,900 names against 1-8 ms through the index (EXPLAIN in
        # tests/integration/test_geocoder_contract.py).
        execute("SET enable_seqscan = off")

    def replace(self, area: Area) -> None:
        """Swap in the area's rows in one transaction (readers see the old or the new)."""
        rows = index_rows(area)
        with self.pool.connection() as conn, conn.transaction():
            conn.execute("LOCK TABLE najda_geo_name, najda_geo_address IN EXCLUSIVE MODE")
            for table in ("meta", "name", "address", "crossing", "segment"):
                conn.execute(f"DELETE FROM najda_geo_{table}")
            conn.execute(
                "INSERT INTO najda_geo_meta VALUES ('fingerprint', %s)", (area_fingerprint(area),)
            )
            with conn.cursor().copy(f"COPY najda_geo_name ({NAME_COLUMNS}) FROM STDIN") as copy:
                for r in rows.names:
                    copy.write_row(
                        (r.id, r.kind, r.name, r.norm, r.municipality, r.lat, r.lon, r.detail)
                    )
            with conn.cursor().copy(
                f"COPY najda_geo_address ({ADDRESS_COLUMNS}, geom) FROM STDIN"
            ) as copy:
                for a in rows.addresses:
                    copy.write_row(
                        (a.street_id, a.housenumber, a.number, a.suffix, a.lat, a.lon,
                         a.postcode, a.municipality, f"SRID=4326;POINT({a.lon} {a.lat})")
                    )  # fmt: skip
            with conn.cursor().copy("COPY najda_geo_crossing FROM STDIN") as copy:
                for c in rows.crossings:
                    copy.write_row((c.a, c.b, c.lat, c.lon, c.municipality))
                    copy.write_row((c.b, c.a, c.lat, c.lon, c.municipality))
            with conn.cursor().copy("COPY najda_geo_segment FROM STDIN") as copy:
                for sid, lat1, lon1, lat2, lon2 in rows.segments:
                    copy.write_row((sid, f"SRID=4326;LINESTRING({lon1} {lat1},{lon2} {lat2})"))
        with self.pool.connection() as conn:
            conn.execute("ANALYZE najda_geo_name")
            conn.execute("ANALYZE najda_geo_address")
            conn.execute("ANALYZE najda_geo_segment")

    def fingerprint(self) -> str:
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT value FROM najda_geo_meta WHERE key = 'fingerprint'"
            ).fetchone()
        return str(row[0]) if row else ""

    def names(self, text: str, limit: int) -> list[NameRow]:
        with self.pool.connection() as conn:
            rows = conn.execute(NAMES_SQL, (text, text, limit)).fetchall()
        return [NameRow(*r) for r in rows]

    def bare_trigram_query(self, text: str, limit: int) -> list[int]:
        with self.pool.connection() as conn:
            rows = conn.execute(BARE_SQL, (text, text, limit)).fetchall()
        return [int(r[0]) for r in rows]

    def rows(self, ids: Sequence[int]) -> list[NameRow]:
        with self.pool.connection() as conn:
            rows = conn.execute(
                f"SELECT {NAME_COLUMNS} FROM najda_geo_name WHERE id = ANY(%s)", (list(ids),)
            ).fetchall()
        return [NameRow(*r) for r in rows]

    def addresses_on(self, street_ids: Sequence[int], number: int) -> list[AddressRow]:
        with self.pool.connection() as conn:
            rows = conn.execute(
                f"SELECT {ADDRESS_COLUMNS} FROM najda_geo_address WHERE street_id = ANY(%s)"
                " AND number BETWEEN %s AND %s",
                (list(street_ids), number - 40, number + 40),
            ).fetchall()
        return [AddressRow(*r) for r in rows]

    def crossing_streets(self, a_ids: Sequence[int]) -> list[tuple[CrossingRow, NameRow]]:
        columns = ", ".join("n." + c.strip() for c in NAME_COLUMNS.split(","))
        with self.pool.connection() as conn:
            rows = conn.execute(
                f"SELECT c.a, c.b, c.lat, c.lon, c.municipality, {columns}"
                " FROM najda_geo_crossing c JOIN najda_geo_name n ON n.id = c.b"
                " WHERE c.a = ANY(%s)",
                (list(a_ids),),
            ).fetchall()
        return [(CrossingRow(*r[:5]), NameRow(*r[5:])) for r in rows]

    def postcodes(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        with self.pool.connection() as conn:
            for code, municipality in conn.execute(
                "SELECT DISTINCT postcode, municipality FROM najda_geo_address"
                " WHERE postcode <> '' ORDER BY 1, 2"
            ).fetchall():
                found.setdefault(code, []).append(municipality)
        return found

    def nearest_address(self, lat: float, lon: float, within_m: float) -> NearestAddress | None:
        with self.pool.connection() as conn:
            row = conn.execute(
                f"SELECT {ADDRESS_COLUMNS}, ST_Distance(geom, p, false) AS d"
                " FROM najda_geo_address,"
                " (SELECT ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography AS p) q"
                " WHERE ST_DWithin(geom, p, %s, false)"
                " ORDER BY geom <-> p, street_id, housenumber LIMIT 1",
                (lon, lat, within_m),
            ).fetchone()
        if row is None:
            return None
        address = AddressRow(*row[:8])
        return NearestAddress(address, self.rows([address.street_id])[0], float(row[8]))

    def nearest_street(self, lat: float, lon: float) -> NearestStreet | None:
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT street_id, ST_Y(c::geometry), ST_X(c::geometry), d FROM ("
                " SELECT street_id, ST_ClosestPoint(geom::geometry, p::geometry)::geography c,"
                " ST_Distance(geom, p, false) d FROM najda_geo_segment,"
                " (SELECT ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography AS p) q"
                " ORDER BY geom <-> p LIMIT 8) s ORDER BY d, street_id LIMIT 1",
                (lon, lat),
            ).fetchone()
        if row is None:
            return None
        return NearestStreet(self.rows([int(row[0])])[0], float(row[1]), float(row[2]),
                             float(row[3]))  # fmt: skip

    def close(self) -> None:
        self.pool.close()
