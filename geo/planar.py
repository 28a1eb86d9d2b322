"""Short distances in a local flat frame: point to point and point to segment, in metres."""

from __future__ import annotations

import math

M_PER_DEG_LAT = 111_320.0


def deg_box(lat: float, radius_m: float) -> tuple[float, float]:
    """Half-sizes (degrees of latitude, of longitude) of a box `radius_m` around a point."""
    dlat = radius_m / M_PER_DEG_LAT
    dlon = radius_m / (M_PER_DEG_LAT * max(0.01, math.cos(math.radians(lat))))
    return dlat, dlon


def point_m(lat: float, lon: float, lat2: float, lon2: float) -> float:
    """Metres between two nearby points (equirectangular)."""
    kx = M_PER_DEG_LAT * math.cos(math.radians(lat))
    return math.hypot((lon2 - lon) * kx, (lat2 - lat) * M_PER_DEG_LAT)


def point_segment(
    lat: float, lon: float, lat1: float, lon1: float, lat2: float, lon2: float
) -> tuple[float, float, float]:
    """Metres from a point to a segment and the closest point on it (lat, lon)."""
    kx = M_PER_DEG_LAT * math.cos(math.radians(lat))
    ax, ay = (lon1 - lon) * kx, (lat1 - lat) * M_PER_DEG_LAT
    bx, by = (lon2 - lon) * kx, (lat2 - lat) * M_PER_DEG_LAT
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / length2))
    px, py = ax + t * dx, ay + t * dy
    return math.hypot(px, py), lat + py / M_PER_DEG_LAT, lon + px / kx
