"""Domain errors: one root, one subclass per refusal, each saying when it is raised."""

from __future__ import annotations

from uuid import UUID


class DispatchError(Exception):
    """Root of every error the dispatch domain raises on purpose."""


class InvalidValue(DispatchError, ValueError):
    """Raised when a command carries a value outside its domain (names the field)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class NotFound(DispatchError):
    """Raised when a referenced aggregate does not exist."""

    kind = "object"

    def __init__(self, ident: UUID | str) -> None:
        super().__init__(f"{self.kind} {ident} not found")
        self.ident = ident


class IncidentNotFound(NotFound):
    """Raised when no incident has the given id."""

    kind = "incident"


class UnitNotFound(NotFound):
    """Raised when no unit has the given id or call sign."""

    kind = "unit"


class StationNotFound(NotFound):
    """Raised when no station has the given id or code."""

    kind = "station"


class HospitalNotFound(NotFound):
    """Raised when no hospital has the given id or code."""

    kind = "hospital"


class UserNotFound(NotFound):
    """Raised when no user has the given name."""

    kind = "user"


class Conflict(DispatchError):
    """Raised when a command conflicts with the current state (HTTP 409)."""


class AlreadyExists(Conflict):
    """Raised when registering something whose natural key is already taken."""


class InvalidTransition(Conflict):
    """Raised when a unit or incident is asked to move to a status it cannot reach now."""

    def __init__(self, subject: str, current: str, requested: str, reason: str = "") -> None:
        text = f"{subject} cannot go from {current!r} to {requested!r}"
        super().__init__(f"{text}: {reason}" if reason else text)
        self.subject = subject
        self.current = current
        self.requested = requested


class UnitNotAvailable(Conflict):
    """Raised when assigning a unit that is not available (names its status)."""

    def __init__(self, call_sign: str, status: str) -> None:
        super().__init__(f"unit {call_sign} is not available (status {status!r})")
        self.call_sign = call_sign
        self.status = status


class IncidentNotOpen(Conflict):
    """Raised when changing an incident that is already closed or cancelled."""

    def __init__(self, incident_id: UUID, status: str) -> None:
        super().__init__(f"incident {incident_id} is {status}")
        self.incident_id = incident_id
        self.status = status


class UnitNotOnIncident(Conflict):
    """Raised when releasing a unit that is not assigned to the incident."""

    def __init__(self, call_sign: str, incident_id: UUID) -> None:
        super().__init__(f"unit {call_sign} is not assigned to incident {incident_id}")


class IncidentHasActiveUnits(Conflict):
    """Raised when closing an incident while units are still working it."""

    def __init__(self, incident_id: UUID, call_signs: list[str]) -> None:
        super().__init__(
            f"incident {incident_id} still has active units: {', '.join(sorted(call_signs))}"
        )


class ConcurrentChange(Conflict):
    """Raised when a concurrent command changed the same aggregate first (lost the race)."""


class CommandIdReused(Conflict):
    """Raised when a client command id already recorded comes back with different content."""

    def __init__(self, command_id: str, recorded: str, sent: str) -> None:
        super().__init__(
            f"command_id: {command_id!r} was already used for {recorded}, not {sent}; "
            "nothing was done (give each new command a new id)"
        )
        self.command_id = command_id


class RefusedBefore(Conflict):
    """Raised when a replayed client command was refused the first time (same answer again)."""


class NotTheSameIncident(Conflict):
    """Raised when a crew's step was meant for an incident its unit no longer works."""

    def __init__(self, call_sign: str, meant: UUID, current: UUID | None) -> None:
        now = f"incident {current}" if current is not None else "no incident"
        super().__init__(
            f"incident_id: the step was for incident {meant}, but unit {call_sign} is on {now}"
        )
class UnitAlreadyOnIncident(Conflict):
    """Raised when assigning a unit to the incident it already works."""

    def __init__(self, call_sign: str, incident_id: UUID) -> None:
        super().__init__(f"unit {call_sign} is already assigned to incident {incident_id}")
        self.call_sign = call_sign


class UnitMovedMeanwhile(Conflict):
    """Raised when a re-assignment's precondition fails: the unit no longer works the
    incident the dispatcher saw it on (it moved, cleared or was released meanwhile)."""

    def __init__(self, call_sign: str, expected: UUID, actual: UUID | None) -> None:
        now = f"is on incident {actual}" if actual is not None else "is on no incident"
        super().__init__(
            f"unit {call_sign} moved meanwhile: expected on incident {expected}, it {now}"
        )
        self.call_sign = call_sign
