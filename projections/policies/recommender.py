"""Recommendations under one dispatch policy: its locator ranks the units, its choice
leads, and a coverage policy shows what each ambulance's departure does to coverage."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID

import numpy as np

from najda.domain.dispatch.coverage import Committed
from najda.domain.dispatch.incident import Incident
from najda.domain.dispatch.response_plan import ResponsePlan
from najda.domain.dispatch.targets import Targets
from najda.domain.values import Priority
from najda.geo.roads import RoadNetwork
from najda.projections.dispatch.locator import Candidate, UnitLocator
from najda.projections.dispatch.recommendations import (
    Recommendation,
    RequirementOptions,
    committed_units,
    recommend_at,
)
from najda.projections.dispatch.stations_hospitals import ReferenceDirectory
from najda.projections.policies.dispatch import POLICIES, ClosestIdle, Coverage, Policy
from najda.projections.policies.live import (
    AMBULANCES,
    LiveCall,
    LiveScenario,
    LiveTravel,
    LiveView,
    Zones,
    live_scenario,
    seconds,
)
from najda.projections.policies.live_cover import (
    covered_share,
    names,
    station_cover,
    target_min,
    unit_counts,
    zone_share,
)
from najda.projections.policies.move_ups import (
    GREEDY,
    PLAN,
    MoveUp,
    greedy_move_ups,
    planned_move_ups,
)
from najda.projections.policies.posts import PostDirectory

#: Candidates a policy chooses among, beyond the ones shown.
POOL = 12


class PolicyError(ValueError):
    """Raised when a policy cannot run on this server (unknown, or needs roads it lacks)."""


@dataclass(frozen=True)
class ZoneCover:
    """One zone: the share of its demand with an available ambulance within the target."""

    name: str
    covered: float
    units: tuple[str, ...]  # call signs of the ambulances that cover some of it


@dataclass(frozen=True)
class CoverageImpact:
    """What sending one ambulance does to coverage within the target."""

    unit_id: UUID
    call_sign: str
    covered_before: float  # share of all demand covered now
    covered_after: float  # ... once the unit has left
    emptied: tuple[str, ...]  # zones left with no ambulance within the target
    reduced: tuple[str, ...]  # zones left less covered (not emptied)
    target_min: int

    @property
    def text(self) -> str:
        """One line a dispatcher reads beside the unit."""
        if self.emptied:
            return f"leaves {names(self.emptied)} with no unit within {self.target_min} min"
        if self.reduced:
            return f"thins cover of {names(self.reduced)} within {self.target_min} min"
        return f"keeps every zone's cover within {self.target_min} min"


@dataclass(frozen=True)
class Hold:
    """The policy would keep this lower-priority call waiting: sending even the ambulance
    it would choose leaves the more urgent calls too little cover. Asked again whenever the
    recommendation is (a unit freed, a call ended), at the latest once `until` has passed;
    the proposed units stay on offer for a dispatcher who sends one on purpose."""

    unit: CoverageImpact  # what sending the policy's choice would do
    thinned: tuple[str, ...]  # zones still covered, by fewer ambulances within the target
    expected_after: float | None  # expected cover once it left (share of demand)
    floor: float | None  # the expected cover under which the policy holds
    until: datetime | None  # when the policy stops holding it whatever the cover
    reserve: int | None = None  # held while no more than this many ambulances are free

    @property
    def zones(self) -> tuple[str, ...]:
        """The zones dispatching now leaves uncovered (else with fewer ambulances)."""
        return self.unit.emptied or self.thinned

    @property
    def text(self) -> str:
        """One line a dispatcher reads above the units."""
        within = f"within {self.unit.target_min} min"
        if self.unit.emptied:
            now = f"leaves {names(self.unit.emptied)} uncovered {within}"
        elif self.thinned:
            now = f"leaves {names(self.thinned)} with fewer ambulances {within}"
        else:
            now = f"lowers the cover {within} the most urgent calls need"
        figures = ""
        if self.expected_after is not None and self.floor is not None:
            figures = (f" (expected cover {self.expected_after:.0%} of demand; the policy holds"
                       f" below {self.floor:.0%})")
        elif self.expected_after is not None and self.reserve is not None:
            figures = (f" (expected cover {self.expected_after:.0%} of demand; the policy holds"
                       f" while {self.reserve} or fewer ambulances are free)")
        until = "" if self.until is None else f" (at the latest {self.until:%H:%M} UTC)"
        return f"hold: dispatching now {now}{figures}; re-evaluate when a unit frees{until}"


@dataclass(frozen=True)
class CoveragePicture:
    """The floor's coverage now: per zone, and the move-ups suggested (`move_ups_by`: the
    policy's redeploy plan, or the greedy live rule)."""

    policy: str
    target_min: int
    covered: float
    zones: list[ZoneCover]
    move_ups: list[MoveUp]
    move_ups_by: str = GREEDY


