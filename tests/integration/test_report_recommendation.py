"""A reported incident is ranked once: the live feed ranks it at the position of its report
(with the REST answer's alternatives) and the REST answer to the same report reads that."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import Response

from najda.api.live.subscribers import Interest
from najda.api.queries import incident_view
from najda.api.routes.incidents import report_incident
from najda.api.schemas_incidents import IncidentCreate, IncidentPublic
from najda.api.services import Services, open_services
from najda.api.settings import Settings
from najda.domain.dispatch.response_plan import default_response_plan
from najda.domain.values import Position, Priority, UnitKind

UNITS = {"A1": (36.751, 3.061), "A2": (36.76, 3.07), "A3": (36.79, 3.1), "B1": (36.752, 3.06)}


def counting(services: Services) -> list[tuple[Any, ...]]:
    """Wrap the server's real recommender so that each ranking is recorded (and still done)."""
    recommender = services.recommender
    assert recommender is not None
    calls: list[tuple[Any, ...]] = []
    real: Callable[..., Awaitable[Any]] = recommender.recommend_at

    async def recommend_at(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[:2])
        return await real(*args, **kwargs)

    recommender.recommend_at = recommend_at  # type: ignore[method-assign]
    return calls


async def _report(data: Path) -> tuple[int, IncidentPublic, list[dict[str, Any]], IncidentPublic]:
    """One report through the REST route on a server's services; the rankings it caused,
    its answer, the console's messages and the answer to a second reading."""
    settings = Settings(data_dir=data, seed_demo=False)
    async with open_services(settings, default_response_plan()) as services:

        def register() -> None:
            for call_sign, (lat, lon) in UNITS.items():
                kind = UnitKind.BLS if call_sign.startswith("B") else UnitKind.ALS
                services.dispatch.register_unit(call_sign, kind, "roster", home=Position(lat, lon))

        await services.command(register)
        console, _ = services.feed.subscribe(Interest(), None, 1000)
        calls = counting(services)
        body = IncidentCreate(lat=36.75, lon=3.06, nature="fall", priority=Priority.B)
        answer = await report_incident(body, services, "d.one", Response())
        ranked = len(calls)
        messages = [json.loads(t) for t in await console.next()]
        again = await incident_view(services, answer.id, recommend=True)
        assert len(calls) == ranked + 1  # a later reading ranks anew (the state may have moved)
        return ranked, answer, messages, again


def test_one_report_ranks_its_recommendation_once(tmp_path: Path) -> None:
    ranked, answer, messages, again = asyncio.run(_report(tmp_path / "data"))
    assert ranked == 1
    reported = [m for m in messages if m["event"] == "Incident.Reported"]
    assert len(reported) == 1
    assert answer.recommendation is not None
    shown = [[c["call_sign"] for c in line["proposed"]] for line in reported[0]["recommendation"]]
    answered = [[c.call_sign for c in r.proposed] for r in answer.recommendation.requirements]
    assert shown == answered
    assert answered[0][0] == "A1"  # the nearest ALS unit
    # The answer has the REST answer's alternatives, and equals a fresh ranking.
    assert any(r.alternatives for r in answer.recommendation.requirements)
    assert again.recommendation == answer.recommendation
