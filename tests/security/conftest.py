"""The security suite reuses the end-to-end fixtures (real servers, temporary stores)."""

from __future__ import annotations

from tests.e2e.conftest import start_server

__all__ = ["start_server"]
