"""Where task outputs are kept: the `ArtifactStore` seam and a local-folder implementation.

The runner stores every file output (`OutputPath`, `Output[...]`, `file_outputs`) here with its sha256,
and materialises stored artifacts as files for the tasks that read them. `tuner.artifacts` (the project's
artifact storage, local folder or S3-compatible) will stand behind the same four methods; until then
`LocalFolderStore` keeps artifacts under `Settings.artifacts_url` (a folder or a `file://` URL).

Files and folders are both accepted. A folder's digest is the sha256 of its sorted relative paths and
their file digests, so the same tree always gives the same digest.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlparse

from pipelines.runner.records import ArtifactRef
from tuner.errors import ConfigError


class ArtifactStore(Protocol):
    """Stores and retrieves artifacts by key; keys are `/`-separated relative paths chosen by the runner."""

    def uri_for(self, key: str) -> str:
        """The URI the artifact stored under `key` will have."""
        ...

    def put(
        self, source: Path, key: str, artifact_type: str | None = None, move: bool = False
    ) -> ArtifactRef:
        """Store the file or folder `source` under `key` (moving it when `move` and cheap); return its ref."""
        ...

    def fetch(self, uri: str, destination: Path) -> None:
        """Copy the artifact to `destination` (a file or a folder, as stored)."""
        ...

    def exists(self, uri: str) -> bool:
        """Whether the artifact is still stored."""
        ...

    def read_text(self, uri: str) -> str:
        """The artifact's content as text (it must be a file)."""
        ...


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes, as "sha256:<hex>"."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


def tree_digest(path: Path) -> tuple[str, int]:
    """(digest, total size) of a file or a folder."""
    if path.is_file():
        return file_digest(path), path.stat().st_size
    digest = hashlib.sha256()
    size = 0
    for item in sorted(p for p in path.rglob("*") if p.is_file()):
        rel = item.relative_to(path).as_posix()
        digest.update(f"{rel}\0{file_digest(item)}\n".encode())
        size += item.stat().st_size
    return "sha256:" + digest.hexdigest(), size


class LocalFolderStore:
    """Artifacts as files under one folder; URIs are `file://` URLs of the stored paths."""

    def __init__(self, root: str | Path) -> None:
        text = str(root)
        if "://" in text:
            parsed = urlparse(text)
            if parsed.scheme != "file":
                raise ConfigError(
                    f"artifacts URL {text!r}: the local runner stores artifacts in a folder (a path or file:// URL) "
                    "until S3-compatible storage lands; set TUNER_ARTIFACTS to a folder"
                )
            text = unquote(parsed.path)
        self.root = Path(text).expanduser().resolve()

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*key.split("/"))

    def _local(self, uri: str) -> Path:
        parsed = urlparse(uri)
        if parsed.scheme != "file":
            raise ValueError(f"not a local artifact URI: {uri!r}")
        return Path(unquote(parsed.path))

    def uri_for(self, key: str) -> str:
        return self._path(key).as_uri()

    def put(
        self, source: Path, key: str, artifact_type: str | None = None, move: bool = False
    ) -> ArtifactRef:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        if move:
            try:
                os.replace(source, target)
            except OSError:  # another file system: copy instead
                _copy(source, target)
        else:
            _copy(source, target)
        digest, size = tree_digest(target)
        return ArtifactRef(uri=target.as_uri(), digest=digest, size=size, artifact_type=artifact_type)

    def fetch(self, uri: str, destination: Path) -> None:
        destination.parent.mkdir(parents=True, exist_ok=True)
        _copy(self._local(uri), destination)

    def exists(self, uri: str) -> bool:
        try:
            return self._local(uri).exists()
        except ValueError:
            return False

    def read_text(self, uri: str) -> str:
        return self._local(uri).read_text(errors="replace")


def _copy(source: Path, target: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copyfile(source, target)
