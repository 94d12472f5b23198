"""The options each figure accepts, their descriptions, and their parsing from URL query strings.

One table (`OPTIONS`) serves the Python keyword arguments, the dashboard's query strings and the messages:
an unknown option or a bad value raises `FigureOptionError` naming the option, the value and the fix.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tuner.states import TrialState

FIGURE_KINDS: tuple[str, ...] = (
    "history",
    "parallel",
    "slice",
    "contour",
    "importance",
    "edf",
    "intermediate",
    "pareto",
    "timeline",
)

DEFAULT_MAX_POINTS = 2000
"""Points (markers, bars, curve points) a figure draws at most: a 10,000-trial figure stays small."""

MIN_MAX_POINTS = 10

EVALUATORS = ("fanova", "ped-anova")


class FigureOptionError(ValueError):
    """A figure option that does not exist or has a bad value; the message names both and the fix."""


@dataclass(frozen=True)
class Option:
    """One option: its description, how a query-string value becomes a Python value, how a value is checked."""

    description: str
    parse: Callable[[str, str], Any]
    check: Callable[[str, Any], Any]


def _bool_text(name: str, text: str) -> bool | None:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    if lowered in ("", "auto"):
        return None
    raise FigureOptionError(f"option {name}={text!r} is not a boolean: give true, false or auto")


def _check_bool(name: str, value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise FigureOptionError(f"option {name}={value!r} is not a boolean: give True, False or None (auto)")


def _int_text(name: str, text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise FigureOptionError(
            f"option {name}={text!r} is not a whole number: give e.g. {name}=2000"
        ) from None


def _check_max_points(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FigureOptionError(f"option {name}={value!r} is not a whole number: give e.g. {name}=2000")
    if value < MIN_MAX_POINTS:
        raise FigureOptionError(
            f"option {name}={value} is too small: give {MIN_MAX_POINTS} or more (default {DEFAULT_MAX_POINTS})"
        )
    return value


def _list_text(name: str, text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _check_names(name: str, value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = _list_text(name, value)
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise FigureOptionError(
            f"option {name}={value!r} must be a list of names, e.g. {name}=('lr', 'layers')"
        )
    return tuple(value)


def _text(name: str, text: str) -> str:
    return text.strip()


def _check_text(name: str, value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise FigureOptionError(f"option {name}={value!r} must be a name (a string)")


def _check_states(name: str, value: Any) -> tuple[str, ...] | None:
    names = _check_names(name, value)
    if names is None:
        return None
    known = {s.value.lower(): s.value for s in TrialState}
    out = []
    for item in names:
        state = known.get(item.lower())
        if state is None:
            raise FigureOptionError(
                f"option {name} has an unknown state {item!r}: give some of {', '.join(known.values())}"
            )
        out.append(state)
    return tuple(out)


def _check_evaluator(name: str, value: Any) -> str:
    text = str(value).strip().lower().replace("_", "-")
    text = {"pedanova": "ped-anova"}.get(text, text)
    if text not in EVALUATORS:
        raise FigureOptionError(f"option {name}={value!r} is not an evaluator: give fanova or ped-anova")
    return text


def _check_pair(name: str, value: Any) -> tuple[str, str] | None:
    names = _check_names(name, value)
    if names is None:
        return None
    if len(names) != 2 or names[0] == names[1]:
        raise FigureOptionError(
            f"option {name}={','.join(names)!r} must name exactly two different ones, e.g. {name}=a,b"
        )
    return (names[0], names[1])


_METRIC = Option("the metric to plot (default: the objective)", _text, _check_text)
_STATES = Option(
    "trial states to include, comma-separated (default: trials that reported the metric)",
    _list_text,
    _check_states,
)
_MAX_POINTS = Option(
    f"at most this many points are drawn: the best ones and an even sample (default {DEFAULT_MAX_POINTS})",
    _int_text,
    _check_max_points,
)
_PARAMS = Option("the parameters to show, comma-separated (default: all)", _list_text, _check_names)
_LOG_X = Option(
    "logarithmic x axis: true, false or auto (auto: log for parameters declared log-scale)",
    _bool_text,
    _check_bool,
)
_LOG_Y = Option(
    "logarithmic y axis: true, false or auto (auto: log when positive values span 3+ decades)",
    _bool_text,
    _check_bool,
)
_LOG_X_VALUES = Option(
    "logarithmic x axis: true, false or auto (auto: log when positive values span 3+ decades)",
    _bool_text,
    _check_bool,
)
_COMMON = {"metric": _METRIC, "trial_states": _STATES, "max_points": _MAX_POINTS}

OPTIONS: dict[str, dict[str, Option]] = {
    "history": {**_COMMON, "log_y": _LOG_Y},
    "parallel": {**_COMMON, "params": _PARAMS},
    "slice": {**_COMMON, "params": _PARAMS, "log_x": _LOG_X, "log_y": _LOG_Y},
    "contour": {
        **_COMMON,
        "params": Option(
            "the two parameters on the axes, comma-separated (default: the first two)",
            _list_text,
            _check_pair,
        ),
        "log_x": _LOG_X,
        "log_y": Option(
            "logarithmic y axis: true, false or auto (auto: log for parameters declared log-scale)",
            _bool_text,
            _check_bool,
        ),
    },
    "importance": {
        **_COMMON,
        "params": _PARAMS,
        "evaluator": Option(
            "fanova (random forests, on up to 300 trials) or ped-anova (faster, up to 1000 trials)",
            _text,
            _check_evaluator,
        ),
    },
    "edf": {**_COMMON, "log_x": _LOG_X_VALUES},
    "intermediate": {**_COMMON, "log_y": _LOG_Y},
    "pareto": {
        "metrics": Option(
            "the two metrics on the axes, comma-separated (default: the first two of the spec)",
            _list_text,
            _check_pair,
        ),
        "trial_states": _STATES,
        "max_points": _MAX_POINTS,
        "log_x": _LOG_X_VALUES,
        "log_y": _LOG_Y,
    },
    "timeline": {
        "trial_states": Option(
            "trial states to include, comma-separated (default: all)", _list_text, _check_states
        ),
        "max_points": _MAX_POINTS,
    },
}


def _table(kind: str) -> dict[str, Option]:
    try:
        return OPTIONS[kind]
    except KeyError:
        raise FigureOptionError(
            f"unknown figure kind {kind!r}: give one of {', '.join(FIGURE_KINDS)}"
        ) from None


def options_of(kind: str) -> dict[str, str]:
    """Option name -> one-line description, for the figure `kind`."""
    return {name: option.description for name, option in _table(kind).items()}


def check_options(kind: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """The options checked (and normalised: lists to tuples, evaluator names to their canonical spelling)."""
    table = _table(kind)
    out: dict[str, Any] = {}
    for name, value in options.items():
        option = table.get(name)
        if option is None:
            raise FigureOptionError(
                f"figure {kind!r} has no option {name!r}: its options are {', '.join(table)}"
            )
        out[name] = option.check(name, value)
    return out


def parse_options(kind: str, raw: Mapping[str, str]) -> dict[str, Any]:
    """Options from a URL query string (all values text); empty values are left out.

    Raises:
        FigureOptionError: an unknown kind or option, or a value that does not parse.
    """
    table = _table(kind)
    parsed: dict[str, Any] = {}
    for name, text in raw.items():
        option = table.get(name)
        if option is None:
            raise FigureOptionError(
                f"figure {kind!r} has no option {name!r}: its options are {', '.join(table)}"
            )
        if str(text).strip() == "" and name not in ("log_x", "log_y"):
            continue
        parsed[name] = option.parse(name, str(text))
    return check_options(kind, parsed)
