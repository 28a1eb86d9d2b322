"""Tiny helpers shared by the benchmarks: percentiles, medians of runs, summary lines."""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


def parse_mode(description: str, argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Common flags: --quick / --full, and --repeats to override the number of runs."""
    parser = argparse.ArgumentParser(description=description)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_true", help="small, fast smoke run")
    group.add_argument("--full", action="store_true", help="larger run (several minutes)")
    parser.add_argument("--repeats", type=int, default=None, help="runs to take medians over")
    args = parser.parse_args(argv)
    args.mode = "quick" if args.quick else "full" if args.full else "default"
    return args


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation between closest ranks."""
    if not samples:
        return math.nan
    data = sorted(samples)
    pos = (len(data) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


@dataclass(frozen=True)
class Latency:
    """Median over runs of each run's p50 and p99, in milliseconds."""

    p50_ms: float
    p99_ms: float
    runs: int
    samples_per_run: int

    @classmethod
    def of_runs(cls, runs: Sequence[Sequence[float]]) -> Latency:
        """Each run is a list of per-operation durations in seconds."""
        p50 = statistics.median(percentile(r, 50) for r in runs) * 1000
        p99 = statistics.median(percentile(r, 99) for r in runs) * 1000
        return cls(p50, p99, len(runs), len(runs[0]) if runs else 0)

    def text(self) -> str:
        return f"p50={fmt_ms(self.p50_ms)} p99={fmt_ms(self.p99_ms)}"


def fmt_ms(ms: float) -> str:
    """Milliseconds with sensible precision."""
    return f"{ms:.3f}ms" if ms < 1 else f"{ms:.2f}ms"


def ratio(figure: float, baseline: float) -> float:
    """figure / baseline (inf when the baseline is zero)."""
    return figure / baseline if baseline else math.inf


def median(values: Sequence[float]) -> float:
    """The median of the values."""
    return statistics.median(values)


def time_each(op: Callable[[T], object], items: Sequence[T]) -> list[float]:
    """Call `op(item)` for each item in turn; durations in seconds, one per call."""
    out: list[float] = []
    clock = time.perf_counter
    for item in items:
        start = clock()
        op(item)
        out.append(clock() - start)
    return out


def log(message: str) -> None:
    """Progress on stderr, so stdout holds only results."""
    print(message, file=sys.stderr, flush=True)


def banner(title: str) -> None:
    """Start of the final summary block."""
    print()
    print(f"=== {title} ===")


def spread(values: Sequence[float]) -> str:
    """min..max of per-run figures, to show how noisy the runs were."""
    return f"[{min(values):.3g}..{max(values):.3g}]"


async def time_each_async(op: Callable[[T], Awaitable[object]], items: Sequence[T]) -> list[float]:
    """Await `op(item)` for each item in turn; durations in seconds, one per call."""
    out: list[float] = []
    clock = time.perf_counter
    for item in items:
        start = clock()
        await op(item)
        out.append(clock() - start)
    return out
