"""Runs `najda serve` as a real process on a free port (for benches and end-to-end tests)."""

from __future__ import annotations

import atexit
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0
#: One audit key for every server of a test run: processes sharing a store must share it.
SHARED_AUDIT_KEY = Path(tempfile.gettempdir()) / f"najda-e2e-{os.getpid()}" / "audit.key"
atexit.register(shutil.rmtree, SHARED_AUDIT_KEY.parent, ignore_errors=True)


#: One administrator token per data directory, stable across restarts of its servers.
_ADMIN_TOKENS: dict[str, str] = {}


def admin_token_for(store: str) -> str:
    """The bootstrap administrator token the harness gives servers on one store."""
    return _ADMIN_TOKENS.setdefault(store, "najda_test_" + secrets.token_urlsafe(32))


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


def najda_command() -> list[str]:
    """The installed console script next to this interpreter, else `python -m najda.cli`."""
    script = Path(sys.executable).parent / "najda"
    if script.exists():
        return [str(script)]
    found = shutil.which("najda")
    return [found] if found else [sys.executable, "-m", "najda.cli"]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without NAJDA_* settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NAJDA_")}
    env["NAJDA_DEMO_AREA"] = "sahil"  # the invented town the tests were written against
    env.update(extra)
    return env


class NajdaServer:
    """One `najda serve` process; `start()` returns once /health answers."""

    def __init__(
        self,
        workdir: Path,
        args: Sequence[str] = (),
        env: dict[str, str] | None = None,
        data_dir: Path | None = None,
        command: Sequence[str] | None = None,
    ) -> None:
        self.workdir = workdir
        self.command = list(command) if command is not None else najda_command()
        self.data_dir = data_dir or workdir / "data"
        self.args = list(args)
        self.env = env if env is not None else clean_env()
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / "server.log"

    @property
    def url(self) -> str:
        """Base URL of the running server."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> NajdaServer:
        """Start the process and wait (bounded) until /health answers 200."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.env.setdefault("NAJDA_ADMIN_TOKEN", self.admin_token)
        self.env.setdefault("NAJDA_AUDIT_KEY", str(SHARED_AUDIT_KEY))
        command = [
            *self.command,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            "--log-level",
            "warning",
            *self.args,
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=self.workdir, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1.0).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"server not healthy within {START_TIMEOUT_S}s:\n{self.log()}")

    def stop(self) -> int | None:
        """Interrupt the server (graceful shutdown) and return its exit code."""
        process = self.process
        if process is None:
            return None
        self.process = None
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        return process.returncode

    def log(self) -> str:
        """Everything the server printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def admin_token(self) -> str:
        """The administrator's token (admin may do everything a dispatcher does)."""
        shared = self.env.get("NAJDA_ADMIN_TOKEN")
        if shared:
            return shared
        if "--database-url" in self.args:  # one token per database, whichever process
            return admin_token_for(self.args[self.args.index("--database-url") + 1])
        return admin_token_for(str(self.data_dir.resolve()))

    def printed_tokens(self) -> dict[str, str]:
        """Tokens the server printed at start (demo users), by user name."""
        found = re.findall(r"token for (\S+) \([^)]*\): (\S+)", self.log())
        return dict(found)

    def client(self, token: str | None = None) -> httpx.Client:
        """An HTTP client bound to this server, with a token (default: the administrator)."""
        headers = bearer(token or self.admin_token)
        return httpx.Client(base_url=self.url, timeout=30.0, headers=headers)

    def add_user(
        self, name: str, role: str, unit: str | None = None, specialties: Sequence[str] = ()
    ) -> str:
        """Add a user through the API (as administrator) and return its token."""
        body: dict[str, Any] = {"name": name, "role": role}
        if unit is not None:
            body["unit"] = unit
        if specialties:
            body["specialties"] = list(specialties)
        with self.client() as client:
            return str(ok(client.post("/users", json=body), 201)["token"])

    def ws_url(self, path: str) -> str:
        """The websocket URL of a path on this server."""
        return f"ws://127.0.0.1:{self.port}{path}"


#: The demo town's centre (lat, lon): where benches and tests put their world.
CENTRE = (36.75, 3.06)


def ok(response: httpx.Response, status: int = 200) -> Any:
    """The JSON body, after checking the status (the body is shown when it differs)."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    return response.json()
