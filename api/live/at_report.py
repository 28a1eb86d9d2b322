"""A new incident's recommendation, computed once by the feed at the position of its report
and kept for the REST answer to the same report (which reads it instead of ranking again)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from najda.domain.dispatch.incident import Incident
from najda.domain.dispatch.response_plan import ResponsePlan
from najda.domain.values import Priority
from najda.projections.dispatch.locator import UnitLocator
from najda.projections.dispatch.recommendations import Recommendation, recommend_at
from najda.projections.policies.recommender import PolicyRecommender

#: Alternatives ranked per requirement, as the REST answer shows them (the feed shows none).
ALTERNATIVES = 4
#: Reports kept for their answer; the answer reads its own within a request.
KEPT = 256


@dataclass(frozen=True)
class Call:
    """What a new incident's recommendation is ranked from."""

    lat: float
    lon: float
    priority: Priority
    nature: str
    determinant: str
    call_at: datetime

    @classmethod
    def of(cls, incident: Incident) -> Call:
        """The call as the incident holds it now."""
        return cls(
            incident.location.lat,
            incident.location.lon,
            Priority(incident.priority),
            incident.nature,
            incident.determinant,
            incident.call_received_at,
        )


class AtReport:
    """Ranks a reported call once (with the REST answer's alternatives) and keeps the result
    for the answer; bounded, not saved (after a restart the answer ranks it itself)."""

    def __init__(
        self, locator: UnitLocator, plan: ResponsePlan, recommender: PolicyRecommender | None
    ) -> None:
        self.locator = locator
        self.plan = plan
        self.recommender = recommender
        self._kept: OrderedDict[UUID, tuple[Call, Recommendation]] = OrderedDict()

    def clear(self) -> None:
        """Forget every kept recommendation."""
        self._kept.clear()

    async def rank(self, incident_id: UUID, call: Call) -> Recommendation:
        """The recommendation for a newly reported call, kept for its REST answer."""
        if self.recommender is not None:
            rec = await self.recommender.recommend_at(
                call.lat, call.lon, call.priority, call.nature, self.plan,
                alternatives=ALTERNATIVES, determinant=call.determinant, call_at=call.call_at,
            )  # fmt: skip
        else:
            rec = await recommend_at(
                call.lat, call.lon, call.priority, call.nature, self.plan, self.locator,
                alternatives=ALTERNATIVES, determinant=call.determinant,
            )  # fmt: skip
        self._kept[incident_id] = (call, rec)
        while len(self._kept) > KEPT:
            self._kept.popitem(last=False)
        return rec

    def take(self, incident: Incident) -> Recommendation | None:
        """The kept recommendation of this incident's report, once, if nothing it was ranked
        from has changed since (no unit committed, same call); else None (rank it anew)."""
        kept = self._kept.pop(incident.id, None)
        if kept is None or incident.active_unit_ids:
            return None
        call, rec = kept
        return rec if call == Call.of(incident) else None
