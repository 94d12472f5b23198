"""Kubernetes resource quantities ("500m", "2", "512Mi", "1G"), read once for every engine.

The controllers read a trial container's `cpu` and `nvidia.com/gpu` to decide how many trials fit here;
the pipelines DSL checks `set_cpu_limit("500m")` / `set_memory_limit("1Gi")` early and its runner budgets
them. All of them read quantities here, so a value means the same everywhere and a bad one gets the same
words. The grammar is Kubernetes' (`<number><suffix>`, suffixes n u m k M G T P E, Ki Mi Gi Ti Pi Ei, or a
decimal exponent such as `1e3`), plus `K` for kilo as the KFP SDK accepts it. Errors are `ValueError`s
whose message names the value and the accepted forms, so callers only add the field's name.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

_DECIMAL_SUFFIXES = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal(10**3),
    "K": Decimal(10**3),  # not Kubernetes', but KFP's set_memory_limit accepts it
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "P": Decimal(10**15),
    "E": Decimal(10**18),
}
_BINARY_SUFFIXES = {
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
}
_QUANTITY = re.compile(
    r"(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+))"
    r"(?:(?P<exponent>[eE][+-]?\d+)|(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkKMGTPE])?)"
)
_CPU_FORMS = "write cores ('2', '0.5') or millicores ('500m')"
_MEMORY_FORMS = "write bytes or a number with a suffix: '512Mi', '1Gi', '1G', '500M'"
_GPU_FORMS = "write a whole number of devices ('1', '2')"


def parse_quantity(value: str | float | int) -> Decimal:
    """The exact amount a Kubernetes quantity stands for (`"500m"` -> 0.5, `"1Ki"` -> 1024).

    Raises:
        ValueError: the value is not a quantity (a bool, text outside the grammar, NaN or infinity).
    """
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"{value!r} is not a quantity")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{value!r} is not a finite quantity")
    text = value.strip() if isinstance(value, str) else repr(value)
    match = _QUANTITY.fullmatch(text)
    if match is None:
        raise ValueError(f"{value!r} is not a quantity")
    try:
        number = Decimal(match.group("number"))
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimal numbers
        raise ValueError(f"{value!r} is not a quantity") from None
    if match.group("exponent"):
        return number.scaleb(int(match.group("exponent")[1:]))
    suffix = match.group("suffix") or ""
    return number * _BINARY_SUFFIXES.get(suffix, _DECIMAL_SUFFIXES.get(suffix, Decimal(1)))


def _amount(value: str | float | int, what: str, forms: str) -> Decimal:
    try:
        amount = parse_quantity(value)
    except ValueError:
        raise ValueError(f"cannot read {value!r} as {what}; {forms}") from None
    if amount < 0:
        raise ValueError(f"{what} cannot be negative, got {value!r}; {forms}")
    return amount


def parse_cpu(value: str | float | int) -> float:
    """Cores from a CPU quantity: 2, "2", "0.5", "500m" (0 asks for no reserved CPU)."""
    return float(_amount(value, "a CPU quantity", _CPU_FORMS))


def parse_memory(value: str | float | int) -> int:
    """Bytes from a memory quantity: "1G", "512Mi", "1e9", 1000000 (a fraction of a byte rounds up)."""
    return math.ceil(_amount(value, "a memory quantity", _MEMORY_FORMS))


def parse_gpus(value: str | float | int) -> int:
    """Devices from a GPU count (`nvidia.com/gpu`): whole numbers only, as Kubernetes requires of them."""
    amount = _amount(value, "a GPU count", _GPU_FORMS)
    if amount != amount.to_integral_value():
        raise ValueError(f"a GPU count must be a whole number of devices, got {value!r}; {_GPU_FORMS}")
    return int(amount)
