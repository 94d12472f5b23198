"""Katib's defaults, applied as its defaulting webhook does (experiment_defaults.go), plus two more.

Katib's mutating webhook fills these before validation; `load_experiment` does the same, so the stored and
printed document says exactly what will run. Applied, in Katib's order:

- `parallelTrialCount` 3, `resumePolicy` Never;
- a metric strategy for the objective metric **and every additional metric** from the objective type
  (min for minimize, max for maximize). Katib's API comment says additional metrics default to `latest`,
  but its code gives them the objective's direction; we follow the code, so set them explicitly if needed;
- success/failure conditions for batch Job and Kubeflow training jobs (TFJob, PyTorchJob, XGBoostJob,
  MPIJob) and Kubeflow Trainer's TrainJob, and their primary pod labels;
- the StdOut collector; File: path /var/log/katib/metrics.log, kind File, format TEXT; TensorFlowEvent:
  directory /var/log/katib/tfevent/; PrometheusMetric: GET /metrics on port 8080;
- `distribution: uniform` on every parameter.

Beyond Katib's webhook: the medianstop early-stopping settings its service would assume at run time
(`min_trials_required` 3, `start_step` 4) are written out, and a `metadata.generateName` becomes a name
(as the Kubernetes API server does) so that a local run has one.
"""

from __future__ import annotations

import secrets

from tuner.spec import workload
from tuner.spec.collector import (
    DEFAULT_METRICS_FILE,
    DEFAULT_PROMETHEUS_PATH,
    DEFAULT_PROMETHEUS_PORT,
    DEFAULT_TFEVENT_DIR,
    CollectorKind,
    CollectorSpec,
    FileFormat,
    FileSystemKind,
    FileSystemPath,
    HTTPGetAction,
    MetricsCollectorSpec,
    SourceSpec,
)
from tuner.spec.common import (
    AlgorithmSetting,
    EarlyStoppingSpec,
    MetricStrategy,
    ObjectiveSpec,
)
from tuner.spec.experiment import Experiment, ResumePolicy
from tuner.spec.parameters import Distribution, ParameterSpec
from tuner.spec.trial_template import TrialTemplate
from tuner.spec.workload import JOB_KIND, KUBEFLOW_JOB_KINDS, TRAIN_JOB_KIND

DEFAULT_PARALLEL_TRIAL_COUNT = 3
MAX_NAME_LENGTH = 40

JOB_SUCCESS_CONDITION = 'status.conditions.#(type=="Complete")#|#(status=="True")#'
JOB_FAILURE_CONDITION = 'status.conditions.#(type=="Failed")#|#(status=="True")#'
KUBEFLOW_SUCCESS_CONDITION = 'status.conditions.#(type=="Succeeded")#|#(status=="True")#'
KUBEFLOW_FAILURE_CONDITION = 'status.conditions.#(type=="Failed")#|#(status=="True")#'
KUBEFLOW_PRIMARY_POD_LABELS = {"training.kubeflow.org/job-role": "master"}
TRAIN_JOB_PRIMARY_POD_LABELS = {"jobset.sigs.k8s.io/replicatedjob-name": "node"}

MEDIANSTOP = "medianstop"
MEDIANSTOP_DEFAULTS = {"min_trials_required": "3", "start_step": "4"}

_NAME_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # the API server's: no vowels, no look-alikes


def apply_defaults(experiment: Experiment) -> Experiment:
    """A copy of `experiment` with Katib's defaults filled in; the argument is not changed."""
    exp = experiment.model_copy(deep=True)
    spec = exp.spec
    _default_name(exp)
    if spec.parallel_trial_count is None:
        spec.parallel_trial_count = DEFAULT_PARALLEL_TRIAL_COUNT
    if spec.resume_policy is None:
        spec.resume_policy = ResumePolicy.NEVER
    _default_objective(spec.objective)
    _default_trial_template(spec.trial_template)
    spec.metrics_collector_spec = _default_collector(spec.metrics_collector_spec)
    _default_distributions(spec.parameters or [])
    if spec.early_stopping is not None:
        _default_early_stopping(spec.early_stopping)
    return exp


def _default_name(exp: Experiment) -> None:
    meta = exp.metadata
    if not meta.name and meta.generate_name:
        suffix = "".join(secrets.choice(_NAME_SUFFIX_ALPHABET) for _ in range(5))
        meta.name = meta.generate_name[: MAX_NAME_LENGTH - len(suffix)] + suffix


