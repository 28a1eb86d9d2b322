"""Health: liveness, the store's head and the read models' positions."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ServicesDep
from api.schemas import HealthPublic

router = APIRouter(tags=["health"])


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
