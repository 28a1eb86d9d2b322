"""What witnessing costs a save: commands/s with the audit key attached, against the same store
without it (the baseline), both stores, measured in the same run.

    python -m bench.witness [--quick | --full] [--repeats N]

Each run reports incidents and adds a note to each (one save each) on two fresh stores of the
same kind, one whose recorder signs a witness in every save's transaction (Ed25519) and one
that does not; runs alternate which goes first. Goal: witnessed >= 0.8x unwitnessed.
"""

from __future__ import annotations

import gc
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._pg import scratch_database
from bench._stats import banner, log, median, parse_mode, ratio, spread
from najda.domain.application import Dispatch
from najda.domain.values import Position, Priority
from najda.geo.distance import great_circle_m
from najda.projections.audit.signing_key import load_or_create_key
from najda.projections.audit.witness import attach_witness
from najda.projections.store.environment import postgres_env, sqlite_env

SIZES = {"quick": (100, 3), "default": (400, 5), "full": (1500, 7)}


@dataclass
class Row:
    """One store's per-run rates: witnessed and not."""

    label: str
    witnessed: list[float]
    plain: list[float]


def rate(app: Dispatch, n: int) -> float:
    """Commands/s for n (report an incident, add a note) pairs."""
    gc.collect()
    start = time.perf_counter()
    for i in range(n):
        incident = app.report_incident(
            location=Position(36.75 + i * 1e-4, 3.06),
            address="",
            nature="fall",
            priority=Priority.C,
            actor="bench",
        )
        app.add_note(incident, "caller on the line", "bench")
    return 2 * n / (time.perf_counter() - start)


@contextmanager
def apps(store: str, scratch: Path) -> Iterator[tuple[Dispatch, Dispatch]]:
    """A witnessing app and a plain one, each on its own fresh store of the kind."""
    key = load_or_create_key(scratch / "audit.key")
    if store == "sqlite":
        signed = Dispatch(sqlite_env(scratch / "signed.sqlite"), distance=great_circle_m)
        plain = Dispatch(sqlite_env(scratch / "plain.sqlite"), distance=great_circle_m)
        attach_witness(signed, key)
        try:
            yield signed, plain
        finally:
            signed.close()
            plain.close()
        return
    with scratch_database("najda_bench_witness") as a, scratch_database("najda_bench_plain") as b:
        signed = Dispatch(postgres_env(a), distance=great_circle_m)
        plain = Dispatch(postgres_env(b), distance=great_circle_m)
        attach_witness(signed, key)
        try:
            yield signed, plain
        finally:
            signed.close()
            plain.close()


def bench(store: str, pairs: int, repeats: int) -> Row:
    row = Row(store, [], [])
    with (
        tempfile.TemporaryDirectory(prefix="najda_bench_") as tmp,
        apps(store, Path(tmp)) as (
            signed,
            plain,
        ),
    ):
        rate(signed, 10), rate(plain, 10)  # warm both
        for run in range(repeats):
            if run % 2 == 0:
                row.witnessed.append(rate(signed, pairs))
                row.plain.append(rate(plain, pairs))
            else:
                row.plain.append(rate(plain, pairs))
                row.witnessed.append(rate(signed, pairs))
            log(f"  run {run} {store}: {row.witnessed[-1]:.0f} vs {row.plain[-1]:.0f} cmd/s")
    return row


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_mode(__doc__ or "", argv)
    pairs, repeats = SIZES[args.mode]
    repeats = args.repeats or repeats
    rows = [bench("sqlite", pairs, repeats), bench("postgres", pairs, repeats)]
    banner(f"witness [{args.mode}]: {pairs} pairs per run, {repeats} runs; medians [min..max]")
    print(
        "figure: Dispatch commands/s with every save witnessed (Ed25519 over the new rows, one"
        " witness row in the save's transaction) | baseline: the same commands on the same"
        " kind of store without the key"
    )
    for row in rows:
        fig, base = median(row.witnessed), median(row.plain)
        r = ratio(fig, base)
        print(
            f"witness/{row.label:<9} {fig:7.0f} cmd/s {spread(row.witnessed)} | baseline"
            f" unwitnessed {base:7.0f} cmd/s {spread(row.plain)} | ratio {r:.2f}x"
            f" (goal >=0.8x: {'MET' if r >= 0.8 else 'MISSED'})"
        )


if __name__ == "__main__":
    main()
