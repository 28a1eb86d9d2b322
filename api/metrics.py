"""Prometheus metrics: requests and commands by route, read-model lag, clients, seal backlog."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Request-latency buckets (seconds): a dispatch command should answer well within 250 ms.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_COMMAND_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Metrics:
    """One app's registry (not the process-global one: tests run several apps)."""

    def __init__(self, app: Any) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.live = LiveCollector(app)
        self.registry.register(self.live)
        self.requests = Counter(
            "najda_http_requests",
            "HTTP requests answered, by method, route template and status code",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "najda_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template",
            ["method", "route"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.commands = Histogram(
            "najda_command_duration_seconds",
            "Time to answer a command (a request that changes state), by route template",
            ["route"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.store_errors = Counter(
            "najda_store_errors",
            "Requests that failed because the event store could not be reached",
            registry=self.registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request."""
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)
        if method in _COMMAND_METHODS:
            self.commands.labels(route).observe(seconds)
        if status == 503:
            self.store_errors.inc()


class LiveCollector(Collector):
    """Gauges read at scrape time from the running services; the store's head and seal
    position are read (with a time-out) by the scrape just before, into `snapshot`."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.snapshot: tuple[int, int] | None = None

    def collect(self) -> Iterator[Metric]:
        services = getattr(self.app.state, "services", None)
        if services is None:  # starting or stopped
            return
        snapshot, self.snapshot = self.snapshot, None
        if snapshot is None:  # the store did not answer in time: say so, skip what needs it
            yield GaugeMetricFamily("najda_store_up", "1 while the event store answers", value=0)
            return
        head, sealed = snapshot
        yield GaugeMetricFamily("najda_store_up", "1 while the event store answers", value=1)
        yield GaugeMetricFamily("najda_log_head", "Newest position of the event log", value=head)
        lag = GaugeMetricFamily(
            "najda_projection_lag", "Positions a read model is behind the log", labels=["model"]
        )
        for name, position in sorted(services.runner.positions.items()):
            lag.add_metric([name], max(0, head - position))
        yield lag
        clients = GaugeMetricFamily(
            "najda_ws_clients", "Websocket clients connected to this process", labels=["kind"]
        )
        for kind, count in sorted(services.feed.clients_by_kind().items()):
            clients.add_metric([kind], count)
        yield clients
        yield CounterMetricFamily(
            "najda_ws_dropped_clients",
            "Websocket clients dropped for falling too far behind",
            value=services.feed.dropped_clients,
        )
        yield GaugeMetricFamily(
            "najda_seal_backlog", "Events not sealed into the hash chain yet",
            value=max(0, head - sealed),
        )  # fmt: skip
        if services.listening is not None:
            yield GaugeMetricFamily(
                "najda_listen_connected",
                "1 while the PostgreSQL LISTEN connection is up",
                value=int(services.listening.connected),
            )


class RequestMetrics:
    """ASGI middleware counting each HTTP request by its route template (not its path)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", None) or "(unmatched)"
            self.metrics.observe(scope["method"], route, status, time.perf_counter() - started)
