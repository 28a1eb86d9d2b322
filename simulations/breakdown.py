"""Per-ambulance, per-station and per-hospital figures of one run (for the planner)."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from najda.simulations.engine import CallRecord, RunResult
from najda.simulations.scenario import Scenario

#: Figures per entity: entity name → figure name → value.
Table = dict[str, dict[str, float]]


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else float("nan")


def by_unit(scenario: Scenario, result: RunResult, calls: list[CallRecord]) -> Table:
    """Per ambulance: calls served, utilisation, mean response (min) of the calls it reached."""
    served: dict[int, list[float]] = defaultdict(list)
    for r in calls:
        if r.unit is not None and r.response_s is not None:
            served[r.unit].append(r.response_s / 60)
    out: Table = {}
    for u in result.units:
        kind = scenario.units[u.index].kind.value
        out[f"{u.call_sign} ({kind})"] = {
            "calls": float(len(served[u.index])),
            "utilisation": u.busy_s / result.duration_s if result.duration_s else float("nan"),
            "mean_response_min": _mean(served[u.index]),
        }
    return out


def by_station(scenario: Scenario, result: RunResult, calls: list[CallRecord]) -> Table:
    """Per station: calls served by the units based there, their mean response (min), and
    the share of the run its units were busy."""
    home = {u.index: scenario.units[u.index].station for u in result.units}
    responses: dict[int, list[float]] = defaultdict(list)
    for r in calls:
        if r.unit is not None and r.response_s is not None:
            responses[home[r.unit]].append(r.response_s / 60)
    busy: dict[int, float] = defaultdict(float)
    count: dict[int, int] = defaultdict(int)
    for u in result.units:
        busy[home[u.index]] += u.busy_s
        count[home[u.index]] += 1
    out: Table = {}
    for i, site in enumerate(scenario.stations):
        span = result.duration_s * count[i]
        out[f"{site.code} {site.name}"] = {
            "units": float(count[i]),
            "calls": float(len(responses[i])),
            "mean_response_min": _mean(responses[i]),
            "utilisation": busy[i] / span if span else float("nan"),
        }
    return out


def by_hospital(scenario: Scenario, calls: list[CallRecord]) -> Table:
    """Per hospital: patients brought in and the mean handover (min)."""
    handovers: dict[int, list[float]] = defaultdict(list)
    for r in calls:
        if r.hospital is not None:
            handovers[r.hospital].append(r.call.handover_s / 60)
    return {
        f"{site.code} {site.name}": {
            "transports": float(len(handovers[i])),
            "mean_handover_min": _mean(handovers[i]),
        }
        for i, site in enumerate(scenario.hospitals)
    }
