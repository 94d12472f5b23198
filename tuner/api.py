"""`tuner.tune(objective, parameters, ...)`: tune a Python function, in the spirit of `KatibClient.tune`.

The call builds an ordinary Experiment (the same model a Katib YAML file becomes, with a Push collector and a
trial template that documents the function), stores it, and runs the controller in this process: trials
call `objective(params)` in a pool of worker processes (`threads=True` runs them in threads), where
`params` holds typed values (floats, ints, strings; not Katib's strings). The objective returns a number
(the objective metric), a dict of metrics, or reports with `tuner.report(...)` while it runs.

Defaults that differ from `KatibClient.tune`:
- `algorithm_name="auto"` (Katib: random): picks and combines algorithms by the space and the budget.
- `max_trial_count=10` (Katib: unset, i.e. unbounded): a call that never returns by default is a trap.
- `parallel_trial_count=1` (Katib: 3): sequential trials let model-based algorithms learn from every
  result; raise it when trials are slow and cores are free.
- `objective_metric_name="objective"` (Katib: required), the name a plain float return value gets.
- `name` defaults to the function's name plus a random suffix, so each call is a new experiment; pass a
  name to resume an interrupted call.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuner.config import Settings
from tuner.spec import ParameterSpec, load_experiment
from tuner.states import ExperimentState, TrialState

if TYPE_CHECKING:
    import pandas

Objective = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class TrialResult:
    """One trial of a finished `tune` call. `folder` holds its log (`trial.log`) and anything it wrote."""

    name: str
    state: TrialState
    parameters: dict[str, Any]
    metrics: dict[str, float]
    value: float | None
    folder: Path | None = None
    labels: dict[str, str] = field(default_factory=dict)
    """Labels the algorithm set on the trial (pbt: its generation and parent)."""

    def __str__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.parameters.items())
        return f"{self.name} ({self.state.value}): value={self.value} with {params}"


@dataclass(frozen=True)
class TuneResult:
    """What `tune` returns: the experiment's end state, its best trial and every trial."""

    experiment: str
    namespace: str
    state: ExperimentState
    reason: str
    best_trial: TrialResult | None
    trials: list[TrialResult] = field(default_factory=list)
    interrupted: bool = False
    pareto_front: list[TrialResult] = field(default_factory=list)
    """Several objectives (`tune(..., objectives=...)`): the trials no other trial beats on every
    objective, by trial number (the experiment's `status.paretoFront`); empty for a single objective."""

    @property
    def best_parameters(self) -> dict[str, Any] | None:
        return self.best_trial.parameters if self.best_trial else None

    @property
    def best_value(self) -> float | None:
        return self.best_trial.value if self.best_trial else None

    store: str | None = field(default=None, repr=False)  # a URL may carry a password: not in the repr
    """The store URL the experiment lives in (what `trials_dataframe` and `metric_history` read)."""

    def trials_dataframe(self) -> pandas.DataFrame:
        """One row per trial as a pandas DataFrame (columns as `tuner.Client.trials_dataframe`)."""
        from tuner.client import Client

        with Client(self.store, self.namespace) as client:
            return client.trials_dataframe(self.experiment)

    def _repr_html_(self) -> str:
        """Jupyter's rich display: the best trial and a small history figure (inline SVG, works offline)."""
        from tuner.visualization.html import result_html

        return result_html(self)

    def metric_history(self, trial: TrialResult | str, name: str | None = None) -> pandas.DataFrame:
        """The values `trial` reported for metric `name` (default: the objective): step, value, timestamp."""
        from tuner.client import Client

        trial_name = trial.name if isinstance(trial, TrialResult) else trial
        with Client(self.store, self.namespace) as client:
            return client.metric_history(trial_name, name)


