"""Replications in worker processes: each run alone in its process, reports gathered in order."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from najda.simulations.report import PolicyReport, summarise
from najda.simulations.run import run_policy
from najda.simulations.scenario import Scenario

#: The scenario the forked workers inherit (set just before the pool starts).
_SCENARIO: list[Scenario] = []


@dataclass(frozen=True)
class Job:
    """One run: a policy, a seed, and where its store goes (None: not kept)."""

    policy: str
    seed: int
    days: float
    backend: str
    warm_up_s: float
    store: Path | None = None


def _one(job: Job) -> PolicyReport:
    scenario = _SCENARIO[0]
    result = run_policy(scenario, job.policy, days=job.days, seed=job.seed, store=job.store,
                        backend=job.backend)
    return summarise(scenario, result, job.warm_up_s)


def run_all(scenario: Scenario, jobs: list[Job], workers: int) -> list[PolicyReport]:
    """Every job's report, in the order of `jobs` (a run depends only on its seed, so the
    reports are those of running the jobs one after the other)."""
    _SCENARIO[:] = [scenario]
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            return list(pool.map(_one, jobs))
    finally:
        _SCENARIO.clear()
