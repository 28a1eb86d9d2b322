"""Recommendations: for each requirement of the response plan, the nearest units that fill it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from uuid import UUID

from domain.incident import Incident
from domain.response_plan import Requirement, ResponsePlan
from domain.values import Priority
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
    return await recommend_at(
        incident.location.lat,
        incident.location.lon,
        incident.priority,
        incident.nature,
        plan,
        locator,
        taken=incident.active_unit_ids,
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
    taken: Iterable[UUID] = (),
    alternatives: int = 4,
    determinant: str = "",
) -> Recommendation:
    """The recommendation for a call of this priority, nature and determinant at (lat, lon)."""
    excluded = set(taken)
    lines: list[RequirementOptions] = []
    for requirement in plan.requirements_for(priority, nature, determinant):
        found = await locator.nearest(
            Query(
                lat=lat,
                lon=lon,
                kinds=requirement.kinds,
                capabilities=requirement.capabilities,
                limit=requirement.count + alternatives,
                exclude=frozenset(excluded),
            )
        )
        proposed = found[: requirement.count]
        excluded.update(c.unit_id for c in proposed)
        lines.append(RequirementOptions(requirement, proposed, found[requirement.count :]))
    return Recommendation(lines)
