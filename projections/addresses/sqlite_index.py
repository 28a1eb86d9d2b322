"""The embedded address index: one SQLite file with FTS5 (trigram) names and R*Tree positions."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from najda.geo.area import Area
from najda.geo.planar import deg_box, point_m, point_segment
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
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE name(id INTEGER PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL,
    norm TEXT NOT NULL, municipality TEXT NOT NULL, lat REAL NOT NULL, lon REAL NOT NULL,
    detail TEXT NOT NULL);
CREATE VIRTUAL TABLE name_fts USING fts5(norm, content='name', content_rowid='id',
    tokenize='trigram');
CREATE VIRTUAL TABLE name_vocab USING fts5vocab(name_fts, 'row');
CREATE TABLE address(id INTEGER PRIMARY KEY, street_id INTEGER NOT NULL,
    housenumber TEXT NOT NULL, number INTEGER NOT NULL, suffix TEXT NOT NULL, lat REAL NOT NULL,
    lon REAL NOT NULL, postcode TEXT NOT NULL, municipality TEXT NOT NULL);
CREATE INDEX address_street ON address(street_id, number);
CREATE VIRTUAL TABLE address_rt USING rtree(id, min_lat, max_lat, min_lon, max_lon);
CREATE TABLE crossing(a INTEGER NOT NULL, b INTEGER NOT NULL, lat REAL NOT NULL,
    lon REAL NOT NULL, municipality TEXT NOT NULL);
CREATE INDEX crossing_ab ON crossing(a, b);
CREATE TABLE segment(id INTEGER PRIMARY KEY, street_id INTEGER NOT NULL, lat1 REAL, lon1 REAL,
    lat2 REAL, lon2 REAL);
CREATE VIRTUAL TABLE segment_rt USING rtree(id, min_lat, max_lat, min_lon, max_lon);
"""
NAME_COLUMNS = "id, kind, name, norm, municipality, lat, lon, detail"
CROSSED_COLUMNS = ", ".join("n." + c.strip() for c in NAME_COLUMNS.split(","))
#: The trigram search: the FTS5 match ranked by bm25, its rows read from `name`.
NAMES_SQL = (
    f"SELECT {CROSSED_COLUMNS}"
    " FROM name_fts JOIN name n ON n.id = name_fts.rowid"
    " WHERE name_fts MATCH ? ORDER BY bm25(name_fts) LIMIT ?"
)
#: The rarest trigrams of a query that are searched for (the common ones, such as those of
#: `strasse`, match half the index and say little).
MATCH_TRIGRAMS = 12
#: Search radii for the nearest street, metres (the first that holds a segment wins).
STREET_RADII_M = (60.0, 250.0, 1_000.0, 5_000.0, 25_000.0)


