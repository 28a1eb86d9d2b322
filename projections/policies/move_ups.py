"""Move-ups the coverage view suggests: the redeploying policy's own plan (the moves the
simulator makes), else the live greedy rule (the best gain in covered share)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from uuid import UUID

import numpy as np

from najda.projections.policies.dispatch import Coverage
from najda.projections.policies.live import LiveUnit, LiveView
from najda.projections.policies.live_cover import (
    covered_share,
    names,
    station_cover,
    target_min,
    unit_counts,
    zones_of,
)
from najda.projections.policies.view import SimUnit

#: Where the suggestions come from: the policy's redeploy plan, or the greedy live rule.
PLAN = "redeploy-plan"
GREEDY = "greedy-cover"


@dataclass(frozen=True)
class MoveUp:
    """A suggested relocation: an available ambulance to a station, what it changes and why."""

    unit_id: UUID
    call_sign: str
    from_station: str
    to_station: str
    to_station_id: UUID
    gain: float  # share of demand this move alone brings within the target (< 0: loses)
    covers: tuple[str, ...]  # zones it brings back within the target
    leaves: tuple[str, ...] = ()  # zones it leaves with no ambulance within the target
    post: int | None = None  # the plan's post it fills (1: the one adding most), None: greedy
    posts: int | None = None  # how many posts the plan holds (one a free ambulance)
    expected_before: float | None = None  # the policy's expected cover now (share of demand)
    expected_after: float | None = None  # ... once this move alone is made
    reason: str = ""  # one line a dispatcher reads beside it


def zone_changes(covers: Sequence[str], leaves: Sequence[str]) -> list[str]:
    """What a move does to the zones, as reason phrases: those it reaches, those it leaves."""
    phrases = [f"reaches more of {names(covers)}"] if covers else []
    if leaves:
        phrases.append(f"leaves {names(leaves)} with no unit in time")
    return phrases


def planned_move_ups(policy: Coverage, view: LiveView) -> list[MoveUp]:
    """Every move the policy's redeploy plan makes in this state (`Coverage.relocations`, the
    call the simulator executes after each dispatch and freed unit), the post adding most
    expected cover first."""
    idle = view.idle_units()
    moves = policy.relocations(view)
    posts = policy.redeploy_posts(view)
    plan = {u.unit_id: u.station for u in idle} | {u.unit_id: s for u, s in moves}
    numbers = _post_numbers(idle, plan, posts)
    before = policy.expected_coverage(view, idle)
    out = [
        _planned(view, policy, unit, station, idle, posts, numbers.get(unit.unit_id), before)
        for unit, station in moves
    ]
    return sorted(out, key=lambda m: (m.post or len(posts) + 1, m.call_sign))


def _planned(
    view: LiveView,
    policy: Coverage,
    unit: SimUnit,
    station: int,
    idle: Sequence[LiveUnit],
    posts: Sequence[int],
    post: int | None,
    expected_before: float,
) -> MoveUp:
    """One move of the plan, with the post it fills and what it alone changes."""
    sites = view.scenario.stations
    site, minutes = sites[station], target_min(view)
    rest = [u.station for u in idle if u.unit_id != unit.unit_id]
    base = unit_counts(view, rest)
    here, after = base + station_cover(view, unit.station), base + station_cover(view, station)
    covers = zones_of(view, (after > 0) & (here == 0))
    leaves = zones_of(view, (here > 0) & (after == 0))
    moved = [replace(u, station=station) if u.unit_id == unit.unit_id else u for u in idle]
    expected_after = policy.expected_coverage(view, moved)
    share_now, share_after = covered_share(view, here), covered_share(view, after)
    parts = [
        f"fills post {post or '?'} of {len(posts)} in the {policy.name} plan: {site.name}"
        f" should hold {posts.count(station)}, holds {rest.count(station)}"
    ]
    parts += zone_changes(covers, leaves)
    parts.append(
        f"within {minutes} min {share_now:.0%} → {share_after:.0%} of demand,"
        f" expected cover {expected_before:.1%} → {expected_after:.1%}"
    )
    return MoveUp(
        unit.unit_id,
        unit.call_sign,
        sites[unit.station].code,
        site.code,
        site.id,
        round(share_after - share_now, 4),
        covers,
        leaves,
        post,
        len(posts),
        round(expected_before, 4),
        round(expected_after, 4),
        "; ".join(parts),
    )


def _post_numbers(
    idle: Sequence[LiveUnit], plan: Mapping[UUID, int], posts: Sequence[int]
) -> dict[UUID, int]:
    """The post (1-based, in the plan's order) each unit holds once the plan is made: at each
    station the units already there take its first posts, the ones moving in the next."""
    slots: dict[int, list[int]] = {}
    for number, station in enumerate(posts, start=1):
        slots.setdefault(station, []).append(number)
    staying = [u for u in idle if plan[u.unit_id] == u.station]
    moving = [u for u in idle if plan[u.unit_id] != u.station]
    out: dict[UUID, int] = {}
    for unit in staying + moving:
        free = slots.get(plan[unit.unit_id])
        if free:
            out[unit.unit_id] = free.pop(0)
    return out


def greedy_move_ups(view: LiveView, limit: int) -> list[MoveUp]:
    """Up to `limit` move-ups, each the one left that adds most covered share within the
    target (the live rule for policies without a redeploy plan)."""
    scenario = view.scenario
    idle = view.idle_units()  # its units are moved below as move-ups are suggested
    counts = unit_counts(view, [u.station for u in idle])
    minutes = target_min(view)
    suggestions: list[MoveUp] = []
    taken: set[UUID] = set()
    for _ in range(limit):
        best: tuple[float, MoveUp] | None = None
        for unit in idle:
            if unit.unit_id in taken:
                continue
            rest = [u.station for u in idle if u.unit_id != unit.unit_id]
            base = unit_counts(view, rest)
            now = base + station_cover(view, unit.station)
            here = covered_share(view, now)
            for s in range(len(scenario.stations)):
                if s == unit.station:
                    continue
                after = base + station_cover(view, s)
                gain = covered_share(view, after) - here
                if gain > 1e-9 and (best is None or gain > best[0] + 1e-12):
                    best = (gain, _greedy(view, unit, s, gain, counts, now, after, minutes))
        if best is None:
            break
        suggestions.append(best[1])
        taken.add(best[1].unit_id)
        moved = next(u for u in idle if u.unit_id == best[1].unit_id)
        moved.station = next(
            i for i, s in enumerate(scenario.stations) if s.id == best[1].to_station_id
        )
        counts = unit_counts(view, [u.station for u in idle])
    return suggestions


def _greedy(
    view: LiveView,
    unit: LiveUnit,
    station: int,
    gain: float,
    counts: np.ndarray,
    now: np.ndarray,
    after: np.ndarray,
    minutes: int,
) -> MoveUp:
    """One greedy suggestion and its reason."""
    sites = view.scenario.stations
    site = sites[station]
    covers = zones_of(view, (after > 0) & (counts == 0))
    leaves = zones_of(view, (now > 0) & (after == 0))
    gained = f"adds {gain:.1%} of demand within {minutes} min (most of any move now)"
    reason = "; ".join([gained, *zone_changes(covers, leaves)])
    return MoveUp(
        unit.unit_id,
        unit.call_sign,
        sites[unit.station].code,
        site.code,
        site.id,
        round(gain, 4),
        covers,
        leaves,
        reason=reason,
    )
