"""`spec.metricsCollectorSpec`: how a trial's metrics are collected (Katib's MetricsCollectorSpec).

Every Katib collector kind parses here, including those that need a cluster (TensorFlowEvent, Custom,
PrometheusMetric); refusing them for a local run is the controller's job. The default TEXT line format and
the defaults per kind live in `tuner.spec.defaults`; the rules in `tuner.spec.collector_rules`.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from tuner.spec.field_types import KatibModel, empty_as_none


class CollectorKind(str, Enum):
    """`collector.kind`: where metrics come from."""

    STDOUT = "StdOut"
    FILE = "File"
    TENSORFLOW_EVENT = "TensorFlowEvent"
    PROMETHEUS_METRIC = "PrometheusMetric"
    CUSTOM = "Custom"
    PUSH = "Push"
    NONE = "None"


class FileSystemKind(str, Enum):
    """Whether `fileSystemPath.path` names a file or a directory."""

    FILE = "File"
    DIRECTORY = "Directory"


class FileFormat(str, Enum):
    """Format of a metrics file: `name=value` text lines or one JSON object per line."""

    TEXT = "TEXT"
    JSON = "JSON"


DEFAULT_METRICS_FILE = "/var/log/katib/metrics.log"
DEFAULT_TFEVENT_DIR = "/var/log/katib/tfevent/"
DEFAULT_PROMETHEUS_PATH = "/metrics"
DEFAULT_PROMETHEUS_PORT = 8080

DEFAULT_METRICS_FORMAT = r"([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)"
"""Katib's default TEXT filter: `name=value`, group 1 the name, group 2 the value."""


def _port(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError("expected a port number or a named port")
    return value


class FileSystemPath(KatibModel):
    """`source.fileSystemPath`: an absolute path, whether it is a file or directory, and the file format."""

    path: str | None = None
    kind: Annotated[FileSystemKind | None, BeforeValidator(empty_as_none)] = None
    format: Annotated[FileFormat | None, BeforeValidator(empty_as_none)] = None


class FilterSpec(KatibModel):
    """`source.filter`: regular expressions with two groups (metric name, value) for TEXT lines."""

    metrics_format: list[str] | None = Field(default=None, alias="metricsFormat")


class HTTPHeader(KatibModel):
    """A header of core/v1 HTTPGetAction."""

    name: str | None = None
    value: str | None = None


class HTTPGetAction(KatibModel):
    """core/v1 HTTPGetAction, for the PrometheusMetric collector."""

    path: str | None = None
    port: Annotated[int | str | None, BeforeValidator(_port)] = None
    host: str | None = None
    scheme: str | None = None
    http_headers: list[HTTPHeader] | None = Field(default=None, alias="httpHeaders")


class SourceSpec(KatibModel):
    """`metricsCollectorSpec.source`: where the collector reads and how it filters lines."""

    http_get: HTTPGetAction | None = Field(default=None, alias="httpGet")
    file_system_path: FileSystemPath | None = Field(default=None, alias="fileSystemPath")
    filter: FilterSpec | None = None


class CollectorSpec(KatibModel):
    """`metricsCollectorSpec.collector`: the kind, and the sidecar container for `Custom`."""

    kind: Annotated[CollectorKind | None, BeforeValidator(empty_as_none)] = None
    custom_collector: dict[str, Any] | None = Field(default=None, alias="customCollector")


class MetricsCollectorSpec(KatibModel):
    """`spec.metricsCollectorSpec`."""

    source: SourceSpec | None = None
    collector: CollectorSpec | None = None

    @property
    def kind(self) -> CollectorKind:
        """The collector kind; StdOut when none is given (Katib's default)."""
        if self.collector is None or self.collector.kind is None:
            return CollectorKind.STDOUT
        return self.collector.kind

    @property
    def file_system_path(self) -> FileSystemPath | None:
        """`source.fileSystemPath`, if any."""
        return self.source.file_system_path if self.source else None

    @property
    def metrics_formats(self) -> list[str]:
        """The TEXT filters to apply: the user's `metricsFormat`, or Katib's default `name=value` filter."""
        if self.source and self.source.filter and self.source.filter.metrics_format:
            return list(self.source.filter.metrics_format)
        return [DEFAULT_METRICS_FORMAT]
