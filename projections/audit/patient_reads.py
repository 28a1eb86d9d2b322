"""The patient-data read log: who read which patient's data, when, through what (append-only).

Reads are recorded in a table beside the events (`najda_patient_reads`, same database, same
durability), not as events: a console reads far more often than anything happens, and every
projection would have to pass over them. Concurrent reads share one INSERT transaction (a
group commit) and each request waits for its record to be committed before it answers, so
no patient data leaves the server unrecorded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from najda.domain.care.monitoring_use_cases import MonitoringCases
from najda.projections.store.event_rows import EventLog

READ_TABLE = "najda_patient_reads"
READ_LOG_LOCK_KEY = 0x4E505244  # "NPRD": held while creating the table on PostgreSQL

_CREATE = {
    True: (
        f"CREATE TABLE IF NOT EXISTS {READ_TABLE} (id bigserial PRIMARY KEY,"
        " at timestamptz NOT NULL, user_name text NOT NULL, role text NOT NULL,"
        " action text NOT NULL, patient_id uuid, incident_id uuid)"
    ),
    False: (
        f"CREATE TABLE IF NOT EXISTS {READ_TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " at TEXT NOT NULL, user_name TEXT NOT NULL, role TEXT NOT NULL,"
        " action TEXT NOT NULL, patient_id TEXT, incident_id TEXT)"
    ),
}
_INDEXES = (
    f"CREATE INDEX IF NOT EXISTS {READ_TABLE}_patient ON {READ_TABLE} (patient_id, id)",
    f"CREATE INDEX IF NOT EXISTS {READ_TABLE}_incident ON {READ_TABLE} (incident_id, id)",
)


@dataclass(frozen=True)
class PatientRead:
    """One read of a patient's data: when, by whom (and their role), what was read; of a
    patient directly, or of an incident raised for one."""

    at: datetime
    user: str
    role: str
    action: str
    patient_id: UUID | None = None
    incident_id: UUID | None = None


def _uuid(value: object) -> UUID | None:
    if value is None:
        return None
    return value if isinstance(value, UUID) else UUID(str(value))


def _time(value: object) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


class ReadLog:
    """The read log table on the event store's own database (SQLite or PostgreSQL)."""

    def __init__(self, log: EventLog) -> None:
        self.log = log

    def ensure_table(self) -> None:
        """Create the table and its indexes if they do not exist."""
        with self.log.transaction(commit=True) as runner:
            if self.log.postgres:  # processes starting together must not race on the DDL
                runner.execute("SELECT pg_advisory_xact_lock(?)", [READ_LOG_LOCK_KEY])
            runner.execute(_CREATE[self.log.postgres])
            for statement in _INDEXES:
                runner.execute(statement)

    def append(self, reads: Sequence[PatientRead]) -> None:
        """Record reads, all in one transaction."""
        if not reads:
            return
        rows = [
            (
                r.at if self.log.postgres else r.at.isoformat(),
                r.user,
                r.role,
                r.action,
                r.patient_id,
                r.incident_id,
            )
            for r in reads
        ]
        with self.log.transaction(commit=True) as runner:
            runner.executemany(
                f"INSERT INTO {READ_TABLE} (at, user_name, role, action, patient_id, incident_id)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )

    def reads_of(
        self, patient_id: UUID, incident_ids: Sequence[UUID] = (), limit: int = 1000
    ) -> list[PatientRead]:
        """The newest `limit` reads of the patient's data, or of incidents raised for them,
        oldest first."""
        marks = ", ".join("?" for _ in incident_ids)
        where = "patient_id = ?" + (f" OR incident_id IN ({marks})" if incident_ids else "")
        with self.log.transaction() as runner:
            found = runner.fetch(
                f"SELECT at, user_name, role, action, patient_id, incident_id FROM {READ_TABLE}"
                f" WHERE {where} ORDER BY id DESC LIMIT {int(limit)}",
                [patient_id, *incident_ids],
            )
        return [
            PatientRead(
                _time(r["at"]),
                str(r["user_name"]),
                str(r["role"]),
                str(r["action"]),
                _uuid(r["patient_id"]),
                _uuid(r["incident_id"]),
            )
            for r in reversed(found)
        ]


class ReadRecorder:
    """Records reads for a running server in group commits: `record` returns once the
    reads are committed (together with whatever else was waiting)."""

    def __init__(self, read_log: ReadLog) -> None:
        self.read_log = read_log
        self._pending: list[tuple[Sequence[PatientRead], asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    async def start(self) -> None:
        """Create the table, then start writing."""
        await asyncio.to_thread(self.read_log.ensure_table)
        self._task = asyncio.create_task(self._run(), name="patient-read-log")

    async def close(self) -> None:
        """Write what is waiting, then stop."""
        if self._task is not None:
            self._closing = True
            self._wake.set()
            await self._task
            self._task = None

    async def record(self, reads: Sequence[PatientRead]) -> None:
        """Record reads; returns once they are committed (raises if they could not be)."""
        if not reads:
            return
        if self._task is None:
            raise RuntimeError("the patient read log is not running")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((reads, done))
        self._wake.set()
        await done

    async def _run(self) -> None:
        while not self._closing:
            await self._wake.wait()
            self._wake.clear()
            await self._flush()
        await self._flush()

    async def _flush(self) -> None:
        batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            await asyncio.to_thread(self.read_log.append, [r for reads, _ in batch for r in reads])
        except Exception as exc:  # each waiting request answers with the store's error
            for _, done in batch:
                if not done.done():
                    done.set_exception(exc)
            return
        for _, done in batch:
            if not done.done():
                done.set_result(None)


def patient_reads(
    app: MonitoringCases, read_log: ReadLog, patient_id: UUID, limit: int
) -> list[PatientRead]:
    """The reads of a patient's data, and of every incident raised for them (the patient
    must exist: PatientNotFound otherwise)."""
    patient = app.get_patient(patient_id)
    incidents = [link.incident_id for link in patient.incidents]
    return read_log.reads_of(patient_id, incidents, limit)
