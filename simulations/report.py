"""Per-policy response-time report: table (markdown, CSV) and PNG plots."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from najda.simulations.breakdown import Table, by_hospital, by_station, by_unit
from najda.simulations.engine import RunResult
from najda.simulations.scenario import Scenario


@dataclass(frozen=True)
class PriorityStats:
    """Response times of one priority under one policy (seconds)."""

    priority: str
    calls: int
    mean_s: float
    p50_s: float
    p90_s: float
    within_target: float

    @property
    def over_target(self) -> float:
        """Fraction of calls whose first unit arrived after the target."""
        return 1.0 - self.within_target


@dataclass(frozen=True)
class PolicyReport:
    """One policy's figures."""

    policy: str
    seed: int
    days: float
    calls: int
    by_priority: list[PriorityStats]
    overall: PriorityStats
    utilisation: float
    response_s: dict[str, np.ndarray]
    by_unit: Table
    by_station: Table
    by_hospital: Table
    #: Units diverted en route to a more urgent call (None: the scenario never redispatches).
    redispatches: int | None = None
    #: Move-ups: units sent to wait at another station than their home or their post.
    move_ups: int = 0


def summarise(scenario: Scenario, result: RunResult, warm_up_s: float = 0.0) -> PolicyReport:
    """Figures over calls arriving after the warm-up; every call must have been reached."""
    calls = [r for r in result.calls if r.call.at_s >= warm_up_s]
    responses: dict[str, np.ndarray] = {}
    stats: list[PriorityStats] = []
    all_s: list[float] = []
    within_all: list[bool] = []
    for name in scenario.priority_order():
        times = np.array([r.response_s for r in calls if r.call.priority == name], dtype=float)
        if np.isnan(times).any():
            raise ValueError(f"a {name} call was never reached")
        target = scenario.priorities[name].target_s
        responses[name] = times
        all_s.extend(times.tolist())
        within_all.extend((times <= target).tolist())
        if times.size:
            stats.append(_stats(name, times, float(np.mean(times <= target))))
    overall = _stats("all", np.array(all_s), float(np.mean(within_all)) if within_all else math.nan)
    span = result.duration_s * len(result.units)
    busy = sum(u.busy_s for u in result.units)
    return PolicyReport(
        policy=result.policy,
        seed=result.seed,
        days=result.duration_s / 86_400,
        calls=len(calls),
        by_priority=stats,
        overall=overall,
        utilisation=busy / span if span else math.nan,
        response_s=responses,
        by_unit=by_unit(scenario, result, calls),
        by_station=by_station(scenario, result, calls),
        by_hospital=by_hospital(scenario, calls),
        redispatches=int(result.extra.get("redispatches", 0)) if scenario.redispatch else None,
        move_ups=int(result.extra.get("relocations", 0)),
    )


def _stats(name: str, times: np.ndarray, within: float) -> PriorityStats:
    if times.size == 0:
        return PriorityStats(name, 0, math.nan, math.nan, math.nan, math.nan)
    return PriorityStats(
        priority=name,
        calls=int(times.size),
        mean_s=float(times.mean()),
        p50_s=float(np.percentile(times, 50)),
        p90_s=float(np.percentile(times, 90)),
        within_target=within,
    )


COLUMNS = ("policy", "priority", "calls", "mean_min", "p50_min", "p90_min", "within_target",
           "over_target", "utilisation")


def rows(reports: list[PolicyReport]) -> list[dict[str, str]]:
    """One row per policy and priority (plus 'all'), as formatted text."""
    out: list[dict[str, str]] = []
    for report in reports:
        for s in [*report.by_priority, report.overall]:
            out.append({
                "policy": report.policy,
                "priority": s.priority,
                "calls": str(s.calls),
                "mean_min": f"{s.mean_s / 60:.2f}",
                "p50_min": f"{s.p50_s / 60:.2f}",
                "p90_min": f"{s.p90_s / 60:.2f}",
                "within_target": f"{s.within_target:.3f}",
                "over_target": f"{s.over_target:.3f}",
                "utilisation": f"{report.utilisation:.3f}",
            })
    return out


def markdown_table(reports: list[PolicyReport]) -> str:
    """The side-by-side table in markdown."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(r[c] for c in COLUMNS) + " |" for r in rows(reports)]
    return "\n".join(lines)


def comparison(reports: list[PolicyReport], baseline: str, priority: str) -> str | None:
    """How much each policy changes the fraction over target of `priority` vs `baseline`."""
    base = next((r for r in reports if r.policy == baseline), None)
    if base is None:
        return None

    def over(report: PolicyReport) -> float | None:
        return next((s.over_target for s in report.by_priority if s.priority == priority), None)

    base_over = over(base)
    if base_over is None:
        return None
    parts = []
    for report in reports:
        value = over(report)
        if report is base or value is None:
            continue
        change = f"{(value - base_over) / base_over:+.1%}" if base_over else "n/a"
        parts.append(f"{report.policy}: {value:.3f} ({change})")
    return f"{priority} over target vs {baseline} ({base_over:.3f}): " + "; ".join(parts)


def write_csv(reports: list[PolicyReport], path: Path) -> None:
    """The table as CSV."""
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows(reports))


def plot(reports: list[PolicyReport], scenario: Scenario, out: Path) -> list[Path]:
    """Response-time CDF per priority and a fraction-within-target bar chart (PNG files)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written: list[Path] = []
    names = [n for n in scenario.priority_order() if any(n in r.response_s and
                                                          r.response_s[n].size for r in reports)]
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 4), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        for report in reports:
            times = np.sort(report.response_s[name]) / 60
            ax.plot(times, np.arange(1, times.size + 1) / times.size, label=report.policy)
        ax.axvline(scenario.priorities[name].target_s / 60, color="grey", linestyle="--")
        ax.set_title(f"{name}: response time")
        ax.set_xlabel("minutes from call to first unit on scene")
        ax.set_ylabel("fraction of calls")
        ax.set_xlim(left=0)  # the whole distribution, the longest waits included
        ax.legend()
    fig.tight_layout()
    path = out / "response_cdf.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    written.append(path)

    fig, ax = plt.subplots(figsize=(6, 4))
    width = 0.8 / max(len(reports), 1)
    for i, report in enumerate(reports):
        values = [next((s.within_target for s in report.by_priority if s.priority == n), 0.0)
                  for n in names]
        ax.bar(np.arange(len(names)) + i * width, values, width, label=report.policy)
    ax.set_xticks(np.arange(len(names)) + width * (len(reports) - 1) / 2, names)
    ax.set_ylabel("fraction within target")
    ax.set_ylim(0, 1)
    ax.legend()
    fig.tight_layout()
    path = out / "within_target.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    written.append(path)
    return written