class SqliteAddressIndex:
    """The address index in its own SQLite file (read by many threads, one connection each)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._df: dict[str, int] | None = None
        self._df_inode = -1

    def _db(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        inode = _inode(self.path)
        if conn is None or getattr(self._local, "inode", None) != inode:
            if conn is not None:
                conn.close()
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            self._local.conn = conn
            self._local.inode = inode
        return conn

    def replace(self, area: Area) -> None:
        """Build a new file beside the old one, then swap it in (readers keep the old one)."""
        rows = index_rows(area)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        staging = self.path.with_name(self.path.name + ".new")
        staging.unlink(missing_ok=True)
        conn = sqlite3.connect(staging)
        try:
            conn.executescript(SCHEMA)
            conn.execute("INSERT INTO meta VALUES ('fingerprint', ?)", (area_fingerprint(area),))
            conn.executemany(
                f"INSERT INTO name({NAME_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(r.id, r.kind, r.name, r.norm, r.municipality, r.lat, r.lon, r.detail)
                 for r in rows.names],
            )  # fmt: skip
            conn.execute("INSERT INTO name_fts(name_fts) VALUES ('rebuild')")
            conn.executemany(
                "INSERT INTO address(id, street_id, housenumber, number, suffix, lat, lon,"
                " postcode, municipality) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(i, a.street_id, a.housenumber, a.number, a.suffix, a.lat, a.lon, a.postcode,
                  a.municipality) for i, a in enumerate(rows.addresses, 1)],
            )  # fmt: skip
            conn.execute("INSERT INTO address_rt SELECT id, lat, lat, lon, lon FROM address")
            conn.executemany(
                "INSERT INTO crossing VALUES (?, ?, ?, ?, ?)",
                [(c.a, c.b, c.lat, c.lon, c.municipality) for c in rows.crossings]
                + [(c.b, c.a, c.lat, c.lon, c.municipality) for c in rows.crossings],
            )
            conn.executemany(
                "INSERT INTO segment VALUES (?, ?, ?, ?, ?, ?)",
                [(i, *s) for i, s in enumerate(rows.segments, 1)],
            )
            conn.execute(
                "INSERT INTO segment_rt SELECT id, min(lat1, lat2), max(lat1, lat2),"
                " min(lon1, lon2), max(lon1, lon2) FROM segment"
            )
            conn.commit()
        finally:
            conn.close()
        os.replace(staging, self.path)

    def fingerprint(self) -> str:
        if not self.path.exists():
            return ""
        try:
            row = self._db().execute("SELECT value FROM meta WHERE key='fingerprint'").fetchone()
        except sqlite3.DatabaseError:
            return ""
        return str(row[0]) if row else ""

    def _match(self, text: str) -> str:
        """An FTS5 expression: any of the query's rarest trigrams that the index holds."""
        conn = self._db()  # checks the file: a swapped-in index reads its own frequencies
        if self._df is None or self._df_inode != self._local.inode:
            self._df = dict(conn.execute("SELECT term, doc FROM name_vocab"))
            self._df_inode = self._local.inode
        df = self._df
        grams = {text[i : i + 3] for i in range(len(text) - 2)}
        known = sorted((df[g], g) for g in grams if g in df and g.strip())
        return " OR ".join('"' + g.replace('"', '""') + '"' for _, g in known[:MATCH_TRIGRAMS])

    def names(self, text: str, limit: int) -> list[NameRow]:
        match = self._match(text)
        if not match:
            rows = self._db().execute(
                f"SELECT {NAME_COLUMNS} FROM name WHERE norm LIKE ? LIMIT ?", (text + "%", limit)
            )
        else:
            rows = self._db().execute(NAMES_SQL, (match, limit))
        return [NameRow(*r) for r in rows]

    def bare_trigram_query(self, text: str, limit: int) -> list[int]:
        rows = self._db().execute(
            "SELECT rowid FROM name_fts WHERE name_fts MATCH ? ORDER BY bm25(name_fts) LIMIT ?",
            (self._match(text) or '""', limit),
        )
        return [int(r[0]) for r in rows]

    def rows(self, ids: Sequence[int]) -> list[NameRow]:
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = self._db().execute(
            f"SELECT {NAME_COLUMNS} FROM name WHERE id IN ({marks})", list(ids)
        )
        return [NameRow(*r) for r in rows]

    def addresses_on(self, street_ids: Sequence[int], number: int) -> list[AddressRow]:
        if not street_ids:
            return []
        marks = ",".join("?" * len(street_ids))
        rows = self._db().execute(
            "SELECT street_id, housenumber, number, suffix, lat, lon, postcode, municipality"
            f" FROM address WHERE street_id IN ({marks}) AND number BETWEEN ? AND ?",
            [*street_ids, number - 40, number + 40],
        )
        return [AddressRow(*r) for r in rows]

    def crossing_streets(self, a_ids: Sequence[int]) -> list[tuple[CrossingRow, NameRow]]:
        if not a_ids:
            return []
        marks = ",".join("?" * len(a_ids))
        rows = self._db().execute(
            f"SELECT c.a, c.b, c.lat, c.lon, c.municipality, {CROSSED_COLUMNS} FROM crossing c"
            f" JOIN name n ON n.id = c.b WHERE c.a IN ({marks})",
            list(a_ids),
        )
        return [(CrossingRow(*r[:5]), NameRow(*r[5:])) for r in rows]

    def postcodes(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for code, municipality in self._db().execute(
            "SELECT DISTINCT postcode, municipality FROM address WHERE postcode != '' ORDER BY 1, 2"
        ):
            found.setdefault(code, []).append(municipality)
        return found

    def nearest_address(self, lat: float, lon: float, within_m: float) -> NearestAddress | None:
        dlat, dlon = deg_box(lat, within_m)
        rows = self._db().execute(
            "SELECT a.street_id, a.housenumber, a.number, a.suffix, a.lat, a.lon, a.postcode,"
            " a.municipality FROM address_rt r JOIN address a ON a.id = r.id"
            " WHERE r.min_lat >= ? AND r.max_lat <= ? AND r.min_lon >= ? AND r.max_lon <= ?",
            (lat - dlat, lat + dlat, lon - dlon, lon + dlon),
        )
        best = min(
            ((point_m(lat, lon, r[4], r[5]), AddressRow(*r)) for r in rows),
            default=None,
            key=lambda pair: (pair[0], pair[1].street_id, pair[1].housenumber),
        )
        if best is None or best[0] > within_m:
            return None
        street = self.rows([best[1].street_id])[0]
        return NearestAddress(best[1], street, best[0])

    def nearest_street(self, lat: float, lon: float) -> NearestStreet | None:
        for radius in STREET_RADII_M:
            dlat, dlon = deg_box(lat, radius)
            rows = (
                self._db()
                .execute(
                    "SELECT s.street_id, s.lat1, s.lon1, s.lat2, s.lon2 FROM segment_rt r"
                    " JOIN segment s ON s.id = r.id WHERE r.max_lat >= ? AND r.min_lat <= ?"
                    " AND r.max_lon >= ? AND r.min_lon <= ?",
                    (lat - dlat, lat + dlat, lon - dlon, lon + dlon),
                )
                .fetchall()
            )
            best = min(
                ((point_segment(lat, lon, *r[1:]), r[0]) for r in rows),
                default=None,
                key=lambda pair: (pair[0][0], pair[1]),
            )
            if best is not None and best[0][0] <= radius:
                (distance, plat, plon), sid = best
                return NearestStreet(self.rows([sid])[0], plat, plon, distance)
        return None

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def _inode(path: Path) -> int:
    try:
        return os.stat(path).st_ino
    except OSError:
        return -1
