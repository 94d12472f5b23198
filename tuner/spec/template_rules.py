"""Rules for `spec.trialTemplate`: the workload source, conditions, trial parameters and placeholders.

Katib's validating webhook checks these at admission (validator.go, validateTrialTemplate); we report
every problem instead of the first. Katib fetches a configMap template from the cluster and checks it like an
inline one; here it is checked the same way when the caller could read it (`config_map_template`: the loader
finds ConfigMap manifests next to the experiment file, `tuner.spec.config_map`). Problems inside it name
`spec.trialTemplate.configMap` and say where in the template they are.
"""

from __future__ import annotations

from typing import Any

from tuner.errors import Problem
from tuner.spec import workload
from tuner.spec.experiment import ExperimentSpec
from tuner.spec.paths import join
from tuner.spec.suggest import did_you_mean
from tuner.spec.trial_template import META_REFERENCE, TrialTemplate, is_meta_reference, placeholders_in

AT = "spec.trialTemplate"
TP = f"{AT}.trialParameters"
META_FORMS = (
    "${trialSpec.Name}, ${trialSpec.Namespace}, ${trialSpec.Kind}, ${trialSpec.APIVersion}, "
    "${trialSpec.Labels[key]} or ${trialSpec.Annotations[key]}"
)


def check_trial_template(
    spec: ExperimentSpec, config_map_template: dict[str, Any] | None = None
) -> list[Problem]:
    """Every problem of `spec.trialTemplate`, given the experiment's parameters.

    `config_map_template` is the workload read from the ConfigMap that `configMap` names, when the caller
    could read it; its problems are reported as Katib's webhook finds them once it fetched the ConfigMap.
    """
    if "trial_template" not in spec.model_fields_set:
        return [Problem(AT, "required: the workload each trial runs (trialSpec) and its trialParameters")]
    template = spec.trial_template
    problems: list[Problem] = []
    if not template.primary_container_name:
        problems.append(
            Problem(f"{AT}.primaryContainerName", "required: the container that runs the training code")
        )
    problems += _check_source(template)
    problems += _check_conditions(template)
    problems += _check_trial_parameters(template, spec.parameter_names)
    if template.trial_spec and template.trial_parameters is not None:  # an empty workload has other problems
        problems += _check_placeholders(template, _Inline(template.trial_spec))
    if config_map_template is not None and template.config_map is not None and template.trial_spec is None:
        body = _InConfigMap(config_map_template, template)
        problems += _check_body(template, body)
        if template.trial_parameters is not None:
            problems += _check_placeholders(template, body)
    return problems


class _Inline:
    """Where problems of the inline `trialSpec` are reported: at their own path."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        self.name = "spec.trialTemplate.trialSpec"

    def problem(self, relative: str, message: str) -> Problem:
        return Problem(join(f"{AT}.trialSpec", relative), message)


class _InConfigMap:
    """Where problems of a ConfigMap template are reported: at `configMap`, naming the place inside it."""

    def __init__(self, body: dict[str, Any], template: TrialTemplate) -> None:
        cm = template.config_map
        self.body = body
        self.name = f"the ConfigMap template ({cm.config_map_name if cm else ''}, key {cm.template_path if cm else ''})"

    def problem(self, relative: str, message: str) -> Problem:
        where = f" at {relative}" if relative else ""
        return Problem(f"{AT}.configMap", f"in {self.name}{where}: {message}")


_Body = _Inline | _InConfigMap


def _check_source(template: TrialTemplate) -> list[Problem]:
    if template.trial_spec is None and template.config_map is None:
        return [
            Problem(
                AT, "give trialSpec (the workload inline) or configMap (a template stored in the cluster)"
            )
        ]
    if template.trial_spec is not None and template.config_map is not None:
        return [Problem(AT, "give only one of trialSpec and configMap, not both")]
    if template.config_map is not None:
        cm = template.config_map
        fields = (
            ("configMapName", cm.config_map_name),
            ("configMapNamespace", cm.config_map_namespace),
            ("templatePath", cm.template_path),
        )
        return [Problem(f"{AT}.configMap.{name}", "required") for name, value in fields if not value]
    return _check_workload(template)


def _check_workload(template: TrialTemplate) -> list[Problem]:
    return _check_body(template, _Inline(template.trial_spec or {}))


def _check_body(template: TrialTemplate, where: _Body) -> list[Problem]:
    """The workload object itself: apiVersion and kind, no name or namespace, a Job's containers."""
    body = where.body
    problems: list[Problem] = []
    if not isinstance(body.get("apiVersion"), str) or not body["apiVersion"]:
        problems.append(where.problem("apiVersion", "required: the workload's API version, e.g. batch/v1"))
    if not isinstance(body.get("kind"), str) or not body["kind"]:
        problems.append(where.problem("kind", "required: the workload's kind, e.g. Job"))
    metadata = body.get("metadata")
    if isinstance(metadata, dict):
        for field, why in (
            ("name", "each trial's workload is named after the trial"),
            ("namespace", "it runs in the experiment's namespace"),
        ):
            if metadata.get(field):
                problems.append(where.problem(f"metadata.{field}", f"must be omitted: {why}"))
    kind = body.get("kind") if isinstance(body.get("kind"), str) else None
    if kind == workload.JOB_KIND and not workload.containers(body):
        problems.append(
            where.problem("spec.template.spec.containers", "required: a Job needs at least one container")
        )
    if workload.is_pipeline_run(body):
        if isinstance(where, _InConfigMap):
            return problems
        return problems + _check_pipeline_run(body, f"{AT}.trialSpec")
    return problems + _check_primary_container(template, body, kind)


