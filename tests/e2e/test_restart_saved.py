"""Embedded restarts from the saved read models: a restarted server (after a clean stop or a
kill) answers exactly as a server that replays the whole log, events written while it was
down included."""

from __future__ import annotations

import secrets
import shutil
import signal
from pathlib import Path
from typing import Any

import httpx

from najda.api.audit_trust import witnessed
from najda.api.settings import Settings
from najda.domain.values import Position, Priority
from najda.projections.store.environment import sqlite_env
from najda.projections.store.saved_read_models import ModelStore
from tests.e2e.conftest import StartServer
from tests.e2e.harness import CENTRE, SHARED_AUDIT_KEY, ok, proposed, report
from tests.fakes import new_dispatch
from tests.waiting import eventually

TOKEN = "najda_test_" + secrets.token_urlsafe(32)  # one administrator for every copy


def _history(client: httpx.Client) -> None:
    """Incidents in every state: open with units on the way, noted, re-prioritised, closed,
    cancelled; units moving through their statuses; a hospital's status."""
    incidents = []
    for i, priority in enumerate(("E", "D", "C", "B", "A")):
        north = 0.004 * i
        incidents.append(report(client, priority, lat=CENTRE[0] + north, nature=f"call {i}"))
    for incident in incidents[:4]:
        rec = ok(client.get(f"/incidents/{incident['id']}/recommendations"))
        unit = proposed(rec)[0][0]
        ok(client.post(f"/incidents/{incident['id']}/assignments", json={"units": [unit]}))
        ok(client.post(f"/units/{unit}/status", json={"status": "en_route"}))
        incident["unit"] = unit
    first, second, third = incidents[0], incidents[1], incidents[2]
    ok(client.post(f"/incidents/{first['id']}/notes", json={"text": "caller on the line"}))
    ok(client.post(f"/incidents/{first['id']}/priority", json={"priority": "D"}))
    for status in ("on_scene", "transporting", "at_hospital", "available"):
        ok(client.post(f"/units/{second['unit']}/status", json={"status": status}))
    ok(client.post(f"/incidents/{second['id']}/close", json={"disposition": "transported"}))
    ok(client.post(f"/incidents/{third['id']}/cancel", json={"reason": "duplicate call"}))
    hospital = ok(client.get("/hospitals"))[0]["code"]
    advisory = {"ed_status": "advisory", "reason": "full"}
    ok(client.patch(f"/hospitals/{hospital}/status", json=advisory))


def _write_while_down(data: Path) -> None:
    """A call recorded by another program while no server runs (witnessed, as Najda does)."""
    settings = Settings(data_dir=data, audit_key=SHARED_AUDIT_KEY)
    app = new_dispatch(sqlite_env(settings.sqlite_path))
    try:
        witnessed(app, settings)
        app.report_incident(
            location=Position(CENTRE[0] - 0.01, CENTRE[1]),
            address="9 Offline Road",
            nature="written while down",
            priority=Priority.D,
            actor="intake",
        )
    finally:
        app.close()


#: Fields that depend on when a server answers, not on what it has read.
MOMENT = frozenset({"age_s", "checkpoint_signed_at"})


def _steady(value: Any) -> Any:
    """The answer without the fields that say when it was given."""
    if isinstance(value, dict):
        return {k: _steady(v) for k, v in value.items() if k not in MOMENT}
    if isinstance(value, list):
        return [_steady(v) for v in value]
    return value


def _views(client: httpx.Client) -> dict[str, Any]:
    """The board, recommendations, history, timelines, units and audit answers."""
    board = ok(client.get("/incidents"))
    history = ok(client.get("/incidents", params={"state": "all", "limit": 200}))
    return _steady(
        {
            "board": board,
            "history": history,
            "recommendations": {
                r["id"]: ok(client.get(f"/incidents/{r['id']}/recommendations")) for r in board
            },
            "timelines": {
                r["id"]: ok(client.get(f"/incidents/{r['id']}/timeline")) for r in history
            },
            "units": ok(client.get("/units")),
            "hospitals": ok(client.get("/hospitals")),
            "users": ok(client.get("/users")),
            "audit": ok(client.get("/audit/verify")),
        }
    )


def _sealed(client: httpx.Client) -> httpx.Client:
    """The client, once its server has sealed the whole log (sealing runs in the background)."""
    eventually(lambda: ok(client.get("/audit/verify"))["unsealed"] == 0, timeout_s=30)
    return client


def _replay_of(data: Path, tmp_path: Path) -> Path:
    """A copy of the store without its saved read models: a start replays the whole log."""
    copy = tmp_path / "replay-data"
    shutil.copytree(data, copy)
    ModelStore(copy / "najda.sqlite").clear()
    return copy


def _compare(start_server: StartServer, data: Path, tmp_path: Path) -> None:
    saved = ModelStore(data / "najda.sqlite").load(["incident_board", "live_feed"])
    assert set(saved) == {"incident_board", "live_feed"}  # the restart has something to use
    _write_while_down(data)
    replay_data = _replay_of(data, tmp_path)
    restarted = start_server(name="restarted", data_dir=data, NAJDA_ADMIN_TOKEN=TOKEN)
    replayed = start_server(name="replayed", data_dir=replay_data, NAJDA_ADMIN_TOKEN=TOKEN)
    with restarted.client() as client:
        again = _views(_sealed(client))
    with replayed.client() as client:
        fresh = _views(_sealed(client))
    assert "written while down" in [r["nature"] for r in again["board"]]
    assert len(again["board"]) >= 3 and len(again["history"]) >= 6
    assert again == fresh


def test_a_restart_after_a_clean_stop_answers_as_a_full_replay(
    start_server: StartServer, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    first = start_server(name="first", data_dir=data, NAJDA_ADMIN_TOKEN=TOKEN)
    with first.client() as client:
        _history(client)
    assert first.stop() == 0
    _compare(start_server, data, tmp_path)


def test_a_restart_after_a_kill_answers_as_a_full_replay(
    start_server: StartServer, tmp_path: Path
) -> None:
    """Killed with no chance to save: the next start uses the models saved at its start and
    applies everything after them once."""
    data = tmp_path / "data"
    first = start_server(name="first", data_dir=data, NAJDA_ADMIN_TOKEN=TOKEN)
    with first.client() as client:
        _history(client)
    process = first.process
    assert process is not None
    process.send_signal(signal.SIGKILL)
    process.wait()
    _compare(start_server, data, tmp_path)
