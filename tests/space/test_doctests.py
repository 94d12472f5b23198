"""The examples in tuner.space docstrings run and stay true."""

from __future__ import annotations

import doctest

import pytest

import tuner.space.parameters
import tuner.space.space
import tuner.space.values


@pytest.mark.parametrize("module", [tuner.space.values, tuner.space.space, tuner.space.parameters])
def test_docstring_examples(module: object) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)  # type: ignore[arg-type]
    assert result.failed == 0
