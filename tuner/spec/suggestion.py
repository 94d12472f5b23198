"""Katib's Suggestion resource: the request for parameter assignments and the assignments made.

On a cluster the operator keeps one Suggestion per Experiment (Katib's shape, so that Katib's tools read it):
`spec.requests` is how many assignments the experiment has asked for, `status.suggestions` the assignments
given so far. Locally nothing stores it; the model exists so that the CRD is generated from it.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Field

from tuner.spec.common import (
    AlgorithmSetting,
    AlgorithmSpec,
    EarlyStoppingRule,
    EarlyStoppingSpec,
    ParameterAssignment,
)
from tuner.spec.experiment import TUNER_API_VERSION, ResumePolicy
from tuner.spec.field_types import Count, KatibModel, ServerModel, Timestamp, empty_as_none
from tuner.spec.meta import ObjectMeta
from tuner.spec.status import Condition


class SuggestionSpec(KatibModel):
    """`spec` of a Suggestion (Katib's SuggestionSpec)."""

    algorithm: AlgorithmSpec | None = None
    early_stopping: EarlyStoppingSpec | None = Field(default=None, alias="earlyStopping")
    requests: Count | None = None
    resume_policy: Annotated[ResumePolicy | None, BeforeValidator(empty_as_none)] = Field(
        default=None, alias="resumePolicy"
    )


class TrialAssignment(ServerModel):
    """One assignment the suggestion service gave: the trial's name, parameters, rules and labels."""

    name: str | None = None
    parameter_assignments: list[ParameterAssignment] | None = Field(
        default=None, alias="parameterAssignments"
    )
    early_stopping_rules: list[EarlyStoppingRule] | None = Field(default=None, alias="earlyStoppingRules")
    labels: dict[str, str] | None = None


class SuggestionStatus(ServerModel):
    """`status` of a Suggestion: the assignments so far, the settings the algorithm used, conditions."""

    algorithm_settings: list[AlgorithmSetting] | None = Field(default=None, alias="algorithmSettings")
    suggestion_count: Count | None = Field(default=None, alias="suggestionCount")
    suggestions: list[TrialAssignment] | None = None
    start_time: Timestamp | None = Field(default=None, alias="startTime")
    completion_time: Timestamp | None = Field(default=None, alias="completionTime")
    last_reconcile_time: Timestamp | None = Field(default=None, alias="lastReconcileTime")
    conditions: list[Condition] | None = None


class Suggestion(KatibModel):
    """A Suggestion document."""

    api_version: str = Field(default=TUNER_API_VERSION, alias="apiVersion")
    kind: str = "Suggestion"
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: SuggestionSpec = Field(default_factory=SuggestionSpec)
    status: SuggestionStatus | None = None

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    def to_dict(self) -> dict[str, Any]:
        """The document as Katib writes it: camelCase keys, no unset fields."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)
