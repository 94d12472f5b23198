"""Every registered algorithm passes the conformance suite of suggestions.testing."""

from __future__ import annotations

import pytest

from suggestions import testing
from suggestions.registry import builtin_registry

REGISTRY = builtin_registry()
ALGORITHMS = REGISTRY.names()


@pytest.mark.parametrize("check", testing.CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_conformance(algorithm: str, check: testing.Check) -> None:
    check(REGISTRY.get(algorithm), testing.profile_for(algorithm))
