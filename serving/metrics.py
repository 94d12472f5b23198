"""Prometheus metrics of the inference server, per model and version (text format at /metrics).

Each server has its own registry, so several servers in one process (tests) never collide. With several
workers each worker answers /metrics for itself (scrape them through the Service as usual).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class ServerMetrics:
    """The server's metric families; children are cached by the callers for the hot path."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "tuner_serving_requests",
            "Inference requests by model, version, protocol and HTTP status.",
            ["model", "version", "protocol", "code"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "tuner_serving_request_seconds",
            "Time from a request's body being read to its answer, per model and version.",
            ["model", "version"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.batch_rows = Histogram(
            "tuner_serving_batch_rows",
            "Rows per predict call (micro-batching), per model and version.",
            ["model", "version"],
            buckets=_BATCH_BUCKETS,
            registry=self.registry,
        )
        self.traffic = Gauge(
            "tuner_serving_traffic_percent",
            "Share of an alias's traffic each version takes.",
            ["model", "alias", "version"],
            registry=self.registry,
        )
        self.fallbacks = Counter(
            "tuner_serving_canary_fallbacks",
            "Requests a failing canary answered through the stable version instead.",
            ["model", "version"],
            registry=self.registry,
        )
        self.rollbacks = Counter(
            "tuner_serving_rollbacks",
            "Automatic rollbacks of a canary.",
            ["model", "alias"],
            registry=self.registry,
        )
        self.swaps = Counter(
            "tuner_serving_route_changes",
            "Traffic changes applied without a restart (alias moved, canary started, rollback).",
            ["model", "alias"],
            registry=self.registry,
        )