def tune(
    objective: Objective,
    parameters: Mapping[str, ParameterSpec],
    *,
    name: str | None = None,
    namespace: str = "default",
    objective_metric_name: str = "objective",
    additional_metric_names: Sequence[str] = (),
    objective_type: str = "maximize",
    objectives: Mapping[str, str] | None = None,
    objective_goal: float | None = None,
    metric_strategies: Mapping[str, str] | None = None,
    algorithm_name: str = "auto",
    algorithm_settings: Mapping[str, Any] | None = None,
    max_trial_count: int = 10,
    parallel_trial_count: int = 1,
    max_failed_trial_count: int | None = None,
    early_stopping: str | None = None,
    early_stopping_settings: Mapping[str, Any] | None = None,
    trial_active_deadline_seconds: float | None = None,
    retries: int = 0,
    threads: bool = False,
    env_per_trial: Mapping[str, str] | None = None,
    store: str | None = None,
    verbose: bool | None = None,
) -> TuneResult:
    """Tune `objective` over `parameters` and return the result (see the module docstring).

    Args:
        objective: called with one dict of typed parameter values per trial.
        parameters: name -> `tuner.search.double/int/categorical/discrete(...)`.
        objective_type: "maximize" (Katib's default) or "minimize".
        objectives: several objectives at once (tuner's extension), metric name -> "minimize" or
            "maximize", e.g. {"loss": "minimize", "latency": "minimize"}; replaces objective_metric_name and
            objective_type (the first one is the primary objective). The objective function returns a dict
            with every one of them; the result's `pareto_front` lists the non-dominated trials.
        algorithm_settings: Katib algorithmSettings as a dict, e.g. {"random_state": 7}.
        early_stopping: "medianstop" or "asha"; its settings in `early_stopping_settings`.
        retries: how often a failing trial is run again.
        threads: run trials in threads of this process instead of worker processes.
        store: the metadata store URL (default: TUNER_STORE, else the embedded SQLite store).
        verbose: None (default) shows a compact live progress line and why failed trials failed, on stderr
            in a terminal or a Jupyter notebook, and nothing otherwise; True adds a line per finished trial
            (its value, the best so far, elapsed time and ETA) wherever stderr goes; False shows nothing.

    Returns:
        The result; `interrupted` is True (state Stopped) when `tuner experiments stop` stopped the run:
        the caller goes on, and calling again with the same name continues the experiment.

    Raises:
        SpecError: an invalid argument (the message names it, as for a YAML file).
        ExperimentFailedError: no trial succeeded (every one failed, or maxFailedTrialCount was reached
            first); it carries the first failure's message, its log path and the result. An experiment
            that failed after some trials succeeded returns its result with state Failed.
        LeaseHeldError: another process is running an experiment of that name (raised at once, no wait).
        KeyboardInterrupt: Ctrl-C, raised again once the trials were stopped and the experiment was
            recorded Interrupted (as `study.optimize` does); calling again with the same name continues it.
    """
    from controllers.backends import FunctionBackend
    from controllers.launchers.function import FunctionLauncher
    from controllers.run import ExperimentRunner
    from controllers.suggest import in_process
    from suggestions import check_experiment, get_suggester
    from tuner.space import SearchSpace
    from tuner.store import open_store

    experiment_name = name or _default_name(objective)
    document = _document(
        objective,
        experiment_name,
        namespace,
        parameters,
        objective_metric_name=objective_metric_name,
        additional_metric_names=additional_metric_names,
        objective_type=objective_type,
        objectives=objectives,
        objective_goal=objective_goal,
        metric_strategies=metric_strategies,
        algorithm_name=algorithm_name,
        algorithm_settings=algorithm_settings,
        max_trial_count=max_trial_count,
        parallel_trial_count=parallel_trial_count,
        max_failed_trial_count=max_failed_trial_count,
        early_stopping=early_stopping,
        early_stopping_settings=early_stopping_settings,
        deadline=trial_active_deadline_seconds,
    )
    experiment = load_experiment(
        document, source_name="tune()", extra_checks=[check_experiment], python_values=True
    )
    settings = Settings.from_env(store_url=store)
    space = SearchSpace.from_parameters(experiment.spec.parameters or [])
    suggester = get_suggester(experiment.spec.algorithm_name or "")
    objective_metric_name = experiment.spec.objective.objective_metric_name or objective_metric_name
    db = open_store(settings.store_url)
    launcher = FunctionLauncher(objective, workers=parallel_trial_count, threads=threads)
    runs_dir = settings.data_dir / "runs" / namespace / experiment_name
    env = {
        "TUNER_EXPERIMENT": experiment_name,
        "TUNER_NAMESPACE": namespace,
        "TUNER_STORE": settings.store_url,  # for tuner.log_model in the trial
        **(env_per_trial or {}),
    }
    backend = FunctionBackend(
        launcher, space, objective_metric_name, runs_dir, env, deadline_seconds=trial_active_deadline_seconds
    )
    printer = _TuneProgress(verbose, experiment_name, objective_metric_name, max_trial_count)
    try:
        runner = ExperimentRunner(
            db,
            experiment,
            backend,
            in_process(experiment, suggester, space),
            retries=retries,
            poll_interval=0.2,
            on_settled=printer.settled,
        )
        printer.runner = runner
        try:
            with printer:
                outcome = runner.run()
        except KeyboardInterrupt:
            _say_resumable(experiment_name, namespace)
            raise
        result = _result(db, outcome.record, space, objective_metric_name, interrupted=outcome.interrupted)
        _raise_if_nothing_succeeded(db, outcome.record, result)
        return result
    finally:
        db.close()


