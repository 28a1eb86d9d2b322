"""Hospital status on both real stores: events in the log, the directory that follows it."""

from __future__ import annotations

from najda.domain.application import Dispatch
from najda.domain.dispatch.hospital_status import EdStatus
from najda.domain.values import Position
from najda.projections.base import NotificationSource
from najda.projections.dispatch.stations_hospitals import ReferenceDirectory
from najda.projections.runner import ProjectionRunner
from tests.fakes import T0, TickingClock
from tests.integration.support import run


def test_status_updates_reach_the_directory_in_order_and_survive_a_rebuild(
    store_app: Dispatch,
) -> None:
    store_app.clock = TickingClock()
    hospital = store_app.register_hospital(
        "CHU", "University Hospital", Position(36.71, 3.08), ["stroke", "emergency"], "admin"
    )
    store_app.update_hospital_status(
        hospital, "d.ali", ed_status="advisory", beds={"icu": 2, "psychiatric": 0}, reason="busy"
    )
    store_app.update_hospital_status(hospital, "d.sara", beds={"icu": 1}, services=["Stroke"])
    store_app.update_hospital_status(
        hospital, "d.ali", ed_status=EdStatus.CLOSED, reason="power cut"
    )

    async def follow() -> tuple[ReferenceDirectory, ReferenceDirectory]:
        live = ReferenceDirectory()
        runner = ProjectionRunner(NotificationSource(store_app), [live])
        await runner.catch_up()
        rebuilt = ReferenceDirectory()
        for batch_size in (1, 2):  # any batching gives the same directory
            await rebuilt.reset()
            await ProjectionRunner(
                NotificationSource(store_app), [rebuilt], batch_size=batch_size
            ).catch_up()
        return live, rebuilt

    live, rebuilt = run(follow())

    status = live.hospital_status(hospital)
    assert status.ed_status is EdStatus.CLOSED
    assert dict(status.beds) == {"icu": 1, "psychiatric": 0}
    assert (status.reason, status.updated_by) == ("power cut", "d.ali")
    assert status.updated_at is not None and status.updated_at > T0
    assert live.hospitals[hospital].services == ("stroke",)
    assert rebuilt.statuses == live.statuses and rebuilt.hospitals == live.hospitals
    stored = store_app.get_hospital(hospital)
    assert (stored.ed_status, stored.beds) == (status.ed_status, dict(status.beds))
