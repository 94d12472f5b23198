"""Katib's shared v1beta1 types: objective, algorithm and early-stopping specs, assignments, observations.

These appear in both the Experiment and the Trial (Katib's common_types.go). The controller reads
`ObjectiveSpec.strategy_for` to reduce a metric's series to one value, and the suggestion and early-stopping
code read the settings through `settings()`. Shapes only: rules live in `tuner.spec.validation`.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated

from pydantic import BeforeValidator, Field

from tuner.spec.field_types import Count, KatibModel, NumberText, empty_as_none


class ObjectiveType(str, Enum):
    """Whether the objective metric is minimized or maximized."""

    MINIMIZE = "minimize"
    MAXIMIZE = "maximize"


class MetricStrategyType(str, Enum):
    """Which value of a metric's series stands for the trial: its minimum, maximum or latest value."""

    MIN = "min"
    MAX = "max"
    LATEST = "latest"


class ComparisonType(str, Enum):
    """How an early-stopping rule compares the metric with its value."""

    EQUAL = "equal"
    LESS = "less"
    GREATER = "greater"


class MetricStrategy(KatibModel):
    """One `objective.metricStrategies[]` entry."""

    name: str | None = None
    value: Annotated[MetricStrategyType | None, BeforeValidator(empty_as_none)] = None


class ObjectiveItem(KatibModel):
    """One entry of `objective.objectives` (tuner's multi-objective extension): a metric and its direction."""

    metric_name: str | None = Field(default=None, alias="metricName")
    type: Annotated[ObjectiveType | None, BeforeValidator(empty_as_none)] = None


class ObjectiveSpec(KatibModel):
    """`spec.objective`: what to optimize, in which direction, and when to stop early (`goal`).

    `objectives` (tuner's extension, `tuner.dev/v1beta1` only) lists several metrics to optimise at once,
    each with its own direction; the first is also `objectiveMetricName`/`type` (the default trial order
    and `currentOptimalTrial`), and the result is a Pareto front (`status.paretoFront`).
    """

    type: Annotated[ObjectiveType | None, BeforeValidator(empty_as_none)] = None
    goal: float | None = None
    objective_metric_name: str | None = Field(default=None, alias="objectiveMetricName")
    additional_metric_names: list[str] | None = Field(default=None, alias="additionalMetricNames")
    metric_strategies: list[MetricStrategy] | None = Field(default=None, alias="metricStrategies")
    objectives: list[ObjectiveItem] | None = None

    @property
    def metric_names(self) -> list[str]:
        """The objective metric first, then the other objectives and the additional metrics (the names a
        collector looks for)."""
        names = [self.objective_metric_name] if self.objective_metric_name else []
        names += [
            o.metric_name for o in self.objectives or [] if o.metric_name and o.metric_name not in names
        ]
        return names + [n for n in dict.fromkeys(self.additional_metric_names or []) if n and n not in names]

    @property
    def is_multi_objective(self) -> bool:
        """True when `objectives` lists several metrics (tuner's extension)."""
        return len(self.objectives or []) > 1

    @property
    def directions(self) -> list[tuple[str, ObjectiveType]]:
        """(metric, direction) of every objective, the primary one first: `objectives` when given, else
        `objectiveMetricName` and `type` (entries without a name or a type are left out)."""
        if self.objectives:
            return [(o.metric_name, o.type) for o in self.objectives if o.metric_name and o.type]
        if self.objective_metric_name and self.type:
            return [(self.objective_metric_name, self.type)]
        return []

    def strategy_for(self, metric: str) -> MetricStrategyType:
        """The strategy that reduces `metric`'s series to one value.

        An explicit `metricStrategies` entry wins; otherwise Katib's defaulter rule applies: min for a
        minimized objective, max for a maximized one (additional metrics included), latest if the type is unset.
        """
        for strategy in self.metric_strategies or []:
            if strategy.name == metric and strategy.value is not None:
                return strategy.value
        own = next((o.type for o in self.objectives or [] if o.metric_name == metric and o.type), None)
        return default_strategy(own or self.type)


def default_strategy(objective_type: ObjectiveType | None) -> MetricStrategyType:
    """Katib's default metric strategy for an objective type."""
    if objective_type is ObjectiveType.MINIMIZE:
        return MetricStrategyType.MIN
    if objective_type is ObjectiveType.MAXIMIZE:
        return MetricStrategyType.MAX
    return MetricStrategyType.LATEST


class AlgorithmSetting(KatibModel):
    """One `{name, value}` setting; values are strings as in Katib (numbers are accepted and kept exact)."""

    name: str | None = None
    value: NumberText | None = None


class AlgorithmSpec(KatibModel):
    """`spec.algorithm`: the suggestion algorithm's name and its settings."""

    algorithm_name: str | None = Field(default=None, alias="algorithmName")
    algorithm_settings: list[AlgorithmSetting] | None = Field(default=None, alias="algorithmSettings")

    def settings(self) -> dict[str, str]:
        """The settings as a name -> value mapping (a later duplicate wins; validation reports duplicates)."""
        return {s.name: s.value or "" for s in self.algorithm_settings or [] if s.name}


class EarlyStoppingSpec(AlgorithmSpec):
    """`spec.earlyStopping`: same shape as the algorithm (Katib ships `medianstop`)."""


class EarlyStoppingRule(KatibModel):
    """A rule the early-stopping service computes for a trial: stop when `name` `comparison` `value`."""

    name: str | None = None
    value: NumberText | None = None
    comparison: Annotated[ComparisonType | None, BeforeValidator(empty_as_none)] = None
    start_step: Count | None = Field(default=None, alias="startStep")


class ParameterAssignment(KatibModel):
    """One parameter's value in a trial, as text (`"0.01"`, `"5"`, `"adam"`)."""

    name: str | None = None
    value: NumberText | None = None


class Metric(KatibModel):
    """A metric's reduced values in an observation (strings, as Katib stores them; may be `unavailable`)."""

    name: str | None = None
    min: NumberText | None = None
    max: NumberText | None = None
    latest: NumberText | None = None


class Observation(KatibModel):
    """The metrics observed for a trial."""

    metrics: list[Metric] | None = None
