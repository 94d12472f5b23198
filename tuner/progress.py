"""Progress people can read, shared by `tuner run` and `tuner.tune`: one line per finished trial with its
objective value, the best so far, the elapsed time and an ETA from the trial budget; and why a trial failed
in one or two lines (the exception and where it was raised, or the last lines of the trial's output).

The numbers come from the controller's view of the experiment (`controllers.view.ExperimentView`), which
already holds every settled trial's objective value: a progress line costs no store query.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from rich.text import Text

from tuner.states import TrialState

_GOOD = (TrialState.SUCCEEDED, TrialState.EARLY_STOPPED)
_COMPLETED = frozenset(
    {TrialState.SUCCEEDED, TrialState.FAILED, TrialState.EARLY_STOPPED, TrialState.METRICS_UNAVAILABLE}
)
_TRACEBACK = "Traceback (most recent call last):"
_TAIL_SEPARATOR = "; last output:"


def number_text(value: float | None) -> str:
    """A metric value with sensible precision (6 significant digits)."""
    return "-" if value is None else f"{value:.6g}"


def short_value(text: str, digits: int = 4) -> str:
    """A parameter's text for a progress line (4 significant digits) or a table (6): long decimals are
    shortened, the rest is shown as is."""
    if len(text) <= digits + 4:
        return text
    try:
        return f"{float(text):.{digits}g}"
    except ValueError:
        return text


def duration_text(seconds: float) -> str:
    """`42s`, `3m05s`, `1h02m`."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, sec = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{sec:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def failure_lines(message: str, limit: int = 3) -> list[str]:
    """Why a trial failed, in at most `limit` + 1 short lines.

    A Python exception (function trials, or a script's traceback in its output) reads as its last line and
    the frame it was raised in: ``ValueError: bad lr  (train.py, line 12, in fit)``. Otherwise the first
    line of the message (exit status, deadline...) and the last lines of the trial's output.
    """
    head, _, tail_text = message.partition(_TAIL_SEPARATOR)
    tail = [line for line in tail_text.splitlines() if line.strip()]
    for text in (head, "\n".join(tail)):
        exception = _exception(text)
        if exception:
            return [exception]
    first = head.strip().splitlines()[0] if head.strip() else "the trial failed"
    return [first, *[line.rstrip() for line in tail[-limit:]]]


def _exception(text: str) -> str | None:
    """`Error: message  (file, line N, in function)` of the last traceback in `text`, if there is one."""
    if _TRACEBACK not in text:
        return None
    lines = text[text.rindex(_TRACEBACK) :].splitlines()[1:]
    frame = next((ln.strip() for ln in reversed(lines) if ln.strip().startswith('File "')), "")
    last = next((ln.strip() for ln in reversed(lines) if ln.strip() and not ln.startswith((" ", "\t"))), "")
    if not last:
        return None
    if frame:
        path, _, rest = frame.removeprefix('File "').partition('", ')
        return f"{last}  ({path.rsplit('/', 1)[-1]}, {rest})"
    return last


@dataclass
class TrialLines:
    """Formats the line of each finished trial; `view` is the controller's view (values, best, counts)."""

    metric: str
    budget: int | None
    started: float = 0.0
    done_here: int = 0

    def __post_init__(self) -> None:
        self.started = self.started or time.monotonic()

    def line(self, settled: Any, view: Any) -> list[Text]:
        """The lines for one settled trial: the summary line, then why it failed (if it did)."""
        trial, state = settled.trial, settled.state
        if state in _COMPLETED:
            self.done_here += 1
        completed = view.count(_COMPLETED) if view is not None else self.done_here
        style = {TrialState.SUCCEEDED: "green", TrialState.EARLY_STOPPED: "yellow"}.get(state, "red")
        count = f"{completed:>{len(str(self.budget))}}/{self.budget}" if self.budget else str(completed)
        line = Text(f"[{count}] {trial.name} {state.value:<17}", style=style)
        if state in _GOOD and view is not None:
            best = view.best
            line.append(f" {self.metric}={number_text(view.value(trial))}", style="bold")
            if best is not None:
                line.append(f" (best {number_text(best[1])})")
        params = " ".join(f"{a.name}={short_value(a.value)}" for a in trial.assignments)
        line.append(f"  {params}")
        line.append(f"  {self.timing(completed)}", style="dim")
        out = [line]
        if state not in _GOOD and state != TrialState.KILLED and settled.message:
            out += [Text(f"    {text}", style="red") for text in failure_lines(settled.message)]
            log_path = trial.runtime.log_path if trial.runtime is not None else None
            if log_path:
                out.append(Text(f"    log: {log_path}", style="dim"))
        return out

    def timing(self, completed: int) -> str:
        """`elapsed 1m05s, ETA 2m10s` (the ETA from this run's pace and the trials left in the budget)."""
        elapsed = time.monotonic() - self.started
        text = f"elapsed {duration_text(elapsed)}"
        if self.budget and self.done_here:
            left = max(self.budget - completed, 0)
            text += f", ETA {duration_text(elapsed / self.done_here * left)}" if left else ", done"
        return text
