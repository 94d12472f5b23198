"""The `Suggester` contract: how a suggestion algorithm proposes parameter assignments.

Who calls it: the experiment controller (in-process) and the HTTP suggestion service, both through
`Suggester.suggest`; the spec validation hook through `Suggester.validate`. What it does not do: fetch
anything. A suggester is handed the whole history on every call and keeps nothing between calls that
changes its answers (caches keyed by a digest of the inputs are fine), so any replica can answer and a
restart loses nothing.
"""

from __future__ import annotations

import abc
import hashlib
import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from suggestions._threads import one_thread
from suggestions.history import History
from suggestions.settings import InvalidSettingsError, SettingsSchema, random_state_setting
from tuner.errors import Problem, SearchExhaustedError, SuggestionError, TunerError
from tuner.space import Assignment, SearchSpace

logger = logging.getLogger(__name__)

# Up to this many grid points, new points are drawn from the enumerated rest of the grid; beyond it, by
# rejection from the prior (a used-up huge grid is not a realistic state).
_ENUMERATE_LIMIT = 100_000


@dataclass(frozen=True)
class SuggestRequest:
    """Everything one `Suggester.propose` call may use. Read-only; built by `Suggester.suggest`.

    Attributes:
        space: the search space.
        settings: the algorithm's settings, parsed and with defaults filled in.
        history: every trial so far, in creation order.
        k: how many assignments are wanted (at least 1).
        budget: the experiment's maxTrialCount, when known (algorithms may plan with it).
        seed: the seed for this call. With `random_state` set it is derived from it and the history,
            so equal inputs give equal answers; without, it is fresh randomness.
        random_state: the raw `random_state` setting (e.g. for a quasi-random sequence that must stay
            the same across calls), None when unset.
    """

    space: SearchSpace
    settings: Mapping[str, Any]
    history: History
    k: int
    budget: int | None
    seed: int
    random_state: int | None
    taken: frozenset[Assignment] = field(default_factory=frozenset)

    @cached_property
    def rng(self) -> np.random.Generator:
        """A generator seeded with `seed`."""
        return np.random.default_rng(self.seed)

    def is_new(self, assignment: Assignment) -> bool:
        """True if no trial of the history has this assignment."""
        return assignment not in self.taken


# -- labelled proposals (pbt) -------------------------------------------------------------------------------
class LabelledAssignment(Assignment):
    """An assignment with trial labels the algorithm wants on the trial (Katib's `suggestions[].labels`).

    Equal to (and hashed as) the plain assignment; the controller stores `labels` on the trial it creates
    and the history hands them back on later calls (`TrialRecord.labels`), which is how a stateless
    algorithm such as pbt keeps its lineage.
    """

    __slots__ = ("labels",)

    def __init__(self, values: Mapping[str, Any], labels: Mapping[str, str]) -> None:
        super().__init__(values)
        self.labels: dict[str, str] = dict(labels)


def labels_of(assignment: Assignment) -> dict[str, str]:
    """The trial labels a proposal carries (none for a plain `Assignment`)."""
    return dict(getattr(assignment, "labels", None) or {})


# -- end labelled proposals ------------------------------------------------------------------------------


