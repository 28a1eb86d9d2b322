"""The FastAPI app factory: lifespan-managed services, routes, error mapping, offline docs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from najda.api import fhir_structure, ucum
from najda.api.docs import install_docs
from najda.api.errors import COMMON, install_error_handlers
from najda.api.live import ws
from najda.api.logs import RequestId
from najda.api.metrics import Metrics, RequestMetrics
from najda.api.middleware import AccessLog, AuthBeforeBody, NoStore
from najda.api.routes import (
    assignments,
    basemap,
    consults,
    coverage,
    destinations,
    duplicates,
    eido,
    fhir,
    floor,
    geocode,
    health,
    hospitals,
    incidents,
    patient_reads,
    patients,
    recommendations,
    stations,
    units,
    users,
)
from najda.api.routes import audit as audit_routes
from najda.api.routes import reports as report_routes
from najda.api.routes.pages import install_pages
from najda.api.services import open_services
from najda.api.settings import Settings
from najda.projections.dispatch.incident_history import HistoryIndex

#: Largest request body accepted; every field has its own, smaller, limit.
MAX_BODY_BYTES = 1_000_000


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; the store and read models open in the lifespan, not here."""
    settings = settings or Settings.from_env()
    plan = settings.load_response_plan()
    targets = settings.load_targets()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        started = False
        try:
            async with open_services(settings, plan) as services:
                app.state.services = services
                app.state.history = services.history  # restored with the read models
                started = True
                # UCUM's registry takes seconds to build: in the background, not on a reading.
                warming = asyncio.get_running_loop().run_in_executor(None, ucum.warm_up)
                yield
                await warming
                fhir_structure.shutdown()  # the structural pass's worker processes, if started
        except Exception as exc:
            if not started:  # said once, plainly, by `najda serve`
                app.state.start_failure = f"{type(exc).__name__}: {exc}"
            raise

    app = FastAPI(
        title="Najda",
        summary="Event-sourced emergency dispatch coordination",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        responses=COMMON,
    )
    app.state.settings = settings
    app.state.targets = targets
    app.state.history = HistoryIndex()  # incident history for searches, followed from the log
    install_error_handlers(app)
    install_docs(app)
    for module in (
        health,
        incidents,
        recommendations,
        assignments,
        units,
        stations,
        hospitals,
        basemap,
        users,
        ws,
    ):
        app.include_router(module.router)
    app.include_router(units.positions_router)
    install_pages(app)  # the console at /, the crew screen at /crew
    app.include_router(destinations.router)  # hospitals for a crew's patient
    app.include_router(consults.router)  # teleconsults
    app.include_router(floor.router)  # targets and alarm settings for the console
    app.include_router(duplicates.router)  # possible duplicate calls
    app.include_router(coverage.router)  # coverage within the target, move-ups
    for module in (audit_routes, report_routes):  # auditors: timelines, reports
        app.include_router(module.router)
    app.include_router(eido.router)  # incidents across agencies: EIDO export and import
    for module in (patients, patient_reads, fhir):  # remote monitoring
        app.include_router(module.router)
    app.include_router(geocode.router)  # offline geocoding of the operating area
    app.add_middleware(BodySizeLimit, max_bytes=MAX_BODY_BYTES)
    app.add_middleware(AuthBeforeBody)  # before a large body is read, the token is checked
    app.add_middleware(NoStore)
    app.state.metrics = Metrics(app)
    app.add_middleware(RequestMetrics, metrics=app.state.metrics)  # sees every answer
    app.add_middleware(AccessLog)  # it sees every answer, the 413s included
    app.add_middleware(RequestId)  # outermost: every log line (the access log's too) has it
    return app


class BodySizeLimit:
    """Answer 413 to a request whose body is larger than `max_bytes` (declared or streamed)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:  # FastAPI passes HTTPException through
                    raise HTTPException(413, f"request body larger than {self.max_bytes} bytes")
            return message

        await self.app(scope, limited, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse(
            {"detail": f"request body larger than {self.max_bytes} bytes"}, status_code=413
        )
        await response(scope, receive, send)