class PolicyRecommender:
    """One policy object serves every recommendation the server makes (API and console)."""

    def __init__(
        self,
        policy_name: str,
        straight: UnitLocator,
        road: UnitLocator | None,
        reference: ReferenceDirectory,
        targets: dict[Priority, Targets],
        *,
        zones: Zones | None = None,
        network: RoadNetwork | None = None,
        mode: int = 1,
        now: Callable[[], datetime],
        posts: PostDirectory | None = None,
    ) -> None:
        if policy_name not in POLICIES:
            raise PolicyError(f"unknown policy {policy_name!r} (one of {', '.join(POLICIES)})")
        self.policy: Policy = POLICIES[policy_name]()
        if self.policy.ranking == "road" and road is None:
            raise PolicyError(
                f"policy {policy_name} ranks by road and this server has no road network "
                "(load an area or give --road-network)"
            )
        self.name = policy_name
        self._fresh_policy = POLICIES[policy_name]
        self.straight = straight
        self.locator: UnitLocator = road if self.policy.ranking == "road" and road else straight
        self.reference = reference
        self.targets = targets
        self.zones = zones
        self.network = network if self.policy.ranking == "road" else None
        self.mode = mode
        self.now = now
        self.posts = posts or PostDirectory()
        self._picture: tuple[tuple[UUID, ...], LiveScenario, LiveTravel] | None = None

    @property
    def weighs_coverage(self) -> bool:
        """True for the coverage policies (they show each departure's effect)."""
        return not isinstance(self.policy, ClosestIdle)

    async def recommend(
        self, incident: Incident, plan: ResponsePlan, alternatives: int = 4
    ) -> Recommendation:
        """The recommendation for an open incident, counting the units already committed."""
        return await self.recommend_at(
            incident.location.lat,
            incident.location.lon,
            incident.priority,
            incident.nature,
            plan,
            committed=await committed_units(incident, self.locator),
            alternatives=alternatives,
            determinant=incident.determinant,
            call_at=incident.call_received_at,
        )

    async def recommend_at(
        self,
        lat: float,
        lon: float,
        priority: Priority,
        nature: str,
        plan: ResponsePlan,
        *,
        committed: Sequence[Committed] = (),
        alternatives: int = 4,
        determinant: str = "",
        call_at: datetime | None = None,
    ) -> Recommendation:
        """The plan's nearest units by the policy's ranking; with a coverage policy, each
        ambulance requirement's units are the policy's choices, with their impact."""
        pool = max(alternatives, POOL) if self.weighs_coverage else alternatives
        rec = await recommend_at(
            lat, lon, priority, nature, plan, self.locator,
            committed=committed, alternatives=pool, determinant=determinant,
        )
        if not self.weighs_coverage:
            return replace(rec, policy=self.name)
        view = await self._view()
        if view is None:
            return replace(rec, policy=self.name, lines=_trim(rec.lines, alternatives))
        call = LiveCall(seconds(call_at or self.now()), priority.value)
        idle = {u.unit_id for u in view.idle_units()}
        lines: list[RequirementOptions] = []
        impacts: dict[UUID, CoverageImpact] = {}
        for line in rec.lines:
            ranked = line.proposed + line.alternatives
            if not ranked or any(c.unit_id not in idle for c in ranked):
                lines.append(_trim([line], alternatives)[0])
                continue
            chosen: list[Candidate] = []
            left = list(ranked)
            for _ in range(len(line.proposed)):
                pick = self.policy.choose(call, left, view)
                if pick is None:
                    break
                chosen.append(pick)
                left.remove(pick)
            lines.append(replace(line, proposed=chosen, alternatives=left[:alternatives]))
            for c in chosen + left[:alternatives]:
                impacts[c.unit_id] = self._impact(view, c)
        hold = None
        first = next((line.proposed[0] for line in lines if line.proposed
                      and line.proposed[0].unit_id in impacts), None)
        if first is not None and self.policy.holds(call, view):
            hold = self._hold(view, impacts[first.unit_id], call_at or self.now())
        return replace(rec, lines=lines, impacts=impacts, policy=self.name, hold=hold)

    def _hold(self, view: LiveView, unit: CoverageImpact, call_at: datetime) -> Hold:
        """Why the policy holds the call (its choice's departure), and until when at most."""
        idle = view.idle_units()
        rest = [u for u in idle if u.unit_id != unit.unit_id]
        before = unit_counts(view, [u.station for u in idle])
        after = unit_counts(view, [u.station for u in rest])
        demand = view.scenario.demand
        fewer = set(demand.zone[(after < before) & (after > 0)].tolist())
        thinned = tuple(n for z, n in enumerate(demand.names)
                        if z in fewer and n not in unit.emptied)
        until, expected, floor, reserve = None, None, None, None
        if isinstance(self.policy, Coverage):
            until = call_at + timedelta(seconds=self.policy.max_hold_s)
            expected = self.policy.expected_coverage(view, rest)
            if len(idle) <= self.policy.reserve_of(view):
                reserve = self.policy.reserve_of(view)
            elif self.policy.hold_below is not None:
                homes = [replace(u, station=view.scenario.units[u.index].station)
                         for u in view.all_units()]
                floor = self.policy.hold_below * self.policy.expected_coverage(view, homes)
        return Hold(unit, thinned, expected, floor, until, reserve)

    async def coverage(self, move_ups: int = 3) -> CoveragePicture | None:
        """Zones covered within the target now, and the move-ups (None without stations):
        with a redeploying policy every move its plan makes now (as the simulator makes
        them), else up to `move_ups` greedy ones, each adding most covered share."""
        view = await self._view()
        if view is None:
            return None
        counts = unit_counts(view, [u.station for u in view.idle_units()])
        zones = self._zone_cover(view, counts)
        covered = round(covered_share(view, counts), 4)
        if isinstance(self.policy, Coverage) and self.policy.redeploy:
            suggestions, by = planned_move_ups(self.policy, view), PLAN
        else:
            suggestions, by = greedy_move_ups(view, move_ups), GREEDY
        return CoveragePicture(self.name, target_min(view), covered, zones, suggestions, by)

    # --- the picture ----------------------------------------------------------------------

    async def _view(self) -> LiveView | None:
        """The policy's view of the floor now (None while there are no stations)."""
        rows = [r for r in await self.straight.all_units() if r.kind in AMBULANCES]
        places = list(self.reference.stations.values())
        if not places:
            return None
        key = tuple(sorted(p.id for p in places)) + tuple(r.unit_id for r in rows)
        if self._picture is None or self._picture[0] != key:
            scenario = live_scenario(places, rows, self.targets, self.zones, self.mode)
            travel = LiveTravel(
                scenario.stations, scenario.demand, network=self.network, mode=self.mode,
                speed=self.straight.speed,
            )
            self._picture = (key, scenario, travel)
            self.policy = self._fresh_policy()  # nothing it remembers of another fleet
        _, scenario, travel = self._picture
        return LiveView(scenario, travel, rows, self.now, self.posts.posts)

    def _zone_cover(self, view: LiveView, counts: np.ndarray) -> list[ZoneCover]:
        d = view.scenario.demand
        share = zone_share(view, counts)
        out = []
        for z, name in enumerate(d.names):
            signs = tuple(
                u.call_sign for u in view.idle_units()
                if bool((station_cover(view, u.station).astype(bool) & (d.zone == z)).any())
            )
            out.append(ZoneCover(name, round(float(share[z]), 4), signs))
        return out

    def _impact(self, view: LiveView, c: Candidate) -> CoverageImpact:
        idle = view.idle_units()
        before = unit_counts(view, [u.station for u in idle])
        after = unit_counts(view, [u.station for u in idle if u.unit_id != c.unit_id])
        share_before, share_after = zone_share(view, before), zone_share(view, after)
        zone_names = view.scenario.demand.names
        emptied = tuple(n for z, n in enumerate(zone_names)
                        if share_before[z] > 0 and share_after[z] == 0)
        reduced = tuple(n for z, n in enumerate(zone_names)
                        if share_after[z] > 0 and share_after[z] < share_before[z] - 1e-9)
        return CoverageImpact(
            c.unit_id, c.call_sign, round(covered_share(view, before), 4),
            round(covered_share(view, after), 4), emptied, reduced, target_min(view),
        )


def _trim(lines: Sequence[RequirementOptions], alternatives: int) -> list[RequirementOptions]:
    return [replace(line, alternatives=line.alternatives[:alternatives]) for line in lines]
