"""Tokens with an expiry and rotation (`najda users rotate`, NAJDA_ADMIN_TOKEN changed), a
strength check on NAJDA_ADMIN_TOKEN, and a data directory only its owner can read."""

from __future__ import annotations

import secrets
import stat
import subprocess
from pathlib import Path

import pytest

from najda.api.settings import Settings, SettingsError
from tests.e2e.conftest import StartServer
from tests.e2e.harness import bearer, clean_env, free_port, najda_command


def najda(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*najda_command(), *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        env=clean_env(**env),
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("weak", "why"),
    [
        ("a" * 32, "only 1 different"),
        ("abcd" * 8, "only 4 different"),
        ("password1234" * 3, "repeated pattern"),
        ("0123456789abcdef0123456789abcdef", "repeated pattern"),
        ("short-but-random-Xq3", "at least 32"),
    ],
)
def test_weak_admin_tokens_are_refused(weak: str, why: str) -> None:
    with pytest.raises(SettingsError, match="NAJDA_ADMIN_TOKEN is too weak") as refused:
        Settings(admin_token=weak)
    assert why in str(refused.value)


def test_strong_admin_tokens_are_taken() -> None:
    for strong in (secrets.token_hex(16), secrets.token_urlsafe(24), secrets.token_urlsafe(32)):
        assert Settings(admin_token=strong).admin_token == strong


def test_serve_refuses_a_weak_admin_token_before_opening_anything(tmp_path: Path) -> None:
    result = najda(
        "serve", "--port", str(free_port()), data_dir=tmp_path / "data", NAJDA_ADMIN_TOKEN="a" * 32
    )
    assert result.returncode == 2
    assert "NAJDA_ADMIN_TOKEN is too weak" in result.stderr and "openssl rand" in result.stderr
    assert not (tmp_path / "data").exists()


def test_tokens_expire_rotate_and_the_data_stays_private(
    start_server: StartServer, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    added = najda("users", "add", "d.cli", "--role", "dispatcher", "--expires-in-days", "2",
                  data_dir=data)  # fmt: skip
    assert added.returncode == 0, added.stderr
    first = added.stdout.strip()
    rotated = najda("users", "rotate", "d.cli", data_dir=data)
    assert rotated.returncode == 0, rotated.stderr
    second = rotated.stdout.strip()
    assert second.startswith("najda_") and second != first
    admin_a = secrets.token_urlsafe(32)
    server = start_server("--no-demo", data_dir=data, name="a", NAJDA_ADMIN_TOKEN=admin_a)
    with server.client(second) as client:
        assert client.get("/incidents").status_code == 200
        assert client.get("/incidents", headers=bearer(first)).status_code == 401
        made = client.post(
            "/users", json={"name": "d.api", "role": "dispatcher"}, headers=bearer(admin_a)
        )
    assert made.status_code == 201 and made.json()["expires_at"] is not None
    server.stop()
    admin_b = secrets.token_urlsafe(32)  # the operator rotates the bootstrap secret
    again = start_server("--no-demo", data_dir=data, name="b", NAJDA_ADMIN_TOKEN=admin_b)
    with again.client(admin_b) as admin:
        assert admin.get("/users").status_code == 200
        assert admin.get("/users", headers=bearer(admin_a)).status_code == 401
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    files = [f for f in data.rglob("*") if f.is_file()]
    folders = [f for f in data.rglob("*") if f.is_dir()]  # the audit key's, the checkpoints
    assert files and all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files), [
        (f.name, oct(f.stat().st_mode)) for f in files
    ]
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o700 for f in folders), [
        (f.name, oct(f.stat().st_mode)) for f in folders
    ]
