"""An incident viewed at a past instant (`GET /incidents/{id}?as_of=`) shows the requirements
of the response plan its units left unfilled then (`short`), as the view of that time did."""

from __future__ import annotations

import asyncio
from pathlib import Path
from uuid import UUID

from najda.api.queries import incident_as_of_view, incident_view
from najda.api.services import open_services
from najda.api.settings import Settings
from najda.domain.application import UnitChoice
from najda.domain.dispatch.response_plan import default_response_plan
from najda.domain.values import Position, Priority, UnitKind
from najda.projections.store.event_rows import EventLog
from tests.fakes import T0, StoppedClock

ALS = "ALS ambulance"
OTHER = "nearest other unit"


async def _views(data: Path) -> tuple[list[list[str]], list[list[str]], list[str]]:
    """A priority D call (an ALS ambulance and the nearest other unit) worked in three steps;
    each step's view now, the same instants viewed later by position and by time, and the
    view now after the units were released."""
    settings = Settings(data_dir=data, seed_demo=False)
    async with open_services(settings, default_response_plan()) as services:
        app = services.dispatch
        clock = StoppedClock(T0)
        app.clock = clock
        a1, b1 = await services.command(
            lambda: (
                app.register_unit("A1", UnitKind.ALS, "roster", home=Position(36.751, 3.061)),
                app.register_unit("B1", UnitKind.BLS, "roster", home=Position(36.752, 3.06)),
            )
        )
        incident: UUID = await services.command(
            lambda: app.report_incident(
                location=Position(36.75, 3.06), address="", nature="chest pain",
                priority=Priority.D, actor="d.one",
            )
        )  # fmt: skip
        then: list[tuple[int, str]] = []
        shown_then: list[list[str]] = []

        async def mark() -> None:  # each step: its view now, and its instant
            then.append((EventLog(app).head(), clock.now.isoformat()))
            shown_then.append((await incident_view(services, incident)).short)
            clock.advance(10)

        await mark()
        await services.command(lambda: app.assign_units(incident, [UnitChoice(a1)], "d.one"))
        await mark()
        await services.command(lambda: app.assign_units(incident, [UnitChoice(b1)], "d.one"))
        await mark()
        for unit in (a1, b1):
            await services.command(lambda u=unit: app.release_unit(incident, u, "test", "d.one"))
        later: list[list[str]] = []
        for position, at in then:
            by_position = await incident_as_of_view(services, incident, str(position))
            by_time = await incident_as_of_view(services, incident, at)
            assert by_position.short == by_time.short
            later.append(by_position.short)
        return shown_then, later, (await incident_view(services, incident)).short


def test_a_past_view_reports_short_what_was_short_then(tmp_path: Path) -> None:
    shown_then, later, now = asyncio.run(_views(tmp_path / "data"))
    assert shown_then == [[ALS, OTHER], [OTHER], []]
    assert later == shown_then
    assert now == [ALS, OTHER]  # released: both short again, which the past views are not
