"""Users and tokens end to end: the CLI, demo tokens, revocation across processes,
auto-dispatch by priority."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import StartServer
from tests.e2e.harness import bearer, build_world, clean_env, najda_command, ok, report
from tests.waiting import eventually


def najda(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*najda_command(), *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
        check=False,
    )


def test_the_cli_adds_users_whose_tokens_work_and_are_stored_only_as_hashes(
    start_server: StartServer, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    added = najda("users", "add", "d.cli", "--role", "dispatcher", data_dir=data)
    assert added.returncode == 0, added.stderr
    token = added.stdout.strip()
    assert token.startswith("najda_") and len(token) > 40
    no_unit = najda("users", "add", "crew.x", "--role", "crew", data_dir=data)
    assert no_unit.returncode == 1 and "unit" in no_unit.stderr
    no_specialty = najda("users", "add", "dr.x", "--role", "specialist", data_dir=data)
    assert no_specialty.returncode == 1 and "specialt" in no_specialty.stderr
    specialist = najda(
        "users", "add", "dr.k", "--role", "specialist", "--specialty", "stroke",
        "--specialty", "Pediatrics", data_dir=data,
    )  # fmt: skip
    assert specialist.returncode == 0, specialist.stderr
    listed = najda("users", "list", data_dir=data)
    assert listed.stdout.splitlines() == [
        "d.cli\tdispatcher\t",
        "dr.k\tspecialist\tpaediatrics,stroke",
    ]
    stored = (data / "najda.sqlite").read_bytes()
    assert token.encode() not in stored
    assert hashlib.sha256(token.encode()).hexdigest().encode() in stored

    server = start_server("--no-demo", data_dir=data)
    with server.client(token) as client:
        assert client.get("/incidents").status_code == 200
        assert client.post("/stations", json={}).status_code == 403
        created = report(client, "C")
    assert created["reported_by"] == "d.cli"
    server.stop()
    assert najda("users", "revoke", "d.cli", data_dir=data).returncode == 0
    server = start_server("--no-demo", data_dir=data, name="again")
    with server.client(token) as client:
        assert client.get("/incidents").status_code == 401


def test_the_demo_prints_a_token_for_each_role_once_when_it_is_seeded(
    start_server: StartServer, tmp_path: Path
) -> None:
    data = tmp_path / "demo"
    first = start_server(data_dir=data, name="first")
    tokens = first.printed_tokens()
    assert set(tokens) == {
        "demo-dispatcher",
        "demo-crew-a10",
        "demo-auditor",
        "demo-admin",
        "demo-avl",
        "demo-specialist",
        "demo-nurse",
        "demo-device",
    }
    with first.client(tokens["demo-nurse"]) as nurse:  # the demo's monitored patients
        patients = nurse.get("/patients").json()
        assert [p["identifier"] for p in patients] == ["mrn-0042", "mrn-0107"]
        assert nurse.get("/incidents").status_code == 403
    with first.client(tokens["demo-auditor"]) as auditor:
        assert auditor.get("/incidents").status_code == 200
        assert auditor.post("/incidents", json={}).status_code == 403
    with first.client(tokens["demo-crew-a10"]) as crew:
        assert crew.get("/units/A10").status_code == 200
        assert crew.get("/units/A13").status_code == 403
    with first.client(tokens["demo-specialist"]) as specialist:
        assert specialist.get("/consults").status_code == 200
        assert specialist.get("/incidents").status_code == 403
    with first.client() as admin:
        listed = {u["name"]: u for u in ok(admin.get("/users"))}
    assert listed["demo-specialist"]["specialties"] == [
        "cardiology",
        "paediatrics",
        "psychiatry",
        "stroke",
    ]
    first.stop()
    second = start_server(data_dir=data, name="second")
    assert second.printed_tokens() == {}  # printed when made, never at every start
    assert "najda users rotate" in second.log()
    with second.client(tokens["demo-dispatcher"]) as same:
        assert same.get("/incidents").status_code == 200


@pytest.mark.postgres
def test_a_user_revoked_through_one_process_is_refused_by_the_other(
    start_server: StartServer, pg_url: str
) -> None:
    a = start_server("--database-url", pg_url, "--no-demo", name="a")
    b = start_server("--database-url", pg_url, "--no-demo", name="b")
    token = a.add_user("d.gone", "dispatcher")
    with b.client(token) as on_b:
        eventually(lambda: on_b.get("/incidents").status_code == 200, 5)
        with a.client() as admin:
            assert admin.delete("/users/d.gone").status_code == 204
            assert admin.get("/incidents", headers=bearer(token)).status_code == 401
        eventually(lambda: on_b.get("/incidents").status_code == 401, 5)


def test_auto_dispatch_sends_the_recommended_units_for_chosen_priorities_only(
    start_server: StartServer,
) -> None:
    server = start_server("--no-demo", NAJDA_AUTO_DISPATCH="Ω,A")
    with server.client() as client:
        build_world(client)
        urgent = report(client, "A", nature="cardiac arrest")
        routine = report(client, "C", nature="fall")
    assert [a["call_sign"] for a in urgent["assignments"]] == ["A-NEAR"]
    assert urgent["assignments"][0]["assigned_by"].endswith("(auto-dispatch)")
    assert routine["assignments"] == []


def test_the_last_administrator_cannot_be_revoked(start_server: StartServer) -> None:
    server = start_server("--no-demo")
    with server.client() as admin:
        refused = admin.delete("/users/admin")
        bad_name = admin.delete("/users/Bad%20Name")
        second = server.add_user("ops.two", "admin")
        with server.client(second) as other:
            assert other.delete("/users/admin").status_code == 204
    assert refused.status_code == 409 and "last administrator" in refused.text
    assert bad_name.status_code == 422
    assert bad_name.json()["detail"][0]["loc"] == ["path", "name"]


def test_the_cli_refuses_to_revoke_the_last_administrator(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert najda("users", "add", "ops.one", "--role", "admin", data_dir=data).returncode == 0
    refused = najda("users", "revoke", "ops.one", data_dir=data)
    assert refused.returncode == 1 and "last administrator" in refused.stderr
    assert najda("users", "add", "ops.two", "--role", "admin", data_dir=data).returncode == 0
    revoked = najda("users", "revoke", "ops.one", data_dir=data)
    assert revoked.returncode == 0, revoked.stderr
    assert najda("users", "list", data_dir=data).stdout.splitlines() == ["ops.two\tadmin\t"]
