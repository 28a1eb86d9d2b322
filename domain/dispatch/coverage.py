"""Which committed units fill which requirement of a response plan (a pure matching)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from najda.domain.dispatch.response_plan import Requirement
from najda.domain.values import UnitKind


@dataclass(frozen=True)
class Committed:
    """A unit actively assigned to an incident, as the response plan sees it."""

    unit_id: UUID
    call_sign: str
    kind: UnitKind
    capabilities: tuple[str, ...] = ()


def fill(requirements: Sequence[Requirement], units: Sequence[Committed]) -> list[list[Committed]]:
    """Per requirement, the committed units that fill it: a maximum matching of units to
    the requirements' places (earlier requirements keep their units; one unit fills one
    place), so an ALS listed first never leaves a later ALS-only place short needlessly."""
    places = [i for i, r in enumerate(requirements) for _ in range(r.count)]
    holder: dict[int, int] = {}  # unit index -> place index

    def seat(place: int, tried: set[int]) -> bool:
        requirement = requirements[places[place]]
        fits = [
            u
            for u, unit in enumerate(units)
            if u not in tried and requirement.accepts(unit.kind, unit.capabilities)
        ]
        # A free unit first (in assignment order); only then move a unit already seated.
        for u in sorted(fits, key=lambda u: u in holder):
            if u in tried:
                continue
            tried.add(u)
            if u not in holder or seat(holder[u], tried):
                holder[u] = place
                return True
        return False

    for place in range(len(places)):
        seat(place, set())
    filled: list[list[Committed]] = [[] for _ in requirements]
    for u, place in sorted(holder.items()):
        filled[places[place]].append(units[u])
    return filled


def short_of(requirements: Sequence[Requirement], units: Sequence[Committed]) -> list[str]:
    """The labels of the requirements the committed units leave unfilled."""
    return [
        r.label
        for r, got in zip(requirements, fill(requirements, units), strict=True)
        if len(got) < r.count
    ]
