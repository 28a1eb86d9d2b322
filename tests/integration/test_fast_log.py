"""The rebuild's fast log reader gives the same fields as the application's own mapper."""

from __future__ import annotations

import pytest

from najda.api.eido import DEFAULT_AGENCY  # noqa: F401 - keeps the api package importable here
from najda.domain.application import Dispatch
from najda.projections.base import NotificationSource
from najda.projections.store.environment import asyncpg_dsn
from najda.projections.store.fast_log_reader import FastLogReader
from najda.projections.store.postgis_pool import PostgisProjections
from tests.integration.support import run
from tests.integration.test_cli_audit import _history

pytestmark = pytest.mark.postgres


def test_every_field_of_every_event_reads_the_same_as_through_the_mapper(
    postgres_app: Dispatch, pg_url: str
) -> None:
    _history(postgres_app)
    station = postgres_app.register_station  # reference data too
    from najda.domain.values import Position

    station("S1", "North", Position(36.7, 3.0), "admin")
    expected = NotificationSource(postgres_app).read(0, 1000)

    async def read() -> list[object]:
        async with await PostgisProjections.connect(asyncpg_dsn(pg_url)) as models:
            return list(await FastLogReader(postgres_app, models.pool).read(0, 1000))

    got = run(read())

    assert len(got) == len(expected) > 25
    for fast, slow in zip(got, expected, strict=True):
        assert (fast.position, fast.topic, fast.originator_id) == (  # type: ignore[attr-defined]
            slow.position,
            slow.topic,
            slow.originator_id,
        )
        fields = {k: v for k, v in vars(slow.event).items() if k not in ("timestamp",)}
        for name, value in fields.items():
            assert getattr(fast.event, name) == value, (slow.topic, name)  # type: ignore[attr-defined]
