"""Hypothesis strategies for Katib parameter specs (JSON form), shared by the space and suggestion tests."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

names = st.from_regex(r"[a-z][a-z0-9_]{0,7}", fullmatch=True)


@st.composite
def double_specs(draw: st.DrawFn) -> dict[str, Any]:
    log = draw(st.booleans())
    if log:
        low = draw(st.floats(1e-8, 1e3))
        high = low * draw(st.floats(1.001, 1e6))
    else:
        low = draw(st.floats(-1e6, 1e6))
        high = low + draw(st.floats(1e-3, 1e6))
    fs: dict[str, Any] = {"min": repr(low), "max": repr(high)}
    if draw(st.booleans()):
        fs["step"] = repr((high - low) / draw(st.integers(1, 40)))
    fs["distribution"] = draw(st.sampled_from(["logUniform", "logNormal"] if log else ["uniform", "normal"]))
    return {"parameterType": "double", "feasibleSpace": fs}


@st.composite
def int_specs(draw: st.DrawFn) -> dict[str, Any]:
    log = draw(st.booleans())
    low = draw(st.integers(1, 1000)) if log else draw(st.integers(-1000, 1000))
    high = low + draw(st.integers(1, 10**6))
    fs: dict[str, Any] = {"min": str(low), "max": str(high)}
    if draw(st.booleans()):
        fs["step"] = str(draw(st.integers(1, 50)))
    fs["distribution"] = draw(st.sampled_from(["logUniform", "logNormal"] if log else ["uniform", "normal"]))
    return {"parameterType": "int", "feasibleSpace": fs}


numbers_text = st.one_of(st.integers(-(10**6), 10**6).map(str), st.floats(-1e6, 1e6).map(repr))


@st.composite
def discrete_specs(draw: st.DrawFn) -> dict[str, Any]:
    texts = draw(st.lists(numbers_text, min_size=1, max_size=8, unique_by=float))
    return {"parameterType": "discrete", "feasibleSpace": {"list": texts}}


@st.composite
def categorical_specs(draw: st.DrawFn) -> dict[str, Any]:
    texts = draw(st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=6, unique=True))
    return {"parameterType": "categorical", "feasibleSpace": {"list": texts}}


any_parameter = st.one_of(double_specs(), int_specs(), discrete_specs(), categorical_specs())


@st.composite
def space_specs(draw: st.DrawFn, min_size: int = 1, max_size: int = 5) -> list[dict[str, Any]]:
    specs = draw(st.lists(any_parameter, min_size=min_size, max_size=max_size))
    labels = draw(st.lists(names, min_size=len(specs), max_size=len(specs), unique=True))
    return [{"name": n, **s} for n, s in zip(labels, specs, strict=True)]
