"""The spec's hook for algorithm-specific checks: `check_experiment(experiment) -> list[Problem]`.

`tuner.spec` validates the document's shape and Katib's admission rules; what depends on the algorithm
(its name, its settings, grid size against maxTrialCount, a resource parameter for hyperband) is checked
here, through the registry, so that `tuner validate` reports every problem before anything runs. Katib
only finds these once the suggestion Deployment is up and then fails the experiment.

Accepts any object shaped like a Katib Experiment: ``.spec.algorithm.algorithm_name``,
``.spec.algorithm.algorithm_settings`` (items with name/value), ``.spec.parameters``,
``.spec.max_trial_count``, ``.spec.parallel_trial_count``. Parameter problems themselves are the spec's
to report; when the parameters cannot be read, the algorithm checks that need them are skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from suggestions.registry import Registry, UnknownAlgorithmError, default_registry
from suggestions.settings import SETTINGS_PATH
from tuner.errors import Problem, SpecError, SuggestionError
from tuner.space import SearchSpace

ALGORITHM = "spec.algorithm"
SETTINGS = f"{ALGORITHM}.algorithmSettings"


def check_experiment(experiment: Any, registry: Registry | None = None) -> list[Problem]:
    """Every algorithm-related problem of an experiment, with Katib field paths.

    Examples of paths: ``spec.algorithm.algorithmName`` (unknown name, closest suggested),
    ``spec.algorithm.algorithmSettings[2].value`` (bad value), ``spec.algorithm.algorithmSettings[0].name``
    (unknown setting), ``spec.maxTrialCount`` (above the grid size), ``spec.parameters[1].feasibleSpace.step``.
    """
    registry = registry or default_registry()
    spec = experiment.spec
    algorithm = getattr(spec, "algorithm", None)
    name = _get(algorithm, "algorithm_name", "algorithmName") if algorithm is not None else None
    if not name:
        return [
            Problem(f"{ALGORITHM}.algorithmName", f"is required; name one of {', '.join(registry.names())}")
        ]
    settings, problems = _settings(_get(algorithm, "algorithm_settings", "algorithmSettings") or [])
    try:
        suggester = registry.get(name)
    except UnknownAlgorithmError as exc:
        return [Problem(f"{ALGORITHM}.algorithmName", str(exc)), *problems]
    except SuggestionError as exc:
        return [Problem(f"{ALGORITHM}.algorithmName", str(exc)), *problems]
    problems += _objective_count(suggester, spec)
    parameters = getattr(spec, "parameters", None) or []
    if not parameters:
        return problems  # a NAS experiment, or no parameters: the spec reports that
    try:
        space = SearchSpace.from_parameters(parameters, "spec.parameters")
    except SpecError:
        return problems  # the spec's own validation names those fields
    found = suggester.validate(
        {k: v for k, (_, v) in settings.items()},
        space,
        max_trial_count=getattr(spec, "max_trial_count", None),
        parallel_trial_count=getattr(spec, "parallel_trial_count", None),
    )
    known = set(suggester.settings_schema.settings)
    return problems + [_locate(p, settings, known) for p in found]


def _objective_count(suggester: Any, spec: Any) -> list[Problem]:
    """Several objectives (tuner's extension) need an algorithm that handles them."""
    objectives = getattr(getattr(spec, "objective", None), "objectives", None) or []
    if len(objectives) < 2 or getattr(suggester, "multi_objective", False):
        return []
    return [
        Problem(
            f"{ALGORITHM}.algorithmName",
            f"{suggester.name!r} optimises one objective, and spec.objective.objectives lists "
            f"{len(objectives)}: use nsga2, nsga3, motpe or auto (or random, sobol, grid)",
        )
    ]


def _get(obj: Any, attr: str, key: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(key, obj.get(attr))
    return getattr(obj, attr, None)


def _settings(items: Sequence[Any]) -> tuple[dict[str, tuple[int, str]], list[Problem]]:
    """name -> (index in the list, value); repeated names are problems."""
    settings: dict[str, tuple[int, str]] = {}
    problems: list[Problem] = []
    for i, item in enumerate(items):
        name, value = _get(item, "name", "name"), _get(item, "value", "value")
        if name in settings:
            problems.append(
                Problem(f"{SETTINGS}[{i}].name", f"{name!r} is set twice (also at [{settings[name][0]}])")
            )
            continue
        settings[str(name)] = (i, "" if value is None else str(value))
    return settings, problems


def _locate(problem: Problem, settings: dict[str, tuple[int, str]], known: set[str]) -> Problem:
    """Turn a Suggester's relative path into the experiment's field path."""
    path = problem.path
    if path.startswith(f"{SETTINGS_PATH}."):
        name = path[len(SETTINGS_PATH) + 1 :]
        if name not in settings:
            return Problem(SETTINGS, f"{name}: {problem.message}")
        field = "value" if name in known else "name"
        return Problem(f"{SETTINGS}[{settings[name][0]}].{field}", f"{name}: {problem.message}")
    if path.startswith("parameters") or path in ("maxTrialCount", "parallelTrialCount"):
        return Problem(f"spec.{path}", problem.message)
    return Problem(f"{ALGORITHM}.{path}" if path else ALGORITHM, problem.message)
