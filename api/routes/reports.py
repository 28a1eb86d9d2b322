"""Response-time reports: NEMSIS intervals, percentiles and compliance, as JSON, CSV or PNG."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from najda.api.auth import READ, allow
from najda.api.deps import ServicesDep
from najda.api.errors import query_error
from najda.api.report_plot import response_time_png
from najda.api.schemas import IsoTime
from najda.domain.errors import InvalidValue
from najda.projections.reports.response_times import (
    DEFAULT_TARGETS,
    Target,
    build_report,
    collect,
    report_csv,
)
from najda.projections.store.event_rows import EventLog

router = APIRouter(
    prefix="/reports",
    tags=["reports"],
    dependencies=[allow(READ, "read reports")],
)


class ReportFormat(StrEnum):
    """How the report is delivered."""

    JSON = "json"
    CSV = "csv"
    PNG = "png"


def parse_targets(texts: list[str] | None) -> list[Target]:
    """Targets from `metric:priority:time[@percentile]` texts (the defaults when none)."""
    if not texts:
        return list(DEFAULT_TARGETS)
    try:
        return [Target.parse(t) for t in texts]
    except InvalidValue as exc:
        raise query_error("target", exc) from None


@router.get(
    "/response-times",
    responses={
        200: {
            "content": {"text/csv": {}, "image/png": {}},
            "description": "The report (JSON), its unit responses (CSV) or a plot (PNG)",
        }
    },
)
async def response_times(
    services: ServicesDep,
    start: Annotated[IsoTime | None, Query(alias="from")] = None,
    end: Annotated[IsoTime | None, Query(alias="to")] = None,
    format: ReportFormat = ReportFormat.JSON,
    target: Annotated[
        list[str] | None,
        Query(
            max_length=20,
            description="metric:priority:time[@percentile], e.g. response:E:8:59 or"
            " turnout:*:60 (default: response 8:59 p90 for D and E, turnout 60 s)",
        ),
    ] = None,
) -> Response:
    """Percentiles of call processing, turnout, travel, response, on-scene and transport
    times for incidents called in [from, to); compliance with targets; by zone and hour."""
    if start is not None and end is not None and end <= start:
        raise query_error("to", InvalidValue("to", "must be after 'from'"))
    targets = parse_targets(target)

    def build() -> dict[str, Any]:
        responses, zones = collect(EventLog(services.dispatch), start, end)
        return build_report(responses, zones, targets, start, end)

    report = await services.query(build)
    if format is ReportFormat.CSV:
        return Response(report_csv(report), media_type="text/csv")
    if format is ReportFormat.PNG:
        png = await services.query(lambda: response_time_png(report))
        return Response(png, media_type="image/png")
    return JSONResponse(report)
