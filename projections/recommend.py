"""Recommendations: for each requirement of the response plan, the nearest units that fill it."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.incident import Incident
from domain.response_plan import Requirement, ResponsePlan
from projections.locator import Candidate, Query, UnitLocator


@dataclass(frozen=True)
class RequirementOptions:
    """One requirement with its proposed units and the ranked alternatives."""

    requirement: Requirement
    proposed: list[Candidate] = field(default_factory=list)
    alternatives: list[Candidate] = field(default_factory=list)

    @property
    def filled(self) -> bool:
        """True when enough units were found."""
        return len(self.proposed) >= self.requirement.count


@dataclass(frozen=True)
class Recommendation:
    """What the response plan asks for this incident, and which units to send."""

    lines: list[RequirementOptions]

    @property
    def proposed(self) -> list[Candidate]:
        """Every proposed unit, in plan order."""
        return [c for line in self.lines for c in line.proposed]


async def recommend(
    incident: Incident,
    plan: ResponsePlan,
    locator: UnitLocator,
    *,
    alternatives: int = 4,
) -> Recommendation:
    """Fill each requirement in order with the nearest suitable units not already proposed."""
    taken = set(incident.active_unit_ids)
    lines: list[RequirementOptions] = []
    for requirement in plan.requirements_for(incident.priority, incident.nature):
        found = await locator.nearest(
            Query(
                lat=incident.location.lat,
                lon=incident.location.lon,
                kinds=requirement.kinds,
                capabilities=requirement.capabilities,
                limit=requirement.count + alternatives,
                exclude=frozenset(taken),
            )
        )
        proposed = found[: requirement.count]
        taken.update(c.unit_id for c in proposed)
        lines.append(RequirementOptions(requirement, proposed, found[requirement.count :]))
    return Recommendation(lines)
