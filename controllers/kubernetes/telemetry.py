"""The operator's Prometheus metrics, its /healthz /readyz /metrics endpoint, and JSON logs.

Metric names follow Katib's controller (`katib_experiment_created_total` ...) under the `tuner_operator_`
prefix. Logs are one JSON object per line (time, level, logger, message and any `extra=` fields), what
cluster log collectors parse without configuration.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                doc[key] = value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc)


def json_logging(level: int = logging.INFO) -> None:
    """Send the operator's logs to stderr as JSON lines."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    for name in ("tuner.operator",):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False


class OperatorMetrics:
    """The counters and gauges the operator exports (its own registry: several operators in one test)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.experiments_created = Counter(
            "tuner_operator_experiment_created", "Experiments taken up (started or resumed)", registry=r
        )
        self.experiments_succeeded = Counter(
            "tuner_operator_experiment_succeeded", "Experiments that succeeded", registry=r
        )
        self.experiments_failed = Counter(
            "tuner_operator_experiment_failed", "Experiments that failed", registry=r
        )
        self.experiments_deleted = Counter(
            "tuner_operator_experiment_deleted", "Experiments deleted while driven", registry=r
        )
        self.experiments_current = Gauge(
            "tuner_operator_experiments_current", "Experiments being driven", registry=r
        )
        self.trials_created = Counter("tuner_operator_trial_created", "Trial workloads created", registry=r)
        self.trials_deleted = Counter("tuner_operator_trial_deleted", "Trial workloads deleted", registry=r)
        self.trials_succeeded = Counter("tuner_operator_trial_succeeded", "Trials that succeeded", registry=r)
        self.trials_failed = Counter("tuner_operator_trial_failed", "Trials that failed", registry=r)
        self.trials_metrics_unavailable = Counter(
            "tuner_operator_trial_metrics_unavailable", "Trials that ended without the objective", registry=r
        )
        self.reconcile_errors = Counter(
            "tuner_operator_reconcile_errors", "Reconcile passes that failed", registry=r
        )
        self.leader = Gauge(
            "tuner_operator_leader", "1 while this replica holds the leadership lease", registry=r
        )

    def settled(self, state: str) -> None:
        """Count a trial that ended (by its TrialState value)."""
        counter = {
            "Succeeded": self.trials_succeeded,
            "Failed": self.trials_failed,
            "MetricsUnavailable": self.trials_metrics_unavailable,
        }.get(state)
        if counter is not None:
            counter.inc()

    def event(self, name: str) -> None:
        """Count a named event from the launcher (`trial_created`, `trial_deleted`)."""
        {"trial_created": self.trials_created, "trial_deleted": self.trials_deleted}[name].inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class HealthServer:
    """/healthz (the process answers), /readyz (`ready()` is true), /metrics (Prometheus text)."""

    def __init__(
        self, metrics: OperatorMetrics, ready: Callable[[], bool], port: int, host: str = "0.0.0.0"
    ) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/healthz":
                    self._send(200, b"ok", "text/plain")
                elif self.path == "/readyz":
                    ok = outer.ready()
                    self._send(200 if ok else 503, b"ok" if ok else b"not ready", "text/plain")
                elif self.path == "/metrics":
                    self._send(200, outer.metrics.exposition(), CONTENT_TYPE_LATEST)
                else:
                    self._send(404, b"not found", "text/plain")

            def _send(self, code: int, body: bytes, content_type: str) -> None:
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.metrics = metrics
        self.ready = ready
        self.server = ThreadingHTTPServer((host, port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, name="health", daemon=True)

    def start(self) -> HealthServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
