"""A seeded synthetic city: stations, hospitals, units, hotspot calls with a daily rhythm."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from najda.domain.values import Priority, UnitKind
from najda.simulations.scenario import Call, Demand, PriorityClass, Scenario, Site, UnitSpec

M_PER_DEG_LAT = 111_320.0
#: Relative call rate by hour of day (quiet at night, busiest late afternoon).
HOURLY_PROFILE = tuple(
    0.6 + 0.4 * math.sin(math.pi * (h - 9) / 12) if 3 <= h <= 21 else 0.45 for h in range(24)
)


@dataclass(frozen=True)
class CityShape:
    """Where the city is and how busy it is."""

    lat: float = 36.75
    lon: float = 3.06
    radius_m: float = 8_000.0
    stations: int = 6
    hospitals: int = 3
    units_per_station: int = 2
    hotspots: int = 4
    calls_per_day: float = 180.0
    high_share: float = 0.4


@dataclass(frozen=True)
class SyntheticCalls:
    """Calls from hotspots (70 %) and a uniform background (30 %), thinned by hour of day."""

    shape: CityShape
    hotspots: tuple[tuple[float, float, float], ...]  # lat, lon, spread in metres

    def points(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """`n` call locations."""
        s = self.shape
        m_per_deg_lon = M_PER_DEG_LAT * math.cos(math.radians(s.lat))
        from_hotspot = rng.random(n) < 0.7
        which = rng.integers(0, len(self.hotspots), n)
        spot = np.array(self.hotspots)[which]
        dy = np.where(from_hotspot, rng.normal(0, 1, n) * spot[:, 2], 0.0)
        dx = np.where(from_hotspot, rng.normal(0, 1, n) * spot[:, 2], 0.0)
        r = s.radius_m * np.sqrt(rng.random(n))
        a = rng.random(n) * 2 * math.pi
        lat = np.where(from_hotspot, spot[:, 0] + dy / M_PER_DEG_LAT,
                       s.lat + r * np.sin(a) / M_PER_DEG_LAT)
        lon = np.where(from_hotspot, spot[:, 1] + dx / m_per_deg_lon,
                       s.lon + r * np.cos(a) / m_per_deg_lon)
        return lat, lon

    def calls(self, duration_s: float, rng: np.random.Generator) -> list[Call]:
        """Non-homogeneous Poisson arrivals (thinning against the hourly profile)."""
        arrivals, where, service = rng.spawn(3)
        peak_per_s = self.shape.calls_per_day / 86_400 * max(HOURLY_PROFILE) / np.mean(
            HOURLY_PROFILE
        )
        times: list[float] = []
        t = 0.0
        while True:
            t += float(arrivals.exponential(1 / peak_per_s))
            if t >= duration_s:
                break
            hour = int(t // 3600) % 24
            if arrivals.random() < HOURLY_PROFILE[hour] / max(HOURLY_PROFILE):
                times.append(t)
        n = len(times)
        lats, lons = self.points(where, n)
        high = service.random(n) < self.shape.high_share
        scene = service.exponential(15 * 60, n)
        transport = service.random(n) < 0.7
        handover = service.exponential(10 * 60, n)
        return [
            Call(
                at_s=times[i],
                lat=float(lats[i]),
                lon=float(lons[i]),
                priority="high" if high[i] else "low",
                dispatch_delay_s=90.0,
                on_scene_s=float(scene[i]),
                transport=bool(transport[i]),
                handover_s=float(handover[i]) if transport[i] else 0.0,
            )
            for i in range(n)
        ]


def synthetic_city(seed: int, shape: CityShape | None = None) -> Scenario:
    """A city laid out by `seed`: stations on a ring and at the centre, hospitals, hotspots."""
    s = shape or CityShape()
    rng = np.random.default_rng([seed, 7])
    m_per_deg_lon = M_PER_DEG_LAT * math.cos(math.radians(s.lat))

    def at(r_m: float, angle: float) -> tuple[float, float]:
        return (s.lat + r_m * math.sin(angle) / M_PER_DEG_LAT,
                s.lon + r_m * math.cos(angle) / m_per_deg_lon)

    stations = [Site("S1", "Central station", s.lat, s.lon, capacity=4)]
    for i in range(1, s.stations):
        lat, lon = at(s.radius_m * rng.uniform(0.45, 0.75), 2 * math.pi * i / (s.stations - 1))
        stations.append(Site(f"S{i + 1}", f"Station {i + 1}", lat, lon, capacity=4))
    hospitals = []
    for i in range(s.hospitals):
        lat, lon = at(s.radius_m * rng.uniform(0.1, 0.5), rng.uniform(0, 2 * math.pi))
        hospitals.append(Site(f"H{i + 1}", f"Hospital {i + 1}", lat, lon))
    units = [
        UnitSpec(f"SYN {k * s.units_per_station + j + 1}", k, UnitKind.ALS)
        for k in range(len(stations))
        for j in range(s.units_per_station)
    ]
    hotspots = tuple(
        (*at(s.radius_m * rng.uniform(0, 0.7), rng.uniform(0, 2 * math.pi)),
         float(rng.uniform(400, 1200)))
        for _ in range(s.hotspots)
    )
    calls = SyntheticCalls(s, hotspots)
    demand_lats, demand_lons = calls.points(np.random.default_rng([seed, 8]), 2_000)
    return Scenario(
        name=f"synthetic-{seed}",
        stations=stations,
        hospitals=hospitals,
        units=units,
        priorities={
            "high": PriorityClass("high", Priority.D, 8 * 60, 1, 6.5 * 60),
            "low": PriorityClass("low", Priority.A, 15 * 60, 2, 13.5 * 60),
        },
        calls=calls,
        demand=Demand(demand_lats, demand_lons, np.full(2_000, 1 / 2_000)),
        network=None,
        busy_fraction=0.4,
    )
