"""The server's Prometheus metrics (requests, latencies, running experiments and trials), in a registry
of their own per app, and the middleware that counts requests by route template (not by raw path, so
experiment names do not multiply the series)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from tuner.server.drivers import Drivers
from tuner.server.run_drivers import RunDrivers

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ServerMetrics:
    def __init__(self, drivers: Drivers, run_drivers: RunDrivers | None = None) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "tuner_server_requests",
            "HTTP requests by method, route and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "tuner_server_request_duration_seconds",
            "Time to answer a request (to its first byte for streams), by method and route.",
            ["method", "route"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        experiments = Gauge(
            "tuner_server_running_experiments",
            "Experiments this server drives now.",
            registry=self.registry,
        )
        experiments.set_function(lambda: len(drivers.running()))
        trials = Gauge(
            "tuner_server_running_trials",
            "Trials running now in the experiments this server drives.",
            registry=self.registry,
        )
        trials.set_function(lambda: sum(d.active_trials() for d in drivers.running()))
        if run_drivers is not None:
            runs = Gauge(
                "tuner_server_running_pipeline_runs",
                "Pipeline runs this server drives now.",
                registry=self.registry,
            )
            runs.set_function(lambda: len(run_drivers.running()))

    async def middleware(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        start = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = request.scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.requests.labels(request.method, template, str(status)).inc()
            self.latency.labels(request.method, template).observe(time.perf_counter() - start)
