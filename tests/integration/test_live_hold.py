"""The coverage policy's "hold this call", live: a lower-priority call that would leave the
area without cover is recommended as held, with the reason, until a unit frees (or the
hold runs out); urgent calls are never held; auto-dispatch leaves a held call to a person."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from uuid import UUID

from fastapi import Response

from najda.api.queries import recommendation_for
from najda.api.routes.incidents import report_incident
from najda.api.schemas_incidents import IncidentCreate, RecommendationPublic
from najda.api.services import Services, open_services
from najda.api.settings import Settings
from najda.domain.application import UnitChoice
from najda.domain.dispatch.response_plan import default_response_plan
from najda.domain.values import Position, Priority, UnitKind

#: Two stations far apart: North holds two ambulances, South one.
NORTH = (36.90, 3.06)
SOUTH = (36.75, 3.06)
NEAR_NORTH = (36.905, 3.065)
FAR_AWAY = (36.60, 2.80)


async def _recommend(services: Services, incident_id: UUID) -> RecommendationPublic:
    incident = await services.query(lambda: services.dispatch.get_incident(incident_id))
    return await recommendation_for(services, incident)


async def _report(
    services: Services, priority: Priority, where: tuple[float, float], ago_s: float = 0.0
) -> UUID:
    at = services.now() - timedelta(seconds=ago_s)
    return await services.command(lambda: services.dispatch.report_incident(
        location=Position(*where), address="here", nature="fall", priority=priority,
        actor="d.one", call_received_at=at,
    ))


async def _scenario(data: Path) -> None:
    settings = Settings(data_dir=data, seed_demo=False, policy="coverage-straight",
                        auto_dispatch=frozenset({Priority.C}))
    async with open_services(settings, default_response_plan()) as services:

        def register() -> None:
            app = services.dispatch
            north = app.register_station("N", "North", Position(*NORTH), "roster")
            south = app.register_station("S", "South", Position(*SOUTH), "roster")
            for sign, station in (("A1", north), ("A2", north), ("A3", south)):
                app.register_unit(sign, UnitKind.ALS, "roster", station_id=station)

        await services.command(register)
        lower = await _report(services, Priority.C, NEAR_NORTH)
        free = await _recommend(services, lower)
        assert free.state == "dispatch" and free.hold is None  # two units would stay

        # An urgent call far to the south takes South's ambulance.
        busy = await _report(services, Priority.E, FAR_AWAY)
        first = (await _recommend(services, busy)).proposed[0]
        assert first.call_sign == "A3"
        await services.command(lambda: services.dispatch.assign_units(
            busy, [UnitChoice(first.unit_id)], "d.one"))

        held = await _recommend(services, lower)
        assert held.state == "hold" and held.hold is not None
        hold = held.hold
        # South's only ambulance went: sending one of North's two leaves North one.
        assert hold.zones == ["North first-due area"] and not hold.unit.emptied
        assert hold.reason.startswith(
            "hold: dispatching now leaves North first-due area with fewer ambulances within"
            " 8 min (expected cover "
        )
        assert hold.expected_after is not None and hold.floor is not None
        assert hold.expected_after < hold.floor
        assert f"{hold.expected_after:.0%} of demand; the policy holds below {hold.floor:.0%}" \
            in hold.reason
        assert "re-evaluate when a unit frees (at the latest " in hold.reason
        incident = await services.query(lambda: services.dispatch.get_incident(lower))
        assert hold.until == incident.call_received_at + timedelta(minutes=10)
        # Never hidden: the policy's choice is still proposed, the dispatcher may send it.
        assert held.proposed and held.proposed[0].call_sign == hold.call_sign
        # An urgent call at the same place is never held.
        urgent = await _report(services, Priority.E, NEAR_NORTH)
        assert (await _recommend(services, urgent)).state == "dispatch"
        await services.command(lambda: services.dispatch.cancel_incident(urgent, "test", "d"))
        # A call held for longer than the policy's limit is not held any more.
        old = await _report(services, Priority.C, NEAR_NORTH, ago_s=11 * 60)
        assert (await _recommend(services, old)).state == "dispatch"
        await services.command(lambda: services.dispatch.cancel_incident(old, "test", "d"))

        # Auto-dispatch of C calls leaves a held one pending, the reason in its answer.
        body = IncidentCreate(lat=NEAR_NORTH[0], lon=NEAR_NORTH[1], nature="fall",
                              priority=Priority.C)
        answer = await report_incident(body, services, "d.one", Response())
        assert answer.status == "pending" and not answer.assignments
        assert answer.recommendation is not None and answer.recommendation.state == "hold"
        await services.command(lambda: services.dispatch.cancel_incident(answer.id, "t", "d"))

        # The busy ambulance frees: the held call is dispatchable again.
        await services.command(lambda: services.dispatch.cancel_incident(busy, "test", "d"))
        again = await _recommend(services, lower)
        assert again.state == "dispatch" and again.hold is None


def test_a_lower_priority_call_is_held_while_it_would_leave_no_cover(tmp_path: Path) -> None:
    asyncio.run(_scenario(tmp_path / "data"))
