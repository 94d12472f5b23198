"""`pbt`: population based training (Jaderberg et al. 2017) with Katib's algorithm name and settings.

A population of `n_population` members trains in generations. Each trial is one member training for one
generation: it resumes from its parent's checkpoint, trains a while, saves its own checkpoint and reports
the objective. When every member of a generation has a value, the next generation is planned:

- exploit: the worst `truncation_threshold` fraction is replaced; each of those members takes the
  checkpoint (parent) and the parameters of a member drawn from the best `truncation_threshold` fraction,
- explore: those copied parameters are then perturbed (numbers times 0.8 or 1.2, lists one step to a
  neighbour, as Katib's service does) or, with `resample_probability` set, each parameter is drawn anew from
  its prior with that probability,
- every other member continues from its own checkpoint with its own parameters.

Settings (Katib's names): `n_population` (10 here; Katib requires it, at least 5), `truncation_threshold`
(0.2 here; Katib requires it, in [0, 1]; here in (0, 0.5] and large enough to replace at least one
member), `resample_probability` (unset: perturb), `suggestion_trial_dir` (Katib requires it: the path where
a trial finds its checkpoint folder; optional here, and locally every occurrence of it in a trial's command,
arguments and environment is replaced by the trial's own checkpoint folder), `random_state`, and tuner's
own `checkpoint_volume` (on Kubernetes: the ReadWriteMany PersistentVolumeClaim whose `<experiment>/<trial>`
folder is mounted at `suggestion_trial_dir`, see controllers.kubernetes.checkpoints).

Lineage travels as Katib's trial labels (`GENERATION_LABEL`, `PARENT_LABEL`): each proposal is a
`LabelledAssignment` carrying them, the controller stores them on the trial, and the history hands them back
on the next call. Nothing else is kept: a generation's plan is recomputed from the history on every call,
seeded by `random_state` and the previous generation's parameters and values, so any replica (the HTTP service)
gives the same answer. Trials fill the plan's slots by (parent, assignment); a failed or killed trial frees
its slot, which is proposed again (Katib re-queues failed members the same way). Trials without the labels
(another algorithm's, or a hand-made history) are not members and are ignored.

Unlike Katib's service (whose exploiting members keep their own checkpoint and take only the parameters) a
replaced member here copies the better member's checkpoint too, as in the paper; and generations are
synchronous: the next one starts once the current one has `n_population` values (`propose` answers nothing
while the last members run). Assignments repeat the history on purpose (a member that continues keeps its
parameters), so this suggester sets `repeats_assignments` and never reports a finite space exhausted: the
experiment's maxTrialCount ends it. A maxTrialCount below 2 * n_population is accepted, as Katib accepts
it (its own example runs 20 trials with a population of 40), but then no member is ever replaced: the run
is a random search.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from suggestions.base import LabelledAssignment, Suggester, SuggestRequest
from suggestions.history import History, TrialRecord
from suggestions.settings import Setting, SettingsSchema, integer, number, random_state_setting
from tuner.errors import Problem
from tuner.space import Assignment, ListParameter, NumericRange, SearchSpace, Value

GENERATION_LABEL = "pbt.suggestion.katib.kubeflow.org/generation"
"""Katib's trial label holding the member's generation (0, 1, ...)."""

PARENT_LABEL = "pbt.suggestion.katib.kubeflow.org/parent"
"""Katib's trial label naming the trial whose checkpoint this one starts from (absent in generation 0)."""

_PERTURB_FACTORS = (0.8, 1.2)


def _absolute_path(value: str) -> str:
    if not value.startswith("/"):
        raise ValueError("must be an absolute path (the folder where a trial finds its checkpoint)")
    return value


def _claim_name(value: str) -> str:
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?", value):
        raise ValueError("must be the name of a PersistentVolumeClaim (lower-case letters, digits, '-', '.')")
    return value


@dataclass(frozen=True)
class Slot:
    """One member of a planned generation: the trial its checkpoint comes from, and its parameters."""

    parent: str | None
    assignment: Assignment


