"""Health and metrics: liveness, readiness with the failing part named, Prometheus text."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from najda.api.deps import ServicesDep
from najda.api.schemas_health import HealthPublic
from najda.api.services import Services

router = APIRouter(tags=["health"])

#: How long readiness waits for the store before calling it unreachable.
STORE_TIMEOUT_S = 3.0


@router.get("/health")
async def health(services: ServicesDep) -> HealthPublic:
    """Liveness, the store's head and each read model's position."""
    head = await services.query(services.source.head)
    error = services.runner.error
    failures = dict(services.runner.failures)
    return HealthPublic(
        status="ok" if error is None and not failures else "degraded",
        store=services.store,
        head=head,
        positions=dict(services.runner.positions),
        runner_error=None if error is None else repr(error),
        failures=failures,
    )


@router.get("/health/live")
async def live() -> dict[str, str]:
    """The process runs and answers (restart it when this fails)."""
    return {"status": "live"}


@router.get("/health/ready", responses={503: {"description": "Not ready; `failing` says why"}})
async def ready(request: Request) -> JSONResponse:
    """Ready to take traffic: store reachable, read models and sealer near the log's head,
    LISTEN connected (PostgreSQL). 503 names each failing part."""
    services: Services | None = getattr(request.app.state, "services", None)
    if services is None:
        return JSONResponse({"status": "starting", "failing": {"server": "starting"}}, 503)
    checks = await _checks(services)
    failing = {part: problem for part, problem in checks.items() if problem is not None}
    body: dict[str, Any] = {
        "status": "ready" if not failing else "not ready",
        "checks": {part: problem or "ok" for part, problem in checks.items()},
    }
    if failing:
        body["failing"] = failing
    return JSONResponse(body, status_code=503 if failing else 200)


async def read_store(services: Services) -> tuple[int, int]:
    """The log's head and the last sealed position, or an exception within the time-out."""
    from najda.projections.audit.seal import sealed_position
    from najda.projections.store.event_rows import EventLog

    def read() -> tuple[int, int]:
        return services.source.head(), sealed_position(EventLog(services.dispatch))

    async with asyncio.timeout(STORE_TIMEOUT_S):
        return await run_in_threadpool(read)


async def _checks(services: Services) -> dict[str, str | None]:
    """Each part's problem, or None when it is fine."""
    limit = services.settings.ready_max_lag
    checks: dict[str, str | None] = {}
    head: int | None
    sealed: int | None

    try:
        head, sealed = await read_store(services)
    except Exception as exc:  # unreachable, timed out, or refusing
        checks["store"] = f"unreachable: {type(exc).__name__}: {exc}".strip()[:300]
        head = sealed = None
    else:
        checks["store"] = None
    runner = services.runner
    if runner.error is not None:
        checks["read_models"] = f"runner failed: {runner.error!r}"[:300]
    elif runner.failures:
        checks["read_models"] = "stuck: " + ", ".join(sorted(runner.failures))
    elif head is not None:
        behind = {n: head - p for n, p in runner.positions.items() if head - p > limit}
        checks["read_models"] = (
            None
            if not behind
            else "behind the log: " + ", ".join(f"{n} by {d}" for n, d in sorted(behind.items()))
        )
    if services.listening is not None:
        checks["listen"] = None if services.listening.connected else "LISTEN connection down"
    if head is not None and sealed is not None:
        checks["sealer"] = (
            None if head - sealed <= limit else f"{head - sealed} events not sealed yet"
        )
    return checks


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(request: Request) -> PlainTextResponse:
    """Prometheus text exposition of this process's metrics."""
    metrics = request.app.state.metrics
    services: Services | None = getattr(request.app.state, "services", None)
    if services is not None:
        try:
            metrics.live.snapshot = await read_store(services)
        except Exception:  # reported as najda_store_up 0
            metrics.live.snapshot = None
    text = await run_in_threadpool(generate_latest, metrics.registry)
    return PlainTextResponse(text, media_type=CONTENT_TYPE_LATEST)
