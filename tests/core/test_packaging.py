"""What pyproject.toml promises is what the package holds: every runtime dependency is imported by it, every
package-data pattern matches a file, and test-only code says so when its test dependency is missing."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import packages_distributions
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the test extra brings tomli there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("tuner", "controllers", "suggestions", "pipelines", "serving")
LOADED_BY_NAME = {
    "psycopg": "SQLAlchemy loads the driver a postgresql+psycopg:// URL names",
    "httptools": 'uvicorn picks it for `tuner serve` when installed (http="auto")',
    "uvloop": 'uvicorn picks it for `tuner serve` when installed (loop="auto")',
}


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def distribution(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def imported_top_levels() -> Iterator[str]:
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    yield from (alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    yield node.module.split(".")[0]


def test_every_runtime_dependency_is_imported_by_the_package() -> None:
    """Before, hyperopt, kubernetes and scikit-learn were installed for every user and used by none."""
    providers = packages_distributions()
    used = {
        dist.lower().replace("_", "-")
        for name in set(imported_top_levels())
        for dist in providers.get(name, [])
    }
    unused = [
        requirement
        for requirement in pyproject()["project"]["dependencies"]
        if distribution(requirement) not in used and distribution(requirement) not in LOADED_BY_NAME
    ]
    assert unused == [], "runtime dependencies nothing imports (move them to an extra or drop them)"


def test_every_package_data_pattern_matches_a_file() -> None:
    data: dict[str, list[str]] = pyproject()["tool"]["setuptools"]["package-data"]
    for package, patterns in data.items():
        folder = ROOT.joinpath(*package.split("."))
        for pattern in patterns:
            assert list(folder.glob(pattern)), (
                f"package-data {package}: {pattern} matches no file in {folder}"
            )


def test_the_store_conformance_suite_says_it_needs_pytest() -> None:
    """tuner.store.testing is test code shipped in the package: without pytest it names the extra to install,
    and the runtime packages import without pytest at all."""
    script = (
        "import sys; sys.modules['pytest'] = None\n"
        "import tuner.store, tuner.space, tuner.spec, controllers.run, suggestions.registry, pipelines.kfp\n"
        "import tuner.cli\n"
        "try:\n    import tuner.store.testing\nexcept ImportError as exc:\n    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert (
        "tuner.store.testing is the store's conformance suite for pytest; install the test extra"
        in done.stdout
    )
