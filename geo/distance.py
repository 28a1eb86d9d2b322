"""Geodesic distances on the WGS84 ellipsoid (Karney's algorithm, as in geopy)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from geopy.distance import geodesic
from pyproj import Geod

_GEOD = Geod(ellps="WGS84")
EARTH_RADIUS_M = 6_371_008.8
#: Bound on |geodesic / great-circle - 1| for any pair of points on WGS84 (about 0.56 %).
SPHERE_ERROR = 0.0067


def geodesic_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Geodesic distance in metres between two points (geopy, the reference)."""
    return float(geodesic((lat1, lon1), (lat2, lon2)).meters)


def geodesic_many_m(
    lat: float, lon: float, lats: Sequence[float] | np.ndarray, lons: Sequence[float] | np.ndarray
) -> np.ndarray:
    """Geodesic distances in metres from one point to many (vectorised, same algorithm)."""
    lats_a = np.asarray(lats, dtype=float)
    lons_a = np.asarray(lons, dtype=float)
    if lats_a.size == 0:
        return np.zeros(0)
    _, _, dist = _GEOD.inv(np.full(lats_a.shape, lon), np.full(lats_a.shape, lat), lons_a, lats_a)
    return np.asarray(dist, dtype=float)


def great_circle_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (spherical) distance in metres; cheap, within SPHERE_ERROR of geodesic."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def great_circle_pairs_m(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    """`great_circle_m` element by element over arrays of point pairs (vectorised)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h))), dtype=float)


def unit_vectors(lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """Points as unit vectors on the sphere (rows of x, y, z), for chord-distance indexes."""
    phi = np.radians(np.asarray(lats, dtype=float))
    lam = np.radians(np.asarray(lons, dtype=float))
    cos_phi = np.cos(phi)
    return np.column_stack((cos_phi * np.cos(lam), cos_phi * np.sin(lam), np.sin(phi)))


def chord_to_m(chord: np.ndarray | float) -> np.ndarray:
    """Convert a chord length on the unit sphere to a great-circle distance in metres."""
    return 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.asarray(chord) / 2))


def m_to_chord(distance_m: float) -> float:
    """Convert a great-circle distance in metres to a chord length on the unit sphere."""
    return float(2 * math.sin(min(math.pi / 2, distance_m / (2 * EARTH_RADIUS_M))))
