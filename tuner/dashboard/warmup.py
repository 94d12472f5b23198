"""Work started when the experiment page is served, so that it overlaps the browser's parsing of plotly
(1-3 s) instead of delaying the first figure: importing plotly, optuna's importance and the figure modules
(seconds, once per process) and loading the experiment into the cache (seconds for 10,000 trials)."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone

from tuner.dashboard.cache import ExperimentCache
from tuner.store import Store
from tuner.store.records import Experiment
from tuner.visualization import FIGURE_KINDS, ExperimentData, MetricInfo, ParameterInfo, TrialData, figure

logger = logging.getLogger(__name__)
_imported = threading.Event()
_importing = threading.Lock()


def _tiny() -> ExperimentData:
    """A synthetic 24-trial experiment that every figure can draw."""
    when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    trials = tuple(
        TrialData(
            number=n,
            name=f"t{n}",
            state="Succeeded",
            params={"a": n / 24, "b": ["x", "y"][n % 2]},
            metrics={"m": (n % 7) / 7, "n": (n % 5) / 5},
            points={"m": 0, "n": 0},
            start=when,
            end=when,
        )
        for n in range(24)
    )
    metrics = (MetricInfo("m", "minimize", "min"), MetricInfo("n", "minimize", "min"))
    parameters = (
        ParameterInfo("a", "double", 0.0, 1.0),
        ParameterInfo("b", "categorical", choices=("x", "y")),
    )
    return ExperimentData("warm-up", "default", "Succeeded", metrics[0], metrics, parameters, trials)


def figures_imported() -> bool:
    """Whether figures can be drawn at once (the lazy imports are done): a page never waits for them."""
    return _imported.is_set()


def import_figures() -> None:
    """Draw every kind once on a tiny experiment, in one thread at a time: the modules plotly and optuna
    import lazily are not safe to import from several threads at once (pandas half-imported), so every
    figure request waits here until this is done once."""
    if _imported.is_set():
        return
    with _importing:
        if _imported.is_set():
            return
        data = _tiny()
        for kind in FIGURE_KINDS:
            options = {"evaluator": "ped-anova"} if kind == "importance" else {}
            try:
                figure(kind, data, **options)
            except Exception:  # a warm-up only: the real request reports its own errors
                logger.debug("warm-up of figure %s failed", kind, exc_info=True)
        _imported.set()


def warm_up(cache: ExperimentCache, store: Store, record: Experiment) -> None:
    """In a background thread: the figure imports (once) and this experiment's data into the cache."""

    def work() -> None:
        try:
            cache.get(store, record)
        except Exception:
            logger.debug("warm-up load of %s/%s failed", record.namespace, record.name, exc_info=True)
        import_figures()

    threading.Thread(target=work, name="dashboard-warm-up", daemon=True).start()
