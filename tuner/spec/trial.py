"""Katib's Trial resource: one run of the workload with one parameter assignment.

The controller creates these (one per suggestion) and shows them with `-o yaml`; the Kubernetes operator
writes them as custom resources. Same conventions as the Experiment: camelCase aliases, unknown spec fields
refused, server-written status kept whole.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from tuner.spec.collector import MetricsCollectorSpec
from tuner.spec.common import EarlyStoppingRule, ObjectiveSpec, Observation, ParameterAssignment
from tuner.spec.experiment import TUNER_API_VERSION
from tuner.spec.field_types import KatibModel, ServerModel, Timestamp
from tuner.spec.meta import ObjectMeta
from tuner.spec.status import Condition


class TrialSpec(KatibModel):
    """`spec` of a Trial (Katib's TrialSpec)."""

    objective: ObjectiveSpec | None = None
    parameter_assignments: list[ParameterAssignment] | None = Field(
        default=None, alias="parameterAssignments"
    )
    early_stopping_rules: list[EarlyStoppingRule] | None = Field(default=None, alias="earlyStoppingRules")
    run_spec: dict[str, Any] | None = Field(default=None, alias="runSpec")
    retain_run: bool | None = Field(default=None, alias="retainRun")
    metrics_collector: MetricsCollectorSpec | None = Field(default=None, alias="metricsCollector")
    primary_pod_labels: dict[str, str] | None = Field(default=None, alias="primaryPodLabels")
    primary_container_name: str | None = Field(default=None, alias="primaryContainerName")
    success_condition: str | None = Field(default=None, alias="successCondition")
    failure_condition: str | None = Field(default=None, alias="failureCondition")
    labels: dict[str, str] | None = None

    def assignments(self) -> dict[str, str]:
        """The parameter assignments as a name -> value-text mapping."""
        return {a.name: a.value or "" for a in self.parameter_assignments or [] if a.name}


class TrialStatus(ServerModel):
    """`status` of a Trial: times, conditions and the observed metrics."""

    start_time: Timestamp | None = Field(default=None, alias="startTime")
    completion_time: Timestamp | None = Field(default=None, alias="completionTime")
    last_reconcile_time: Timestamp | None = Field(default=None, alias="lastReconcileTime")
    conditions: list[Condition] | None = None
    observation: Observation | None = None

    def condition(self, type_: str) -> Condition | None:
        """The condition of that type, if present."""
        return next((c for c in self.conditions or [] if c.type == type_), None)


class Trial(KatibModel):
    """A Trial document."""

    # Keep non-finite numbers of free-form parts (the workload, metadata) instead of turning them into null.
    model_config = ConfigDict(ser_json_inf_nan="constants")

    api_version: str = Field(default=TUNER_API_VERSION, alias="apiVersion")
    kind: str = "Trial"
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: TrialSpec = Field(default_factory=TrialSpec)
    status: TrialStatus | None = None

    @property
    def name(self) -> str:
        """`metadata.name` ("" when unset)."""
        return self.metadata.name or ""

    def to_dict(self) -> dict[str, Any]:
        """The document as Katib writes it: camelCase keys, no unset fields."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)