class PbtSuggester(Suggester):
    """Population based training, planned from the history's labels on every call (module docstring)."""

    name = "pbt"
    repeats_assignments = True
    settings_schema = SettingsSchema(
        Setting("n_population", integer(5), 10, "members per generation (Katib: at least 5)"),
        Setting(
            "truncation_threshold",
            number(0, 0.5, low_open=True),
            0.2,
            "fraction of a generation replaced by copies of the best members",
        ),
        Setting(
            "resample_probability",
            number(0, 1),
            None,
            "unset: perturb each parameter; else redraw each parameter with this probability",
        ),
        Setting(
            "suggestion_trial_dir",
            _absolute_path,
            None,
            "where trials find their checkpoint folder (Katib's mount path)",
        ),
        Setting(
            "checkpoint_volume",
            _claim_name,
            None,
            "tuner's addition, on Kubernetes: the ReadWriteMany PersistentVolumeClaim holding the checkpoints",
        ),
        random_state_setting(),
    )

    def check(
        self,
        settings: Mapping[str, Any],
        space: SearchSpace,
        *,
        max_trial_count: int | None = None,
        parallel_trial_count: int | None = None,
    ) -> list[Problem]:
        n, threshold = settings["n_population"], settings["truncation_threshold"]
        if _cut(n, threshold) < 1:
            smallest = math.ceil(1 / n * 100) / 100
            return [
                Problem(
                    "algorithmSettings.truncation_threshold",
                    f"{threshold:g} replaces no member of a population of {n} (int({n} * {threshold:g}) is 0); "
                    f"use at least {smallest:g} or a larger n_population",
                )
            ]
        return []

    def propose(self, request: SuggestRequest) -> list[Assignment]:
        n = request.settings["n_population"]
        generations = _generations(request.history)
        g = max(generations, default=0)
        members = generations.get(g, [])
        if len(_observed(members)) >= n:
            g, members = g + 1, []  # the current generation is complete: plan the next one
        alive = [t for t in members if t.pending or t.observed]
        free = n - len(alive)
        if free <= 0:
            return []  # the generation's last members still run
        if g == 0:
            slots = [Slot(None, request.space.sample(request.rng)) for _ in range(free)]
        else:
            slots = _unfilled(self.plan(request, generations[g - 1], g), alive)[:free]
        return [_labelled(slot, g) for slot in slots[: request.k]]

    def plan(self, request: SuggestRequest, previous: Sequence[TrialRecord], g: int) -> list[Slot]:
        """Generation `g`'s members, from generation g - 1's first n_population values (deterministic)."""
        settings, history = request.settings, request.history
        n = settings["n_population"]
        population = _observed(previous)[:n]
        rng = np.random.default_rng(_plan_seed(request.random_state, g, population))
        ranked = sorted(population, key=history.loss)
        cut = _cut(n, settings["truncation_threshold"])
        top, bottom = ranked[:cut], {t.name for t in ranked[-cut:]}
        slots = []
        for member in population:  # in creation order, so slots keep the members' order
            if member.name not in bottom:
                slots.append(Slot(member.name, member.assignment))
                continue
            source = top[int(rng.integers(len(top)))]
            explored = _explore(request.space, source.assignment, settings["resample_probability"], rng)
            slots.append(Slot(source.name, explored))
        return slots


def _cut(n: int, threshold: float) -> int:
    return int(n * threshold + 1e-9)


def _generation(t: TrialRecord) -> int | None:
    raw = t.labels.get(GENERATION_LABEL)
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def _generations(history: History) -> dict[int, list[TrialRecord]]:
    out: dict[int, list[TrialRecord]] = {}
    for t in history.trials:
        g = _generation(t)
        if g is not None and g >= 0:
            out.setdefault(g, []).append(t)
    return out


def _observed(trials: Sequence[TrialRecord]) -> list[TrialRecord]:
    return [t for t in trials if t.observed]


def _unfilled(slots: list[Slot], alive: Sequence[TrialRecord]) -> list[Slot]:
    """The slots no running or finished trial fills yet (a failed trial's slot is free again)."""
    left = list(slots)
    for t in alive:
        parent = t.labels.get(PARENT_LABEL)
        for i, slot in enumerate(left):
            if slot.parent == parent and slot.assignment == t.assignment:
                del left[i]
                break
    return left


def _labelled(slot: Slot, g: int) -> LabelledAssignment:
    labels = {GENERATION_LABEL: str(g)}
    if slot.parent is not None:
        labels[PARENT_LABEL] = slot.parent
    return LabelledAssignment(slot.assignment, labels)


def _plan_seed(random_state: int | None, g: int, population: Sequence[TrialRecord]) -> int:
    # parameters and values, not trial names (random per run): equal runs with random_state plan alike
    text = repr((random_state, g, [(sorted(t.assignment.rendered().items()), t.value) for t in population]))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1


def _explore(
    space: SearchSpace, assignment: Assignment, resample: float | None, rng: np.random.Generator
) -> Assignment:
    """Perturb every parameter (resample None) or redraw each with probability `resample`."""
    values: dict[str, Value] = {}
    for p in space:
        value = assignment[p.name]
        if resample is not None:
            values[p.name] = p.sample(rng) if rng.random() < resample else value
        else:
            values[p.name] = _perturb(p, value, rng)
    return Assignment(values)


def _perturb(p: Any, value: Value, rng: np.random.Generator) -> Value:
    """Katib's perturbation: a number times 0.8 or 1.2 (kept inside the range, on its grid), a list value
    one step to either side (wrapping, as Katib's service does). A number that would not move (0, or an int
    too small for 20 %) moves by one grid step or 5 % of its range instead."""
    up = bool(rng.integers(2))
    if isinstance(p, ListParameter):
        i = p.index_of(value) + (1 if up else -1)
        return p.value_at(i % p.cardinality)
    if isinstance(p, NumericRange) and isinstance(value, (int, float)):
        moved = p.nearest(float(value) * _PERTURB_FACTORS[up])
        if moved == value:
            nudge = p.step or (1 if p.cardinality is not None else 0.05 * (p.high - p.low))
            moved = p.nearest(float(value) + (nudge if up else -nudge))
        return moved if p.contains(moved) else value
    return value