class Suggester(abc.ABC):
    """Base class of suggestion algorithms.

    A suggester takes part in an experiment's life at two points:

    1. When the experiment is submitted, `validate` checks the algorithm's settings against the search
       space (and the trial budget) and returns every problem found; nothing runs if there is one.
    2. Whenever trials may start, the controller calls `suggest` with the space, the settings, the whole
       history and the number `k` of parallel slots free. It returns up to `k` new assignments.

    Subclasses implement `propose` and declare their settings in `settings_schema` (Katib's names and
    defaults); `check` is an optional hook for algorithm-specific rules (e.g. grid needs a step on every
    double). `suggest` wraps `propose` with what every algorithm must guarantee: settings parsed, a
    reproducible seed, assignments inside the space, no assignment already in the history (pending and
    running trials included) or twice in one answer, and `SearchExhaustedError` when a finite space is
    used up.

    Instances hold no per-experiment state, so one instance serves every experiment and may be called
    from several threads at once.
    """

    name: ClassVar[str] = ""
    """The algorithm's name as written in `spec.algorithm.algorithmName`."""

    settings_schema: ClassVar[SettingsSchema] = SettingsSchema(random_state_setting())
    """The settings the algorithm accepts, with Katib's names and defaults."""

    repeats_assignments: ClassVar[bool] = False
    """True when proposals may repeat an assignment of the history or of the same answer (pbt: a member
    continues with its parameters from a newer checkpoint); `suggest` then keeps them, and never reports a
    finite space used up (the experiment's maxTrialCount ends such an algorithm)."""
    multi_objective: ClassVar[bool] = False
    """Whether the algorithm handles several objectives (`History.directions`); others refuse them."""

    def validate(
        self,
        settings: Mapping[str, str],
        space: SearchSpace,
        *,
        max_trial_count: int | None = None,
        parallel_trial_count: int | None = None,
    ) -> list[Problem]:
        """Every problem with these settings for this space and budget.

        Args:
            settings: Katib's algorithmSettings as name -> text.
            space: the experiment's search space.
            max_trial_count: the experiment's maxTrialCount, when set.
            parallel_trial_count: the experiment's parallelTrialCount.

        Returns:
            Problems with paths ``algorithmSettings.<name>`` for a setting, ``parameters[<i>]...`` for a
            parameter, or ``maxTrialCount`` / ``parallelTrialCount``; empty when all is well.
        """
        problems = self.settings_schema.problems(settings)
        if problems:
            return problems
        parsed = self.settings_schema.parse(settings)
        return self.check(
            parsed, space, max_trial_count=max_trial_count, parallel_trial_count=parallel_trial_count
        )

    def check(
        self,
        settings: Mapping[str, Any],
        space: SearchSpace,
        *,
        max_trial_count: int | None = None,
        parallel_trial_count: int | None = None,
    ) -> list[Problem]:
        """Hook: algorithm-specific problems, given parsed settings. The default finds none."""
        return []

    def proposal_space(self, settings: Mapping[str, Any], space: SearchSpace) -> SearchSpace:
        """Hook: the space this algorithm's proposals lie in, given parsed settings; the experiment's space
        unless the algorithm sets a parameter itself (hyperband's resource takes its schedule's values,
        whatever the parameter's range, as in Katib)."""
        return space

    def space_for(self, settings: Mapping[str, str], space: SearchSpace) -> SearchSpace:
        """`proposal_space` for Katib's settings as text; the space itself when the settings are invalid.

        Callers that check a history against the space (the HTTP service) use this space for it.
        """
        try:
            parsed = self.settings_schema.parse(settings)
        except InvalidSettingsError:
            return space
        if self.check(parsed, space):
            return space
        return self.proposal_space(parsed, space)

    def suggest(
        self,
        space: SearchSpace,
        settings: Mapping[str, str],
        history: History,
        k: int,
        *,
        budget: int | None = None,
    ) -> list[Assignment]:
        """Propose up to `k` new assignments.

        Args:
            space: the search space.
            settings: Katib's algorithmSettings as name -> text.
            history: every trial of the experiment so far. Not modified.
            k: how many assignments are wanted; at least 1.
            budget: the experiment's maxTrialCount, when known.

        Returns:
            Between 1 and `k` assignments inside `space`, none equal to a trial of `history` or to each
            other. Fewer than `k` when fewer new points exist, or, for algorithms that work in rounds
            (hyperband), none at all while the round's trials still run: ask again when one finishes.

        Raises:
            SearchExhaustedError: nothing new can ever be offered (e.g. every grid point was proposed);
                the controller ends the experiment Succeeded with reason ExperimentSuggestionEndReached.
            InvalidSettingsError: the settings are invalid for this space (a SuggestionError).
            SuggestionError: the algorithm failed.
        """
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        if history.is_multi_objective and not self.multi_objective:  # multi-objective: tuner's extension
            raise SuggestionError(
                f"{self.name} optimises one objective; for {len(history.directions)} objectives use "
                "nsga2, nsga3, motpe, auto, random, sobol or grid"
            )
        try:
            parsed = self.settings_schema.parse(settings)
        except InvalidSettingsError as exc:
            raise InvalidSettingsError(self.name, exc.problems) from None
        problems = self.check(parsed, space)
        if problems:
            raise InvalidSettingsError(self.name, problems)
        space = self.proposal_space(parsed, space)
        taken = frozenset(history.assignments())
        if not self.repeats_assignments and _used_up(space, taken):
            raise SearchExhaustedError(
                f"{self.name}: all {space.size} points of the search space were proposed"
            )
        random_state = parsed.get("random_state")
        request = SuggestRequest(
            space,
            parsed,
            history,
            k,
            budget,
            _call_seed(self.name, random_state, history),
            random_state,
            taken,
        )
        try:
            with one_thread():
                proposed = self.propose(request)
        except TunerError:
            raise
        except Exception as exc:  # a library failure becomes one readable error for the caller
            logger.exception("suggestion algorithm %s failed", self.name)
            raise SuggestionError(f"{self.name} failed: {type(exc).__name__}: {exc}") from exc
        return self._screen(proposed[:k], request)

    @abc.abstractmethod
    def propose(self, request: SuggestRequest) -> list[Assignment]:
        """Return up to `request.k` assignments inside the space.

        Called by `suggest` only, with parsed settings. Points equal to a history trial or repeated in
        the answer are replaced by `suggest` with fresh random points, so an algorithm need not filter
        them, but it should avoid them (parallel suggestions should differ in a useful way). Raise
        SearchExhaustedError when nothing new will ever come.
        """

    def _screen(self, proposed: Sequence[Assignment], request: SuggestRequest) -> list[Assignment]:
        seen = set(request.taken)
        out: list[Assignment] = []
        repeats = 0
        for a in proposed:
            a = a if isinstance(a, Assignment) else Assignment(a)
            why = request.space.why_not(a)
            if why is not None:
                raise SuggestionError(f"{self.name} proposed a point outside the search space: {why}")
            if a in seen and not self.repeats_assignments:
                repeats += 1
                continue
            seen.add(a)
            out.append(a)
        if repeats:
            logger.debug("%s repeated %d known point(s); replacing them with random ones", self.name, repeats)
            out += fresh_points(request.space, seen, repeats, request.rng)
        if not out and proposed:
            raise SearchExhaustedError(f"{self.name}: no new point of the search space is left")
        return out


