"""Talks to real `najda serve` processes over HTTP: the server runner and request helpers."""

from __future__ import annotations

import math
from typing import Any

import httpx

from bench.server import (
    CENTRE,
    SHARED_AUDIT_KEY,
    START_TIMEOUT_S,
    STOP_TIMEOUT_S,
    NajdaServer,
    admin_token_for,
    bearer,
    clean_env,
    free_port,
    najda_command,
    ok,
)

__all__ = [
    "CENTRE",
    "SHARED_AUDIT_KEY",
    "START_TIMEOUT_S",
    "STOP_TIMEOUT_S",
    "NajdaServer",
    "admin_token_for",
    "bearer",
    "build_world",
    "clean_env",
    "free_port",
    "head",
    "najda_command",
    "offset",
    "ok",
    "proposed",
    "report",
]


# --- geometry and request helpers used by the tests -------------------------------------


def offset(
    lat: float, lon: float, north_m: float = 0.0, east_m: float = 0.0
) -> tuple[float, float]:
    """A point `north_m` north and `east_m` east of (lat, lon)."""
    dlat = north_m / 111_320.0
    dlon = east_m / (111_320.0 * math.cos(math.radians(lat)))
    return lat + dlat, lon + dlon


def head(client: httpx.Client) -> int:
    """The store's notification head, as /health reports it."""
    return int(ok(client.get("/health"))["head"])


#: A small world around CENTRE: call sign, kind, metres north, metres east.
WORLD_UNITS: tuple[tuple[str, str, float, float], ...] = (
    ("A-NEAR", "als", 1_000.0, 0.0),
    ("A-FAR", "als", 0.0, 5_000.0),
    ("B-MID", "bls", -2_000.0, 0.0),
    ("R-X", "responder", 0.0, -3_000.0),
    ("C-1", "crisis", 500.0, 0.0),
)


def build_world(client: httpx.Client) -> dict[str, str]:
    """Register WORLD_UNITS (with home positions) on an empty server; call sign → unit id."""
    ids: dict[str, str] = {}
    for call_sign, kind, north_m, east_m in WORLD_UNITS:
        lat, lon = offset(*CENTRE, north_m=north_m, east_m=east_m)
        body = {"call_sign": call_sign, "kind": kind, "lat": lat, "lon": lon}
        ids[call_sign] = ok(client.post("/units", json=body), 201)["id"]
    return ids


def report(client: httpx.Client, priority: str = "D", **fields: Any) -> Any:
    """Report an incident at CENTRE (fields override) and return the created incident."""
    body: dict[str, Any] = {
        "lat": CENTRE[0],
        "lon": CENTRE[1],
        "nature": "chest pain",
        "priority": priority,
        "address": "1 Test Street",
    }
    body.update(fields)
    return ok(client.post("/incidents", json=body), 201)


def proposed(recommendation: Any) -> list[list[str]]:
    """Call signs proposed per requirement line."""
    return [[c["call_sign"] for c in line["proposed"]] for line in recommendation["requirements"]]
