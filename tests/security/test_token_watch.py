"""The token watch behind H1, on a real SQLite store: a socket's wait ends when its token is
revoked or replaced, when it expires, or when what its user may see changes; never for
another user's change."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from najda.api.live.tokens import TokenWatch
from najda.domain.access.user import token_hash
from najda.domain.application import Dispatch
from najda.projections.access.user_directory import UserDirectory
from najda.projections.base import NotificationSource
from najda.projections.store.environment import sqlite_env
from tests.fakes import new_dispatch


async def _follow(app: Dispatch, users: UserDirectory) -> None:
    source = NotificationSource(app)
    await users.apply(source.read(await users.position(), 1000))


async def _scenario(path: Path) -> dict[str, str]:
    app = new_dispatch(env=sqlite_env(path))
    try:
        users = UserDirectory()
        watch = TokenWatch(users, app.clock)
        soon = app.clock() + timedelta(seconds=0.5)
        tokens = {
            "revoked": app.add_user("d.revoked", "dispatcher", "t"),
            "replaced": app.add_user("d.replaced", "dispatcher", "t"),
            "expiring": app.add_user("d.expiring", "dispatcher", "t", expires_at=soon),
            "changed": app.add_user("dr.changed", "specialist", "t", specialties=["stroke"]),
            "bystander": app.add_user("d.bystander", "dispatcher", "t"),
        }
        await _follow(app, users)
        digests = {k: token_hash(t) for k, t in tokens.items()}
        holders = {k: users.by_token_hash(d) for k, d in digests.items()}
        waits = {
            k: asyncio.create_task(watch.until_invalid(digests[k], user))
            for k, user in holders.items()
            if user is not None
        }
        assert len(waits) == len(tokens)
        await asyncio.sleep(0)
        app.revoke_user("d.revoked", "admin")
        app.issue_token("d.replaced", "admin")
        app.set_specialties("dr.changed", ["cardiology"], "admin")
        await _follow(app, users)
        done, pending = await asyncio.wait(waits.values(), timeout=3)
        reasons = {k: task.result() for k, task in waits.items() if task in done}
        for task in pending:
            task.cancel()
        return reasons
    finally:
        app.close()


def test_a_socket_wait_ends_exactly_when_its_token_or_access_changes(tmp_path: Path) -> None:
    reasons = asyncio.run(_scenario(tmp_path / "events.sqlite"))
    assert set(reasons) == {"revoked", "replaced", "expiring", "changed"}  # not the bystander
    assert "revoked or replaced" in reasons["revoked"]
    assert "revoked or replaced" in reasons["replaced"]
    assert "expired" in reasons["expiring"]
    assert "access changed" in reasons["changed"]
