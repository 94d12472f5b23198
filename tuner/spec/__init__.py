"""The Experiment spec: Katib v1beta1-compatible models, loading, defaults and validation.

Typical use:

    from tuner.spec import load_experiment
    experiment = load_experiment(Path("experiment.yaml"))   # defaulted and validated, or SpecError

The modules, in the order a spec flows through them: `documents` (YAML/JSON text), `structure` (shape
errors), the models (`experiment`, `parameters`, `common`, `trial_template`, `collector`, `nas`, `meta`,
`status`, `trial`), `defaults`, and `validation` with its rule modules (`parameter_rules`,
`template_rules`, `collector_rules`, `early_stopping_rules`).
"""

from tuner.spec.collector import (
    CollectorKind,
    CollectorSpec,
    FileFormat,
    FileSystemKind,
    FileSystemPath,
    FilterSpec,
    HTTPGetAction,
    MetricsCollectorSpec,
    SourceSpec,
)
from tuner.spec.common import (
    AlgorithmSetting,
    AlgorithmSpec,
    ComparisonType,
    EarlyStoppingRule,
    EarlyStoppingSpec,
    Metric,
    MetricStrategy,
    MetricStrategyType,
    ObjectiveSpec,
    ObjectiveType,
    Observation,
    ParameterAssignment,
)
from tuner.spec.defaults import apply_defaults
from tuner.spec.experiment import API_VERSIONS, Experiment, ExperimentSpec, ResumePolicy
from tuner.spec.loading import (
    dump_document,
    dump_experiment,
    experiment_from_document,
    load_experiment,
    load_experiments,
)
from tuner.spec.meta import ObjectMeta
from tuner.spec.nas import GraphConfig, NasConfig, Operation
from tuner.spec.parameter_rules import check_parameters
from tuner.spec.parameters import Distribution, FeasibleSpace, ParameterSpec, ParameterType
from tuner.spec.status import Condition, ExperimentStatus, OptimalTrial
from tuner.spec.trial import Trial, TrialSpec, TrialStatus
from tuner.spec.trial_template import ConfigMapSource, TrialParameterSpec, TrialTemplate
from tuner.spec.validation import ExtraCheck, validate_experiment

__all__ = [
    "API_VERSIONS",
    "AlgorithmSetting",
    "AlgorithmSpec",
    "CollectorKind",
    "CollectorSpec",
    "ComparisonType",
    "Condition",
    "ConfigMapSource",
    "Distribution",
    "EarlyStoppingRule",
    "EarlyStoppingSpec",
    "Experiment",
    "ExperimentSpec",
    "ExperimentStatus",
    "ExtraCheck",
    "FeasibleSpace",
    "FileFormat",
    "FileSystemKind",
    "FileSystemPath",
    "FilterSpec",
    "GraphConfig",
    "HTTPGetAction",
    "Metric",
    "MetricStrategy",
    "MetricStrategyType",
    "MetricsCollectorSpec",
    "NasConfig",
    "ObjectMeta",
    "ObjectiveSpec",
    "ObjectiveType",
    "Observation",
    "Operation",
    "OptimalTrial",
    "ParameterAssignment",
    "ParameterSpec",
    "ParameterType",
    "ResumePolicy",
    "SourceSpec",
    "Trial",
    "TrialParameterSpec",
    "TrialSpec",
    "TrialStatus",
    "TrialTemplate",
    "apply_defaults",
    "check_parameters",
    "dump_document",
    "dump_experiment",
    "experiment_from_document",
    "load_experiment",
    "load_experiments",
    "validate_experiment",
]
