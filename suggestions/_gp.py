"""optuna's GPSampler for the stateless driver: told its search space, and fitted to convergence.

Imported only when torch is installed (the `gp` extra).

optuna's GPSampler fits the kernel's hyperparameters with a loose tolerance, starting from the previous
call's values: over a run, the fit creeps towards the likelihood's optimum. A stateless service starts
every call cold, from the defaults, where that loose fit stops far from the optimum (measured:
Hartmann-6 stalls in a local basin). So before sampling, the hyperparameters are fitted from the
defaults with a tight tolerance and handed to the sampler as its warm start. This reaches into optuna's
private GP modules (pinned behaviour of optuna 4.x-5.x); if they change, the sampler falls back to its
own cold fit and logs a warning.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution
from optuna.samplers import GPSampler
from optuna.study import Study
from optuna.trial import FrozenTrial, TrialState

logger = logging.getLogger(__name__)


class FixedSpaceGp(GPSampler):
    """GPSampler with a known search space and an optional converged kernel fit."""

    def __init__(
        self, space: dict[str, BaseDistribution], *, fit_gtol: float | None = None, **kwargs: Any
    ) -> None:
        kwargs.setdefault("n_startup_trials", 0)
        kwargs.setdefault("warn_independent_sampling", False)
        super().__init__(**kwargs)
        self._fixed_space = {name: d for name, d in space.items() if not d.single()}
        self._fit_gtol = fit_gtol

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        return dict(self._fixed_space)

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        if self._fit_gtol is not None and search_space and self._gprs_cache_list is None:
            self._prefit(study, search_space)
        return super().sample_relative(study, trial, search_space)

    def _prefit(self, study: Study, search_space: dict[str, BaseDistribution]) -> None:
        assert self._fit_gtol is not None
        try:
            from optuna._gp import gp as gp_module
            from optuna._gp import search_space as gp_search_space

            completed = study._get_trials(deepcopy=False, states=(TrialState.COMPLETE,), use_cache=False)
            if len(completed) < 2:
                return
            internal = gp_search_space.SearchSpace(search_space)
            x = internal.get_normalized_params(completed)
            y = -np.array([t.value for t in completed], dtype=float)  # losses, maximised internally
            y = (y - y.mean()) / max(float(y.std()), 1e-10)
            self._gprs_cache_list = [
                gp_module.fit_kernel_params(
                    X=x,
                    Y=y,
                    is_categorical=internal.is_categorical,
                    log_prior=self._log_prior,
                    minimum_noise=self._minimum_noise,
                    deterministic_objective=self._deterministic,
                    gtol=self._fit_gtol,
                )
            ]
        except Exception as exc:  # optuna internals moved: keep the sampler's own fit
            logger.warning(
                "GP warm start unavailable (%s: %s); using optuna's own fit", type(exc).__name__, exc
            )
