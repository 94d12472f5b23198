"""The examples in the store's and artifact store's docstrings run (they are documentation users copy)."""

import doctest

import pytest

import tuner.artifacts
import tuner.store


@pytest.mark.parametrize("module", [tuner.store, tuner.artifacts])
def test_docstring_examples_run(module: object) -> None:
    result = doctest.testmod(module, raise_on_error=False)  # type: ignore[arg-type]
    assert result.attempted > 0 and result.failed == 0
