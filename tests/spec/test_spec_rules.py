"""Every validation rule, one case each: break one thing in a valid document, expect exactly one line.

Each case names the rule (the test id), the change, and the complete problem list `load_experiment`
reports, so a case fails both when the rule stops firing and when it fires with a vaguer message.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

Doc = dict[str, Any]


def at(doc: Doc, path: str) -> Any:
    node: Any = doc
    for part in path.split(".") if path else []:
        node = node[int(part)] if part.isdigit() else node[part]
    return node


def setting(path: str, value: Any) -> Callable[[Doc], None]:
    parent, _, key = path.rpartition(".")

    def change(doc: Doc) -> None:
        target = at(doc, parent)
        target[int(key) if key.isdigit() else key] = value

    return change


def removing(path: str) -> Callable[[Doc], None]:
    parent, _, key = path.rpartition(".")

    def change(doc: Doc) -> None:
        del at(doc, parent)[int(key) if key.isdigit() else key]

    return change


def both(*changes: Callable[[Doc], None]) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        for c in changes:
            c(doc)

    return change


TEMPLATE = "spec.trialTemplate"
CONTAINER = f"{TEMPLATE}.trialSpec.spec.template.spec.containers.0"
MC = "spec.metricsCollectorSpec"

CASES: list[tuple[str, Callable[[Doc], None], list[str]]] = [
    # document and metadata
    (
        "api-version",
        setting("apiVersion", "kubeflow.org/v1alpha3"),
        [
            "apiVersion: 'kubeflow.org/v1alpha3' is not supported; use kubeflow.org/v1beta1 or tuner.dev/v1beta1"
        ],
    ),
    (
        "api-version-missing",
        removing("apiVersion"),
        ["apiVersion: required: kubeflow.org/v1beta1 or tuner.dev/v1beta1"],
    ),
    ("kind", setting("kind", "Trial"), ["kind: 'Trial' is not supported here; expected Experiment"]),
    ("kind-missing", removing("kind"), ["kind: required: Experiment"]),
    (
        "name-missing",
        removing("metadata.name"),
        ["metadata.name: required: the experiment's name (lower-case letters, digits and '-')"],
    ),
    (
        "name-pattern",
        setting("metadata.name", "Exp.1"),
        [
            "metadata.name: 'Exp.1' is not a valid name: use lower-case letters, digits and '-', starting with a "
            "letter and ending with a letter or digit (e.g. 'my-experiment')"
        ],
    ),
    (
        "name-length",
        setting("metadata.name", "a" * 41),
        [f"metadata.name: '{'a' * 41}' has 41 characters; at most 40 are allowed"],
    ),
    (
        "namespace",
        setting("metadata.namespace", "Team A"),
        [
            "metadata.namespace: 'Team A' is not a valid namespace: lower-case letters, digits and '-', at most 63"
        ],
    ),
    (
        "spec-missing",
        removing("spec"),
        ["spec: required: the experiment's objective, algorithm, parameters and trialTemplate"],
    ),
    # counts
    (
        "parallel-positive",
        setting("spec.parallelTrialCount", 0),
        ["spec.parallelTrialCount: must be greater than 0, got 0"],
    ),
    (
        "parallel-within-max",
        setting("spec.parallelTrialCount", 7),
        ["spec.parallelTrialCount: 7 must not exceed spec.maxTrialCount (6)"],
    ),
    (
        "max-positive",
        setting("spec.maxTrialCount", -3),
        ["spec.maxTrialCount: must be greater than 0, got -3"],
    ),
    (
        "failed-not-negative",
        setting("spec.maxFailedTrialCount", -1),
        ["spec.maxFailedTrialCount: must not be negative, got -1"],
    ),
    (
        "failed-within-max",
        setting("spec.maxFailedTrialCount", 9),
        ["spec.maxFailedTrialCount: 9 must not exceed spec.maxTrialCount (6)"],
    ),
    # objective
    (
        "objective-missing",
        removing("spec.objective"),
        ["spec.objective: required: the metric to optimize (objectiveMetricName) and its direction (type)"],
    ),
    (
        "objective-type-missing",
        removing("spec.objective.type"),
        ["spec.objective.type: required: minimize or maximize"],
    ),
    (
        "objective-type-value",
        setting("spec.objective.type", "max"),
        [
            "spec.objective.type: 'max' is not valid; expected one of minimize, maximize; did you mean maximize?"
        ],
    ),
    (
        "objective-metric-missing",
        removing("spec.objective.objectiveMetricName"),
        ["spec.objective.objectiveMetricName: required: the name of the metric to optimize"],
    ),
    (
        "objective-metric-repeated",
        setting("spec.objective.additionalMetricNames", ["loss", "accuracy"]),
        [
            "spec.objective.additionalMetricNames[1]: 'accuracy' is the objectiveMetricName; list only other metrics here"
        ],
    ),
    (
        "additional-metric-duplicate",
        setting("spec.objective.additionalMetricNames", ["loss", "loss"]),
        ["spec.objective.additionalMetricNames[1]: duplicate metric name 'loss'"],
    ),
    (
        "additional-metric-not-empty",
        setting("spec.objective.additionalMetricNames", ["loss", ""]),
        ["spec.objective.additionalMetricNames[1]: must not be empty: a metric name"],
    ),
    (
        "goal-finite",
        setting("spec.objective.goal", float("inf")),
        ["spec.objective.goal: must be a finite number, got inf"],
    ),
    (
        "strategy-value",
        setting("spec.objective.metricStrategies", [{"name": "loss", "value": "mean"}]),
        ["spec.objective.metricStrategies[0].value: 'mean' is not valid; expected one of min, max, latest"],
    ),
    (
        "strategy-name",
        setting("spec.objective.metricStrategies", [{"value": "min"}]),
        ["spec.objective.metricStrategies[0].name: required: the metric this strategy applies to"],
    ),
    # algorithm
    (
        "algorithm-missing",
        removing("spec.algorithm"),
        ["spec.algorithm: required: the suggestion algorithm, e.g. algorithmName: random"],
    ),
    (
        "algorithm-name-missing",
        setting("spec.algorithm", {}),
        ["spec.algorithm.algorithmName: required: the suggestion algorithm's name, e.g. random"],
    ),
    (
        "algorithm-setting-duplicate",
        setting(
            "spec.algorithm.algorithmSettings", [{"name": "seed", "value": 1}, {"name": "seed", "value": "2"}]
        ),
        ["spec.algorithm.algorithmSettings[1].name: duplicate setting 'seed' (also algorithmSettings[0])"],
    ),
    (
        "algorithm-setting-name",
        setting("spec.algorithm.algorithmSettings", [{"value": "2"}]),
        ["spec.algorithm.algorithmSettings[0].name: required"],
    ),
    # early stopping
    (
        "early-stopping-name",
        setting("spec.earlyStopping", {"algorithmSettings": []}),
        ["spec.earlyStopping.algorithmName: required: the early stopping algorithm (medianstop, asha)"],
    ),
    (
        "early-stopping-known",
        setting("spec.earlyStopping", {"algorithmName": "medianstopping"}),
        [
            "spec.earlyStopping.algorithmName: 'medianstopping' is not a known early stopping algorithm; use medianstop, asha"
        ],
    ),
    (
        "medianstop-setting-name",
        setting(
            "spec.earlyStopping",
            {"algorithmName": "medianstop", "algorithmSettings": [{"name": "start", "value": "2"}]},
        ),
        [
            "spec.earlyStopping.algorithmSettings[0].name: 'start' is not a setting of medianstop "
            "(known: min_trials_required, start_step); did you mean start_step?"
        ],
    ),
    (
        "medianstop-setting-range",
        setting(
            "spec.earlyStopping",
            {"algorithmName": "medianstop", "algorithmSettings": [{"name": "start_step", "value": 0}]},
        ),
        [
            "spec.earlyStopping.algorithmSettings[0].value: start_step must be a whole number of at least 1, got '0'"
        ],
    ),
    # search space (the parameter rules themselves are covered one by one in test_spec_parameter_rules.py)
    (
        "parameters-required",
        removing("spec.parameters"),
        ["spec.parameters: required: the search space (or spec.nasConfig for architecture search)"],
    ),
    (
        "parameters-or-nas",
        setting("spec.nasConfig", {"operations": [{"operationType": "conv"}]}),
        ["spec.nasConfig: give either spec.parameters or spec.nasConfig, not both"],
    ),
    (
        "parameter-min-less-than-max",
        setting("spec.parameters.0.feasibleSpace", {"min": "5", "max": "1"}),
        ["spec.parameters[0].feasibleSpace: min (5) must be less than max (1)"],
    ),
    (
        "nas-operation-type",
        both(
            removing("spec.parameters"),
            setting("spec.nasConfig", {"operations": [{"parameters": []}]}),
            setting(
                f"{TEMPLATE}.trialParameters",
                [
                    {"name": "learningRate", "reference": "a"},
                    {"name": "layers", "reference": "b"},
                    {"name": "optimizer", "reference": "c"},
                ],
            ),
        ),
        ["spec.nasConfig.operations[0].operationType: required: the operation's type, e.g. convolution"],
    ),
    # trial template
    (
        "template-missing",
        removing(TEMPLATE),
        ["spec.trialTemplate: required: the workload each trial runs (trialSpec) and its trialParameters"],
    ),
    (
        "primary-container-missing",
        removing(f"{TEMPLATE}.primaryContainerName"),
        ["spec.trialTemplate.primaryContainerName: required: the container that runs the training code"],
    ),
    (
        "primary-container-exists",
        setting(f"{TEMPLATE}.primaryContainerName", "trainer"),
        [
            "spec.trialTemplate.primaryContainerName: no container named 'trainer' in the Job; its containers: main"
        ],
    ),
    (
        "source-required",
        removing(f"{TEMPLATE}.trialSpec"),
        [
            "spec.trialTemplate: give trialSpec (the workload inline) or configMap (a template stored in the cluster)"
        ],
    ),
    (
        "source-exclusive",
        setting(
            f"{TEMPLATE}.configMap", {"configMapName": "a", "configMapNamespace": "b", "templatePath": "c"}
        ),
        ["spec.trialTemplate: give only one of trialSpec and configMap, not both"],
    ),
    (
        "configmap-fields",
        both(
            removing(f"{TEMPLATE}.trialSpec"),
            setting(f"{TEMPLATE}.configMap", {"configMapName": "a", "configMapNamespace": "b"}),
            setting(f"{TEMPLATE}.successCondition", "status.ok"),
            setting(f"{TEMPLATE}.failureCondition", "status.failed"),
        ),
        ["spec.trialTemplate.configMap.templatePath: required"],
    ),
    (
        "workload-api-version",
        removing(f"{TEMPLATE}.trialSpec.apiVersion"),
        ["spec.trialTemplate.trialSpec.apiVersion: required: the workload's API version, e.g. batch/v1"],
    ),
    (
        "workload-kind",
        removing(f"{TEMPLATE}.trialSpec.kind"),
        ["spec.trialTemplate.trialSpec.kind: required: the workload's kind, e.g. Job"],
    ),
    (
        "workload-no-name",
        setting(f"{TEMPLATE}.trialSpec.metadata", {"name": "fixed"}),
        [
            "spec.trialTemplate.trialSpec.metadata.name: must be omitted: each trial's workload is named after the trial"
        ],
    ),
    (
        "workload-no-namespace",
        setting(f"{TEMPLATE}.trialSpec.metadata", {"namespace": "other"}),
        [
            "spec.trialTemplate.trialSpec.metadata.namespace: must be omitted: it runs in the experiment's namespace"
        ],
    ),
    (
        "job-containers",
        setting(f"{TEMPLATE}.trialSpec.spec.template.spec.containers", []),
        [
            "spec.trialTemplate.trialParameters[0].name: 'learningRate' is declared but ${trialParameters.learningRate} "
            "does not appear in spec.trialTemplate.trialSpec; use it there or remove this entry",
            "spec.trialTemplate.trialParameters[1].name: 'layers' is declared but ${trialParameters.layers} "
            "does not appear in spec.trialTemplate.trialSpec; use it there or remove this entry",
            "spec.trialTemplate.trialParameters[2].name: 'optimizer' is declared but ${trialParameters.optimizer} "
            "does not appear in spec.trialTemplate.trialSpec; use it there or remove this entry",
            "spec.trialTemplate.trialSpec.spec.template.spec.containers: required: a Job needs at least one container",
        ],
    ),
    (
        "conditions-for-other-kinds",
        setting(f"{TEMPLATE}.trialSpec.kind", "Workflow"),
        [
            "spec.trialTemplate.successCondition: required for kind Workflow: a GJSON path on the workload that is "
            "true when it succeeded (defaults exist only for batch Job and Kubeflow training jobs)",
            "spec.trialTemplate.failureCondition: required for kind Workflow: a GJSON path on the workload that is "
            "true when it failed (defaults exist only for batch Job and Kubeflow training jobs)",
        ],
    ),
    (
        "trial-parameters-required",
        removing(f"{TEMPLATE}.trialParameters"),
        [
            "spec.trialTemplate.trialParameters: required: declare each ${trialParameters.<name>} of the template "
            "and the parameter it takes"
        ],
    ),
    (
        "trial-parameter-name",
        setting(f"{TEMPLATE}.trialParameters.2", {"reference": "opt"}),
        [
            "spec.trialTemplate.trialParameters[2].name: required: the placeholder's name, used as "
            "${trialParameters.<name>}",
            f"{CONTAINER.replace('.0', '[0]')}.command[4]: ${{trialParameters.optimizer}} is not declared in "
            "spec.trialTemplate.trialParameters",
        ],
    ),
    (
        "trial-parameter-braces",
        setting(f"{TEMPLATE}.trialParameters.2.name", "opt}"),
        [
            "spec.trialTemplate.trialParameters[2].name: 'opt}' must not contain '{' or '}'",
            f"{CONTAINER.replace('.0', '[0]')}.command[4]: ${{trialParameters.optimizer}} is not declared in "
            "spec.trialTemplate.trialParameters",
        ],
    ),
    (
        "trial-parameter-reference-required",
        setting(f"{TEMPLATE}.trialParameters.2", {"name": "optimizer"}),
        [
            "spec.trialTemplate.trialParameters[2].reference: required: a parameter name from spec.parameters, "
            "or trial metadata such as ${trialSpec.Name}"
        ],
    ),
    (
        "trial-parameter-name-unique",
        setting(f"{TEMPLATE}.trialParameters.2.name", "layers"),
        [
            "spec.trialTemplate.trialParameters[2].name: duplicate trial parameter name 'layers' (also trialParameters[1])",
            f"{CONTAINER.replace('.0', '[0]')}.command[4]: ${{trialParameters.optimizer}} is not declared in "
            "spec.trialTemplate.trialParameters",
        ],
    ),
    (
        "trial-parameter-reference-unique",
        setting(f"{TEMPLATE}.trialParameters.2.reference", "lr"),
        [
            "spec.trialTemplate.trialParameters[2].reference: 'lr' is already used by trialParameters[0]; "
            "each reference may appear once"
        ],
    ),
    (
        "trial-parameter-reference-exists",
        setting(f"{TEMPLATE}.trialParameters.2.reference", "optimiser"),
        [
            "spec.trialTemplate.trialParameters[2].reference: 'optimiser' is not a parameter in spec.parameters "
            "(lr, layers, opt)"
        ],
    ),
    (
        "trial-parameter-meta-reference",
        setting(f"{TEMPLATE}.trialParameters.2.reference", "${trialSpec.Labels}"),
        [
            "spec.trialTemplate.trialParameters[2].reference: '${trialSpec.Labels}' is not valid trial metadata; use "
            "${trialSpec.Name}, ${trialSpec.Namespace}, ${trialSpec.Kind}, ${trialSpec.APIVersion}, "
            "${trialSpec.Labels[key]} or ${trialSpec.Annotations[key]}"
        ],
    ),
    (
        "placeholder-declared",
        setting(f"{CONTAINER}.command.4", "--optimizer=${trialParameters.optimiser}"),
        [
            "spec.trialTemplate.trialParameters[2].name: 'optimizer' is declared but ${trialParameters.optimizer} "
            "does not appear in spec.trialTemplate.trialSpec; use it there or remove this entry",
            f"{CONTAINER.replace('.0', '[0]')}.command[4]: ${{trialParameters.optimiser}} is not declared in "
            "spec.trialTemplate.trialParameters; did you mean optimizer?",
        ],
    ),
    # metrics collector
    (
        "collector-kind",
        setting(MC, {"collector": {"kind": "Stdout"}}),
        [
            "spec.metricsCollectorSpec.collector.kind: 'Stdout' is not valid; expected one of StdOut, File, "
            "TensorFlowEvent, PrometheusMetric, Custom, Push, None; did you mean StdOut?"
        ],
    ),
    (
        "collector-kind-required",
        setting(MC, {"collector": {}}),
        [
            "spec.metricsCollectorSpec.collector.kind: required: one of StdOut, File, TensorFlowEvent, "
            "PrometheusMetric, Custom, Push, None"
        ],
    ),
    (
        "file-absolute-path",
        setting(
            MC, {"collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": "out/metrics.log"}}}
        ),
        [
            "spec.metricsCollectorSpec.source.fileSystemPath.path: must be an absolute path (starting with /), got 'out/metrics.log'"
        ],
    ),
    (
        "file-kind",
        setting(
            MC,
            {
                "collector": {"kind": "File"},
                "source": {"fileSystemPath": {"path": "/m", "kind": "Directory"}},
            },
        ),
        [
            "spec.metricsCollectorSpec.source.fileSystemPath.kind: must be File for collector kind File, got Directory"
        ],
    ),
    (
        "json-no-filter",
        setting(
            MC,
            {
                "collector": {"kind": "File"},
                "source": {
                    "fileSystemPath": {"path": "/m.json", "format": "JSON"},
                    "filter": {"metricsFormat": ["(a)(b)"]},
                },
            },
        ),
        [
            "spec.metricsCollectorSpec.source.filter: not allowed with format JSON: JSON lines name their metrics as "
            "keys; filters apply to TEXT"
        ],
    ),
    (
        "filter-compiles",
        setting(MC, {"source": {"filter": {"metricsFormat": ["(a)(b"]}}}),
        [
            "spec.metricsCollectorSpec.source.filter.metricsFormat[0]: '(a)(b' is not a valid regular expression: "
            "missing ), unterminated subpattern at position 3"
        ],
    ),
    (
        "filter-two-groups",
        setting(MC, {"source": {"filter": {"metricsFormat": ["loss=(\\d+)"]}}}),
        [
            "spec.metricsCollectorSpec.source.filter.metricsFormat[0]: 'loss=(\\d+)' has 1 capture group(s); "
            "it needs two: the metric name, then its value"
        ],
    ),
    (
        "tfevent-directory",
        setting(
            MC,
            {
                "collector": {"kind": "TensorFlowEvent"},
                "source": {"fileSystemPath": {"path": "/t", "kind": "File"}},
            },
        ),
        [
            "spec.metricsCollectorSpec.source.fileSystemPath.kind: must be Directory for collector kind TensorFlowEvent, got File"
        ],
    ),
    (
        "tfevent-no-format",
        setting(
            MC, {"collector": {"kind": "TensorFlowEvent"}, "source": {"fileSystemPath": {"format": "JSON"}}}
        ),
        [
            "spec.metricsCollectorSpec.source.fileSystemPath.format: must be empty for collector kind TensorFlowEvent, got JSON"
        ],
    ),
    (
        "custom-container",
        setting(MC, {"collector": {"kind": "Custom"}}),
        [
            "spec.metricsCollectorSpec.collector.customCollector: required for collector kind Custom: the collector's container"
        ],
    ),
    (
        "prometheus-port",
        setting(MC, {"collector": {"kind": "PrometheusMetric"}, "source": {"httpGet": {"port": "http"}}}),
        ["spec.metricsCollectorSpec.source.httpGet.port: must be a positive port number, got 'http'"],
    ),
    (
        "prometheus-path",
        setting(MC, {"collector": {"kind": "PrometheusMetric"}, "source": {"httpGet": {"path": "metrics"}}}),
        ["spec.metricsCollectorSpec.source.httpGet.path: must start with /, got 'metrics'"],
    ),
    # resume policy and shape errors
    (
        "resume-policy",
        setting("spec.resumePolicy", "Always"),
        ["spec.resumePolicy: 'Always' is not valid; expected one of Never, LongRunning, FromVolume"],
    ),
    (
        "unknown-field",
        setting("spec.paralelTrialCount", 3),
        ["spec.paralelTrialCount: unknown field; did you mean parallelTrialCount?"],
    ),
    (
        "unknown-field-no-match",
        setting("spec.objective.weights", [1]),
        [
            "spec.objective.weights: unknown field; known fields here: type, goal, objectiveMetricName, "
            "additionalMetricNames, metricStrategies, objectives"
        ],
    ),
    (
        "whole-number",
        setting("spec.maxTrialCount", 2.5),
        ["spec.maxTrialCount: expected a whole number, got 2.5"],
    ),
    (
        "not-a-boolean-count",
        setting("spec.parallelTrialCount", True),
        ["spec.parallelTrialCount: expected a whole number, got true"],
    ),
    (
        "mapping-expected",
        setting("spec.objective", "maximize accuracy"),
        ["spec.objective: expected a mapping of fields, got 'maximize accuracy'"],
    ),
    (
        "list-expected",
        setting("spec.objective.additionalMetricNames", "loss"),
        ["spec.objective.additionalMetricNames: expected a list, got 'loss'"],
    ),
]


@pytest.mark.parametrize(("change", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule(
    doc: Doc, problems: Callable[[Any], list[str]], change: Callable[[Doc], None], expected: list[str]
) -> None:
    change(doc)
    assert problems(doc) == expected


def test_the_base_document_is_valid(doc: Doc, problems: Callable[[Any], list[str]]) -> None:
    assert problems(doc) == []


def test_every_problem_is_reported_at_once(doc: Doc, problems: Callable[[Any], list[str]]) -> None:
    setting("spec.paralelTrialCount", 3)(doc)
    setting("spec.objective.type", "max")(doc)
    setting("spec.parameters.0.feasibleSpace", {"min": "5", "max": "1"})(doc)
    setting(f"{TEMPLATE}.primaryContainerName", "trainer")(doc)
    setting("metadata.name", "Bad_Name")(doc)
    found = problems(doc)
    # every problem, in the order of the document (the misspelt field was added last)
    assert [line.split(":")[0] for line in found] == [
        "metadata.name",
        "spec.objective.type",
        "spec.parameters[0].feasibleSpace",
        "spec.trialTemplate.primaryContainerName",
        "spec.paralelTrialCount",
    ]


def test_messages_carry_no_pydantic_jargon(doc: Doc, problems: Callable[[Any], list[str]]) -> None:
    for _, change, _ in CASES:
        broken = copy.deepcopy(doc)
        change(broken)
        for line in problems(broken):
            for jargon in (
                "Input should",
                "pydantic",
                "model_type",
                "extra_forbidden",
                "Field required",
                "[type=",
            ):
                assert jargon not in line
