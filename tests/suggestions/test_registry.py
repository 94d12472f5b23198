"""The registry: Katib names, closest-name errors, and plugins from a real entry-point group."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from suggestions.registry import BUILTINS, Registry, UnknownAlgorithmError, builtin_registry
from tuner.errors import SuggestionError

KATIB_NAMES = {
    "random",
    "grid",
    "sobol",
    "bayesianoptimization",
    "tpe",
    "multivariate-tpe",
    "cmaes",
    "hyperband",
    "pbt",
}


def test_builtins_carry_katib_names_and_auto() -> None:
    multi_objective = {"nsga2", "nsga3", "motpe"}  # tuner's extension: several objectives
    assert set(builtin_registry().names()) == KATIB_NAMES | {"auto"} | multi_objective


def test_unknown_name_suggests_the_closest() -> None:
    with pytest.raises(UnknownAlgorithmError) as info:
        builtin_registry().get("bayesian-optimization")
    assert info.value.closest == "bayesianoptimization"
    assert "did you mean 'bayesianoptimization'?" in str(info.value)


def test_same_instance_is_returned() -> None:
    registry = builtin_registry()
    assert registry.get("random") is registry.get("random")


def test_duplicate_registration_is_refused() -> None:
    registry = builtin_registry()
    with pytest.raises(ValueError, match="registered already"):
        registry.register("random", "suggestions.random:RandomSuggester")


def test_factory_that_is_not_a_suggester_is_reported() -> None:
    registry = Registry()
    registry.register("odd", lambda: object())  # type: ignore[arg-type,return-value]
    with pytest.raises(SuggestionError, match="not a Suggester"):
        registry.get("odd")


def _install_plugin(root: Path) -> None:
    """A real distribution on sys.path: metadata, entry points and a module, as pip would leave it."""
    dist = root / "tuner_plugin_demo-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: tuner-plugin-demo\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        textwrap.dedent(
            """\
            [tuner.suggestions]
            first-point = tuner_plugin_demo:FirstPoint
            broken = tuner_plugin_missing:Thing
            random = tuner_plugin_demo:FirstPoint
            """
        )
    )
    (root / "tuner_plugin_demo.py").write_text(
        textwrap.dedent(
            """\
            from suggestions.base import Suggester

            class FirstPoint(Suggester):
                name = "first-point"

                def propose(self, request):
                    return [request.space.from_unit([0.0] * len(request.space))]
            """
        )
    )


def test_entry_point_plugins_load_and_failures_are_reported_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _install_plugin(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = builtin_registry()
    registry.load_entry_points()
    assert "first-point" in registry.names()
    assert registry.get("first-point").name == "first-point"
    assert "ModuleNotFoundError" in registry.plugin_errors["broken"]
    assert "registered already" in registry.plugin_errors["random"], "a plugin cannot shadow a built-in"
    assert registry.get("random").__class__.__module__ == BUILTINS["random"].split(":")[0]