def _say_resumable(name: str, namespace: str) -> None:
    """After Ctrl-C: the experiment is recorded Interrupted; say how to continue it (its name may be random)."""
    import sys

    where = "" if namespace == "default" else f", namespace={namespace!r}"
    print(
        f"tune(): interrupted; the running trials were stopped and experiment {name!r} was recorded "
        f"Interrupted; call tune(..., name={name!r}{where}) again to continue it",
        file=sys.stderr,
    )


def _default_name(objective: Objective) -> str:
    base = (
        re.sub(r"[^a-z0-9-]+", "-", getattr(objective, "__name__", "objective").lower()).strip("-") or "tune"
    )
    suffix = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(6))
    return f"{base[:30].strip('-') or 'tune'}-{suffix}"


def _document(
    objective: Objective, name: str, namespace: str, parameters: Mapping[str, ParameterSpec], **o: Any
) -> dict[str, Any]:
    params = []
    for key, parameter in parameters.items():
        if not isinstance(parameter, ParameterSpec):
            raise TypeError(
                f"parameters[{key!r}] must come from tuner.search.double/int/categorical/discrete, got {parameter!r}"
            )
        params.append({**parameter.model_dump(mode="json", by_alias=True, exclude_none=True), "name": key})
    target = f"{getattr(objective, '__module__', '?')}.{getattr(objective, '__qualname__', repr(objective))}"
    args = [f"--{key}=${{trialParameters.{key}}}" for key in parameters]
    strategies = [{"name": k, "value": v} for k, v in (o["metric_strategies"] or {}).items()]
    objective_doc: dict[str, Any] = {
        "type": o["objective_type"],
        "objectiveMetricName": o["objective_metric_name"],
        "additionalMetricNames": list(o["additional_metric_names"]),
    }
    if o["objectives"] is not None:  # several objectives: the first one is also the primary one
        del objective_doc["type"], objective_doc["objectiveMetricName"]
        objective_doc["objectives"] = [{"metricName": k, "type": v} for k, v in o["objectives"].items()]
    if o["objective_goal"] is not None:
        objective_doc["goal"] = o["objective_goal"]
    if strategies:
        objective_doc["metricStrategies"] = strategies
    job_spec: dict[str, Any] = {
        "template": {
            "spec": {
                "containers": [
                    {
                        "name": "function",
                        "command": ["python3", "-c", f"# tuner.tune runs {target} in-process"],
                        "args": args,
                    }
                ],
                "restartPolicy": "Never",
            }
        }
    }
    if o["deadline"] is not None:
        job_spec["activeDeadlineSeconds"] = o["deadline"]
    spec: dict[str, Any] = {
        "objective": objective_doc,
        "algorithm": {
            "algorithmName": o["algorithm_name"],
            "algorithmSettings": [
                {"name": k, "value": str(v)} for k, v in (o["algorithm_settings"] or {}).items()
            ],
        },
        "parallelTrialCount": o["parallel_trial_count"],
        "maxTrialCount": o["max_trial_count"],
        "parameters": params,
        "metricsCollectorSpec": {"collector": {"kind": "Push"}},
        "trialTemplate": {
            "primaryContainerName": "function",
            "trialParameters": [{"name": key, "reference": key} for key in parameters],
            "trialSpec": {"apiVersion": "batch/v1", "kind": "Job", "spec": job_spec},
        },
    }
    if o["max_failed_trial_count"] is not None:
        spec["maxFailedTrialCount"] = o["max_failed_trial_count"]
    if o["early_stopping"]:
        spec["earlyStopping"] = {
            "algorithmName": o["early_stopping"],
            "algorithmSettings": [
                {"name": k, "value": str(v)} for k, v in (o["early_stopping_settings"] or {}).items()
            ],
        }
    return {
        "apiVersion": "tuner.dev/v1beta1",
        "kind": "Experiment",
        "metadata": {"name": name, "namespace": namespace, "annotations": {"tuner.dev/objective": target}},
        "spec": spec,
    }


def _result(db: Any, record: Any, space: Any, metric: str, *, interrupted: bool) -> TuneResult:
    from tuner.views import objective_of, trial_folder

    objective = objective_of(record)
    trials = []
    for row in db.compare_trials(record.id):
        metrics = {n: s.latest for n, s in row.metrics.items() if s.latest is not None}
        trials.append(
            TrialResult(
                row.trial.name,
                row.trial.state,
                space.parse(row.trial.assignment_values()).to_dict(),
                metrics,
                objective.value(row.metrics),
                trial_folder(row.trial),
                dict(row.trial.labels or {}),
            )
        )
    best_name = ((record.status or {}).get("currentOptimalTrial") or {}).get("bestTrialName")
    best = next((t for t in trials if t.name == best_name), None)
    on_front = {str(p.get("trialName")) for p in (record.status or {}).get("paretoFront") or []}
    front = [t for t in trials if t.name in on_front]
    reason = ""
    for condition in (record.status or {}).get("conditions") or []:
        if condition.get("type") == record.state.value:
            reason = str(condition.get("reason", ""))
    return TuneResult(
        record.name,
        record.namespace,
        record.state,
        reason,
        best,
        trials,
        interrupted,
        front,
        store=getattr(db, "url", None),
    )


