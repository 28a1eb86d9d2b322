"""`najda simulate`: several policies in one command, outputs written, recorded calls replayed."""

from __future__ import annotations

from pathlib import Path

import pytest

from najda.cli import main
from tests.unit.jemss_fixture import write_scenario


def test_compares_policies_and_writes_table_plots_calls_and_stores(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = write_scenario(tmp_path / "jemss")
    out = tmp_path / "out"
    code = main(
        [
            "simulate",
            str(scenario),
            "--compare",
            "--days",
            "0.3",
            "--seed",
            "2",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    for policy in ("closest-straight", "closest-road", "coverage"):
        assert f"| {policy} | highPriority |" in printed
        assert (out / f"events-{policy}.sqlite").stat().st_size > 0
    assert "highPriority over target vs closest-road" in printed
    for name in ("report.md", "report.csv", "calls.csv", "response_cdf.png", "within_target.png"):
        assert (out / name).stat().st_size > 0
    assert (out / "response_cdf.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    replay = tmp_path / "replay"
    code = main(
        [
            "simulate",
            str(scenario),
            "--compare",
            "--days",
            "0.3",
            "--seed",
            "99",
            "--calls",
            str(out / "calls.csv"),
            "--no-plots",
            "--out",
            str(replay),
            "--no-progress",
        ]
    )
    assert code == 0
    table = lambda text: [ln for ln in text.splitlines() if ln.startswith("| ")]  # noqa: E731
    assert table((replay / "report.md").read_text()) == table((out / "report.md").read_text())


def test_refuses_an_unknown_scenario_and_a_road_policy_without_roads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", str(tmp_path / "nowhere"), "--no-progress"]) == 2
    assert "SCENARIO" in capsys.readouterr().err
    assert main(["simulate", "synthetic", "--policy", "closest-road", "--no-progress"]) == 2
    assert "road network" in capsys.readouterr().err


def test_a_bad_call_list_is_named_by_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = tmp_path / "calls.csv"
    calls.write_text(
        "at_s,lat,lon,priority,dispatch_delay_s,on_scene_s,transport,handover_s\n"
        "10,36.75,3.06,high,60,300,1,120\n"
        "20,36.75,3.06,high,sixty,300,1,120\n"
    )
    args = ["simulate", "synthetic", "--policy", "closest-straight", "--calls", str(calls)]
    assert main([*args, "--no-progress"]) == 2
    assert f"{calls}:3: dispatch_delay_s must be a number" in capsys.readouterr().err


def test_a_synthetic_city_runs_from_the_command_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(
        [
            "simulate",
            "synthetic",
            "--policy",
            "closest-straight",
            "--policy",
            "coverage-straight",
            "--days",
            "0.2",
            "--no-progress",
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert "| closest-straight | high |" in printed and "| coverage-straight | high |" in printed


def test_replications_report_every_figure_with_its_interval_and_what_was_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import csv

    from najda.simulations.jemss import load_jemss
    from najda.simulations.replications import interval, rep_seeds
    from najda.simulations.report import summarise
    from najda.simulations.run import run_policy

    scenario = write_scenario(tmp_path / "jemss")
    out = tmp_path / "out"
    args = ["simulate", str(scenario), "--policy", "closest-road", "--policy", "coverage",
            "--days", "0.2", "--seed", "3", "--reps", "3", "--no-plots", "--no-progress"]
    assert main([*args, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    report = (out / "report.md").read_text()
    assert not list(out.glob("*.png")) and "wrote " not in printed  # --no-plots: tables only
    seeds = rep_seeds(3, 3)
    for fact in (f"- scenario: {scenario.name}", "- policies: closest-road, coverage",
                 f"- seed: 3 (replication seeds: {', '.join(map(str, seeds))})",
                 "- days: 0.2 per replication", "- replications: 3", "- najda version: "):
        assert fact in report
    for section in ("## Per ambulance: coverage", "## Per home station: closest-road",
                    "## Per hospital: coverage", "## Over target against closest-road"):
        assert section in report
    assert "| closest-road | highPriority |" in printed and " ± " in printed
    # The CSV's intervals are those of the replications run one by one.
    loaded = load_jemss(scenario)
    over = [
        next(s.over_target for s in summarise(loaded, run_policy(
            loaded, "coverage", days=0.2, seed=seed)).by_priority if s.priority == "lowPriority")
        for seed in seeds
    ]
    expected = interval(over)
    with (out / "report.csv").open() as f:
        row = next(r for r in csv.DictReader(f) if (r["policy"], r["priority"], r["figure"])
                   == ("coverage", "lowPriority", "over_target"))
    assert float(row["mean"]) == pytest.approx(expected.mean, abs=1e-6)
    assert float(row["ci_low"]) == pytest.approx(expected.low, abs=1e-6)
    assert row["reps"] == "3"
    # The same command gives the same report, byte for byte.
    again = tmp_path / "again"
    assert main([*args, "--out", str(again)]) == 0
    assert (again / "report.md").read_bytes() == report.encode()
    # In two worker processes: the same report again, and the first replication's store.
    workers = tmp_path / "workers"
    assert main([*args, "--jobs", "2", "--out", str(workers)]) == 0
    assert (workers / "report.md").read_bytes() == report.encode()
    assert (workers / "report.csv").read_bytes() == (out / "report.csv").read_bytes()
    assert (workers / "events-coverage.sqlite").stat().st_size > 0
    assert main([*args[:-4], "--reps", "0", "--no-progress"]) == 2
    assert main([*args, "--jobs", "0"]) == 2
