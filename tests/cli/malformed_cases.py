"""Malformed Experiment files, each with the words its error must contain.

A valid, locally runnable experiment (`BASE`) is broken one way at a time: wrong types, unknown fields,
unknown algorithms and settings, impossible ranges, bad workload values, broken YAML and wrong template
placeholders. Each case keeps the text it must be refused with, so a case refused for some other reason
(a typo in this file that breaks the base) fails the test instead of passing it.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import yaml

BASE: dict[str, Any] = {
    "apiVersion": "kubeflow.org/v1beta1",
    "kind": "Experiment",
    "metadata": {"name": "malformed-base"},
    "spec": {
        "objective": {"type": "maximize", "objectiveMetricName": "score"},
        "algorithm": {"algorithmName": "random"},
        "parallelTrialCount": 1,
        "maxTrialCount": 2,
        "maxFailedTrialCount": 1,
        "parameters": [
            {"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.01", "max": "0.1"}},
            {"name": "layers", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "4"}},
            {"name": "opt", "parameterType": "categorical", "feasibleSpace": {"list": ["sgd", "adam"]}},
        ],
        "trialTemplate": {
            "primaryContainerName": "trainer",
            "trialParameters": [
                {"name": "lr", "reference": "lr"},
                {"name": "layers", "reference": "layers"},
                {"name": "opt", "reference": "opt"},
            ],
            "trialSpec": {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "spec": {
                    "template": {
                        "spec": {
                            "containers": [
                                {
                                    "name": "trainer",
                                    "image": "python:3.11",
                                    "command": [
                                        "python3",
                                        "-c",
                                        "import sys; print('score=' + str(len(sys.argv)))",
                                        "${trialParameters.lr}",
                                        "${trialParameters.layers}",
                                        "${trialParameters.opt}",
                                    ],
                                }
                            ],
                            "restartPolicy": "Never",
                        }
                    }
                },
            },
        },
    },
}

CONTAINER = "spec.trialTemplate.trialSpec.spec.template.spec.containers[0]"
JOB = "spec.trialTemplate.trialSpec.spec"


@dataclass(frozen=True)
class Case:
    """One malformed file: its name, its text and a phrase its error must contain."""

    name: str
    text: str
    expect: str


_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _parts(path: str) -> list[str | int]:
    return [int(index) if index else key for key, index in _PART.findall(path)]


def put(document: dict[str, Any], path: str, value: Any) -> None:
    """Set `value` at a dotted path (`spec.parameters[0].name`), creating missing mappings."""
    *parents, last = _parts(path)
    node: Any = document
    for part in parents:
        if isinstance(part, str) and part not in node:
            node[part] = {}
        node = node[part]
    node[last] = value


def drop(document: dict[str, Any], path: str) -> None:
    *parents, last = _parts(path)
    node: Any = document
    for part in parents:
        node = node[part]
    del node[last]


def base() -> dict[str, Any]:
    return copy.deepcopy(BASE)


def dump(document: Any) -> str:
    return yaml.safe_dump(document, sort_keys=False)


def edited(name: str, expect: str, *edits: tuple[str, Any]) -> Case:
    """The base with values set (a value of `DROP` deletes the field)."""
    document = base()
    for path, value in edits:
        if value is DROP:
            drop(document, path)
        else:
            put(document, path, value)
    return Case(name, dump(document), expect)


def changed(name: str, expect: str, change: Callable[[dict[str, Any]], None]) -> Case:
    document = base()
    change(document)
    return Case(name, dump(document), expect)


DROP = object()


def resources(section: str, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        container = document["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][
            0
        ]
        container.setdefault("resources", {}).setdefault(section, {})[key] = value

    return change


def wrong_types() -> Iterator[Case]:
    for field, value in [
        ("spec.maxTrialCount", "many"),
        ("spec.maxTrialCount", [3]),
        ("spec.maxTrialCount", 2.5),
        ("spec.parallelTrialCount", "two"),
        ("spec.parallelTrialCount", {"n": 1}),
        ("spec.maxFailedTrialCount", "none"),
        ("spec.objective.type", 5),
        ("spec.objective.goal", "high"),
        ("spec.objective.goal", [1]),
        ("spec.objective.objectiveMetricName", ["score"]),
        ("spec.objective.additionalMetricNames", "loss"),
        ("spec.objective", "maximize score"),
        ("spec.algorithm", "random"),
        ("spec.algorithm.algorithmName", 7),
        ("spec.algorithm.algorithmSettings", {"random_state": 1}),
        ("spec.parameters", {"lr": [0.01, 0.1]}),
        ("spec.parameters[0]", "lr"),
        ("spec.parameters[0].feasibleSpace", "0.01-0.1"),
        ("spec.parameters[0].feasibleSpace.min", [0.01]),
        ("spec.parameters[2].feasibleSpace.list", "sgd,adam"),
        ("spec.trialTemplate", "job"),
        ("spec.trialTemplate.trialParameters", "lr"),
        ("spec.trialTemplate.trialSpec", "batch/v1 Job"),
        ("spec.trialTemplate.primaryContainerName", ["trainer"]),
        ("metadata", "malformed"),
        ("metadata.name", ["a"]),
        ("spec.resumePolicy", 3),
        ("spec.earlyStopping", "medianstop"),
        ("spec.metricsCollectorSpec", "StdOut"),
        ("spec", ["objective"]),
    ]:
        yield edited(f"type {field} = {value!r}", field, (field, value))


def unknown_fields() -> Iterator[Case]:
    for path in [
        "spec.maxTrials",
        "spec.paralelTrialCount",
        "spec.foo",
        "spec.objective.metricName",
        "spec.objective.direction",
        "spec.algorithm.name",
        "spec.algorithm.settings",
        "spec.parameters[0].feasible",
        "spec.parameters[0].feasibleSpace.minimum",
        "spec.parameters[1].type",
        "spec.trialTemplate.trialParams",
        "spec.trialTemplate.primaryContainer",
        "spec.trialTemplate.trialParameters[0].ref",
        "spec.trialTemplate.successConditon",
        "specs",
        "spec.earlyStopping.algorithm",
        "spec.metricsCollectorSpec.collectorKind",
        "spec.resumepolicy",
        "spec.objective.goals",
        "spec.trialTemplate.configmap",
    ]:
        yield edited(f"unknown field {path}", path.split(".")[-1].split("[")[0], (path, "x"))


def algorithms() -> Iterator[Case]:
    for name in ["nosuch", "randm", "Random", "tpe2", "bayes", "", "grid-search", "hyper-band"]:
        yield edited(
            f"algorithm {name!r}", "spec.algorithm.algorithmName", ("spec.algorithm.algorithmName", name)
        )
    for algorithm, settings, expect in [
        ("random", [{"name": "seed", "value": "1"}], "algorithmSettings[0].name"),
        ("random", [{"name": "random_state", "value": "abc"}], "algorithmSettings[0].value"),
        ("tpe", [{"name": "gamma", "value": "-1"}], "algorithmSettings[0].value"),
        ("tpe", [{"name": "n_startup", "value": "5"}], "algorithmSettings[0].name"),
        ("tpe", [{"name": "n_EI_candidates", "value": "many"}], "algorithmSettings[0].value"),
        ("sobol", [{"name": "seed", "value": "1"}], "algorithmSettings[0].name"),
        ("bayesianoptimization", [{"name": "acq_func", "value": "nope"}], "algorithmSettings[0].value"),
        ("bayesianoptimization", [{"name": "n_initial_points", "value": "x"}], "algorithmSettings[0].value"),
        ("cmaes", [{"name": "sigma", "value": "-1"}], "algorithmSettings[0].value"),
        ("cmaes", [{"name": "restart_strategy", "value": "sometimes"}], "algorithmSettings[0].value"),
        (
            "random",
            [{"name": "random_state", "value": "1"}, {"name": "random_state", "value": "2"}],
            "algorithmSettings[1].name",
        ),
        ("sobol", [{"name": "scramble", "value": "maybe"}], "algorithmSettings[0]"),
    ]:
        yield edited(
            f"{algorithm} settings {settings!r}",
            expect,
            ("spec.algorithm.algorithmName", algorithm),
            ("spec.algorithm.algorithmSettings", settings),
        )
    # the grid has 2 categories x 4 layers x ... : lr needs a step, and maxTrialCount above the grid is refused
    yield edited(
        "grid without a step", "spec.parameters[0].feasibleSpace", ("spec.algorithm.algorithmName", "grid")
    )
    for early, expect in [
        ({"algorithmName": "nostop"}, "spec.earlyStopping.algorithmName"),
        (
            {"algorithmName": "medianstop", "algorithmSettings": [{"name": "min_trials", "value": "x"}]},
            "min_trials",
        ),
        (
            {"algorithmName": "medianstop", "algorithmSettings": [{"name": "patience", "value": "3"}]},
            "patience",
        ),
        (
            {"algorithmName": "medianstop", "algorithmSettings": [{"name": "start_step", "value": "0"}]},
            "start_step",
        ),
    ]:
        yield edited(f"early stopping {early!r}", expect, ("spec.earlyStopping", early))


def impossible_ranges() -> Iterator[Case]:
    fs0, fs1, fs2 = (f"spec.parameters[{i}].feasibleSpace" for i in range(3))
    for name, edits, expect in [
        ("double min > max", [(f"{fs0}.min", "0.5")], fs0),
        ("double min == max", [(f"{fs0}.min", "0.1")], fs0),
        ("int min > max", [(f"{fs1}.min", "9")], fs1),
        ("int min not an int", [(f"{fs1}.min", "1.5")], f"{fs1}.min"),
        ("int max not a number", [(f"{fs1}.max", "four")], f"{fs1}.max"),
        ("double min not a number", [(f"{fs0}.min", "small")], f"{fs0}.min"),
        ("double max infinite", [(f"{fs0}.max", "inf")], f"{fs0}.max"),
        ("double min nan", [(f"{fs0}.min", "nan")], f"{fs0}.min"),
        ("double step negative", [(f"{fs0}.step", "-0.01")], f"{fs0}.step"),
        ("double step zero", [(f"{fs0}.step", "0")], f"{fs0}.step"),
        ("int step negative", [(f"{fs1}.step", "-1")], f"{fs1}.step"),
        ("int step fractional", [(f"{fs1}.step", "0.5")], f"{fs1}.step"),
        ("log-uniform from zero", [(f"{fs0}.min", "0"), (f"{fs0}.distribution", "logUniform")], fs0),
        ("log-uniform negative", [(f"{fs0}.min", "-1"), (f"{fs0}.distribution", "logUniform")], fs0),
        ("unknown distribution", [(f"{fs0}.distribution", "gaussian")], f"{fs0}.distribution"),
        ("empty categories", [(f"{fs2}.list", [])], fs2),
        ("duplicate categories", [(f"{fs2}.list", ["sgd", "sgd"])], fs2),
        ("categorical with a range", [(f"{fs2}.min", "1"), (f"{fs2}.max", "2")], fs2),
        ("double with a list", [(f"{fs0}.list", ["0.1"])], fs0),
        ("int without max", [(f"{fs1}.max", DROP)], fs1),
        ("double without min", [(f"{fs0}.min", DROP)], fs0),
        ("unknown parameter type", [("spec.parameters[0].parameterType", "float")], "parameterType"),
        ("duplicate parameter names", [("spec.parameters[1].name", "lr")], "spec.parameters[1].name"),
        ("parallel above max", [("spec.parallelTrialCount", 5)], "spec.parallelTrialCount"),
        ("failed above max", [("spec.maxFailedTrialCount", 5)], "spec.maxFailedTrialCount"),
        ("zero max trials", [("spec.maxTrialCount", 0)], "spec.maxTrialCount"),
        ("negative max trials", [("spec.maxTrialCount", -3)], "spec.maxTrialCount"),
        ("zero parallel", [("spec.parallelTrialCount", 0)], "spec.parallelTrialCount"),
        ("negative failed", [("spec.maxFailedTrialCount", -1)], "spec.maxFailedTrialCount"),
        ("infinite goal", [("spec.objective.goal", float("inf"))], "spec.objective.goal"),
        ("no parameters", [("spec.parameters", [])], "spec.parameters"),
        ("discrete without values", [("spec.parameters[1].parameterType", "discrete")], fs1),
    ]:
        yield edited(name, expect, *edits)


def workload_values() -> Iterator[Case]:
    for section in ("limits", "requests"):
        for value in [
            "lots",
            "-1",
            "",
            "1.5.5",
            "500x",
            "-0.5",
            ".nan",
            "2 cores",
            [1],
            {"n": 1},
        ]:  # "0" is valid
            parsed = yaml.safe_load(value) if value == ".nan" else value
            yield changed(
                f"cpu {section} {value!r}",
                f"{CONTAINER}.resources.{section}.cpu",
                resources(section, "cpu", parsed),
            )
        for value in ["lots", "-1Gi", "1Zi", "big"]:
            yield changed(
                f"memory {section} {value!r}",
                f"{CONTAINER}.resources.{section}.memory",
                resources(section, "memory", value),
            )
        for value in ["0.5", "two", -1, "1.5", 0.5]:
            yield changed(
                f"gpu {section} {value!r}",
                f"{CONTAINER}.resources.{section}['nvidia.com/gpu']",
                resources(section, "nvidia.com/gpu", value),
            )
    for field, values in [
        ("backoffLimit", ["two", -1, 1.5, "3", True, [1]]),
        ("activeDeadlineSeconds", ["soon", 0, -5, 2.5, "60", False]),
    ]:
        for value in values:
            yield edited(f"{field} {value!r}", f"{JOB}.{field}", (f"{JOB}.{field}", value))

    def request_above_limit(document: dict[str, Any]) -> None:
        resources("limits", "cpu", "1")(document)
        resources("requests", "cpu", "2")(document)

    yield changed("cpu request above its limit", f"{CONTAINER}.resources.requests.cpu", request_above_limit)
    yield edited("resources not a mapping", f"{CONTAINER}.resources", (f"{CONTAINER}.resources", "big"))
    yield edited(
        "limits not a mapping", f"{CONTAINER}.resources.limits", (f"{CONTAINER}.resources", {"limits": [2]})
    )


def broken_yaml() -> Iterator[Case]:
    text = dump(base())
    for name, broken, expect in [
        ("unclosed flow mapping", "spec:\n  objective: {type: maximize\n", "invalid YAML"),
        ("unclosed flow sequence", text.replace("list:\n", "list: [sgd, adam\n", 1), "invalid YAML"),
        ("tab indentation", text.replace("  objective:", "\tobjective:", 1), "invalid YAML"),
        (
            "bad indentation",
            text.replace("  objective:\n    type", "  objective:\n      type", 1),
            "invalid YAML",
        ),
        (
            "unterminated quote",
            text.replace("name: malformed-base", "name: 'malformed-base", 1),
            "invalid YAML",
        ),
        ("undefined alias", text.replace("maxTrialCount: 2", "maxTrialCount: *count", 1), "invalid YAML"),
        (
            "mapping value in a scalar",
            text.replace("type: maximize", "type: maximize: yes", 1),
            "invalid YAML",
        ),
        ("stray dash", text.replace("  algorithm:", "- algorithm:", 1), "invalid YAML"),
        (
            "duplicate key",
            text.replace("maxTrialCount: 2", "maxTrialCount: 2\n  maxTrialCount: 3", 1),
            "maxTrialCount",
        ),
        ("only document markers", "---\n---\n", "Experiment document, found no"),
        ("only a comment", "# an experiment will go here\n", "Experiment document, found no"),
        ("a list", "- a\n- b\n", "expected an Experiment document"),
        ("a scalar", "just words\n", "expected an Experiment document"),
        ("a number", "42\n", "expected an Experiment document"),
        ("broken JSON", '{"apiVersion": "kubeflow.org/v1beta1", "kind": ', "invalid"),
        ("JSON with a trailing comma", '{"apiVersion": "kubeflow.org/v1beta1",}', "invalid"),
        ("truncated in the middle", text[: len(text) // 2] + "  - {", "invalid YAML"),
        (
            "missing apiVersion and kind",
            dump({k: v for k, v in base().items() if k not in ("apiVersion", "kind")}),
            "apiVersion",
        ),
        ("wrong kind", text.replace("kind: Experiment", "kind: Job", 1), "kind"),
        ("wrong apiVersion", text.replace("kubeflow.org/v1beta1", "kubeflow.org/v1", 1), "apiVersion"),
    ]:
        yield Case(f"yaml: {name}", broken, expect)
    yield Case("yaml: not UTF-8", "\udcff", "not UTF-8")  # written as a raw 0xff byte, see `write`


def placeholders() -> Iterator[Case]:
    command = f"{CONTAINER}.command"
    tp = "spec.trialTemplate.trialParameters"
    argv = BASE["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["command"]
    for name, edits, expect in [
        ("undeclared placeholder", [(f"{command}[3]", "${trialParameters.learningRate}")], "learningRate"),
        ("typo in placeholder", [(f"{command}[4]", "${trialParameters.layer}")], "layer"),
        ("declared but unused", [(command, argv[:5])], f"{tp}[2].name"),
        ("reference to no parameter", [(f"{tp}[0].reference", "learning_rate")], f"{tp}[0].reference"),
        ("duplicate names", [(f"{tp}[1].name", "lr")], f"{tp}[1].name"),
        ("duplicate references", [(f"{tp}[1].reference", "lr")], f"{tp}[1].reference"),
        ("braces in a name", [(f"{tp}[0].name", "{lr}")], f"{tp}[0].name"),
        ("empty name", [(f"{tp}[0].name", "")], f"{tp}[0].name"),
        ("empty reference", [(f"{tp}[0].reference", "")], f"{tp}[0].reference"),
        ("bad trial metadata", [(f"{tp}[0].reference", "${trialSpec.Bogus}")], f"{tp}[0].reference"),
        ("no trialParameters", [(tp, DROP)], tp),
        (
            "placeholder in an env value",
            [(f"{CONTAINER}.env", [{"name": "X", "value": "${trialParameters.x}"}])],
            "x",
        ),
        ("placeholder in the image", [(f"{CONTAINER}.image", "img:${trialParameters.tag}")], "tag"),
        ("workload named", [("spec.trialTemplate.trialSpec.metadata", {"name": "fixed"})], "metadata.name"),
        (
            "no primary container",
            [("spec.trialTemplate.primaryContainerName", "main")],
            "primaryContainerName",
        ),
        ("no apiVersion", [("spec.trialTemplate.trialSpec.apiVersion", DROP)], "trialSpec.apiVersion"),
        ("no containers", [("spec.trialTemplate.trialSpec.spec.template.spec.containers", [])], "containers"),
        (
            "trialSpec and configMap",
            [("spec.trialTemplate.configMap", {"configMapName": "x"})],
            "spec.trialTemplate",
        ),
        (
            "custom kind without conditions",
            [("spec.trialTemplate.trialSpec.kind", "Workload")],
            "successCondition",
        ),
        ("empty placeholder", [(f"{command}[3]", "${trialParameters.}")], "trialParameters"),
    ]:
        yield edited(f"placeholder: {name}", expect, *edits)


def generated() -> list[Case]:
    cases = [
        *wrong_types(),
        *unknown_fields(),
        *algorithms(),
        *impossible_ranges(),
        *workload_values(),
        *broken_yaml(),
        *placeholders(),
    ]
    names = [case.name for case in cases]
    assert len(names) == len(set(names)), "case names must be unique"
    return cases
