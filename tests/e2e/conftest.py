"""Fixtures that start real `najda serve` processes with temporary data directories."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import NajdaServer, clean_env

StartServer = Callable[..., NajdaServer]


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[StartServer]:
    """Start servers (`args` for `najda serve`); every one is stopped after the test."""
    started: list[NajdaServer] = []

    def start(
        *args: str, name: str = "server", data_dir: Path | None = None, **env: str
    ) -> NajdaServer:
        server = NajdaServer(tmp_path / name, args, clean_env(**env), data_dir=data_dir)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def empty(start_server: StartServer) -> Iterator[httpx.Client]:
    """A client of a fresh server on an empty embedded store (no demo seed)."""
    server = start_server("--no-demo")
    with server.client() as client:
        yield client


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """A client of a server seeded with the demo city (shared by a module's read-only tests)."""
    server = NajdaServer(tmp_path_factory.mktemp("demo")).start()
    try:
        with server.client() as client:
            yield client
    finally:
        server.stop()
