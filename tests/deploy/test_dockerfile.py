"""The Dockerfile cannot be built here (no Docker daemon), so what can be checked without building is: its
base is pinned, every file it copies exists and is not hidden by .dockerignore, the extras it installs exist,
and its entrypoint and default command are the project's real `tuner` commands."""

from __future__ import annotations

import fnmatch
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.deploy.render import PENDING_FLAGS, ROOT, commands

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the test extra brings tomli there
    import tomli as tomllib

PINNED = re.compile(r"^[\w./-]+(:\d+\.\d+\.\d+[\w.-]*(@sha256:[0-9a-f]{64})?|@sha256:[0-9a-f]{64})$")


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def ignored(path: str) -> bool:
    patterns = [
        p.strip()
        for p in (ROOT / ".dockerignore").read_text().splitlines()
        if p.strip() and not p.startswith("#")
    ]
    return any(fnmatch.fnmatch(path, p) or path.startswith(p.rstrip("/") + "/") for p in patterns)


def test_the_base_image_is_pinned() -> None:
    bases = [args.split()[0] for word, args in instructions() if word == "FROM"]
    assert bases, "no FROM"
    for base in bases:
        assert PINNED.match(base), (
            f"FROM {base}: pin an exact release (python:3.11.11-slim-bookworm) or a digest"
        )


def test_every_copied_file_exists_and_reaches_the_build() -> None:
    copied = []
    for word, args in instructions():
        if word == "COPY" and not args.startswith("--from"):
            *sources, _ = args.split()
            copied += sources
    assert {"pyproject.toml", "tuner"} <= set(copied)
    for source in copied:
        assert (ROOT / source).exists(), f"COPY {source}: no such file in the repository"
        assert not ignored(source), f"COPY {source}: .dockerignore excludes it"
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    for pattern in packages["include"]:
        assert pattern.rstrip("*") in copied, f"package {pattern} is not copied into the image"


def test_the_installed_extras_exist() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    runs = " ".join(args for word, args in instructions() if word == "RUN")
    named = re.findall(r"\.\[([\w,]+)\]", runs)
    assert named, "the image installs the project with no extra (the operator needs `cluster`)"
    for group in named:
        for extra in group.split(","):
            assert extra in extras, f"extra {extra!r} is not in pyproject.toml"
    assert {"kubernetes", "s3fs"} <= {re.split(r"[<>=\[ ]", r)[0] for r in extras["cluster"]}


def test_entrypoint_and_default_command_are_tuner_commands() -> None:
    found = dict(instructions())
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    entrypoint, command = json.loads(found["ENTRYPOINT"]), json.loads(found["CMD"])
    assert entrypoint == ["tuner"] and scripts["tuner"] == "tuner.cli:main"
    assert command[0] in commands()
    comments = [line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("#")]
    documented = re.findall(r"\btuner ([a-z-]+)", "\n".join(comments))
    assert {"operator", "server", "suggestion-server"} <= set(documented)
    unknown = {c for c in documented if c not in commands() and c not in PENDING_FLAGS}
    assert not unknown, f"the Dockerfile names commands that do not exist: {sorted(unknown)}"


def test_the_copied_files_build_the_package(tmp_path: Path) -> None:
    """What the image's `pip install` sees (the COPY sources, less .dockerignore) builds a wheel holding every
    package and its data (a package left out of the COPY lines fails here, as the image would fail to start)."""
    context = tmp_path / "context"
    for word, args in instructions():
        if word == "COPY":
            *sources, _ = args.split()
            for source in sources:
                origin = ROOT / source
                if origin.is_dir():
                    shutil.copytree(origin, context / source, ignore=_dockerignored)
                else:
                    (context / source).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(origin, context / source)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "out"), "."],
        cwd=context, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = (tmp_path / "out").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in ("tuner/cli/__init__.py", "tuner/store/migrations/script.py.mako", "controllers/__init__.py",
                     "suggestions/__init__.py", "pipelines/__init__.py", "serving/__init__.py"):  # fmt: skip
        assert required in names, f"{required} is not in the wheel built from the image's files"


def _dockerignored(folder: str, names: list[str]) -> set[str]:
    relative = Path(folder).relative_to(ROOT).as_posix()
    return {n for n in names if ignored(f"{relative}/{n}") or n == "__pycache__" or n.endswith(".pyc")}