def _check_pipeline_run(body: dict[str, Any], at: str) -> list[Problem]:
    """A tuner.dev PipelineRun: `spec.pipeline` (a .py file or package), optional `pipelineName` and
    `arguments` (name -> value, where values may hold ${trialParameters.x})."""
    spec = body.get("spec")
    if not isinstance(spec, dict):
        return [Problem(f"{at}.spec", "required: {pipeline: FILE, pipelineName: NAME, arguments: {...}}")]
    problems: list[Problem] = []
    pipeline = spec.get("pipeline")
    if not isinstance(pipeline, str) or not pipeline.strip():
        problems.append(
            Problem(
                f"{at}.spec.pipeline", "required: the pipeline's .py file or compiled package (.yaml, .zip)"
            )
        )
    name = spec.get("pipelineName")
    if name is not None and not isinstance(name, str):
        problems.append(Problem(f"{at}.spec.pipelineName", f"must be a string, got {name!r}"))
    arguments = spec.get("arguments", {})
    if not isinstance(arguments, dict):
        problems.append(
            Problem(f"{at}.spec.arguments", f"must map argument names to values, got {arguments!r}")
        )
    else:
        for key, value in arguments.items():
            if isinstance(value, (dict, list)):
                problems.append(
                    Problem(f"{at}.spec.arguments.{key}", "must be a single value (text or number)")
                )
    unknown = sorted(set(spec) - {"pipeline", "pipelineName", "arguments", "parallelism", "enableCaching"})
    for key in unknown:
        problems.append(
            Problem(
                f"{at}.spec.{key}",
                "unknown field; known: pipeline, pipelineName, arguments, parallelism, enableCaching",
            )
        )
    return problems


def _check_primary_container(
    template: TrialTemplate, body: dict[str, Any], kind: str | None
) -> list[Problem]:
    """Only for kinds whose layout is known: other kinds (Tekton, Argo, TrainJob) name containers their way."""
    name = template.primary_container_name
    known = workload.containers(body)
    if (
        not name
        or not workload.has_known_layout(kind)
        or not known
        or workload.find_container(body, name) is not None
    ):
        return []
    names = ", ".join(sorted({str(c.get("name")) for _, c in known}))
    return [
        Problem(
            f"{AT}.primaryContainerName",
            f"no container named '{name}' in the {kind}; its containers: {names}",
        )
    ]


