"""Cover within the target on the live floor: the demand points units at stations reach, the
share of demand covered, per zone and overall."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from najda.projections.policies.live import LiveView


def station_cover(view: LiveView, station: int) -> np.ndarray:
    """1 for each demand point a unit at the station reaches within the target, else 0."""
    return view.travel.station_cover(station, 0, view.scenario.coverage_s).astype(int)


def unit_counts(view: LiveView, stations: Sequence[int]) -> np.ndarray:
    """How many units at these stations (one entry a unit) reach each demand point in time."""
    counts = np.zeros(len(view.scenario.demand.weights), dtype=int)
    for s in stations:
        counts = counts + station_cover(view, s)
    return counts


def covered_share(view: LiveView, counts: np.ndarray) -> float:
    """The share of all demand some unit reaches in time."""
    return float(view.scenario.demand.weights[counts > 0].sum())


def zone_share(view: LiveView, counts: np.ndarray) -> np.ndarray:
    """Per zone, the share of its demand some unit reaches in time."""
    d = view.scenario.demand
    total = np.bincount(d.zone, weights=d.weights, minlength=len(d.names))
    covered = np.bincount(d.zone, weights=d.weights * (counts > 0), minlength=len(d.names))
    return np.divide(covered, total, out=np.zeros_like(total), where=total > 0)


def zones_of(view: LiveView, points: np.ndarray) -> tuple[str, ...]:
    """The names of the zones holding any of these demand points (a boolean mask), sorted."""
    d = view.scenario.demand
    return tuple(sorted({d.names[z] for z in d.zone[points]}))


def target_min(view: LiveView) -> int:
    """The coverage target in whole minutes."""
    return round(view.scenario.coverage_s / 60)


def names(items: Sequence[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
