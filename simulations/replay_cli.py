"""`najda simulate SCENARIO --from-store STORE`: a recorded day re-run under other policies."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from datetime import datetime

from najda.simulations.calls_csv import RecordedCalls, write_calls
from najda.simulations.from_store import (
    AS_HAPPENED,
    StoreReplayError,
    as_happened,
    read_history,
    redacted,
    replay_calls,
)
from najda.simulations.report import (
    PolicyReport,
    comparison,
    markdown_table,
    plot,
    summarise,
    write_csv,
)
from najda.simulations.run import SECONDS_PER_DAY, run_policy
from najda.simulations.scenario import Scenario

#: Seconds run past the last recorded call (it still arrives within the run).
MARGIN_S = 1.0


def _instant(text: str | None, option: str) -> datetime | None:
    """An ISO 8601 time with its offset (None when not given)."""
    if text is None:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise StoreReplayError(f"{option}: {text!r} is not an ISO 8601 time") from None
    if at.tzinfo is None:
        raise StoreReplayError(f"{option}: {text!r} needs a UTC offset (e.g. +00:00)")
    return at


def replay_store(args: argparse.Namespace, scenario: Scenario, policies: list[str]) -> int:
    """Read the store's calls, re-run them under each policy, print them beside what
    actually happened; write the table, plots and calls under --out."""
    try:
        start = _instant(args.start, "--from")
        end = _instant(args.end, "--to")
        if start is not None and end is not None and end <= start:
            raise StoreReplayError("--to must be after --from")
        history = read_history(args.from_store, scenario, start, end)
    except (StoreReplayError, OSError) as exc:
        print(f"najda simulate: {exc}", file=sys.stderr)
        return 2
    calls = replay_calls(history)
    scenario = replace(scenario, calls=RecordedCalls(tuple(calls)))
    days = (max(c.at_s for c in calls) + MARGIN_S) / SECONDS_PER_DAY
    reports: list[PolicyReport] = [as_happened(history, scenario)]
    for policy in policies:
        store = None
        if args.out is not None:
            args.out.mkdir(parents=True, exist_ok=True)
            store = args.out / f"events-{policy}.sqlite"
            store.unlink(missing_ok=True)
        result = run_policy(scenario, policy, days=days, seed=args.seed, store=store)
        reports.append(summarise(scenario, result))
    shown = redacted(str(args.from_store))
    print(f"store {shown}: {len(calls)} calls received from {history.start.isoformat()}"
          f" to {history.end.isoformat()} ({history.skipped} not reached, left out; "
          f"{history.queued} waited for a free ambulance; "
          f"{sum(1 for c in calls if c.backups)} needed more than one ambulance, "
          f"{sum(len(c.backups) for c in calls)} further ambulances sent again; "
          f"{history.other_kinds} also had units of other kinds, not re-run), "
          f"re-run on {scenario.name}")
    table = markdown_table(reports)
    print(table)
    top = scenario.priority_order()[0]
    line = comparison(reports, AS_HAPPENED, top)
    if line:
        print(line)
    if args.out is not None:
        (args.out / "report.md").write_text(table + "\n" + (line or "") + "\n")
        write_csv(reports, args.out / "report.csv")
        write_calls(calls, args.out / "calls.csv")
        if not args.no_plots:
            for path in plot(reports, scenario, args.out):
                print(f"wrote {path}")
    return 0
