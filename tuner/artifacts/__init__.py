"""Artifact storage: a local folder by default, any fsspec URL (s3://, memory://, ...) when configured.

>>> from tuner.artifacts import open_artifact_store
>>> store = open_artifact_store("memory://doctest-artifacts")
>>> stored = store.put_bytes(b"weights", name="model.bin")
>>> stored.uri.endswith("/model.bin"), stored.size, store.open(stored.uri).read()
(True, 7, b'weights')
"""

from __future__ import annotations

from typing import Any

from tuner.artifacts.base import ArtifactStore, StoredArtifact
from tuner.config import Settings

__all__ = ["ArtifactStore", "StoredArtifact", "open_artifact_store"]


def open_artifact_store(
    url: str | None = None, settings: Settings | None = None, **storage_options: Any
) -> ArtifactStore:
    """The artifact store at `url` (default: `settings.artifacts_url`, a folder in the data folder).

    `storage_options` go to fsspec unchanged (e.g. `endpoint_url=...` for an S3-compatible server).
    """
    from tuner.artifacts.fsspec_store import FsspecArtifactStore

    if url is None:
        url = (settings or Settings.from_env()).artifacts_url
    return FsspecArtifactStore(url, **storage_options)
