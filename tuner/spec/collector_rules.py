"""Rules for `spec.metricsCollectorSpec` (Katib's validateMetricsCollector), every problem at once.

Filters are compiled with Python's `re`; Katib compiles them with Go's RE2, which accepts a subset of
Python's syntax, so a filter using lookarounds passes here and would fail on a Katib cluster.
"""

from __future__ import annotations

import re

from tuner.errors import Problem
from tuner.spec.collector import (
    CollectorKind,
    FileFormat,
    FileSystemKind,
    FileSystemPath,
    MetricsCollectorSpec,
)

AT = "spec.metricsCollectorSpec"
FSP = f"{AT}.source.fileSystemPath"
KINDS = ", ".join(k.value for k in CollectorKind)


def check_metrics_collector(spec: MetricsCollectorSpec | None) -> list[Problem]:
    """Every problem of the collector spec (None means the default StdOut collector)."""
    if spec is None:
        return []
    if spec.collector is not None and spec.collector.kind is None:
        problems = [Problem(f"{AT}.collector.kind", f"required: one of {KINDS}")]
    else:
        problems = _KIND_RULES.get(spec.kind, _no_rules)(spec)
    return problems + _check_filters(spec)


def _no_rules(spec: MetricsCollectorSpec) -> list[Problem]:
    return []


def _check_path(path: FileSystemPath | None, collector: str, what: str) -> list[Problem]:
    if path is None or not path.path:
        return [
            Problem(
                f"{FSP}.path", f"required for collector kind {collector}: the absolute path of the {what}"
            )
        ]
    if not path.path.startswith("/"):
        return [Problem(f"{FSP}.path", f"must be an absolute path (starting with /), got '{path.path}'")]
    return []


def _check_file(spec: MetricsCollectorSpec) -> list[Problem]:
    path = spec.file_system_path
    problems = _check_path(path, "File", "metrics file")
    if path is not None and path.kind not in (None, FileSystemKind.FILE):
        problems.append(
            Problem(f"{FSP}.kind", f"must be File for collector kind File, got {path.kind.value}")
        )
    if path is not None and path.format is FileFormat.JSON and spec.source and spec.source.filter is not None:
        problems.append(
            Problem(
                f"{AT}.source.filter",
                "not allowed with format JSON: JSON lines name their metrics as keys; filters apply to TEXT",
            )
        )
    return problems


def _check_tfevent(spec: MetricsCollectorSpec) -> list[Problem]:
    path = spec.file_system_path
    problems = _check_path(path, "TensorFlowEvent", "event files' directory")
    if path is not None and path.kind not in (None, FileSystemKind.DIRECTORY):
        problems.append(
            Problem(
                f"{FSP}.kind", f"must be Directory for collector kind TensorFlowEvent, got {path.kind.value}"
            )
        )
    if path is not None and path.format is not None:
        problems.append(
            Problem(
                f"{FSP}.format", f"must be empty for collector kind TensorFlowEvent, got {path.format.value}"
            )
        )
    return problems


def _check_prometheus(spec: MetricsCollectorSpec) -> list[Problem]:
    get = spec.source.http_get if spec.source else None
    if get is None:
        return [
            Problem(
                f"{AT}.source.httpGet",
                "required for collector kind PrometheusMetric: the port and path to scrape",
            )
        ]
    problems: list[Problem] = []
    port = get.port
    if not (isinstance(port, int) and port > 0) and not (
        isinstance(port, str) and port.isdecimal() and int(port) > 0
    ):
        problems.append(Problem(f"{AT}.source.httpGet.port", f"must be a positive port number, got {port!r}"))
    if not (get.path or "").startswith("/"):
        problems.append(Problem(f"{AT}.source.httpGet.path", f"must start with /, got '{get.path or ''}'"))
    return problems


def _check_custom(spec: MetricsCollectorSpec) -> list[Problem]:
    problems: list[Problem] = []
    if spec.collector is None or spec.collector.custom_collector is None:
        problems.append(
            Problem(
                f"{AT}.collector.customCollector",
                "required for collector kind Custom: the collector's container",
            )
        )
    path = spec.file_system_path
    if path is not None:
        if not (path.path or "").startswith("/"):
            problems.append(
                Problem(f"{FSP}.path", f"must be an absolute path (starting with /), got '{path.path or ''}'")
            )
        if path.kind is None:
            problems.append(Problem(f"{FSP}.kind", "required with a fileSystemPath: File or Directory"))
    return problems


_KIND_RULES = {
    CollectorKind.FILE: _check_file,
    CollectorKind.TENSORFLOW_EVENT: _check_tfevent,
    CollectorKind.PROMETHEUS_METRIC: _check_prometheus,
    CollectorKind.CUSTOM: _check_custom,
}


def _check_filters(spec: MetricsCollectorSpec) -> list[Problem]:
    formats = spec.source.filter.metrics_format if spec.source and spec.source.filter else None
    problems: list[Problem] = []
    for i, text in enumerate(formats or []):
        at = f"{AT}.source.filter.metricsFormat[{i}]"
        try:
            groups = re.compile(text).groups
        except re.error as exc:
            problems.append(Problem(at, f"'{text}' is not a valid regular expression: {exc}"))
            continue
        if groups < 2:
            problems.append(
                Problem(
                    at,
                    f"'{text}' has {groups} capture group(s); it needs two: the metric name, then its value",
                )
            )
    return problems
