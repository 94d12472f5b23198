"""Rules for `spec.earlyStopping`: the algorithm must be one tuner knows, its settings named and in range.

Katib ships one early-stopping algorithm, `medianstop` (pkg/earlystopping/v1beta1/medianstop); its service
rejects unknown settings and out-of-range values when the experiment starts. We reject them at load time.
"""

from __future__ import annotations

from collections.abc import Callable

from tuner.errors import Problem
from tuner.spec.common import EarlyStoppingSpec
from tuner.spec.defaults import MEDIANSTOP
from tuner.spec.parameter_rules import is_integer
from tuner.spec.suggest import did_you_mean

AT = "spec.earlyStopping"


def _whole_at_least(minimum: int) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        if is_integer(value) and int(value) >= minimum:
            return None
        return f"must be a whole number of at least {minimum}, got '{value}'"

    return check


SETTINGS: dict[str, dict[str, Callable[[str], str | None]]] = {
    MEDIANSTOP: {
        "min_trials_required": _whole_at_least(1),
        "start_step": _whole_at_least(1),
    },
}
"""Known early-stopping algorithms and, for each setting, a check returning what is wrong (or None)."""


def check_early_stopping(spec: EarlyStoppingSpec | None) -> list[Problem]:
    """Every problem of the early-stopping spec (None: no early stopping)."""
    if spec is None:
        return []
    name = spec.algorithm_name
    if not name:
        return [
            Problem(f"{AT}.algorithmName", f"required: the early stopping algorithm ({', '.join(SETTINGS)})")
        ]
    if name not in SETTINGS:
        known = ", ".join(SETTINGS)
        return [
            Problem(f"{AT}.algorithmName", f"'{name}' is not a known early stopping algorithm; use {known}")
        ]
    return _check_settings(spec, SETTINGS[name])


def _check_settings(spec: EarlyStoppingSpec, rules: dict[str, Callable[[str], str | None]]) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for i, setting in enumerate(spec.algorithm_settings or []):
        at = f"{AT}.algorithmSettings[{i}]"
        if not setting.name:
            problems.append(Problem(f"{at}.name", "required"))
        elif setting.name in seen:
            problems.append(
                Problem(
                    f"{at}.name",
                    f"duplicate setting '{setting.name}' (also algorithmSettings[{seen[setting.name]}])",
                )
            )
        elif setting.name not in rules:
            known = ", ".join(rules)
            hint = did_you_mean(setting.name, rules)
            problems.append(
                Problem(
                    f"{at}.name",
                    f"'{setting.name}' is not a setting of {spec.algorithm_name} (known: {known}){hint}",
                )
            )
        else:
            seen[setting.name] = i
            wrong = rules[setting.name](setting.value or "")
            if wrong:
                problems.append(Problem(f"{at}.value", f"{setting.name} {wrong}"))
    return problems
