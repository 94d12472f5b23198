"""Algorithm names -> suggesters, for the users who name an algorithm in a file (YAML, CRD, REST).

Python callers may pass a `Suggester` instance directly; the registry is for names. The built-in
algorithms carry Katib's names and are imported only when first used (so that importing `suggestions`
does not import optuna, scikit-optimize or hyperopt). Outside packages add algorithms through the
entry-point group ``tuner.suggestions``: each entry point names a factory (a `Suggester` subclass or a
function returning an instance) under the algorithm's name. A plugin that fails to import is reported
on its own (`Registry.plugin_errors`) and does not stop the others.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from functools import lru_cache
from importlib.metadata import entry_points

from suggestions.base import Suggester
from tuner.errors import SuggestionError
from tuner.spec.suggest import closest

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "tuner.suggestions"

Factory = Callable[[], Suggester]

# name -> "module:attribute" of the built-in algorithms (Katib's names, plus `auto`).
BUILTINS: dict[str, str] = {
    "random": "suggestions.random:RandomSuggester",
    "grid": "suggestions.grid:GridSuggester",
    "sobol": "suggestions.sobol:SobolSuggester",
    "bayesianoptimization": "suggestions.bayesianoptimization:BayesianOptimizationSuggester",
    "tpe": "suggestions.tpe:TpeSuggester",
    "multivariate-tpe": "suggestions.tpe:MultivariateTpeSuggester",
    "cmaes": "suggestions.cmaes:CmaEsSuggester",
    "hyperband": "suggestions.hyperband:HyperbandSuggester",
    "auto": "suggestions.auto:AutoSuggester",
    "pbt": "suggestions.pbt:PbtSuggester",
    # several objectives (tuner's extension): suggestions/multiobjective.py
    "nsga2": "suggestions.multiobjective:Nsga2Suggester",
    "nsga3": "suggestions.multiobjective:Nsga3Suggester",
    "motpe": "suggestions.multiobjective:MotpeSuggester",
}


NOT_AVAILABLE: dict[str, str] = {
    "darts": "Katib's neural architecture search algorithm (DARTS)",
    "enas": "Katib's neural architecture search algorithm (ENAS)",
}
"""Katib algorithms tuner does not run, by name: naming one says so instead of "unknown algorithm"."""

_WHAT_TO_DO = {
    "darts": "neural architecture search needs spec.nasConfig, Katib's NAS suggestion service and its "
    "training images: run this experiment with Katib on Kubernetes, or describe the architecture choices "
    "as spec.parameters and tune them here with another algorithm (e.g. tpe)",
}
_WHAT_TO_DO["enas"] = _WHAT_TO_DO["darts"]


class UnknownAlgorithmError(SuggestionError):
    """No algorithm is registered under the name; `closest` is the best guess, if any."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.closest = closest(name, known)
        hint = f"; did you mean {self.closest!r}?" if self.closest else ""
        super().__init__(f"unknown algorithm {name!r}{hint} (known: {', '.join(known)})")


class UnavailableAlgorithmError(UnknownAlgorithmError):
    """A Katib algorithm that tuner does not run (NAS): the message says why and what to do."""

    def __init__(self, name: str) -> None:
        self.closest = None
        SuggestionError.__init__(
            self, f"{name!r} is {NOT_AVAILABLE[name]}, which tuner does not run; {_WHAT_TO_DO[name]}"
        )


def _import(target: str) -> Factory:
    module, _, attribute = target.partition(":")
    factory: Factory = getattr(importlib.import_module(module), attribute)
    return factory


class Registry:
    """Maps algorithm names to factories; builds each suggester once and keeps it."""

    def __init__(self) -> None:
        self._factories: dict[str, Factory | str] = {}
        self._instances: dict[str, Suggester] = {}
        self._lock = threading.Lock()
        self.plugin_errors: dict[str, str] = {}
        """Entry points that failed to load: name -> the error, for `tuner suggestion-server` to show."""

    def register(self, name: str, factory: Factory | str, *, replace: bool = False) -> None:
        """Add an algorithm. `factory` is a callable returning a Suggester, or ``"module:attribute"``.

        Raises:
            ValueError: the name is taken and `replace` is False.
        """
        if name in self._factories and not replace:
            raise ValueError(f"an algorithm named {name!r} is registered already")
        with self._lock:
            self._factories[name] = factory
            self._instances.pop(name, None)

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._factories)

    def __contains__(self, name: object) -> bool:
        return name in self._factories

    def get(self, name: str) -> Suggester:
        """The suggester registered as `name`.

        Raises:
            UnavailableAlgorithmError: a Katib algorithm tuner does not run (darts, enas), unless a
                plugin registered it.
            UnknownAlgorithmError: no such name (the message suggests the closest one).
            SuggestionError: the algorithm's module failed to import (e.g. a missing optional library).
        """
        if name not in self._factories:
            if name in NOT_AVAILABLE:
                raise UnavailableAlgorithmError(name)
            raise UnknownAlgorithmError(name, self.names())
        with self._lock:
            if name not in self._instances:
                self._instances[name] = self._build(name)
            return self._instances[name]

    def _build(self, name: str) -> Suggester:
        factory = self._factories[name]
        try:
            if isinstance(factory, str):
                factory = _import(factory)
            suggester = factory()
        except Exception as exc:
            raise SuggestionError(
                f"algorithm {name!r} could not be loaded: {type(exc).__name__}: {exc}"
            ) from exc
        if not isinstance(suggester, Suggester):
            raise SuggestionError(
                f"algorithm {name!r}: its factory returned {type(suggester).__name__}, not a Suggester"
            )
        return suggester

    def load_entry_points(self, group: str = ENTRY_POINT_GROUP) -> None:
        """Register every entry point of `group`; record (and log) each one that fails, then go on."""
        for ep in entry_points(group=group):
            try:
                factory = ep.load()
                self.register(ep.name, factory, replace=ep.name not in BUILTINS)
            except Exception as exc:  # one broken plugin must not stop the service
                self.plugin_errors[ep.name] = f"{type(exc).__name__}: {exc}"
                logger.warning("suggestion plugin %r (%s) failed to load: %s", ep.name, ep.value, exc)


def builtin_registry() -> Registry:
    """A new registry with the built-in algorithms only (tests use their own)."""
    registry = Registry()
    for name, target in BUILTINS.items():
        registry.register(name, target)
    return registry


@lru_cache(maxsize=1)
def default_registry() -> Registry:
    """The process-wide registry: built-ins plus the ``tuner.suggestions`` entry points."""
    registry = builtin_registry()
    registry.load_entry_points()
    return registry


def get_suggester(name: str) -> Suggester:
    """The suggester for an algorithm name, from the default registry."""
    return default_registry().get(name)
