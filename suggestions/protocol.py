"""The suggestion API's requests and answers, and the functions that serve them in-process.

`suggest_assignments` and `validate_settings` are what the HTTP service (`suggestions.service`) calls for
``POST /api/v1/suggest`` and ``POST /api/v1/validate``; in-process callers (the controller) may call the
same functions, or a `Suggester` directly, without any server. The JSON shapes are Katib's where Katib
has one: parameters as in `spec.parameters`, settings as `algorithmSettings` (a list of name/value; a
plain mapping is accepted too), assignments as name -> text.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from suggestions.history import History
from suggestions.registry import Registry, default_registry
from tuner.errors import Problem
from tuner.space import Assignment, SearchSpace

API_VERSION = "v1"


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")


class SettingItem(_Model):
    """One of Katib's algorithmSettings."""

    name: str
    value: str


Settings = list[SettingItem] | dict[str, str]


class SuggestBody(_Model):
    """``POST /api/v1/suggest``: everything a stateless suggestion needs."""

    algorithm: str = Field(description="algorithm name, e.g. tpe")
    settings: Settings = Field(default_factory=list, description="algorithmSettings")
    parameters: list[dict[str, Any]] = Field(description="Katib spec.parameters")
    history: dict[str, Any] = Field(
        default_factory=dict, description="direction and trials (History.to_dict)"
    )
    count: int = Field(1, ge=1, le=10_000, description="how many assignments are wanted")
    budget: int | None = Field(None, ge=1, description="the experiment's maxTrialCount, if known")


class SuggestReply(_Model):
    """The new assignments (name -> text); `exhausted` when the algorithm has nothing new, ever."""

    algorithm: str
    assignments: list[dict[str, str]]
    exhausted: bool = False
    labels: list[dict[str, str]] | None = Field(
        default=None, description="trial labels per assignment, when the algorithm sets some (pbt's lineage)"
    )


class ValidateBody(_Model):
    """``POST /api/v1/validate``: settings of an algorithm against a space and a budget."""

    algorithm: str
    settings: Settings = Field(default_factory=list)
    parameters: list[dict[str, Any]]
    max_trial_count: int | None = Field(None, alias="maxTrialCount")
    parallel_trial_count: int | None = Field(None, alias="parallelTrialCount")


class ProblemItem(_Model):
    """One problem: a field path and what is wrong."""

    path: str
    message: str


class ValidateReply(_Model):
    """Every problem found; valid when there is none."""

    valid: bool
    problems: list[ProblemItem]


def settings_map(settings: Settings) -> dict[str, str]:
    """Katib's list of name/value (or a mapping) as a mapping; the last of repeated names wins."""
    if isinstance(settings, dict):
        return dict(settings)
    return {item.name: item.value for item in settings}


def suggest_assignments(body: SuggestBody, registry: Registry | None = None) -> list[Assignment]:
    """Serve one suggest request.

    Raises:
        SpecError: parameters or history that cannot be read (paths ``parameters[...]``, ``history...``).
        UnknownAlgorithmError, SuggestionError, SearchExhaustedError: as `Suggester.suggest`.
    """
    suggester = (registry or default_registry()).get(body.algorithm)
    space = SearchSpace.from_dict(body.parameters)
    settings = settings_map(body.settings)
    history = History.from_dict(body.history, suggester.space_for(settings, space))
    return suggester.suggest(space, settings, history, body.count, budget=body.budget)


def validate_settings(body: ValidateBody, registry: Registry | None = None) -> list[Problem]:
    """Serve one validate request (paths relative to the experiment's spec, as `Suggester.validate`)."""
    suggester = (registry or default_registry()).get(body.algorithm)
    space = SearchSpace.from_dict(body.parameters)
    return suggester.validate(
        settings_map(body.settings),
        space,
        max_trial_count=body.max_trial_count,
        parallel_trial_count=body.parallel_trial_count,
    )
