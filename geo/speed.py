"""Travel-time estimates from straight-line distance (used until a road network is loaded)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SpeedModel:
    """ETA = setup + distance × detour factor / speed; slower in the first urban kilometres.

    Emergency driving averages about 40 km/h in a city and more on open roads; the detour
    factor turns straight-line distance into road distance.
    """

    urban_speed_kmh: float = 40.0
    rural_speed_kmh: float = 80.0
    urban_radius_m: float = 5_000.0
    detour_factor: float = 1.3
    setup_s: float = 30.0

    def eta_s(self, distance_m: float) -> float:
        """Estimated seconds to drive to a point `distance_m` away in a straight line."""
        road_m = max(0.0, distance_m) * self.detour_factor
        urban_m = min(road_m, self.urban_radius_m)
        rural_m = road_m - urban_m
        return (
            self.setup_s
            + urban_m / (self.urban_speed_kmh / 3.6)
            + rural_m / (self.rural_speed_kmh / 3.6)
        )
