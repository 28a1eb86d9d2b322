"""Recommendations: per requirement of the response plan, whether committed units fill it,
else the nearest units that would, else the nearest substitute of another kind."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING
from uuid import UUID

from najda.domain.dispatch.coverage import Committed, fill, short_of
from najda.domain.dispatch.incident import Incident
from najda.domain.dispatch.response_plan import Requirement, ResponsePlan
from najda.domain.values import Priority, UnitKind
from najda.projections.dispatch.locator import Candidate, Query, UnitLocator
from najda.projections.dispatch.read_model_changes import BoardRow

if TYPE_CHECKING:
    from najda.projections.policies.recommender import CoverageImpact, Hold


class RequirementState(StrEnum):
    """What a requirement needs now."""

    FILLED = "filled"  # committed units fill it: nothing to propose
    PROPOSED = "proposed"  # available units would fill it: the best are proposed
    UNAVAILABLE = "unavailable"  # not enough suitable units are available


@dataclass(frozen=True)
class RequirementOptions:
    """One requirement: the units filling it, the units proposed, and the alternatives."""

    requirement: Requirement
    proposed: list[Candidate] = field(default_factory=list)
    alternatives: list[Candidate] = field(default_factory=list)
    filled_by: list[Committed] = field(default_factory=list)
    substitute: Candidate | None = None

    @property
    def needed(self) -> int:
        """How many more units the requirement needs."""
        return max(0, self.requirement.count - len(self.filled_by))

    @property
    def state(self) -> RequirementState:
        """Filled, proposed (enough suitable units found) or unavailable."""
        if self.needed == 0:
            return RequirementState.FILLED
        if len(self.proposed) >= self.needed:
            return RequirementState.PROPOSED
        return RequirementState.UNAVAILABLE

    @property
    def filled(self) -> bool:
        """True when committed units fill the requirement."""
        return self.needed == 0


@dataclass(frozen=True)
class Recommendation:
    """What the response plan asks for this incident, and which units to send (under
    `policy`; a coverage policy adds each ambulance's `impacts` on coverage, and `hold`
    when it would keep this lower-priority call waiting for now)."""

    lines: list[RequirementOptions]
    impacts: Mapping[UUID, CoverageImpact] = field(default_factory=dict)
    policy: str = ""
    hold: Hold | None = None

    @property
    def proposed(self) -> list[Candidate]:
        """Every proposed unit, in plan order (none for a filled requirement)."""
        return [c for line in self.lines for c in line.proposed]

    @property
    def short(self) -> list[str]:
        """The labels of the requirements committed units do not fill yet."""
        return [line.requirement.label for line in self.lines if not line.filled]


async def committed_units(incident: Incident, locator: UnitLocator) -> list[Committed]:
    """The incident's active units with their kind and capabilities, in assignment order."""
    out: list[Committed] = []
    for unit_id in incident.active_unit_ids:
        assignment = incident.assignments[unit_id]
        row = await locator.get(unit_id)
        capabilities = row.capabilities if row is not None else ()
        out.append(Committed(unit_id, assignment.call_sign, assignment.kind, capabilities))
    return out


async def recommend(
    incident: Incident,
    plan: ResponsePlan,
    locator: UnitLocator,
    *,
    alternatives: int = 4,
) -> Recommendation:
    """The recommendation for an open incident, counting the units already committed."""
    return await recommend_at(
        incident.location.lat,
        incident.location.lon,
        incident.priority,
        incident.nature,
        plan,
        locator,
        committed=await committed_units(incident, locator),
        alternatives=alternatives,
        determinant=incident.determinant,
    )


async def recommend_at(
    lat: float,
    lon: float,
    priority: Priority,
    nature: str,
    plan: ResponsePlan,
    locator: UnitLocator,
    *,
    committed: Sequence[Committed] = (),
    alternatives: int = 4,
    determinant: str = "",
) -> Recommendation:
    """The recommendation for a call of this priority, nature and determinant at (lat, lon):
    requirements the committed units fill propose nothing; the others are filled in plan
    order with the nearest suitable units not already proposed."""
    requirements = plan.requirements_for(priority, nature, determinant)
    excluded = {u.unit_id for u in committed}
    lines: list[RequirementOptions] = []
    for requirement, filled_by in zip(requirements, fill(requirements, committed), strict=True):
        needed = max(0, requirement.count - len(filled_by))
        if needed == 0:
            lines.append(RequirementOptions(requirement, filled_by=filled_by))
            continue
        found = await locator.nearest(
            Query(
                lat=lat,
                lon=lon,
                kinds=requirement.kinds,
                capabilities=requirement.capabilities,
                limit=needed + alternatives,
                exclude=frozenset(excluded),
            )
        )
        proposed = found[:needed]
        excluded.update(c.unit_id for c in proposed)
        substitute = None
        if len(proposed) < needed:
            substitute = await _substitute(lat, lon, requirement, frozenset(excluded), locator)
        lines.append(
            RequirementOptions(requirement, proposed, found[needed:], filled_by, substitute)
        )
    return Recommendation(lines)


async def _substitute(
    lat: float,
    lon: float,
    requirement: Requirement,
    excluded: frozenset[UUID],
    locator: UnitLocator,
) -> Candidate | None:
    """The nearest available unit of another kind, for a requirement nothing can fill (a
    mental-health crisis team never stands in for a medical requirement)."""
    others = frozenset(UnitKind) - requirement.kinds
    if UnitKind.CRISIS not in requirement.kinds:
        others -= {UnitKind.CRISIS}
    if not others:
        return None
    found = await locator.nearest(Query(lat=lat, lon=lon, kinds=others, limit=1, exclude=excluded))
    return found[0] if found else None


def short_on_board(
    row: BoardRow, plan: ResponsePlan, capabilities: Mapping[UUID, tuple[str, ...]]
) -> list[str]:
    """The labels of the requirements a board row's units leave unfilled (all of them while
    it is pending); `capabilities` holds each unit's, by id."""
    committed = [
        Committed(u.unit_id, u.call_sign, u.kind, capabilities.get(u.unit_id, ()))
        for u in row.units
    ]
    return short_of(plan.requirements_for(row.priority, row.nature, row.determinant), committed)


def short_of_incident(
    incident: Incident, plan: ResponsePlan, capabilities: Mapping[UUID, tuple[str, ...]]
) -> list[str]:
    """The labels of the requirements an incident's active units leave unfilled (as
    short_on_board says of its board row); `capabilities` holds each unit's, by id."""
    active = sorted(
        (a for a in incident.assignments.values() if a.active), key=lambda a: a.assigned_at
    )
    committed = [
        Committed(a.unit_id, a.call_sign, a.kind, capabilities.get(a.unit_id, ())) for a in active
    ]
    requirements = plan.requirements_for(incident.priority, incident.nature, incident.determinant)
    return short_of(requirements, committed)
