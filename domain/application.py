"""The Dispatch application: the use cases of the dispatch centre over the event store."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime
from uuid import UUID

from domain.care_commands import ConsultCommands, HospitalStatusCommands
from domain.commands import (
    MAX_CLOCK_SKEW,
    MAX_POSITION_AGE,
    PositionPolicy,
    UnitChoice,
    utc_now,
)
from domain.consult import require_specialties
from domain.crew_commands import CrewCommands
from domain.duplicates import DuplicateCommands
from domain.errors import (
    InvalidTransition,
    InvalidValue,
    UnitAlreadyOnIncident,
    UnitNotFound,
    UserNotFound,
)
from domain.location_fix import LocationFix
from domain.patients import MonitoringCases
from domain.reassign import ReassignCommands
from domain.reference import Hospital, Station, hospital_id_for, station_id_for
from domain.reporting import new_incident
from domain.store import retried
from domain.unit import Unit, unit_id_for
from domain.user import (
    LastAdministrator,
    Role,
    User,
    require_user_name,
    token_hash,
    token_weakness,
    user_id_for,
)
from domain.values import (
    MAX_ADDRESS,
    MAX_NAME,
    MAX_NOTE,
    MAX_REASON,
    MAX_SHORT,
    IncidentSource,
    Position,
    Priority,
    UnitKind,
    UnitStatus,
    optional_text,
    require_aware,
    require_call_sign,
    require_recent,
    require_text,
)

__all__ = ["Dispatch", "PositionPolicy", "UnitChoice", "utc_now"]

_REGISTERED = "najda:User.Registered"
_REVOKED = "najda:User.Revoked"


class Dispatch(
    CrewCommands,
    ConsultCommands,
    HospitalStatusCommands,
    MonitoringCases,
    ReassignCommands,
    DuplicateCommands,
):
    """Incidents, units, stations, hospitals, users, teleconsults and monitored patients;
    every command is saved as events."""

    name = "Dispatch"

    # --- reference data ----------------------------------------------------------------

    def register_station(self, code: str, name: str, location: Position, actor: str) -> UUID:
        """Add a station; its code is its natural key."""
        code = require_text("code", code, MAX_SHORT)
        station = Station(
            id=station_id_for(code),
            code=code,
            name=require_text("name", name, MAX_NAME),
            location=location,
            actor=actor,
            at=self._now(),
        )
        self._store(station, creating=f"station {code}")
        return station.id

    def register_hospital(
        self, code: str, name: str, location: Position, services: Iterable[str], actor: str
    ) -> UUID:
        """Add a receiving hospital; its code is its natural key."""
        code = require_text("code", code, MAX_SHORT)
        hospital = Hospital(
            id=hospital_id_for(code),
            code=code,
            name=require_text("name", name, MAX_NAME),
            location=location,
            services=sorted({s.strip().lower() for s in services if s.strip()}),
            actor=actor,
            at=self._now(),
        )
        self._store(hospital, creating=f"hospital {code}")
        return hospital.id

    def register_unit(
        self,
        call_sign: str,
        kind: UnitKind,
        actor: str,
        *,
        capabilities: Iterable[str] = (),
        station_id: UUID | None = None,
        home: Position | None = None,
    ) -> UUID:
        """Put a response team on the roster, available at its station (or home point)."""
        call_sign = require_call_sign(call_sign)
        if station_id is not None:
            station = self.get_station(station_id)
            home = home or station.location
        if home is None:
            raise InvalidValue("home", "a unit needs a station or a home position")
        unit = Unit(
            id=unit_id_for(call_sign),
            call_sign=call_sign,
            kind=UnitKind(kind),
            capabilities=sorted({c.strip().lower() for c in capabilities if c.strip()}),
            station_id=station_id,
            home=home,
            actor=actor,
            at=self._now(),
        )
        self._store(unit, creating=f"unit {call_sign}")
        return unit.id

    # --- incidents --------------------------------------------------------------------

    def report_incident(
        self,
        *,
        location: Position,
        address: str,
        nature: str,
        priority: Priority,
        actor: str,
        determinant: str = "",
        callback: str | None = None,
        source: IncidentSource = IncidentSource.PHONE,
        call_received_at: datetime | None = None,
        incident_id: UUID | None = None,
        notes: Sequence[str] = (),
        location_fix: LocationFix | None = None,
    ) -> UUID:
        """Open an incident for a call, with its first notes, in one save; returns its id.
        A given `incident_id` (from a natural key) makes a second report AlreadyExists;
        `location_fix`: how its location was found, when it was geocoded."""
        texts = [require_text(f"notes[{i}]", t, MAX_NOTE) for i, t in enumerate(notes)]
        now = self._now()
        incident = new_incident(
            incident_id=incident_id or self.new_id(),
            now=now,
            location=location,
            address=address,
            nature=nature,
            priority=priority,
            actor=actor,
            determinant=determinant,
            callback=callback,
            source=source,
            call_received_at=call_received_at,
            location_fix=location_fix,
        )
        for text in texts:
            incident.add_note(text, actor, now)
        creating = None if incident_id is None else f"incident {incident_id}"
        self._store(incident, creating=creating)
        return incident.id

    @retried
    def change_priority(
        self, incident_id: UUID, priority: Priority, actor: str, determinant: str = ""
    ) -> None:
        """Re-triage an open incident."""
        clean_determinant = optional_text("determinant", determinant, MAX_SHORT)
        incident = self._incident(incident_id)
        incident.change_priority(Priority(priority), clean_determinant, actor, self._now())
        self._store(incident)

    @retried
    def correct_location(
        self, incident_id: UUID, location: Position, address: str, actor: str
    ) -> None:
        """Move an open incident to its corrected location."""
        clean_address = optional_text("address", address, MAX_ADDRESS)
        incident = self._incident(incident_id)
        incident.correct_location(location, clean_address, actor, self._now())
        self._store(incident)

    @retried
    def add_note(self, incident_id: UUID, text: str, actor: str) -> None:
        """Append a note to an incident."""
        text = require_text("text", text, MAX_NOTE)
        incident = self._incident(incident_id)
        incident.add_note(text, actor, self._now())
        self._store(incident)

    @retried
    def assign_units(self, incident_id: UUID, choices: Sequence[UnitChoice], actor: str) -> int:
        """Dispatch units to an incident: the units and the incident are saved in one save.

        Of concurrent assignments of the same unit exactly one wins; the others raise a
        Conflict (on retry the unit is no longer available, or the race was lost three
        times). Returns the notification position of the save.
        """
        if not choices:
            raise InvalidValue("units", "choose at least one unit")
        if len({c.unit_id for c in choices}) != len(choices):
            raise InvalidValue("units", "a unit is listed twice")
        incident = self._incident(incident_id)
        incident.require_open()
        units = [self._unit(c.unit_id) for c in choices]
        at = self._now()
        for unit, choice in zip(units, choices, strict=True):
            if unit.incident_id == incident.id:
                raise UnitAlreadyOnIncident(unit.call_sign, incident.id)
            unit.dispatch(incident.id, actor, at)
            incident.assign_unit(
                unit.id, unit.call_sign, unit.kind, choice.distance_m, choice.eta_s, actor, at
            )
        return self._store(incident, *units)

    @retried
    def release_unit(self, incident_id: UUID, unit_id: UUID, reason: str, actor: str) -> None:
        """Take a unit off an incident (re-assignment, cancellation); it becomes available."""
        reason = require_text("reason", reason, MAX_REASON)
        incident = self._incident(incident_id)
        unit = self._unit(unit_id)
        incident.require_active_unit(unit.id, unit.call_sign)
        at = self._now()
        unit.release(incident.id, reason, actor, at)
        incident.release_unit(unit.id, unit.call_sign, reason, actor, at)
        self._store(incident, unit)

    @retried
    def report_position(
        self, unit_id: UUID, position: Position, actor: str, at: datetime | None = None
    ) -> bool:
        """Take a position report; record it as an event only when it matters.

        Returns True when an event was recorded (moved beyond the threshold, or the last
        recorded position is older than the sampling interval).
        """
        now = self._now()
        when = require_recent("at", at or now, now, MAX_POSITION_AGE, MAX_CLOCK_SKEW)
        unit = self._unit(unit_id)
        if not self._worth_recording(unit, position, when):
            self._keep(unit)
            return False
        unit.report_position(position, actor, when)
        self._store(unit)
        return True

    @retried
    def report_positions(
        self, reports: Sequence[tuple[UUID, Position, datetime]], actor: str
    ) -> list[bool]:
        """Take many units' position reports in one atomic save (an AVL batch); each is
        recorded only when it matters, as in `report_position`. Returns, per report,
        whether it was recorded."""
        now = self._now()
        checked = [
            (unit_id, position, require_recent("at", at, now, MAX_POSITION_AGE, MAX_CLOCK_SKEW))
            for unit_id, position, at in reports
        ]
        units: dict[UUID, Unit] = {}
        recorded: list[bool] = []
        for unit_id, position, when in checked:
            unit = units.get(unit_id) or self._unit(unit_id)
            units[unit_id] = unit
            recorded.append(self._worth_recording(unit, position, when))
            if recorded[-1]:
                unit.report_position(position, actor, when)
        changed = [u for u in units.values() if u.pending_events]
        self._keep(*[u for u in units.values() if not u.pending_events])
        if changed:
            self._store(*changed)
        return recorded

    def _worth_recording(self, unit: Unit, position: Position, when: datetime) -> bool:
        """Moved far enough, or the last recorded position is old enough."""
        return self.position_policy.worth_recording(unit.position, unit.position_at, position, when)

    @retried
    def close_incident(self, incident_id: UUID, disposition: str, actor: str) -> None:
        """Close an incident whose units have all cleared."""
        disposition = require_text("disposition", disposition, MAX_REASON)
        incident = self._incident(incident_id)
        incident.close(disposition, actor, self._now())
        self._store(incident)

    @retried
    def cancel_incident(self, incident_id: UUID, reason: str, actor: str) -> None:
        """Cancel an incident and release its active units, all in one save."""
        reason = require_text("reason", reason, MAX_REASON)
        incident = self._incident(incident_id)
        incident.require_open()
        at = self._now()
        units = [self._unit(u) for u in incident.active_unit_ids]
        for unit in units:
            if unit.status not in (
                UnitStatus.DISPATCHED,
                UnitStatus.EN_ROUTE,
                UnitStatus.ON_SCENE,
            ):
                raise InvalidTransition(
                    f"incident {incident.id}",
                    incident.status.value,
                    "cancelled",
                    f"unit {unit.call_sign} is {unit.status.value}",
                )
            unit.release(incident.id, f"incident cancelled: {reason}", actor, at)
            incident.release_unit(unit.id, unit.call_sign, "incident cancelled", actor, at)
        incident.cancel(reason, actor, at)
        self._store(incident, *units)

    # --- users ------------------------------------------------------------------------

    def add_user(
        self,
        name: str,
        role: Role | str,
        actor: str,
        *,
        unit_id: UUID | None = None,
        token: str | None = None,
        specialties: Iterable[str] = (),
        expires_at: datetime | None = None,
    ) -> str:
        """Register a user and return its bearer token (only its hash is stored).

        A token is made unless one is given (e.g. a deployment's bootstrap secret, which must
        be strong). It works until `expires_at` (None: until replaced or revoked). A
        specialist is given its specialties in the same save.
        """
        name = require_user_name(name)
        weakness = None if token is None else token_weakness(token)
        if weakness is not None:
            raise InvalidValue("token", f"the token {weakness}")
        try:
            role = Role(str(role).strip().lower())
        except ValueError:
            allowed = ", ".join(r.value for r in Role)
            raise InvalidValue("role", f"must be one of {allowed}") from None
        if role is Role.CREW and unit_id is None:
            raise InvalidValue("unit", "a crew user is bound to one unit")
        if role is not Role.CREW and unit_id is not None:
            raise InvalidValue("unit", "only a crew user is bound to a unit")
        if unit_id is not None:
            try:
                self.get_unit(unit_id)
            except UnitNotFound:
                raise InvalidValue("unit", f"no unit {unit_id}") from None
        chosen = require_specialties(specialties)
        if role is Role.SPECIALIST and not chosen:
            raise InvalidValue("specialties", "a specialist needs at least one specialty")
        if role is not Role.SPECIALIST and chosen:
            raise InvalidValue("specialties", "only a specialist has specialties")
        token = token or new_token()
        at = self._now()
        if expires_at is not None and require_aware("expires_at", expires_at) <= at:
            raise InvalidValue("expires_at", "a token must expire after it is issued")
        user = User(
            id=user_id_for(name),
            name=name,
            role=role,
            unit_id=unit_id,
            token_sha256=token_hash(token),
            actor=actor,
            at=at,
            expires_at=expires_at,
        )
        if chosen:
            user.set_specialties(chosen, actor, at)
        self._store(user, creating=f"user {name}")
        return token

    @retried
    def set_specialties(self, name: str, specialties: Iterable[str], actor: str) -> None:
        """Replace a specialist's specialties."""
        chosen = require_specialties(specialties)
        user = self._user(name)
        user.set_specialties(chosen, actor, self._now())
        self._store(user)

    @retried
    def set_clinical_access(self, name: str, granted: bool, actor: str) -> None:
        """Grant an auditor clinical access (patient data unredacted), or withdraw it."""
        user = self._user(name)
        user.set_clinical_access(granted, actor, self._now())
        self._store(user)

    @retried
    def issue_token(
        self,
        name: str,
        actor: str,
        *,
        expires_at: datetime | None = None,
        token: str | None = None,
    ) -> str:
        """Give a user a new token (the previous one stops working at once) and return it.

        A token is made unless one is given (a deployment's bootstrap secret, which must be
        strong); it works until `expires_at` (None: until replaced or revoked).
        """
        weakness = None if token is None else token_weakness(token)
        if weakness is not None:
            raise InvalidValue("token", f"the token {weakness}")
        token = token or new_token()
        if expires_at is not None:
            require_aware("expires_at", expires_at)
        user = self._user(name)
        user.issue_token(token_hash(token), actor, self._now(), expires_at)
        self._store(user)
        return token

    @retried
    def revoke_user(self, name: str, actor: str) -> None:
        """Stop a user's token from working, for good. The last administrator cannot be
        revoked (LastAdministrator): nobody could manage users afterwards."""
        user = self._user(name)
        last = user.role is Role.ADMIN and self.administrators() == {user.id}
        if last and not user.revoked:
            raise LastAdministrator(user.name)
        user.revoke(actor, self._now())
        self._store(user)

    def administrators(self) -> set[UUID]:
        """The ids of the administrators not revoked, read from the log (users' creation and
        revocation events only)."""
        admins: set[UUID] = set()
        position = 0
        while batch := self.recorder.select_notifications(
            position + 1, 1000, topics=(_REGISTERED, _REVOKED)
        ):
            for notification in batch:
                user_id = UUID(str(notification.originator_id))
                if notification.topic == _REVOKED:
                    admins.discard(user_id)
                    continue
                role = getattr(self.mapper.to_domain_event(notification), "role", None)
                if role == Role.ADMIN.value:
                    admins.add(user_id)
            position = batch[-1].id
        return admins

    def get_user(self, name: str) -> User:
        """A user by name."""
        try:
            return self._get(User, user_id_for(require_user_name(name)), UserNotFound)
        except UserNotFound:
            raise UserNotFound(name) from None

    def _user(self, name: str) -> User:
        try:
            return self._load(User, user_id_for(require_user_name(name)), UserNotFound)
        except UserNotFound:
            raise UserNotFound(name) from None


def new_token() -> str:
    """A fresh 256-bit bearer token, recognisable by its prefix."""
    return "najda_" + secrets.token_urlsafe(32)
