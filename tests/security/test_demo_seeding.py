"""H3: the demo is seeded only into an empty store that asks for it; a store with real users
never gets demo users; demo tokens are printed once, when made; no start depends on a demo
user."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import StartServer
from tests.e2e.harness import ok


def _names(admin: httpx.Client) -> set[str]:
    return {u["name"] for u in ok(admin.get("/users"))}


def test_a_store_with_real_users_never_gets_the_demo(
    start_server: StartServer, tmp_path: Path
) -> None:
    data = tmp_path / "real"
    first = start_server("--no-demo", data_dir=data, name="first")
    real = first.add_user("d.real", "dispatcher")
    first.stop()
    again = start_server(data_dir=data, name="again")  # the embedded default asks for the demo
    with again.client() as admin, again.client(real) as dispatcher:
        assert _names(admin) == {"admin", "d.real"}
        assert ok(dispatcher.get("/units")) == []
    assert again.printed_tokens() == {}


def test_revoking_demo_admin_does_not_stop_the_next_start(
    start_server: StartServer, tmp_path: Path
) -> None:
    data = tmp_path / "demo"
    first = start_server(data_dir=data, name="first")
    tokens = first.printed_tokens()
    assert "demo-admin" in tokens
    with first.client(tokens["demo-admin"]) as demo_admin:
        assert demo_admin.delete("/users/demo-admin").status_code == 204
    first.stop()
    second = start_server(data_dir=data, name="second")  # raises if it does not start
    assert second.printed_tokens() == {}  # never printed again, never renewed
    with second.client(tokens["demo-dispatcher"]) as dispatcher:
        assert len(ok(dispatcher.get("/units"))) == 30
    with second.client(tokens["demo-admin"]) as revoked:
        assert revoked.get("/units").status_code == 401
    with second.client() as admin:
        assert "demo-admin" not in _names(admin)


@pytest.mark.postgres
def test_a_postgresql_store_is_seeded_only_when_asked(
    start_server: StartServer, pg_url: str
) -> None:
    server = start_server("--database-url", pg_url, name="plain")
    with server.client() as admin:
        assert ok(admin.get("/units")) == []
        assert _names(admin) == {"admin"}
    assert server.printed_tokens() == {}
