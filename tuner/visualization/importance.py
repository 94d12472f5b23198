"""Parameter importance with optuna.importance (fANOVA or PED-ANOVA) on an in-memory study of the trials.

The trials become `optuna.trial.FrozenTrial`s with the distributions of the search space (categoricals as
categorical distributions, discrete lists as categorical too, log-scale ranges as log distributions), so
optuna's evaluators see the same space the experiment searched.
"""

from __future__ import annotations

from typing import Any

from tuner.visualization.data import ExperimentData, ParameterInfo
from tuner.visualization.layout import POINT_COLOR, figure, title
from tuner.visualization.options import DEFAULT_MAX_POINTS, FigureOptionError
from tuner.visualization.sampling import even_indices, metric_of, params_of, trials_with

FANOVA_TRIALS = 300
"""fANOVA fits a random forest: past this many trials it learns little more and costs seconds."""
PED_ANOVA_TRIALS = 1000
"""PED-ANOVA itself is fast; building optuna's in-memory study (a deep copy per trial) is what costs."""
FANOVA_TREES, FANOVA_DEPTH = 16, 6
"""Smaller forests than optuna's default (64 trees, depth 64). On 300 trials of the 10,000-trial test
experiment both gave the same importances to 0.001 (lr 0.999, layers 0.000, optimizer 0.001), the default
in about 20 times the time (the marginal variances are computed in Python, per leaf)."""


def importance(
    data: ExperimentData,
    *,
    metric: str | None = None,
    trial_states: tuple[str, ...] | None = None,
    max_points: int = DEFAULT_MAX_POINTS,
    params: tuple[str, ...] | None = None,
    evaluator: str = "fanova",
) -> Any:
    """Horizontal bars: each parameter's share of the metric's variance (fANOVA) or of its good region."""
    import plotly.graph_objects as go

    info = metric_of(data, metric)
    names = params_of(data, params)
    cap = min(max_points, FANOVA_TRIALS if evaluator == "fanova" else PED_ANOVA_TRIALS)
    # an even sample, not the best-first one of the other figures: both evaluators compare the good
    # trials with all of them, so a sample must keep their proportions
    scored = trials_with(data, info, trial_states)
    rows = [scored[i] for i in even_indices(len(scored), cap)]
    scores = importances(data, rows, names, info.maximize, evaluator)
    ordered = sorted(scores.items(), key=lambda kv: kv[1])
    fig = figure(
        title=title(data, f"Parameter importance ({evaluator}, {len(rows)} trials)"),
        xaxis={"title": {"text": f"importance for {info.name}"}},
        yaxis={"automargin": True},
    )
    fig.add_trace(
        go.Bar(
            x=[v for _, v in ordered],
            y=[k for k, _ in ordered],
            orientation="h",
            marker={"color": POINT_COLOR},
            text=[f"{v:.2f}" for _, v in ordered],
            textposition="outside",
            name=evaluator,
        )
    )
    return fig


def importances(
    data: ExperimentData, rows: list[Any], names: list[str], maximize: bool, evaluator: str
) -> dict[str, float]:
    """Parameter name -> importance, from optuna's evaluator on a study of `rows` ((trial, value) pairs)."""
    import optuna
    from optuna.importance import (
        FanovaImportanceEvaluator,
        PedAnovaImportanceEvaluator,
        get_param_importances,
    )

    if len(rows) < 2:
        raise FigureOptionError(
            f"parameter importance needs 2 or more trials with a value; experiment {data.name!r} has "
            f"{len(rows)} (option trial_states may exclude the others)"
        )
    distributions = {name: _distribution(data.parameter(name)) for name in names}
    frozen = []
    for trial, value in rows:
        params = {n: _value(data.parameter(n), trial.params[n]) for n in names if n in trial.params}
        if len(params) != len(names):
            continue
        frozen.append(
            optuna.trial.create_trial(
                params=params, distributions={n: distributions[n] for n in params}, value=value
            )
        )
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize" if maximize else "minimize")
    study.add_trials(frozen)
    chosen = (
        FanovaImportanceEvaluator(n_trees=FANOVA_TREES, max_depth=FANOVA_DEPTH, seed=0)
        if evaluator == "fanova"
        else PedAnovaImportanceEvaluator()
    )
    scores = get_param_importances(study, evaluator=chosen, params=names, normalize=True)
    return {name: float(scores.get(name, 0.0)) for name in names}


def _distribution(parameter: ParameterInfo) -> Any:
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if parameter.type == "double" and parameter.low is not None and parameter.high is not None:
        return FloatDistribution(parameter.low, parameter.high, log=parameter.log)
    if parameter.type == "int" and parameter.low is not None and parameter.high is not None:
        step = int(parameter.step or 1)
        if parameter.log:
            step = 1  # optuna's log-scale ints take no step
        return IntDistribution(int(parameter.low), int(parameter.high), log=parameter.log, step=step)
    return CategoricalDistribution([_choice(c) for c in parameter.choices])


def _choice(value: Any) -> Any:
    return value if value is None or isinstance(value, (bool, int, float, str)) else str(value)


def _value(parameter: ParameterInfo, value: Any) -> Any:
    if parameter.type == "double":
        return float(value)
    if parameter.type == "int":
        return int(value)
    return _choice(value)
