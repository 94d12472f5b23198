"""Where task outputs are kept: the runner's small `TaskArtifacts` seam, backed by `tuner.artifacts`.

The runner stores every file output (`OutputPath`, `Output[...]`, `file_outputs`) with its sha256 and
materialises stored artifacts as files for the tasks that read them; these five calls are all it needs.
`ProjectArtifacts` puts them in the project's artifact store (`tuner.artifacts`: a local folder by default,
any fsspec URL such as s3:// when `TUNER_ARTIFACTS` says so), which is content-addressed: an artifact's URI
is known only once its content is, so a task's `Output[...]` object carries the local path it writes to
as its URI and the stored URI is recorded afterwards.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from pipelines.runner.records import ArtifactRef
from tuner.artifacts import ArtifactStore, open_artifact_store
from tuner.config import Settings
from tuner.errors import TunerError


class TaskArtifacts(Protocol):
    """The artifact operations of the runner."""

    def put(self, source: Path, name: str, artifact_type: str | None = None) -> ArtifactRef:
        """Store the file or folder `source` (named `name` in the store); return where and what it is."""
        ...

    def fetch(self, uri: str, destination: Path) -> None:
        """Copy a stored file or folder to `destination`."""
        ...

    def exists(self, uri: str) -> bool:
        """Whether the artifact is (still) stored here."""
        ...

    def read_text(self, uri: str) -> str:
        """A stored file's content as text (undecodable bytes replaced)."""
        ...


class ProjectArtifacts:
    """`TaskArtifacts` on a `tuner.artifacts.ArtifactStore`."""

    def __init__(self, store: ArtifactStore) -> None:
        self.store = store

    @classmethod
    def from_settings(cls, settings: Settings) -> ProjectArtifacts:
        """The artifact store named by the settings (`TUNER_ARTIFACTS`, default a folder in the data folder)."""
        return cls(open_artifact_store(settings=settings))

    def put(self, source: Path, name: str, artifact_type: str | None = None) -> ArtifactRef:
        stored = self.store.put_dir(source) if source.is_dir() else self.store.put_file(source, name=name)
        return ArtifactRef(
            uri=stored.uri, digest=stored.digest, size=stored.size, artifact_type=artifact_type
        )

    def fetch(self, uri: str, destination: Path) -> None:
        destination.parent.mkdir(parents=True, exist_ok=True)
        self.store.get(uri, destination)

    def exists(self, uri: str) -> bool:
        try:
            return self.store.exists(uri)
        except TunerError:  # a URI of another store (an older run with another TUNER_ARTIFACTS)
            return False

    def read_text(self, uri: str) -> str:
        with self.store.open(uri) as handle:
            return handle.read().decode(errors="replace")
