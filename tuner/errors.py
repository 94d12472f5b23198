"""Errors raised by tuner, one root and a few subclasses named for what the caller does next.

    TunerError                      root: catch this to catch everything tuner raises on purpose
    ├── SpecError                   an experiment (or pipeline) spec is invalid; carries every Problem found
    ├── ConfigError                 a setting (flag, TUNER_* variable) has a bad value
    ├── StoreError                  the metadata store refused an operation
    │   ├── NotFoundError           the named record does not exist
    │   ├── AlreadyExistsError      a record with that identity exists already (unique constraint)
    │   ├── InvalidTransitionError  a state change the state machine forbids (e.g. Succeeded -> Running)
    │   ├── LeaseHeldError          another process holds the lease (e.g. is running the experiment)
    │   ├── StoreValueError         a value handed to the store is out of range (also a ValueError)
    │   └── StoreUnavailableError   the store cannot be used now: server down, disk full or read-only
    ├── SuggestionError             the suggestion algorithm refused settings or failed
    │   └── SearchExhaustedError    the algorithm can offer nothing new (e.g. a used-up grid)
    └── LaunchError                 a trial or task could not be started here (says what to do instead)

Messages state the field or record, the value received and what is expected, so that a CLI can print
`str(error)` as one readable line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class TunerError(Exception):
    """Root of every error tuner raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where (a dotted field path), and what.

    `path` uses Katib's field names with list indices, e.g. ``spec.parameters[1].feasibleSpace``.
    """

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class SpecError(TunerError):
    """An input document is invalid. `problems` lists every problem found, not only the first."""

    def __init__(self, problems: Iterable[Problem], source: str | None = None) -> None:
        self.problems: list[Problem] = list(problems)
        self.source = source
        super().__init__(self._render())

    def _render(self) -> str:
        head = f"{self.source}: " if self.source else ""
        if len(self.problems) == 1:
            return f"{head}{self.problems[0]}"
        lines = [f"{head}{len(self.problems)} problems:"]
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines)


class ConfigError(TunerError):
    """A setting has a value tuner cannot use; the message names the setting and the fix."""


class StoreError(TunerError):
    """The metadata store refused an operation."""


class NotFoundError(StoreError, KeyError):
    """The named record does not exist."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class AlreadyExistsError(StoreError):
    """A record with that identity already exists."""


class InvalidTransitionError(StoreError):
    """A state change that the state machine forbids."""


class LeaseHeldError(StoreError):
    """Another process holds the lease on this record."""


class StoreValueError(StoreError, ValueError):
    """A value handed to the store is malformed or out of range (an empty name, percents not adding to 100)."""


class StoreUnavailableError(StoreError):
    """The store is named right but cannot be reached, read or written now (a server that is down, a full
    or read-only disk); the message says where and what to fix before running again."""


class SuggestionError(TunerError):
    """The suggestion algorithm refused its settings or failed to propose."""


class SearchExhaustedError(SuggestionError):
    """The algorithm has nothing new to offer (for example, every grid point was proposed)."""


class LaunchError(TunerError):
    """A trial or task cannot be launched here; the message says what to do instead."""


class ExperimentFailedError(TunerError):
    """`tuner.tune`: the experiment ended Failed without a single successful trial, so there is no result.

    Attributes:
        experiment, namespace: the experiment, as `tuner experiments show` names it.
        trial: the first trial that failed; `first_failure` why (its exception or its last output, short);
        `log_path` its stdout and stderr. `result` is the `TuneResult`, with every trial.
    """

    def __init__(
        self,
        experiment: str,
        namespace: str,
        reason: str,
        *,
        trial: str | None = None,
        first_failure: str = "",
        log_path: str | None = None,
        result: object = None,
    ) -> None:
        self.experiment, self.namespace, self.reason = experiment, namespace, reason
        self.trial, self.first_failure, self.log_path, self.result = trial, first_failure, log_path, result
        text = f"experiment {experiment!r} failed: {reason}"
        if trial:
            text += f"\nfirst failure, trial {trial}: {first_failure}"
        if log_path:
            text += f"\nits log: {log_path}"
        super().__init__(text)
