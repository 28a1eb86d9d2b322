"""Per-priority targets: defaults, a centre's own file, and refusals naming the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from najda.api.settings import Settings, SettingsError
from najda.domain.dispatch.targets import DEFAULT_TARGETS
from najda.domain.values import Priority


def test_defaults_hold_the_most_urgent_calls_to_the_tightest_limits() -> None:
    targets = Settings().load_targets()
    assert targets == DEFAULT_TARGETS
    ranked = sorted(Priority, key=lambda p: p.rank)
    limits = [targets[p].call_to_dispatch_s for p in ranked]
    assert limits == sorted(limits, reverse=True)


def test_a_file_overrides_only_what_it_names(tmp_path: Path) -> None:
    path = tmp_path / "targets.json"
    path.write_text(json.dumps({"e": {"call_to_dispatch_s": 45}, "Ω": {"turnout_s": 240}}))
    targets = Settings.from_env({"NAJDA_TARGETS": str(path)}).load_targets()
    assert targets[Priority.E].call_to_dispatch_s == 45
    assert targets[Priority.E].turnout_s == DEFAULT_TARGETS[Priority.E].turnout_s
    assert targets[Priority.OMEGA].turnout_s == 240
    assert targets[Priority.D] == DEFAULT_TARGETS[Priority.D]


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ({"E": {"call_to_dispatch_s": -1}}, "targets.E.call_to_dispatch_s"),
        ({"E": {"call_to_dispatch_s": "fast"}}, "targets.E.call_to_dispatch_s"),
        ({"E": {"lunch_s": 60}}, "unknown limits"),
        ({"E": 60}, "targets.E"),
        ({"Z": {"turnout_s": 60}}, "priority"),
        ([1, 2], "JSON object"),
    ],
)
def test_a_bad_file_is_refused_naming_what_is_wrong(
    tmp_path: Path, content: object, named: str
) -> None:
    path = tmp_path / "targets.json"
    path.write_text(json.dumps(content))
    with pytest.raises(SettingsError, match=named):
        Settings(targets_file=path).load_targets()


def test_alarm_priorities_come_from_the_environment() -> None:
    assert Settings().alarm_priorities == {Priority.E, Priority.D, Priority.C}
    chosen = Settings.from_env({"NAJDA_ALARM_PRIORITIES": "Ω,a,b"}).alarm_priorities
    assert chosen == {Priority.OMEGA, Priority.A, Priority.B}


def test_a_bad_alarm_priority_is_refused_naming_the_setting() -> None:
    with pytest.raises(SettingsError, match="NAJDA_ALARM_PRIORITIES"):
        Settings.from_env({"NAJDA_ALARM_PRIORITIES": "E,Q"})
