"""Dispatch policies on a hand-made coverage picture (a small fake of the running simulation)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import numpy as np
import pytest

from najda.domain.values import Priority, UnitKind, UnitStatus
from najda.projections.dispatch.locator import Candidate
from najda.projections.policies.dispatch import POLICIES, ClosestIdle, Coverage
from najda.projections.policies.redeploy import (
    UNREACHABLE_S,
    drive_table,
    match_posts,
    matched_drive_s,
    nested_posts,
)
from najda.simulations.engine import START, SimUnit
from najda.simulations.scenario import Call, Demand, PriorityClass, Scenario, Site, UnitSpec

#: Which of the three demand points (weights 0.5, 0.3, 0.2) each station covers.
COVER = {0: [True, False, False], 1: [True, True, False], 2: [False, False, True]}


class FakeTravel:
    """Only the coverage picture; nothing in these tests travels."""

    def station_cover(self, station: int, mode: int, limit_s: float) -> np.ndarray:
        return np.array(COVER[station])


@dataclass
class FakeSim:
    """What a policy reads: the scenario, travel, the time, the units."""

    scenario: Scenario
    units: list[SimUnit]
    now_s: float = 0.0
    travel: FakeTravel = field(default_factory=FakeTravel)
    #: (roster index, station) → seconds; else 100 s a station index apart.
    drive: dict[tuple[int, int], float] = field(default_factory=dict)

    def idle_units(self) -> list[SimUnit]:
        return [u for u in self.units if not u.busy]

    def all_units(self) -> list[SimUnit]:
        return list(self.units)

    def seconds_to_station(self, unit: SimUnit, station: int) -> float:
        return self.drive.get((unit.index, station), 100.0 * abs(unit.station - station))

    def seconds_to_stations(self, unit: SimUnit) -> list[float]:
        return [self.seconds_to_station(unit, s) for s in range(len(self.scenario.stations))]


def scenario(capacity: int = 2) -> Scenario:
    return Scenario(
        name="hand-made",
        stations=[Site(f"S{i}", f"S{i}", 0.0, float(i), capacity) for i in range(3)],
        hospitals=[],
        units=[UnitSpec(f"U{i}", i) for i in range(3)],
        priorities={
            "high": PriorityClass("high", Priority.D, 480, 1, 330),
            "low": PriorityClass("low", Priority.A, 630, 2, 480),
        },
        calls=None,  # type: ignore[arg-type]  # no calls are generated here
        demand=Demand(np.zeros(3), np.zeros(3), np.array([0.5, 0.3, 0.2])),
        busy_fraction=0.5,
    )


def unit(i: int, station: int, busy: bool = False) -> SimUnit:
    return SimUnit(i, uuid.UUID(int=i + 1), f"U{i}", station, (0.0, 0.0), busy=busy)


def candidate(u: SimUnit, eta_s: float) -> Candidate:
    return Candidate(
        u.unit_id, u.call_sign, UnitKind.ALS, (), UnitStatus.AVAILABLE, 0.0, 0.0, START, 0.0, eta_s
    )


def call(priority: str) -> Call:
    return Call(0.0, 0.0, 0.0, priority, 0.0, 0.0, False, 0.0)


def test_coverage_sends_the_in_time_unit_whose_absence_loses_least_coverage() -> None:
    units = [unit(0, 0), unit(1, 1), unit(2, 2)]
    sim = FakeSim(scenario(), units)
    ranked = [candidate(units[1], 100), candidate(units[0], 200), candidate(units[2], 600)]
    # Marginal coverage (1-q)q^(k-1)·w: point 0 (k=2) 0.125, point 1 (k=1) 0.15, point 2 0.1.
    # U1 would lose 0.275, U0 only 0.125; U2 is too far for the 480 s target.
    assert Coverage().choose(call("high"), ranked, sim) == ranked[1]
    assert ClosestIdle("closest", "road").choose(call("high"), ranked, sim) == ranked[0]


def test_coverage_sends_the_fastest_when_no_unit_arrives_in_time() -> None:
    units = [unit(0, 0), unit(1, 1)]
    sim = FakeSim(scenario(), units, now_s=400)
    ranked = [candidate(units[1], 100), candidate(units[0], 200)]
    assert Coverage().choose(call("high"), ranked, sim) == ranked[0]


def test_move_up_sends_a_freed_unit_to_the_station_adding_most_coverage() -> None:
    freed = unit(0, 0)
    units = [freed, unit(1, 1), unit(2, 2, busy=True)]
    # With U1 idle at S1: gains w(1-q)q^k are S0 0.125, S1 0.125 + 0.075, S2 0.1.
    assert Coverage().station_for(freed, FakeSim(scenario(), units)) == 1
    # S1 full (capacity 1): the next best is the home station S0.
    assert Coverage().station_for(freed, FakeSim(scenario(capacity=1), units)) == 0
    assert Coverage(move_up=False).station_for(freed, FakeSim(scenario(), units)) == 0


def test_a_low_priority_call_waits_while_any_dispatch_would_strip_coverage() -> None:
    units = [unit(0, 0), unit(1, 1, busy=True), unit(2, 2, busy=True)]
    ranked = [candidate(units[0], 100)]
    holding = Coverage(hold_below=0.5, max_hold_s=600)
    # Whole fleet: 0.5(1-q^2) + 0.3(1-q) + 0.2(1-q) = 0.875; without U0 nothing is covered.
    assert holding.holds(call("low"), FakeSim(scenario(), units))
    assert not holding.holds(call("high"), FakeSim(scenario(), units))
    assert holding.choose(call("high"), ranked, FakeSim(scenario(), units)) == ranked[0]
    late = FakeSim(scenario(), units, now_s=600)  # held long enough: it goes
    assert not holding.holds(call("low"), late)
    assert holding.choose(call("low"), ranked, late) == ranked[0]
    assert not Coverage().holds(call("low"), FakeSim(scenario(), units))


def test_a_low_priority_call_waits_while_no_more_than_the_reserve_is_idle() -> None:
    two_idle = [unit(0, 0), unit(1, 2), unit(2, 1, busy=True)]
    three_idle = [unit(0, 0), unit(1, 2), unit(2, 1)]
    keeping = Coverage(reserve=2, max_hold_s=600)  # no coverage threshold: the count alone
    assert keeping.holds(call("low"), FakeSim(scenario(), two_idle))
    assert not keeping.holds(call("high"), FakeSim(scenario(), two_idle))
    assert not keeping.holds(call("low"), FakeSim(scenario(), three_idle))
    assert not keeping.holds(call("low"), FakeSim(scenario(), two_idle, now_s=600))
    assert not Coverage(max_hold_s=600).holds(call("low"), FakeSim(scenario(), two_idle))


def test_a_unit_diverted_from_another_call_costs_no_idle_coverage() -> None:
    units = [unit(0, 1), unit(1, 2), unit(2, 0, busy=True)]  # U2 en route elsewhere
    en_route = candidate(units[2], 200)._replace(status=UnitStatus.EN_ROUTE)
    ranked = [candidate(units[0], 100), en_route, candidate(units[1], 300)]
    # Every unit arrives in time; the idle ones would leave coverage, the diverted one none.
    assert Coverage().choose(call("high"), ranked, FakeSim(scenario(), units)) == en_route


def test_rebalance_moves_the_one_idle_unit_whose_move_adds_most_coverage() -> None:
    # U0 and U1 both idle at S1; point 2 (weight 0.2) uncovered. With q = 0.1 a second
    # cover of points 0 and 1 is worth (0.5 + 0.3)·0.9·0.1 = 0.072, covering point 2
    # 0.2·0.9 = 0.18: one of them (the first on the roster) moves to S2.
    units = [unit(0, 1), unit(1, 1), unit(2, 2, busy=True)]
    sim = FakeSim(scenario(), units)
    assert Coverage(busy_fraction=0.1, rebalance=0.1).relocations(sim) == [(units[0], 2)]
    assert Coverage(busy_fraction=0.1, rebalance=0.2).relocations(sim) == []  # gain 0.108
    # With q = 0.5 the second cover (0.2) is worth more than point 2 (0.1): nobody moves.
    assert Coverage(rebalance=0.001).relocations(sim) == []
    assert Coverage(busy_fraction=0.1).relocations(sim) == []  # rebalancing off
    assert ClosestIdle("closest", "road").relocations(sim) == []


def test_one_policy_remembering_pictures_decides_as_fresh_ones_do() -> None:
    # The memo is keyed on the idle load: a policy reused over many pictures (some
    # recurring) must decide exactly as a new policy does for each picture alone.
    rng = np.random.default_rng(7)
    reused = Coverage(hold_below=0.9, rebalance=0.0)
    planner = Coverage(busy_fraction=0.1, redeploy=True, refill=True, reserve=1)
    sim = FakeSim(scenario(capacity=3), [])
    for _ in range(200):
        sim.units = [unit(i, int(rng.integers(3)), busy=bool(rng.random() < 0.3)) for i in range(3)]
        idle = sim.idle_units()
        ranked = [candidate(u, float(rng.integers(60, 500))) for u in idle]
        ranked.sort(key=lambda c: c.eta_s)
        fresh = Coverage(hold_below=0.9, rebalance=0.0)
        assert reused.choose(call("high"), ranked, sim) == fresh.choose(call("high"), ranked, sim)
        assert reused.holds(call("low"), sim) == Coverage(hold_below=0.9).holds(call("low"), sim)
        assert reused.relocations(sim) == fresh.relocations(sim)
        for u in idle:
            assert reused.station_for(u, sim) == Coverage().station_for(u, sim)
        fresh_plan = Coverage(busy_fraction=0.1, redeploy=True, refill=True, reserve=1)
        assert planner.relocations(sim) == fresh_plan.relocations(sim)
        assert planner.choose(call("high"), ranked, sim) == fresh_plan.choose(
            call("high"), ranked, sim)
        assert planner.holds(call("low"), sim) == fresh_plan.holds(call("low"), sim)
    other = FakeSim(scenario(capacity=3), [unit(0, 0), unit(1, 1), unit(2, 2)], travel=FakeTravel())
    assert reused._memo is not None and reused._memo.serves(sim, 0.5)
    reused.holds(call("low"), other)
    assert not reused._memo.serves(sim, 0.5)  # another travel: a memo of its own


def with_medium(base: Scenario, target_s: float) -> Scenario:
    from dataclasses import replace

    priorities = dict(base.priorities)
    priorities["medium"] = PriorityClass("medium", Priority.C, target_s, 1, 330)
    return replace(base, priorities=priorities)


def test_a_priority_sharing_the_top_target_is_protected_like_the_top() -> None:
    units = [unit(0, 0), unit(1, 1, busy=True), unit(2, 2, busy=True)]
    holding = Coverage(hold_below=0.5, max_hold_s=600)
    same = FakeSim(with_medium(scenario(), 480), units)
    longer = FakeSim(with_medium(scenario(), 600), units)
    # The same 8-minute target as high: never held, however thin the coverage.
    assert not holding.holds(call("medium"), same)
    assert holding.holds(call("medium"), longer)
    # Dispatch: a far unit that loses no coverage is not sent when it arrives late.
    two = [unit(0, 0), unit(1, 2)]
    ranked = [candidate(two[0], 100), candidate(two[1], 500)]
    sim = FakeSim(with_medium(scenario(), 480), two)
    assert Coverage().choose(call("medium"), ranked, sim) == ranked[0]
    assert Coverage().choose(call("high"), ranked, sim) == ranked[0]
    # A longer target: the unit losing least coverage goes, as for lower priorities.
    later = FakeSim(with_medium(scenario(), 600), two)
    assert Coverage().choose(call("medium"), ranked, later) == ranked[1]
    # A longer target: the unit losing least coverage goes, as for lower priorities.
    later = FakeSim(with_medium(scenario(), 600), two)
    assert Coverage().choose(call("medium"), ranked, later) == ranked[1]


def test_coverage_never_weighs_a_candidate_beyond_its_eta_horizon_but_the_first() -> None:
    """A locator may leave out the candidates after the first beyond `eta_horizon_s`:
    every choice must stay the one made among all candidates."""
    rng = np.random.default_rng(3)
    policies = [Coverage(), Coverage(lower_slack=0.8), Coverage(dispatch=False)]
    left_out = 0
    for _ in range(200):
        units = [unit(i, int(rng.integers(0, 3))) for i in range(3)]
        sim = FakeSim(scenario(capacity=0), units, now_s=float(rng.uniform(0, 300)))
        etas = sorted(rng.uniform(0, 900, 3).round(1).tolist())
        ranked = [candidate(u, eta) for u, eta in zip(units, etas, strict=True)]
        this = call(str(rng.choice(["high", "low"])))
        for policy in policies:
            horizon = policy.eta_horizon_s(this, sim)
            kept = ranked if horizon is None else ranked[:1] + [
                c for c in ranked[1:] if c.eta_s <= horizon
            ]
            left_out += len(ranked) - len(kept)
            assert policy.choose(this, kept, sim) == policy.choose(this, ranked, sim)
    assert left_out > 0


def test_the_posts_of_k_idle_units_are_those_of_k_minus_one_and_the_best_next() -> None:
    points = [np.flatnonzero(COVER[s]) for s in range(3)]
    weights = np.array([0.5, 0.3, 0.2])
    # q = 0.1: S1 first (0.72), then S2 (0.18 against S1's second cover 0.072), then S1.
    assert [nested_posts(weights, points, [2, 2, 2], 0.1, k) for k in range(4)] == [
        (), (1,), (1, 2), (1, 2, 1)]
    # S1 holds one: the third goes to S0 (0.045 against S2's second cover 0.018).
    assert nested_posts(weights, points, [2, 1, 2], 0.1, 3) == (1, 2, 0)
    assert nested_posts(weights, points, [1, 1, 1], 0.1, 5) == (1, 2, 0)  # no room left


def redeploying(**options: float) -> Coverage:
    return Coverage(busy_fraction=0.1, redeploy=True, **options)  # type: ignore[arg-type]


def test_redeploy_moves_every_idle_unit_not_at_the_post_its_number_holds() -> None:
    # Two idle at S0: the posts of two are S1 and S2, and both must move.
    units = [unit(0, 0), unit(1, 0), unit(2, 1, busy=True)]
    sim = FakeSim(scenario(), units, drive={(0, 1): 100, (0, 2): 200, (1, 1): 150,
                                            (1, 2): 200})
    # Least total drive: U0 to S1 and U1 to S2 (300 s), not U0 to S2 and U1 to S1 (350 s).
    assert redeploying().relocations(sim) == [(units[0], 1), (units[1], 2)]
    # A unit already at a post stays: only U0 moves.
    units[1].station = 2
    assert redeploying().relocations(sim) == [(units[0], 1)]
    # Nothing left to move once every idle unit is at a post.
    units[0].station = 1
    assert redeploying().relocations(sim) == []
    assert Coverage(busy_fraction=0.1, rebalance=0.0).relocations(sim, freed=units[0]) == []


def test_a_freed_unit_takes_the_post_left_to_it_and_the_others_move_up_around_it() -> None:
    # U1 waits at S1; U0 frees far from every station but nearest S1 (at S1 a drive of 60 s).
    freed = unit(0, 0)
    units = [freed, unit(1, 1), unit(2, 2, busy=True)]
    far = {(0, 0): 900, (0, 1): 60, (0, 2): 800, (1, 1): 0, (1, 2): 300}
    policy = redeploying()
    sim = FakeSim(scenario(), units, drive=far)
    # Posts of two: S1 and S2. U0 to S1 and U1 on to S2 (360 s) beats U0 to S2 (800 s).
    assert policy.station_for(freed, sim) == 1
    freed.station = 1
    assert policy.relocations(sim, freed=freed) == [(units[1], 2)]
    # A change of post costs 500 s more (the freed unit's too, its post was S0): U1 stays
    # and the freed unit drives to S2 (1300 s against 1360 s).
    freed.station = 0
    keeping = redeploying(move_penalty_s=500.0)
    assert keeping.station_for(freed, sim) == 2
    freed.station = 2
    assert keeping.relocations(sim, freed=freed) == []
    # Without redeploy a freed unit does not move the others.
    assert Coverage(busy_fraction=0.1).relocations(sim, freed=freed) == []


def test_refill_sends_the_in_time_unit_whose_absence_is_made_good_with_least_driving() -> None:
    # Three idle: U0 at S1, U1 at S2, U2 at S1 (posts of three: S1, S2, S1). Posts of two:
    # S1 and S2. Sending U1 (at S2) leaves U0 or U2 to drive to S2; sending U0 or U2 none.
    units = [unit(0, 1), unit(1, 2), unit(2, 1)]
    sim = FakeSim(scenario(), units)
    ranked = [candidate(units[1], 100), candidate(units[2], 200), candidate(units[0], 300)]
    refill = redeploying(refill=True)
    assert refill.choose(call("high"), ranked, sim) == ranked[1]  # the quickest of U0, U2
    # Out of time, the fastest goes whatever it leaves behind.
    late = FakeSim(scenario(), units, now_s=300.0)
    assert refill.choose(call("high"), ranked, late) == ranked[0]


def test_the_coverage_policy_redeploys_refills_and_holds_lower_priorities_on_a_reserve() -> None:
    policy = POLICIES["coverage"]()
    assert isinstance(policy, Coverage)
    assert policy.redeploy and policy.refill and policy.reserve_share == 0.25
    assert policy.hold_below is None and policy.rebalance is None
    previous = POLICIES["coverage-one-move"]()
    assert isinstance(previous, Coverage) and not previous.redeploy


def test_a_reserve_share_keeps_that_part_of_the_ambulances_rounded_down() -> None:
    fleet = [unit(i, i % 3, busy=i >= 4) for i in range(12)]  # 4 idle of 12
    sharing = Coverage(reserve_share=0.25, max_hold_s=600)
    assert sharing.reserve_of(FakeSim(scenario(capacity=0), fleet)) == 3
    assert not sharing.holds(call("low"), FakeSim(scenario(capacity=0), fleet))
    fleet[3].busy = True  # 3 idle: held
    assert sharing.holds(call("low"), FakeSim(scenario(capacity=0), fleet))
    assert not sharing.holds(call("high"), FakeSim(scenario(capacity=0), fleet))
    small = [unit(i, i % 3, busy=i >= 2) for i in range(5)]  # 2 idle of 5: keeps 1
    assert sharing.reserve_of(FakeSim(scenario(capacity=0), small)) == 1
    assert not sharing.holds(call("low"), FakeSim(scenario(capacity=0), small))
    assert Coverage(reserve=2, reserve_share=0.25).reserve_of(FakeSim(scenario(), small)) == 2
    assert Coverage(reserve_share=1 / 3).reserve_of(FakeSim(scenario(), fleet)) == 4


def test_posts_are_matched_even_when_no_matching_avoids_an_unreachable_one() -> None:
    inf = float("inf")
    # Unit 0 reaches only station 1; unit 1 reaches neither by road: every matching of the two
    # posts sends one of them where it cannot drive.
    drive = [[inf, 60.0], [inf, inf]]  # unit x station
    assert match_posts(drive, [0, 1], [0, 1]) == [1, 0]  # the reachable move kept, the other made
    assert matched_drive_s(drive, [0, 1], [0, 1]) == pytest.approx(60.0 + UNREACHABLE_S)
    # When a matching avoids every infinite drive, it is the one made (nothing substituted).
    drive = [[inf, 60.0], [30.0, inf]]
    assert match_posts(drive, [0, 1], [0, 1]) == [1, 0]
    assert matched_drive_s(drive, [0, 1], [0, 1]) == 90.0


def test_a_unit_that_can_reach_no_station_is_left_where_it_is() -> None:
    inf = float("inf")
    # Unit 0 (heading to station 0) is on a piece of road cut off from every station; unit 1
    # (heading to station 1) is nearer station 0. Two posts, 0 and 1: the stuck unit keeps its
    # own post (the change-of-post penalty counts on top of an unreachable drive too), so the
    # other keeps its own; counted alike, the stuck unit would be "moved" to station 1.
    drive = drive_table([[inf, inf], [10.0, 300.0]], heading=[0, 1], penalty_s=240.0)
    assert drive[0] == [UNREACHABLE_S, UNREACHABLE_S + 240.0]
    assert match_posts(drive, [0, 1], [0, 1]) == [0, 1]