class _TuneProgress:
    """What `tune` shows while it runs (on stderr): see `tune`'s `verbose`.

    Auto (None): a compact live line (trials done of the budget, best value, elapsed, ETA) and why each
    failed trial failed, in a terminal or a Jupyter notebook; nothing when stderr is not a terminal.
    True: also one line per finished trial with its value and the best so far, wherever stderr goes.
    """

    def __init__(self, verbose: bool | None, name: str, metric: str, budget: int | None) -> None:
        from rich.console import Console

        from tuner.progress import TrialLines

        self.console = Console(stderr=True)
        interactive = self.console.is_terminal or self.console.is_jupyter
        self.show = bool(verbose) or (verbose is None and interactive)
        self.every_trial = bool(verbose)
        self.live_line = self.show and interactive and _live_supported(self.console)
        self.name, self.metric = name, metric
        self.lines = TrialLines(metric, budget)
        self.runner: Any = None
        self.live: Any = None
        self._done = 0
        self._best: float | None = None

    def __enter__(self) -> _TuneProgress:
        if self.live_line:
            from rich.live import Live

            # redrawn 4 times a second from the counters `settled` keeps, so the elapsed time moves
            self.live = Live(
                console=self.console, get_renderable=self._status, refresh_per_second=4, transient=False
            )
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._count(self._view())
        if self.live is not None:
            self.live.__exit__(None, None, None)

    def _view(self) -> Any:
        reconciler = getattr(self.runner, "reconciler", None)
        return reconciler.view if reconciler is not None else None

    def _count(self, view: Any) -> None:
        if view is not None:
            self._done, best = view.count(_COMPLETED), view.best
            self._best = None if best is None else best[1]

    def settled(self, settled: Any) -> None:
        if not self.show:
            return
        view = self._view()
        lines = self.lines.line(settled, view)
        failed = settled.state not in (TrialState.SUCCEEDED, TrialState.EARLY_STOPPED, TrialState.KILLED)
        for text in lines if self.every_trial else lines if failed else []:
            self.console.print(text, soft_wrap=True)
        self._count(view)

    def _status(self) -> Any:
        from rich.text import Text

        from tuner.progress import number_text

        text = Text(f"tune {self.name}: {self._done}/{self.lines.budget or '?'} trials")
        if self._best is not None:
            text.append(f", best {self.metric}={number_text(self._best)}", style="bold")
        text.append(f"  {self.lines.timing(self._done)}", style="dim")
        return text


def _live_supported(console: Any) -> bool:
    """rich draws a live display in Jupyter through ipywidgets only (it warns without them)."""
    if not console.is_jupyter:
        return True
    import importlib.util

    return importlib.util.find_spec("ipywidgets") is not None


_COMPLETED = (
    TrialState.SUCCEEDED,
    TrialState.FAILED,
    TrialState.EARLY_STOPPED,
    TrialState.METRICS_UNAVAILABLE,
)


def _raise_if_nothing_succeeded(db: Any, record: Any, result: TuneResult) -> None:
    """`ExperimentFailedError` with the first failure, when the experiment failed with no successful trial."""
    from tuner.errors import ExperimentFailedError
    from tuner.progress import failure_lines

    if result.state != ExperimentState.FAILED or result.interrupted:
        return
    if any(t.state in (TrialState.SUCCEEDED, TrialState.EARLY_STOPPED) for t in result.trials):
        return
    message = next(
        (
            str(c.get("message", ""))
            for c in (record.status or {}).get("conditions") or []
            if c.get("type") == "Failed"
        ),
        result.reason,
    )
    failed = [t for t in db.list_trials(record.id) if t.state.counts_as_failed]
    first = min(failed, key=lambda t: t.number) if failed else None
    raise ExperimentFailedError(
        record.name,
        record.namespace,
        message,
        trial=first.name if first else None,
        first_failure=" | ".join(failure_lines(first.message)) if first else "",
        log_path=first.runtime.log_path if first is not None and first.runtime is not None else None,
        result=result,
    )


__all__ = ["TrialResult", "TuneResult", "tune"]