def _default_objective(objective: ObjectiveSpec) -> None:
    if objective.objectives:  # several objectives: the first is also the primary one (tuner's extension)
        first = objective.objectives[0]
        objective.objective_metric_name = objective.objective_metric_name or first.metric_name
        objective.type = objective.type or first.type
    if not objective.objective_metric_name:
        return
    strategies = list(objective.metric_strategies or [])
    named = {s.name for s in strategies}
    for metric in objective.metric_names:
        if metric not in named:
            strategies.append(MetricStrategy(name=metric, value=objective.strategy_for(metric)))
            named.add(metric)
    objective.metric_strategies = strategies


PIPELINE_SUCCESS_CONDITION = 'status.conditions.#(type=="Succeeded")#|#(status=="True")#'
PIPELINE_FAILURE_CONDITION = 'status.conditions.#(type=="Failed")#|#(status=="True")#'
PIPELINE_CONTAINER = "pipeline"
"""A PipelineRun trial has no container of its own; this names its (only) primary part."""


def _default_trial_template(template: TrialTemplate) -> None:
    kind = template.workload_kind
    if workload.is_pipeline_run(template.trial_spec):
        template.success_condition = template.success_condition or PIPELINE_SUCCESS_CONDITION
        template.failure_condition = template.failure_condition or PIPELINE_FAILURE_CONDITION
        template.primary_container_name = template.primary_container_name or PIPELINE_CONTAINER
        return
    if kind == JOB_KIND:
        success, failure, labels = JOB_SUCCESS_CONDITION, JOB_FAILURE_CONDITION, None
    elif kind in KUBEFLOW_JOB_KINDS:
        success, failure, labels = (
            KUBEFLOW_SUCCESS_CONDITION,
            KUBEFLOW_FAILURE_CONDITION,
            KUBEFLOW_PRIMARY_POD_LABELS,
        )
    elif kind == TRAIN_JOB_KIND:
        success, failure, labels = JOB_SUCCESS_CONDITION, JOB_FAILURE_CONDITION, TRAIN_JOB_PRIMARY_POD_LABELS
    else:
        return
    template.success_condition = template.success_condition or success
    template.failure_condition = template.failure_condition or failure
    if labels and not template.primary_pod_labels:
        template.primary_pod_labels = dict(labels)


def _default_collector(spec: MetricsCollectorSpec | None) -> MetricsCollectorSpec:
    spec = spec or MetricsCollectorSpec()
    if spec.collector is None:
        spec.collector = CollectorSpec(kind=CollectorKind.STDOUT)
    kind = spec.collector.kind
    if kind is CollectorKind.PROMETHEUS_METRIC:
        source = spec.source = spec.source or SourceSpec()
        get = source.http_get = source.http_get or HTTPGetAction()
        get.path = get.path or DEFAULT_PROMETHEUS_PATH
        if get.port in (None, 0, "0", ""):
            get.port = DEFAULT_PROMETHEUS_PORT
    elif kind is CollectorKind.FILE:
        path = _file_system_path(spec)
        path.kind = path.kind or FileSystemKind.FILE
        path.path = path.path or DEFAULT_METRICS_FILE
        path.format = path.format or FileFormat.TEXT
    elif kind is CollectorKind.TENSORFLOW_EVENT:
        path = _file_system_path(spec)
        path.kind = path.kind or FileSystemKind.DIRECTORY
        path.path = path.path or DEFAULT_TFEVENT_DIR
    return spec


def _file_system_path(spec: MetricsCollectorSpec) -> FileSystemPath:
    source = spec.source = spec.source or SourceSpec()
    source.file_system_path = source.file_system_path or FileSystemPath()
    return source.file_system_path


def _default_distributions(parameters: list[ParameterSpec]) -> None:
    for parameter in parameters:
        if parameter.feasible_space.distribution is None:
            parameter.feasible_space.distribution = Distribution.UNIFORM


def _default_early_stopping(early_stopping: EarlyStoppingSpec) -> None:
    if early_stopping.algorithm_name != MEDIANSTOP:
        return
    settings = list(early_stopping.algorithm_settings or [])
    given = {s.name for s in settings}
    settings += [AlgorithmSetting(name=k, value=v) for k, v in MEDIANSTOP_DEFAULTS.items() if k not in given]
    early_stopping.algorithm_settings = settings