def fresh_points(
    space: SearchSpace, taken: set[Assignment], n: int, rng: np.random.Generator
) -> list[Assignment]:
    """Up to `n` points of `space` drawn from the prior that are not in `taken` (added to it).

    Draws by rejection first; when a finite space is nearly used up, picks uniformly among the points
    still free instead.
    """
    out: list[Assignment] = []
    for _ in range(20 * n):
        a = space.sample(rng)
        if a not in taken:
            taken.add(a)
            out.append(a)
            if len(out) == n:
                return out
    size = space.size
    if size is not None and size <= _ENUMERATE_LIMIT:
        used = {space.index_of(a) for a in taken}
        free = np.setdiff1d(np.arange(size), np.array([i for i in used if i is not None], dtype=int))
        for i in rng.permutation(free)[: n - len(out)]:
            a = space.point_at(int(i))
            taken.add(a)
            out.append(a)
    return out


def _used_up(space: SearchSpace, taken: frozenset[Assignment]) -> bool:
    size = space.size
    if size is None or len(taken) < size:
        return False
    return sum(1 for a in taken if space.contains(a)) >= size


def _call_seed(name: str, random_state: int | None, history: History) -> int:
    if random_state is None:
        return secrets.randbits(63)
    text = f"{name}:{random_state}:{history.digest()}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1
