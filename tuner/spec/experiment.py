"""The Experiment document: Katib v1beta1's Experiment, field for field.

`Experiment` is what every part of tuner passes around once a spec is loaded: the controller reads its
spec, the store keeps its document, the CLI prints it. Build one with `tuner.spec.load_experiment` (which
applies Katib's defaults and validates) rather than by hand; a hand-built one should go through
`apply_defaults` and `validate_experiment`.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Field

from tuner.spec.collector import CollectorKind, MetricsCollectorSpec
from tuner.spec.common import AlgorithmSpec, EarlyStoppingSpec, ObjectiveSpec
from tuner.spec.field_types import Count, KatibModel, empty_as_none
from tuner.spec.meta import ObjectMeta
from tuner.spec.nas import NasConfig
from tuner.spec.parameters import ParameterSpec
from tuner.spec.status import ExperimentStatus
from tuner.spec.trial_template import TrialTemplate

KATIB_API_VERSION = "kubeflow.org/v1beta1"
TUNER_API_VERSION = "tuner.dev/v1beta1"
API_VERSIONS = (KATIB_API_VERSION, TUNER_API_VERSION)
"""Accepted `apiVersion`s: Katib's own group, unchanged, and the group tuner's CRDs register."""

DEFAULT_NAMESPACE = "default"


class ResumePolicy(str, Enum):
    """What happens to the suggestion service when the experiment ends (Katib's resumePolicy)."""

    NEVER = "Never"
    LONG_RUNNING = "LongRunning"
    FROM_VOLUME = "FromVolume"


class ExperimentSpec(KatibModel):
    """`spec` of an Experiment. Unknown fields are refused (with the closest known field suggested)."""

    objective: ObjectiveSpec = Field(default_factory=ObjectiveSpec)
    algorithm: AlgorithmSpec = Field(default_factory=AlgorithmSpec)
    early_stopping: EarlyStoppingSpec | None = Field(default=None, alias="earlyStopping")
    parallel_trial_count: Count | None = Field(default=None, alias="parallelTrialCount")
    max_trial_count: Count | None = Field(default=None, alias="maxTrialCount")
    max_failed_trial_count: Count | None = Field(default=None, alias="maxFailedTrialCount")
    metrics_collector_spec: MetricsCollectorSpec | None = Field(default=None, alias="metricsCollectorSpec")
    parameters: list[ParameterSpec] | None = None
    nas_config: NasConfig | None = Field(default=None, alias="nasConfig")
    trial_template: TrialTemplate = Field(default_factory=TrialTemplate, alias="trialTemplate")
    resume_policy: Annotated[ResumePolicy | None, BeforeValidator(empty_as_none)] = Field(
        default=None, alias="resumePolicy"
    )

    @property
    def metrics_collector_kind(self) -> CollectorKind:
        """The collector kind (StdOut unless the spec says otherwise)."""
        return self.metrics_collector_spec.kind if self.metrics_collector_spec else CollectorKind.STDOUT

    @property
    def algorithm_name(self) -> str | None:
        """`algorithm.algorithmName`."""
        return self.algorithm.algorithm_name

    @property
    def parameter_names(self) -> list[str]:
        """Names of `spec.parameters`, in order."""
        return [p.name for p in self.parameters or [] if p.name]

    def parameter(self, name: str) -> ParameterSpec | None:
        """The parameter called `name`, if any."""
        return next((p for p in self.parameters or [] if p.name == name), None)


class Experiment(KatibModel):
    """An Experiment document: apiVersion, kind, metadata, spec and (when a server wrote one) status."""

    # Keep non-finite numbers of free-form parts (the workload, metadata) instead of turning them into null.
    model_config = ConfigDict(ser_json_inf_nan="constants")

    api_version: str = Field(default=TUNER_API_VERSION, alias="apiVersion")
    kind: str = "Experiment"
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: ExperimentSpec = Field(default_factory=ExperimentSpec)
    status: ExperimentStatus | None = None

    @property
    def name(self) -> str:
        """`metadata.name` ("" when unset; validation requires it)."""
        return self.metadata.name or ""

    @property
    def namespace(self) -> str:
        """`metadata.namespace`, "default" when unset (as kubectl does)."""
        return self.metadata.namespace or DEFAULT_NAMESPACE

    def to_dict(self) -> dict[str, Any]:
        """The document as Katib writes it: camelCase keys, no unset fields, numbers as they were."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)
