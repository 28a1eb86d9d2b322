"""Re-assignment: a unit leaves one incident for another in one command and one save."""

from __future__ import annotations

from uuid import UUID

from najda.domain.dispatch.command_inputs import UnitChoice
from najda.domain.errors import InvalidValue, UnitMovedMeanwhile
from najda.domain.persistence.atomic_store import DispatchStore, retried
from najda.domain.values import MAX_REASON, optional_text


class ReassignCommands(DispatchStore):
    """Take a committed unit from the incident it works and give it to another."""

    @retried
    def reassign_unit(
        self,
        choice: UnitChoice,
        to_incident_id: UUID,
        *,
        from_incident_id: UUID,
        actor: str,
        reason: str = "",
    ) -> int:
        """Release the unit from `from_incident_id` and dispatch it to `to_incident_id`:
        the unit and both incidents are saved together, so either both happen or neither.

        `from_incident_id` is the precondition: the incident the dispatcher saw the unit on.
        If the unit moved meanwhile (cleared, released, re-assigned elsewhere) this raises
        UnitMovedMeanwhile and nothing changes. The source incident's requirement the unit
        filled becomes unfilled again. Returns the notification position of the save.
        """
        if from_incident_id == to_incident_id:
            raise InvalidValue("from_incident_id", "the unit is already on this incident")
        clean_reason = optional_text("reason", reason, MAX_REASON)
        unit = self._unit(choice.unit_id)
        if unit.incident_id != from_incident_id:
            raise UnitMovedMeanwhile(unit.call_sign, from_incident_id, unit.incident_id)
        source = self._incident(from_incident_id)
        target = self._incident(to_incident_id)
        target.require_open()
        why = clean_reason or f"re-assigned to incident {target.id}"
        at = self._now()
        unit.release(source.id, why, actor, at)
        source.release_unit(unit.id, unit.call_sign, why, actor, at)
        unit.dispatch(target.id, actor, at)
        target.assign_unit(
            unit.id, unit.call_sign, unit.kind, choice.distance_m, choice.eta_s, actor, at
        )
        return self._store(source, target, unit)
