"""Algorithm settings: Katib's `algorithmSettings` (name/value strings) read into typed values.

Each algorithm declares its settings once, as a `SettingsSchema` of `Setting`s with Katib's names and
defaults; the schema then both validates (every problem at once, each naming the setting, the value and
what is expected) and parses. Unknown names are refused with the closest known name, as Katib's
services refuse them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tuner.errors import Problem, SuggestionError
from tuner.spec.suggest import did_you_mean

Parser = Callable[[str], Any]
"""Turns a setting's text into its value; raises ValueError whose message says what is expected."""

SETTINGS_PATH = "algorithmSettings"
"""Path prefix of settings problems: ``algorithmSettings.<name>``."""


class InvalidSettingsError(SuggestionError):
    """The algorithm's settings do not fit (the request is wrong, not the algorithm); lists every problem."""

    def __init__(self, algorithm: str, problems: list[Problem]) -> None:
        self.problems = problems
        prefix = f"{algorithm}: " if algorithm else ""
        super().__init__(f"{prefix}invalid algorithm settings: " + "; ".join(str(p) for p in problems))


@dataclass(frozen=True)
class Setting:
    """One setting: its Katib name, how to read it, its default (None: unset) and what it does."""

    name: str
    parse: Parser
    default: Any = None
    doc: str = ""
    required: bool = False


class SettingsSchema:
    """The settings an algorithm accepts."""

    def __init__(self, *settings: Setting) -> None:
        self.settings = {s.name: s for s in settings}

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.settings.values())

    def problems(self, raw: Mapping[str, str]) -> list[Problem]:
        """Every problem with `raw`: unknown names, missing required ones, values that do not parse."""
        problems = []
        for name, text in raw.items():
            path = f"{SETTINGS_PATH}.{name}"
            setting = self.settings.get(name)
            if setting is None:
                problems.append(Problem(path, self._unknown(name)))
                continue
            try:
                setting.parse(_as_text(text))
            except ValueError as exc:
                problems.append(Problem(path, f"{exc} (got {_as_text(text)!r})"))
        for setting in self.settings.values():
            if setting.required and setting.name not in raw:
                problems.append(Problem(f"{SETTINGS_PATH}.{setting.name}", f"is required: {setting.doc}"))
        return problems

    def parse(self, raw: Mapping[str, str]) -> dict[str, Any]:
        """Typed settings with defaults filled in.

        Raises:
            InvalidSettingsError: listing every problem (see `problems`).
        """
        problems = self.problems(raw)
        if problems:
            raise InvalidSettingsError("", problems)
        values = {s.name: s.default for s in self.settings.values()}
        for name, text in raw.items():
            values[name] = self.settings[name].parse(_as_text(text))
        return values

    def _unknown(self, name: str) -> str:
        known = sorted(self.settings)
        if not known:
            return "unknown setting: this algorithm takes no settings"
        return f"unknown setting{did_you_mean(name, known, quote=True)} (known: {', '.join(known)})"


def _as_text(value: object) -> str:
    """Katib values are strings; Python callers may pass numbers."""
    if isinstance(value, bool):
        return str(value).lower()
    return value if isinstance(value, str) else repr(value) if isinstance(value, float) else str(value)


# -- parsers ----------------------------------------------------------------------------------------------


def integer(minimum: int | None = None, maximum: int | None = None) -> Parser:
    """An integer, optionally bounded (inclusive). Accepts "5" and "5.0" (Katib writes both)."""

    def parse(text: str) -> int:
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"must be an integer{_bounds(minimum, maximum)}") from None
        if (
            not number.is_integer()
            or (minimum is not None and number < minimum)
            or (maximum is not None and number > maximum)
        ):
            raise ValueError(f"must be an integer{_bounds(minimum, maximum)}")
        return int(number)

    return parse


def number(
    low: float | None = None, high: float | None = None, *, low_open: bool = False, high_open: bool = False
) -> Parser:
    """A finite float in an interval (open or closed at each end)."""
    lo_bracket, hi_bracket = "(" if low_open else "[", ")" if high_open else "]"
    interval = (
        f" in {lo_bracket}{'-inf' if low is None else low}, {'inf' if high is None else high}{hi_bracket}"
    )
    describe = "" if low is None and high is None else interval

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"must be a number{describe}") from None
        too_low = low is not None and (value <= low if low_open else value < low)
        too_high = high is not None and (value >= high if high_open else value > high)
        if not math.isfinite(value) or too_low or too_high:
            raise ValueError(f"must be a number{describe}")
        return value

    return parse


def choice(*options: str) -> Parser:
    """One of a fixed set of words (exact match)."""

    def parse(text: str) -> str:
        if text not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return text

    return parse


def text(allow_empty: bool = False) -> Parser:
    """Free text (e.g. a parameter name)."""

    def parse(value: str) -> str:
        if not value and not allow_empty:
            raise ValueError("must not be empty")
        return value

    return parse


def random_state_setting() -> Setting:
    """Katib's `random_state`: a seed making suggestions reproducible (unset: fresh randomness)."""
    return Setting("random_state", integer(0, 2**32 - 1), None, "seed for reproducible suggestions")


def _bounds(minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and maximum is not None:
        return f" from {minimum} to {maximum}"
    if minimum is not None:
        return f" >= {minimum}"
    if maximum is not None:
        return f" <= {maximum}"
    return ""
