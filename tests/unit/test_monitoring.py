"""Alerting on one vital: bounds by condition, sustained breaches, critical at once,
hysteresis, de-duplication, escalation and late readings; with properties over any
sequence of readings."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from najda.domain.care.alerting import (
    Assessment,
    Effect,
    MonitoringPolicy,
    Reading,
    VitalTrack,
    observe,
)
from najda.domain.care.vitals import (
    GENERAL,
    MARGINS,
    Bounds,
    Condition,
    Direction,
    Severity,
    Vital,
    default_thresholds,
    merge_thresholds,
    parse_conditions,
)
from najda.domain.errors import InvalidValue
from tests.fakes import SequentialIds

T0 = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
POLICY = MonitoringPolicy()
SPO2 = default_thresholds([])[Vital.SPO2]  # warning below 90, critical below 85


def run(
    values: Sequence[float],
    *,
    every: timedelta = timedelta(minutes=5),
    bounds: Bounds = SPO2,
    vital: Vital = Vital.SPO2,
    policy: MonitoringPolicy = POLICY,
    now: datetime | None = None,
) -> tuple[VitalTrack, list[Assessment]]:
    """Observe readings `every` apart from T0; the final track and each assessment."""
    track = VitalTrack()
    ids = SequentialIds()
    out = []
    for i, value in enumerate(values):
        reading = Reading(vital, value, T0 + i * every)
        track, assessment = observe(track, reading, bounds, policy, now or reading.at, ids)
        out.append(assessment)
    return track, out


def kinds(assessments: Sequence[Assessment]) -> list[list[str]]:
    """Per reading, the kinds of its effects."""
    return [[e.kind for e in a.effects] for a in assessments]


# --- bounds -----------------------------------------------------------------------------


def test_defaults_depend_on_the_conditions() -> None:
    general = default_thresholds([])
    copd = default_thresholds([Condition.COPD])
    assert general[Vital.SPO2] == Bounds(85, 90, None, None)
    assert copd[Vital.SPO2].warning_low == 86 and copd[Vital.SPO2].critical_low == 80
    assert copd[Vital.RESPIRATORY_RATE].warning_high == 24
    assert default_thresholds([Condition.HEART_FAILURE])[Vital.HEART_RATE].warning_high == 100
    diabetic = default_thresholds([Condition.DIABETES])[Vital.GLUCOSE]
    assert (diabetic.critical_low, diabetic.warning_low) == (54, 70)  # hypoglycaemia levels
    assert diabetic.critical_high == 400 and general[Vital.GLUCOSE].critical_high == 300
    both = default_thresholds([Condition.DIABETES, Condition.COPD])
    assert both[Vital.GLUCOSE] == diabetic and both[Vital.SPO2] == copd[Vital.SPO2]


def test_a_copd_patient_at_their_usual_87_percent_is_not_alerting_but_others_are() -> None:
    assert default_thresholds([Condition.COPD])[Vital.SPO2].classify(87) == (
        Severity.NORMAL,
        None,
    )
    assert GENERAL[Vital.SPO2].classify(87) == (Severity.WARNING, Direction.LOW)


def test_classifies_below_and_above_the_bounds() -> None:
    hr = GENERAL[Vital.HEART_RATE]  # 40, 50, 110, 130
    assert hr.classify(50) == (Severity.NORMAL, None)
    assert hr.classify(49) == (Severity.WARNING, Direction.LOW)
    assert hr.classify(39) == (Severity.CRITICAL, Direction.LOW)
    assert hr.classify(111) == (Severity.WARNING, Direction.HIGH)
    assert hr.classify(131) == (Severity.CRITICAL, Direction.HIGH)


def test_parses_conditions_and_refuses_unknown_ones() -> None:
    assert parse_conditions(["COPD", "heart failure", "heart-failure"]) == [
        Condition.HEART_FAILURE,
        Condition.COPD,
    ]
    with pytest.raises(InvalidValue) as refused:
        parse_conditions(["diabetes", "gout"])
    assert refused.value.field == "conditions[1]"


def test_merged_bounds_must_stay_in_order_and_plausible() -> None:
    merged = merge_thresholds(GENERAL, {Vital.SPO2: {"warning_low": 92}}, "thresholds")
    assert merged[Vital.SPO2] == Bounds(85, 92, None, None)
    cleared = merge_thresholds(GENERAL, {Vital.SPO2: {"critical_low": None}}, "thresholds")
    assert cleared[Vital.SPO2] == Bounds(None, 90, None, None)
    with pytest.raises(InvalidValue) as refused:
        merge_thresholds(GENERAL, {Vital.SPO2: {"critical_low": 95}}, "thresholds")
    assert refused.value.field == "thresholds.spo2.warning_low"
    assert "must be above critical_low (95)" in refused.value.message
    with pytest.raises(InvalidValue) as refused:
        merge_thresholds(GENERAL, {Vital.SPO2: {"warning_low": 120}}, "thresholds")
    assert refused.value.field == "thresholds.spo2.warning_low"


# --- sustained, critical, hysteresis, de-duplication -----------------------------------


def test_one_warning_reading_alerts_nobody_two_within_the_window_raise_a_warning() -> None:
    track, assessments = run([95, 88, 87])
    assert kinds(assessments) == [[], [], ["raised"]]
    raised = assessments[2].effects[0]
    assert (raised.level, raised.direction) == (Severity.WARNING, Direction.LOW)
    assert [r.value for r in raised.readings] == [88, 87]
    assert track.alert is not None and track.alert.open


def test_two_breaches_farther_apart_than_the_window_are_not_sustained() -> None:
    _, assessments = run([88, 87], every=timedelta(minutes=16))
    assert kinds(assessments) == [[], []]


def test_breaches_must_be_consecutive_to_be_sustained() -> None:
    _, assessments = run([88, 95, 87], every=timedelta(minutes=2))
    assert kinds(assessments) == [[], [], []]


def test_the_sustained_count_is_a_policy() -> None:
    three = MonitoringPolicy(sustained_count=3)
    _, assessments = run([88, 87, 86], policy=three, every=timedelta(minutes=1))
    assert kinds(assessments) == [[], [], ["raised"]]


def test_a_critical_reading_raises_a_critical_alert_at_once_and_is_actionable() -> None:
    _, [assessment] = run([82])
    assert kinds([assessment]) == [["raised"]]
    assert assessment.effects[0].level is Severity.CRITICAL
    assert assessment.actionable


def test_a_warning_alert_escalates_to_critical_and_repeats_raise_nothing() -> None:
    _, assessments = run([88, 87, 83, 82, 86])
    assert kinds(assessments) == [[], ["raised"], ["escalated"], [], []]
    assert assessments[2].effects[0].level is Severity.CRITICAL


def test_hysteresis_an_alert_clears_only_back_inside_the_bound_by_the_margin() -> None:
    margin = MARGINS[Vital.SPO2]  # 2 points: clears at 92 and above
    _, assessments = run([88, 87, 90, 91, 90 + margin])
    assert kinds(assessments) == [[], ["raised"], [], [], ["cleared"]]


def test_a_high_alert_clears_below_the_bound_minus_the_margin() -> None:
    hr = GENERAL[Vital.HEART_RATE]
    _, assessments = run([120, 121, 108, 105], bounds=hr, vital=Vital.HEART_RATE)
    assert kinds(assessments) == [[], ["raised"], [], ["cleared"]]


def test_a_breach_soon_after_a_clear_reopens_the_alert_instead_of_raising_another() -> None:
    track, assessments = run([88, 87, 93, 88, 87])
    assert kinds(assessments) == [[], ["raised"], ["cleared"], [], ["reopened"]]
    assert assessments[4].effects[0].alert_id == assessments[1].effects[0].alert_id
    assert track.alert is not None and track.alert.open


def test_a_breach_after_the_dedup_window_raises_a_new_alert() -> None:
    _, assessments = run([88, 87, 93, 88, 87], every=timedelta(minutes=10))
    assert kinds(assessments) == [[], ["raised"], ["cleared"], [], ["raised"]]
    assert assessments[4].effects[0].alert_id != assessments[1].effects[0].alert_id


def test_a_critical_reading_soon_after_a_clear_reopens_at_critical() -> None:
    _, assessments = run([88, 87, 93, 80])
    assert kinds(assessments) == [[], ["raised"], ["cleared"], ["reopened"]]
    assert assessments[3].effects[0].level is Severity.CRITICAL


def test_a_swing_to_the_other_side_clears_the_first_alert() -> None:
    hr = GENERAL[Vital.HEART_RATE]
    _, assessments = run([45, 44, 135], bounds=hr, vital=Vital.HEART_RATE)
    assert kinds(assessments) == [[], ["raised"], ["cleared", "raised"]]
    assert assessments[2].effects[1].direction is Direction.HIGH


def test_an_out_of_order_reading_is_kept_but_changes_no_alert() -> None:
    track = VitalTrack()
    ids = SequentialIds()
    for minutes, value in ((10, 95), (0, 80)):
        reading = Reading(Vital.SPO2, value, T0 + timedelta(minutes=minutes))
        track, assessment = observe(track, reading, SPO2, POLICY, T0, ids)
    assert assessment.late and not assessment.effects and not assessment.actionable
    assert [r.value for r in track.recent] == [80, 95]  # kept in time order
    assert track.latest is not None and track.latest.value == 95


def test_a_critical_reading_older_than_act_within_alerts_but_is_not_actionable() -> None:
    late = T0 + POLICY.act_within + timedelta(seconds=1)
    _, [assessment] = run([80], now=late)
    assert kinds([assessment]) == [["raised"]]
    assert not assessment.actionable


# --- properties over any sequence of readings --------------------------------------------

values = st.lists(st.floats(min_value=70, max_value=100, allow_nan=False), max_size=40)
gaps = st.lists(st.integers(min_value=1, max_value=40), min_size=40, max_size=40)


def _effects(assessments: Sequence[Assessment]) -> Iterator[tuple[datetime, Effect]]:
    for a in assessments:
        for e in a.effects:
            yield a.reading.at, e


def _walk(readings: Sequence[float], minutes: Sequence[int]) -> list[Assessment]:
    track, ids, out = VitalTrack(), SequentialIds(), []
    at = T0
    for value, gap in zip(readings, minutes, strict=False):
        at += timedelta(minutes=gap)
        track, assessment = observe(track, Reading(Vital.SPO2, value, at), SPO2, POLICY, at, ids)
        out.append(assessment)
    return out


def _assert_what_must_happen_happened(
    readings: Sequence[float], minutes: Sequence[int], assessments: Sequence[Assessment]
) -> None:
    """Judged from the readings alone (warning below 90, critical below 85, clear at 92):
    after a critical reading a critical alert is open; after two breaches less than the
    sustained window apart an alert is open; after a reading at or above 92 none is open.
    So an `observe` that never raises, escalates or clears fails every property using it."""
    assert len(assessments) == min(len(readings), len(minutes)), "a reading was not assessed"
    open_level: Severity | None = None
    previous: float | None = None
    for value, gap, assessment in zip(readings, minutes, assessments, strict=False):
        for effect in assessment.effects:
            open_level = None if effect.kind == "cleared" else effect.level
        if value < 85:
            assert open_level is Severity.CRITICAL, f"{value} left no critical alert open"
        elif value < 90 and previous is not None and previous < 90:
            if timedelta(minutes=gap) < POLICY.sustained_window:
                assert open_level is not None, f"two breaches {gap} min apart raised nothing"
        elif value >= 90 + MARGINS[Vital.SPO2]:
            assert open_level is None, f"{value} did not clear the open alert"
        previous = value


@settings(max_examples=300, deadline=None)
@given(values, gaps)
def test_property_alerts_open_and_clear_in_turn_one_at_a_time(
    readings: list[float], minutes: list[int]
) -> None:
    assessments = _walk(readings, minutes)
    _assert_what_must_happen_happened(readings, minutes, assessments)
    open_alert: UUID | None = None
    for _, effect in _effects(assessments):
        if effect.kind in ("raised", "reopened"):
            assert open_alert is None, "a second alert while one is open"
            open_alert = effect.alert_id
        elif effect.kind == "escalated":
            assert open_alert == effect.alert_id
        else:
            assert open_alert == effect.alert_id, "cleared an alert that was not open"
            open_alert = None


@settings(max_examples=300, deadline=None)
@given(values, gaps)
def test_property_no_new_alert_within_the_dedup_window_of_the_last(
    readings: list[float], minutes: list[int]
) -> None:
    assessments = _walk(readings, minutes)
    _assert_what_must_happen_happened(readings, minutes, assessments)
    raised = [at for at, e in _effects(assessments) if e.kind == "raised"]
    for first, second in itertools.pairwise(raised):
        assert second - first >= POLICY.dedup_window


@settings(max_examples=300, deadline=None)
@given(values, gaps)
def test_property_clears_happen_only_beyond_the_margin_and_raises_only_on_breaches(
    readings: list[float], minutes: list[int]
) -> None:
    assessments = _walk(readings, minutes)
    _assert_what_must_happen_happened(readings, minutes, assessments)
    for a in assessments:
        for e in a.effects:
            if e.kind == "cleared":
                assert a.reading.value >= 90 + MARGINS[Vital.SPO2]
            else:
                assert a.severity is not Severity.NORMAL
                if e.level is Severity.WARNING and e.kind == "raised":
                    assert len(e.readings) == POLICY.sustained_count


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=92, max_value=100, allow_nan=False), max_size=30), gaps)
def test_property_readings_inside_the_bounds_never_alert(
    readings: list[float], minutes: list[int]
) -> None:
    assessments = _walk(readings, minutes)
    assert len(assessments) == min(len(readings), len(minutes))
    assert all(a.severity is Severity.NORMAL and not a.effects for a in assessments)