def _check_conditions(template: TrialTemplate) -> list[Problem]:
    kind = template.workload_kind
    if template.config_map is not None and template.trial_spec is None:
        what = "a configMap template"
    elif kind is None:
        return []  # no usable source: reported by _check_source
    elif (
        workload.has_known_layout(kind)
        or kind == workload.TRAIN_JOB_KIND
        or workload.is_pipeline_run(template.trial_spec)
    ):
        return []  # Katib defaults both conditions for these kinds
    else:
        what = f"kind {kind}"
    return [
        Problem(
            f"{AT}.{field}",
            f"required for {what}: a GJSON path on the workload that is true when it {verb} "
            f"(defaults exist only for batch Job and Kubeflow training jobs)",
        )
        for field, value, verb in (
            ("successCondition", template.success_condition, "succeeded"),
            ("failureCondition", template.failure_condition, "failed"),
        )
        if not value
    ]


def _check_trial_parameters(template: TrialTemplate, parameter_names: list[str]) -> list[Problem]:
    if template.trial_parameters is None:
        return [
            Problem(
                TP,
                "required: declare each ${trialParameters.<name>} of the template and the parameter it takes",
            )
        ]
    problems: list[Problem] = []
    names: dict[str, int] = {}
    references: dict[str, int] = {}
    for i, tp in enumerate(template.trial_parameters):
        problems += _check_trial_parameter_name(tp.name, f"{TP}[{i}].name", names)
        problems += _check_trial_parameter_reference(
            tp.reference, f"{TP}[{i}].reference", references, parameter_names
        )
        names.setdefault(tp.name or "", i)
        references.setdefault(tp.reference or "", i)
    return problems


def _check_trial_parameter_name(name: str | None, at: str, earlier: dict[str, int]) -> list[Problem]:
    if not name:
        return [Problem(at, "required: the placeholder's name, used as ${trialParameters.<name>}")]
    if "{" in name or "}" in name:
        return [Problem(at, f"'{name}' must not contain '{{' or '}}'")]
    if name in earlier:
        return [
            Problem(at, f"duplicate trial parameter name '{name}' (also trialParameters[{earlier[name]}])")
        ]
    return []


def _check_trial_parameter_reference(
    reference: str | None, at: str, earlier: dict[str, int], parameter_names: list[str]
) -> list[Problem]:
    if not reference:
        return [
            Problem(
                at,
                "required: a parameter name from spec.parameters, or trial metadata such as ${trialSpec.Name}",
            )
        ]
    if reference in earlier:
        return [
            Problem(
                at,
                f"'{reference}' is already used by trialParameters[{earlier[reference]}]; each reference may appear once",
            )
        ]
    return _check_reference(reference, at, parameter_names)


def _check_reference(reference: str, at: str, parameter_names: list[str]) -> list[Problem]:
    if META_REFERENCE.match(reference) or reference.startswith("${"):
        if is_meta_reference(reference):
            return []
        return [Problem(at, f"'{reference}' is not valid trial metadata; use {META_FORMS}")]
    if parameter_names and reference not in parameter_names:
        known = ", ".join(dict.fromkeys(parameter_names))
        hint = did_you_mean(reference, parameter_names)
        return [Problem(at, f"'{reference}' is not a parameter in spec.parameters ({known}){hint}")]
    return []  # Katib checks references only when spec.parameters is given (NAS templates use others)


def _check_placeholders(template: TrialTemplate, where: _Body) -> list[Problem]:
    declared = [tp.name for tp in template.trial_parameters or [] if tp.name]
    used: dict[str, list[str]] = {}
    for path, name in placeholders_in(where.body):
        used.setdefault(name, []).append(path)
    problems: list[Problem] = []
    for i, tp in enumerate(template.trial_parameters or []):
        if tp.name and tp.name not in used and "{" not in tp.name and "}" not in tp.name:
            problems.append(
                Problem(
                    f"{TP}[{i}].name",
                    f"'{tp.name}' is declared but ${{trialParameters.{tp.name}}} does not appear in {where.name}; use it there or remove this entry",
                )
            )
    for name, paths in used.items():
        if name in declared:
            continue
        others = len(paths) - 1
        more = f" (and {others} more place{'s' if others > 1 else ''})" if others else ""
        hint = did_you_mean(name, declared)
        problems.append(
            where.problem(
                paths[0],
                f"${{trialParameters.{name}}} is not declared in spec.trialTemplate.trialParameters{more}{hint}",
            )
        )
    return problems
