"""tuner.quantities: the one reader of Kubernetes quantities, used by the controllers and the pipelines."""

from __future__ import annotations

import pytest

from controllers.resources import Request, request_of
from tuner.quantities import parse_cpu, parse_gpus, parse_memory, parse_quantity


@pytest.mark.parametrize(
    ("text", "cores"),
    [("2", 2.0), (2, 2.0), ("0.5", 0.5), ("500m", 0.5), (" 250m ", 0.25), ("2e0", 2.0), ("0", 0.0)],
)
def test_cpu_quantities(text: str | int, cores: float) -> None:
    assert parse_cpu(text) == pytest.approx(cores)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("512Mi", 512 * 2**20),
        ("1Gi", 2**30),
        ("1G", 10**9),
        ("1K", 1000),
        ("1k", 1000),
        ("1e9", 10**9),
        (1000000, 10**6),
        ("1.5Ki", 1536),
        ("100m", 1),  # a fraction of a byte rounds up, as Kubernetes does
    ],
)
def test_memory_quantities(text: str | int, size: int) -> None:
    assert parse_memory(text) == size


def test_exa_suffix_and_exponent_are_told_apart() -> None:
    assert parse_quantity("1E") == 10**18 and parse_quantity("1E3") == 1000


@pytest.mark.parametrize(
    ("parse", "value", "message"),
    [
        (parse_cpu, "lots", "cannot read 'lots' as a CPU quantity; write cores ('2', '0.5') or millicores"),
        (parse_cpu, "-1", "a CPU quantity cannot be negative, got '-1'"),
        (parse_cpu, float("nan"), "cannot read nan as a CPU quantity"),
        (parse_cpu, True, "cannot read True as a CPU quantity"),
        (parse_cpu, "1e", "cannot read '1e' as a CPU quantity"),
        (
            parse_memory,
            "lots",
            "cannot read 'lots' as a memory quantity; write bytes or a number with a suffix",
        ),
        (parse_memory, "1 GB", "cannot read '1 GB' as a memory quantity"),
        (parse_gpus, "0.5", "a GPU count must be a whole number of devices, got '0.5'"),
        (parse_gpus, "two", "cannot read 'two' as a GPU count; write a whole number of devices"),
    ],
)
def test_bad_quantities_are_refused_naming_the_value(parse: object, value: object, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse(value)  # type: ignore[operator]
    assert str(info.value).startswith(message)


def test_a_trial_container_s_bad_quantities_name_the_field() -> None:
    """Before: `cpu: lots` gave float()'s "could not convert string to float" and `nvidia.com/gpu: "0.5"`
    int()'s "invalid literal", neither naming the field."""
    with pytest.raises(ValueError, match=r"^resources\.limits\.cpu: cannot read 'lots' as a CPU quantity"):
        request_of({"resources": {"limits": {"cpu": "lots"}}})
    with pytest.raises(
        ValueError, match=r"^resources\.requests\.nvidia\.com/gpu: a GPU count must be a whole number"
    ):
        request_of({"resources": {"requests": {"nvidia.com/gpu": "0.5"}}})
    assert request_of({"resources": {"requests": {"cpu": "lots"}, "limits": {"cpu": "1500m"}}}) == Request(
        cpu=1.5
    )
