"""A crew's commands (acknowledge, status, destination), each runnable once per client id."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from najda.domain.dispatch.hospital_status import EdStatus
from najda.domain.dispatch.stations_hospitals import Hospital, hospital_id_for
from najda.domain.errors import (
    Conflict,
    HospitalNotFound,
    InvalidTransition,
    InvalidValue,
    NotTheSameIncident,
)
from najda.domain.persistence.atomic_store import DispatchStore
from najda.domain.persistence.client_command import (
    ClientCommand,
    Content,
    Once,
    client_command_id,
    require_command_id,
)
from najda.domain.values import MAX_REASON, MAX_SHORT, UnitStatus, optional_text, require_text

#: What a command did (the aggregates to save together) and what it answers.
Outcome = tuple[Sequence[Any], dict[str, Any]]

#: Statuses in which a crew chooses where it takes the patient.
CHOOSING_DESTINATION = frozenset({UnitStatus.ON_SCENE, UnitStatus.TRANSPORTING})


class CrewCommands(DispatchStore):
    """Unit status, acknowledgement and destination; with `once`, a client command id makes
    a replay answer the first result (saved in the same atomic save as the command)."""

    def update_unit_status(
        self,
        unit_id: UUID,
        status: UnitStatus,
        actor: str,
        reason: str = "",
        *,
        once: Once | None = None,
        for_incident: UUID | None = None,
    ) -> dict[str, Any]:
        """Move a unit along its lifecycle; finishing a run also clears it from its incident.
        With `for_incident`, refused unless the unit still works that incident (a step
        pressed offline is not applied to the next job)."""
        clean_reason = optional_text("reason", reason, MAX_REASON)

        def act() -> Outcome:
            unit = self._unit(unit_id)
            if for_incident is not None and unit.incident_id != for_incident:
                raise NotTheSameIncident(unit.call_sign, for_incident, unit.incident_id)
            at = self._now()
            incident_id = unit.incident_id
            unit.change_status(UnitStatus(status), actor, at, clean_reason)
            result = {"status": unit.status.value}
            if incident_id is not None and not unit.status.is_committed:
                incident = self._incident(incident_id)
                incident.clear_unit(unit.id, unit.call_sign, actor, at)
                return [unit, incident], result
            return [unit], result

        return self._run(act, actor, once)

    def relocate_unit(self, unit_id: UUID, station_id: UUID, actor: str) -> str:
        """Move an available unit up to a station (a dispatcher accepting a move-up);
        answers the station's code."""

        def act() -> Outcome:
            unit = self._unit(unit_id)
            station = self._station(station_id)
            unit.relocate(station.id, station.code, actor, self._now())
            return [unit], {"station": station.code}

        return str(self._run(act, actor, None)["station"])

    def acknowledge_assignment(
        self, unit_id: UUID, actor: str, *, once: Once | None = None
    ) -> bool:
        """The crew confirms its current assignment; True when this was the first time."""

        def act() -> Outcome:
            unit = self._unit(unit_id)
            first = unit.acknowledge(actor, self._now())
            if not first:
                self._keep(unit)
            return ([unit] if first else []), {"acknowledged": True, "first": first}

        return bool(self._run(act, actor, once)["first"])

    def choose_destination(
        self, unit_id: UUID, hospital_code: str, actor: str, *, once: Once | None = None
    ) -> dict[str, Any]:
        """The crew records the hospital it takes its patient to (on scene or transporting),
        as an event of its incident; a closed emergency department is refused."""
        code = require_text("hospital", hospital_code, MAX_SHORT)

        def act() -> Outcome:
            unit = self._unit(unit_id)
            self._keep(unit)  # read only: the incident's assignment guards the save
            if unit.incident_id is None or unit.status not in CHOOSING_DESTINATION:
                raise InvalidTransition(
                    f"unit {unit.call_sign}",
                    unit.status.value,
                    "destination chosen",
                    "a destination is chosen on scene or transporting, on an incident",
                )
            try:
                hospital = self._get(Hospital, hospital_id_for(code), HospitalNotFound)
            except HospitalNotFound:
                raise InvalidValue("hospital", f"no hospital with code {code!r}") from None
            if hospital.ed_status is EdStatus.CLOSED:
                raise InvalidTransition(
                    f"hospital {hospital.code}",
                    "closed",
                    "destination chosen",
                    hospital.status_reason or "its emergency department is closed",
                )
            incident = self._incident(unit.incident_id)
            incident.choose_destination(
                unit.id, unit.call_sign, hospital.id, hospital.code, hospital.name, actor,
                self._now(),
            )  # fmt: skip
            return [incident], {"destination": hospital.code, "name": hospital.name}

        return self._run(act, actor, once)

    # --- running a command, once per client command id ---------------------------------

    def _run(self, act: Callable[[], Outcome], actor: str, once: Once | None) -> dict[str, Any]:
        if once is None:

            def command() -> dict[str, Any]:
                changed, result = act()
                if changed:
                    self._store(*changed)
                return result

            return self._retry(command)
        ident = client_command_id(once.scope, once.command_id)
        attempts = 0

        def command_once() -> dict[str, Any]:
            # The record is created in the command's own save: a stored one makes that save
            # fail on the store's uniqueness check, so the first attempt need not look it up.
            nonlocal attempts
            attempts += 1
            if attempts > 1 and (recorded := self._recorded_command(ident)) is not None:
                return recorded.replay(once.content)
            try:
                changed, result = act()
            except Conflict as refusal:
                if self._local.served and not self._local.fresh:
                    raise  # decided on cached state: the retry decides again on fresh state
                if (recorded := self._recorded_command(ident)) is not None:
                    return recorded.replay(once.content)  # refused now, but done before
                self._store(self._command_record(ident, once, {}, str(refusal), actor))
                raise
            self._store(*changed, self._command_record(ident, once, result, None, actor))
            return result

        return self._retry(command_once)

    def _command_record(
        self, ident: UUID, once: Once, result: dict[str, Any], refused: str | None, actor: str
    ) -> ClientCommand:
        return ClientCommand(
            id=ident,
            scope=once.scope,
            command_id=once.command_id,
            content=once.content,
            result=result,
            refused=refused,
            actor=actor,
            at=self._now(),
        )

    def _recorded_command(self, ident: UUID) -> ClientCommand | None:
        try:
            found: object = self.repository.get(ident)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, ClientCommand) else None


def crew_scope(unit_id: UUID) -> str:
    """The scope of a unit's crew commands: ids are unique per unit."""
    return f"unit:{unit_id}"


def status_once(
    unit_id: UUID, command_id: object, status: UnitStatus, reason: str, for_incident: UUID | None
) -> Once:
    """A status press to run once per client command id (its content: what decides it)."""
    content: Content = {
        "type": "status",
        "status": status.value,
        "reason": reason,
        "incident_id": None if for_incident is None else str(for_incident),
    }
    return Once(crew_scope(unit_id), require_command_id(command_id), content)


def destination_once(unit_id: UUID, command_id: object, hospital_code: str) -> Once:
    """A destination choice to run once per client command id."""
    content: Content = {"type": "destination", "hospital": hospital_code.strip()}
    return Once(crew_scope(unit_id), require_command_id(command_id), content)
