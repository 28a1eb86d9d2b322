"""Geodesic distance, the sphere bound used by the spatial indexes, and the speed model."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from najda.geo.distance import (
    SPHERE_ERROR,
    chord_to_m,
    geodesic_m,
    geodesic_many_m,
    great_circle_m,
    m_to_chord,
    unit_vectors,
)
from najda.geo.speed import SpeedModel

lats = st.floats(min_value=-89.0, max_value=89.0)
lons = st.floats(min_value=-179.9, max_value=179.9)


@settings(max_examples=200, deadline=None)
@given(lats, lons, lats, lons)
def test_vectorised_geodesic_equals_geopy_to_the_millimetre(
    lat1: float, lon1: float, lat2: float, lon2: float
) -> None:
    many = geodesic_many_m(lat1, lon1, [lat2], [lon2])
    assert abs(float(many[0]) - geodesic_m(lat1, lon1, lat2, lon2)) < 1e-3


@settings(max_examples=300, deadline=None)
@given(lats, lons, lats, lons)
def test_great_circle_stays_within_the_declared_sphere_error(
    lat1: float, lon1: float, lat2: float, lon2: float
) -> None:
    geodesic = geodesic_m(lat1, lon1, lat2, lon2)
    sphere = great_circle_m(lat1, lon1, lat2, lon2)
    assert abs(geodesic - sphere) <= SPHERE_ERROR * max(sphere, geodesic) + 1e-6


def test_matches_geopys_documented_newport_to_cleveland_distance() -> None:
    # geopy's documentation: geodesic(newport_ri, cleveland_oh).miles == 538.390445368
    metres = geodesic_m(41.49008, -71.312796, 41.499498, -81.695391)
    assert abs(metres / 1609.344 - 538.390445368) < 1e-6


def test_chord_conversion_round_trips_and_matches_great_circle() -> None:
    xyz = unit_vectors(np.array([40.7, 40.75]), np.array([-74.0, -73.95]))
    chord = float(np.linalg.norm(xyz[0] - xyz[1]))
    assert abs(float(chord_to_m(chord)) - great_circle_m(40.7, -74.0, 40.75, -73.95)) < 1e-3
    assert abs(m_to_chord(float(chord_to_m(chord))) - chord) < 1e-12


def test_eta_grows_with_distance_and_is_faster_per_km_beyond_the_city() -> None:
    model = SpeedModel()
    assert model.eta_s(0) == model.setup_s
    assert model.eta_s(1_000) < model.eta_s(2_000) < model.eta_s(20_000)
    urban_per_m = (model.eta_s(2_000) - model.eta_s(1_000)) / 1_000
    rural_per_m = (model.eta_s(30_000) - model.eta_s(29_000)) / 1_000
    assert rural_per_m < urban_per_m
