"""`packages_to_install`: cached virtual environments when asked, otherwise a note of what is missing.

With `install_packages=True` each distinct package list gets one virtual environment under
`<data_dir>/pipelines/venvs/<hash>`, built once (with access to the current environment's packages, so only
the listed ones are installed) and reused by every later run. It is built in a temporary folder and renamed
into place when complete, so an interrupted install leaves nothing half-made. Without it the task runs in
the current environment and `missing_packages` says which requirements that environment does not satisfy.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from tuner.errors import LaunchError


def venv_python(venv: Path) -> Path:
    """The interpreter inside a virtual environment."""
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def venv_for(packages: list[str], venvs_dir: Path) -> Path:
    """The cached environment for `packages`, built now if it does not exist yet.

    Raises:
        LaunchError: pip could not install the packages; the message has pip's last lines.
    """
    key = hashlib.sha256("\n".join([sys.version, *sorted(packages)]).encode()).hexdigest()[:16]
    target = venvs_dir / key
    if venv_python(target).exists():
        return target
    venvs_dir.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=venvs_dir))
    try:
        subprocess.run(
            [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(building)],
            check=True,
            capture_output=True,
        )
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "--python",
                str(venv_python(building)),
                "install",
                "--quiet",
                *packages,
            ],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-5:])
            raise LaunchError(f"installing {', '.join(packages)} failed:\n{tail}")
        # The venv records its own path in scripts; rebuild instead of moving when that matters. The
        # interpreter itself is a symlink and works from the new place.
        building.rename(target)
    except subprocess.CalledProcessError as exc:
        raise LaunchError(
            f"cannot create a virtual environment: {exc.stderr.decode(errors='replace')}"
        ) from None
    finally:
        if building.exists():
            shutil.rmtree(building, ignore_errors=True)
    return target


def missing_packages(packages: list[str]) -> list[str]:
    """The requirements of `packages` the current environment does not satisfy, each with what it has."""
    from packaging.requirements import InvalidRequirement, Requirement

    missing: list[str] = []
    for text in packages:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            missing.append(f"{text} (not a requirement pip understands)")
            continue
        try:
            installed = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            missing.append(f"{text} (not installed)")
            continue
        if requirement.specifier and not requirement.specifier.contains(installed, prereleases=True):
            missing.append(f"{text} (found {installed})")
    return missing
