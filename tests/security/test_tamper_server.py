"""Through a real server: it signs checkpoints outside the database as it seals, and after
an insider appends a forged event by SQL, the next start never seals it and /audit/verify
names it."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

from tests.e2e.harness import NajdaServer, build_world, head, ok
from tests.e2e.test_audit_api import _wait_sealed
from tests.waiting import eventually


def _checkpoints(directory: Path) -> list[int]:
    return sorted(int(p.stem.split("-")[1]) for p in directory.glob("checkpoint-*.json"))


def _until_checkpoint(directory: Path, position: int) -> list[int]:
    """The checkpoint positions once one reaches `position`."""

    def reached() -> list[int]:
        found = _checkpoints(directory)
        return found if found and found[-1] >= position else []

    return eventually(reached, timeout_s=20.0)


def test_the_server_checkpoints_and_never_seals_a_forged_append(tmp_path: Path) -> None:
    server = NajdaServer(tmp_path / "server", ["--no-demo"])
    checkpoints = server.data_dir / "checkpoints"
    server.start()
    try:
        with server.client() as admin:
            build_world(admin)
            first = _wait_sealed(admin)
            assert first["ok"] and first["unsealed"] == 0, first
            assert _until_checkpoint(checkpoints, 1)[0] >= 1  # at its first seal
            ok(admin.post("/units", json={"call_sign": "A-LATE", "kind": "als", "lat": 36.7,
                                           "lon": 3.0}), 201)  # fmt: skip
            genuine_head = head(admin)
    finally:
        server.stop()
    assert _checkpoints(checkpoints)[-1] == genuine_head  # the last one, at shutdown

    # An insider copies a unit's registration under a new id, straight into the file.
    with sqlite3.connect(server.data_dir / "najda.sqlite") as conn:
        row = conn.execute(
            "SELECT topic, state FROM stored_events WHERE topic = 'najda:Unit.Registered'"
        ).fetchone()
        conn.execute(
            "INSERT INTO stored_events (originator_id, originator_version, topic, state)"
            " VALUES (?, 1, ?, ?)",
            (uuid.uuid4().hex, row[0], row[1]),
        )
        forged = int(conn.execute("SELECT max(rowid) FROM stored_events").fetchone()[0])

    server.start()  # the next start
    try:
        with server.client() as admin:
            ok(admin.post("/units", json={"call_sign": "A-NEXT", "kind": "bls", "lat": 36.71,
                                           "lon": 3.01}), 201)  # fmt: skip
            result = eventually(
                lambda: (r := ok(admin.get("/audit/verify")))["sealed"] >= forged and r,
                timeout_s=20.0,
            )
    finally:
        server.stop()

    assert result["ok"] is False
    assert result["rows"] == forged + 1 and result["sealed"] == forged  # all but the forgery
    named = {(f["kind"], f["position"]) for f in result["findings"]}
    assert ("forged", forged) in named and ("inserted", forged) in named
    with sqlite3.connect(server.data_dir / "najda.sqlite") as conn:
        sealed = {p for (p,) in conn.execute("SELECT position FROM najda_seal")}
    assert forged not in sealed and forged + 1 in sealed
    assert _checkpoints(checkpoints)[-1] == forged + 1  # signed past it, without it
