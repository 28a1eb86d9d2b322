"""Reports over replications: every figure as a mean with its 95 % interval, paired comparisons."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from najda.simulations.breakdown import Table
from najda.simulations.replications import LEVEL, Interval, interval
from najda.simulations.report import PolicyReport

FIGURES = ("calls", "mean_min", "p50_min", "p90_min", "within_target", "over_target")


@dataclass(frozen=True)
class RunInfo:
    """What a report was computed from: enough to run it again."""

    scenario: str
    policies: tuple[str, ...]
    seed: int
    seeds: tuple[int, ...]
    days: float
    warm_up_hours: float
    version: str

    def lines(self) -> list[str]:
        """The header of the report, one fact per line."""
        return [
            f"- scenario: {self.scenario}",
            f"- policies: {', '.join(self.policies)}",
            f"- seed: {self.seed} (replication seeds: {', '.join(map(str, self.seeds))})",
            f"- days: {self.days:g} per replication (warm-up {self.warm_up_hours:g} h excluded)",
            f"- replications: {len(self.seeds)}; intervals: {LEVEL:.0%} t-intervals over them",
            f"- najda version: {self.version}",
        ]


def _figures(report: PolicyReport) -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = {}
    for s in [*report.by_priority, report.overall]:
        out.update({
            (s.priority, "calls"): float(s.calls),
            (s.priority, "mean_min"): s.mean_s / 60,
            (s.priority, "p50_min"): s.p50_s / 60,
            (s.priority, "p90_min"): s.p90_s / 60,
            (s.priority, "within_target"): s.within_target,
            (s.priority, "over_target"): s.over_target,
        })
    out[("all", "utilisation")] = report.utilisation
    if report.redispatches is not None:
        out[("all", "redispatches")] = float(report.redispatches)
    if report.move_ups:
        out[("all", "move_ups")] = float(report.move_ups)
    return out


def intervals(reports: Sequence[PolicyReport]) -> dict[tuple[str, str], Interval]:
    """Every (priority, figure) of one policy as an interval over its replications."""
    per_rep = [_figures(r) for r in reports]
    keys = list(dict.fromkeys(k for figures in per_rep for k in figures))
    return {k: interval([f.get(k, float("nan")) for f in per_rep]) for k in keys}


def markdown(info: RunInfo, runs: dict[str, list[PolicyReport]]) -> str:
    """The header, the per-priority table, and the per-unit, station and hospital tables."""
    lines = ["# Simulation report", "", *info.lines(), ""]
    columns = ("policy", "priority", *FIGURES)
    lines += ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for policy, reports in runs.items():
        figures = intervals(reports)
        names = [*dict.fromkeys(p for p, _ in figures if p != "all"), "all"]
        for name in names:
            cells = [_cell(figures.get((name, f)), f) for f in FIGURES]
            lines.append("| " + " | ".join([policy, name, *cells]) + " |")
        lines.append(f"| {policy} | utilisation | "
                     + _cell(figures.get(("all", "utilisation")), "utilisation")
                     + " |" + " |" * (len(FIGURES) - 1))
        if ("all", "redispatches") in figures:  # a scenario that allows redispatch
            lines.append(f"| {policy} | redispatches | "
                         + _cell(figures[("all", "redispatches")], "calls")
                         + " |" + " |" * (len(FIGURES) - 1))
        if ("all", "move_ups") in figures:  # a policy that moves idle units up
            lines.append(f"| {policy} | move-ups | "
                         + _cell(figures[("all", "move_ups")], "calls")
                         + " |" + " |" * (len(FIGURES) - 1))
    for title, pick in (("ambulance", _units), ("home station", _stations),
                        ("hospital", _hospitals)):
        for policy, reports in runs.items():
            lines += ["", f"## Per {title}: {policy}", ""]
            lines += _entity_table(title, [pick(r) for r in reports])
    return "\n".join(lines) + "\n"


def _units(r: PolicyReport) -> Table:
    return r.by_unit


def _stations(r: PolicyReport) -> Table:
    return r.by_station


def _hospitals(r: PolicyReport) -> Table:
    return r.by_hospital


def _cell(value: Interval | None, figure: str) -> str:
    if value is None:
        return "n/a"
    return value.text(digits=1 if figure == "calls" else 3 if "target" in figure else 2)


def _entity_table(title: str, tables: list[Table]) -> list[str]:
    names = list(dict.fromkeys(n for t in tables for n in t))
    if not names:
        return ["(none)"]
    figures = list(dict.fromkeys(f for t in tables for row in t.values() for f in row))
    lines = ["| " + " | ".join([title, *figures]) + " |", "|" + "---|" * (len(figures) + 1)]
    for name in names:
        cells = [
            interval([t.get(name, {}).get(f, float("nan")) for t in tables]).text(digits=2)
            for f in figures
        ]
        lines.append("| " + " | ".join([name, *cells]) + " |")
    return lines


def paired_change(
    base: Sequence[PolicyReport], other: Sequence[PolicyReport], priority: str
) -> tuple[Interval, Interval] | None:
    """Change in the fraction of `priority` calls over target, replication by replication
    (the same seeds give both policies the same calls): relative to the baseline, and in
    percentage points; None when a replication lacks the priority."""
    def over(report: PolicyReport) -> float | None:
        return next((s.over_target for s in report.by_priority if s.priority == priority), None)

    pairs = [(over(b), over(o)) for b, o in zip(base, other, strict=True)]
    if any(b is None or o is None for b, o in pairs):
        return None
    rel = [(o - b) / b if b else float("nan") for b, o in pairs if b is not None and o is not None]
    pp = [(o - b) * 100 for b, o in pairs if b is not None and o is not None]
    return interval(rel), interval(pp)


def comparisons(runs: dict[str, list[PolicyReport]], baseline: str, names: list[str]) -> str:
    """For every policy and priority: the paired change in over-target against `baseline`."""
    if baseline not in runs:
        return ""
    lines = [f"## Over target against {baseline} (paired by replication, {LEVEL:.0%} CI)", "",
             "| policy | priority | relative change | change (pp) | CI excludes 0 |",
             "|---|---|---|---|---|"]
    for policy, reports in runs.items():
        if policy == baseline:
            continue
        for name in names:
            change = paired_change(runs[baseline], reports, name)
            if change is None:
                continue
            rel, pp = change
            lines.append(f"| {policy} | {name} | {_percent(rel)} | {pp.text(digits=2)} | "
                         f"{'yes' if rel.excludes_zero() else 'no'} |")
    return "\n".join(lines) + "\n"


def _percent(value: Interval) -> str:
    if value.n == 0:
        return "n/a (no baseline calls over target)"
    if value.n < 2:
        return f"{value.mean:+.1%}"
    return f"{value.mean:+.1%} [{value.low:+.1%}, {value.high:+.1%}]"


def write_csv(runs: dict[str, list[PolicyReport]], path: Path) -> None:
    """One row per policy, priority and figure: mean, interval ends, replications."""
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["policy", "priority", "figure", "mean", "ci_low", "ci_high", "reps"])
        for policy, reports in runs.items():
            for (name, figure), value in intervals(reports).items():
                writer.writerow([policy, name, figure, f"{value.mean:.6f}",
                                 f"{value.low:.6f}", f"{value.high:.6f}", value.n])


def pooled(reports: Sequence[PolicyReport]) -> PolicyReport:
    """One report whose response times are every replication's (for the distribution plots)."""
    first = reports[0]
    names = list(dict.fromkeys(n for r in reports for n in r.response_s))
    return replace(first, response_s={
        n: np.concatenate([r.response_s.get(n, np.empty(0)) for r in reports]) for n in names
    })
