"""Embedded read models saved with their tracking positions in the SQLite store, so that a
start applies only the events recorded after them (DESIGN.md, "Projections").

Each in-memory read model names the attributes that hold its state (`SAVED_FIELDS`).
A saved state is one row per read model: its state, the position that state includes, the
event found at that position (to notice a log that is not the one the state was built
from) and a version of the code that built it. All rows of one save are written in one
SQLite transaction, so a crash leaves the previous save whole: state and position
never disagree, and the events after the position are applied exactly once at the next
start. A row whose version differs from the running code's is ignored: that read model is
rebuilt from the log.
"""

from __future__ import annotations

import hashlib
import io
import logging
import pickle
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)

#: Bumped when the layout of the table or of the saved state changes.
FORMAT = 1
TABLE = "najda_read_models"
#: The packages whose code decides what a read model holds: any change to them rebuilds.
PACKAGES = ("domain", "projections", "api", "geo")
#: What a saved state may hold: plain standard-library values and Najda's own classes
#: (never a function, nor a class Najda only imports: a saved state cannot run code).
_ALLOWED = {
    "builtins": frozenset(
        {"set", "frozenset", "dict", "list", "tuple", "int", "float", "str", "bytes", "bool"}
    ),
    "collections": frozenset({"deque", "OrderedDict", "defaultdict"}),
    "datetime": frozenset({"datetime", "date", "time", "timedelta", "timezone"}),
    "uuid": frozenset({"UUID", "SafeUUID"}),
    "decimal": frozenset({"Decimal"}),
}
_ALLOWED_PREFIXES = tuple(f"najda.{p}." for p in PACKAGES)

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    name TEXT PRIMARY KEY,
    version TEXT NOT NULL,
    position INTEGER NOT NULL,
    mark TEXT NOT NULL,
    state BLOB NOT NULL,
    saved_at TEXT NOT NULL
)
"""


class Saveable(Protocol):
    """An in-memory read model whose state lives in the attributes it names."""

    name: str
    SAVED_FIELDS: tuple[str, ...]

    async def position(self) -> int:
        """The last position applied."""
        ...


@dataclass(frozen=True)
class Saved:
    """One read model's saved state as read back."""

    name: str
    position: int
    state: dict[str, Any]


class SavedStateError(RuntimeError):
    """Raised when a saved state cannot be read back (it is then ignored and rebuilt)."""


@cache
def source_files() -> list[tuple[str, Path]]:
    """Each source file of the packages that build read models, with its path in Najda."""
    root = Path(__file__).resolve().parents[2]  # the folder holding domain/, projections/, ...
    return [
        (str(path.relative_to(root)), path)
        for package in PACKAGES
        for path in sorted((root / package).rglob("*.py"))
    ]


def code_version() -> str:
    """A digest of the format and of the source of the packages that build read models."""
    digest = hashlib.sha256(f"najda-read-models/{FORMAT}".encode())
    for name, path in source_files():
        digest.update(name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:32]


def snapshot(model: Saveable, position: int) -> bytes:
    """The model's state as bytes (taken in one go: no await between its fields)."""
    state = {"position": position} | {f: getattr(model, f) for f in model.SAVED_FIELDS}
    return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)


class _Unpickler(pickle.Unpickler):
    """Loads only Najda's own types and plain standard-library values."""

    def find_class(self, module: str, name: str) -> Any:
        if name in _ALLOWED.get(module, ()):
            return super().find_class(module, name)
        if module.startswith(_ALLOWED_PREFIXES):
            found = super().find_class(module, name)
            if isinstance(found, type) and found.__module__.startswith(_ALLOWED_PREFIXES):
                return found
        raise SavedStateError(f"a saved read model may not hold {module}.{name}")


def load_state(data: bytes) -> dict[str, Any]:
    """Bytes made by `snapshot` back into its fields (position included)."""
    try:
        state = _Unpickler(io.BytesIO(data)).load()
    except SavedStateError:
        raise
    except Exception as exc:  # a damaged or foreign row: ignored, the model is rebuilt
        raise SavedStateError(f"unreadable saved state: {type(exc).__name__}: {exc}") from None
    if not isinstance(state, dict) or not isinstance(state.get("position"), int):
        raise SavedStateError("a saved state without its position")
    return state


def restore(model: Saveable, state: dict[str, Any]) -> None:
    """Put a loaded state back into the model (its position included)."""
    missing = [f for f in model.SAVED_FIELDS if f not in state]
    if missing:
        raise SavedStateError(f"saved state of {model.name} lacks {', '.join(missing)}")
    for field in model.SAVED_FIELDS:
        setattr(model, field, state[field])
    after = getattr(model, "after_restore", None)
    if after is not None:
        after()


class ModelStore:
    """The read-model table of one SQLite store (its own connection per call)."""

    def __init__(
        self, path: Path, *, events_table: str = "stored_events", timeout_s: float = 10.0
    ) -> None:
        self.path = path
        self.events_table = events_table
        self.timeout_s = timeout_s
        self.version = code_version()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=self.timeout_s, isolation_level=None)
        conn.execute(_SCHEMA)
        return conn

    def _mark(self, conn: sqlite3.Connection, position: int) -> str:
        """What the log holds at `position`: the event's aggregate and version ('' at 0)."""
        if position == 0:
            return ""
        row = conn.execute(
            f"SELECT originator_id, originator_version FROM {self.events_table} WHERE rowid = ?",
            (position,),
        ).fetchone()
        return "" if row is None else f"{row[0]}:{row[1]}"

    def save(self, rows: Iterable[tuple[str, int, bytes]]) -> int:
        """Write (name, position, state) rows in one transaction; returns how many."""
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                count = 0
                now = datetime.now(UTC).isoformat()
                for name, position, state in rows:
                    conn.execute(
                        f"INSERT OR REPLACE INTO {TABLE}"
                        " (name, version, position, mark, state, saved_at)"
                        " VALUES (?, ?, ?, ?, ?, ?)",
                        (name, self.version, position, self._mark(conn, position), state, now),
                    )
                    count += 1
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return count
        finally:
            conn.close()

    def load(self, names: Sequence[str]) -> dict[str, Saved]:
        """The usable saved states of these read models (same code, same log), by name."""
        conn = self._connect()
        found: dict[str, Saved] = {}
        try:
            marks = ", ".join("?" for _ in names)
            rows = conn.execute(
                f"SELECT name, version, position, mark, state FROM {TABLE} WHERE name IN ({marks})",
                list(names),
            ).fetchall()
            for name, version, position, mark, data in rows:
                if version != self.version:
                    log.info("read model %s was saved by other code: rebuilt from the log", name)
                    continue
                if mark != self._mark(conn, position):
                    log.warning("read model %s does not match this log: rebuilt", name)
                    continue
                try:
                    state = load_state(data)
                except SavedStateError as exc:
                    log.warning("read model %s: %s; rebuilt from the log", name, exc)
                    continue
                if state["position"] != position:
                    log.warning("read model %s: position disagrees with its state", name)
                    continue
                found[name] = Saved(name, position, state)
        finally:
            conn.close()
        return found

    def clear(self) -> None:
        """Forget every saved state (the next start replays the whole log)."""
        conn = self._connect()
        try:
            conn.execute(f"DELETE FROM {TABLE}")
        finally:
            conn.close()
