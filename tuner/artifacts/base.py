"""The artifact store contract: put bytes, files and folders somewhere durable; get them back by URI.

Who calls it: trials and pipeline tasks saving outputs (models, datasets, reports), the registry when a
model version is created, the inference server when it loads a model. What it returns (`StoredArtifact`:
URI, sha256 digest, size) is what `Store.register_artifact` records; this package never touches the
metadata store itself, and it knows nothing about what an artifact means.

Guarantees every implementation gives:
    * Content addressing: the URI is derived from the content's sha256, so an artifact never changes
      after it is written (a registered model version cannot change under a deployment) and storing the
      same content twice stores it once.
    * Atomicity: a reader sees a whole artifact or none; a crash mid-write leaves no half-written file
      at the final URI.
    * Thread safety: one instance may be shared by threads; several processes may write the same root.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from tuner.errors import StoreValueError


def check_range(start: int, end: int | None) -> None:
    """Refuse a byte range that cannot be read (negative, or ending before it starts)."""
    if start < 0 or (end is not None and end < start):
        raise StoreValueError(
            f"byte range start={start} end={end} is not readable: start must be >= 0 and end >= start "
            "(or None for the end of the file)"
        )


@dataclass(frozen=True)
class StoredArtifact:
    """Where an artifact was stored and what it is: `digest` is "sha256:<hex>", `size` in bytes."""

    uri: str
    digest: str
    size: int


class ArtifactStore(abc.ABC):
    """Content-addressed storage of files, byte strings and folders under one root URI."""

    @property
    @abc.abstractmethod
    def root(self) -> str:
        """The root URI everything is stored under (e.g. file:///home/u/.local/share/tuner/artifacts)."""

    @abc.abstractmethod
    def put_bytes(self, data: bytes, name: str = "data") -> StoredArtifact:
        """Store `data` as a file called `name` (the name is kept so loaders can go by its extension).

        Raises:
            StoreValueError: `name` is empty or contains a path separator.
        """

    @abc.abstractmethod
    def put_file(self, path: str | Path, name: str | None = None) -> StoredArtifact:
        """Store a local file (under its own name unless `name` is given).

        Raises:
            NotFoundError: there is no file at `path`.
            StoreValueError: `name` is empty or contains a path separator.
        """

    @abc.abstractmethod
    def put_dir(self, path: str | Path) -> StoredArtifact:
        """Store a local folder and everything in it; the digest covers every relative path and content.

        Raises:
            NotFoundError: there is no folder at `path`.
        """

    @abc.abstractmethod
    def open(self, uri: str) -> BinaryIO:
        """Open a stored file for reading (binary).

        Raises:
            NotFoundError: nothing is stored at `uri` (or it is a folder).
            StoreValueError: `uri` is not under this store's root.
        """

    def read_range(self, uri: str, start: int, end: int | None = None) -> bytes:
        """Bytes `start` to `end` (exclusive; None: the end of the file) of a stored file, without reading
        the rest (on S3 one ranged GET), e.g. the tail of a large log or one chunk of a model.

        Raises:
            NotFoundError: nothing is stored at `uri`.
            StoreValueError: `uri` is not under this store's root, or the range is negative or reversed.
        """
        check_range(start, end)
        with self.open(uri) as handle:
            handle.seek(start)
            return handle.read() if end is None else handle.read(end - start)

    @abc.abstractmethod
    def list_files(self, prefix: str | None = None) -> list[str]:
        """The URIs of every stored file under `prefix` (a URI under the root; None: the whole root), sorted.

        Raises:
            StoreValueError: `prefix` is not under this store's root.
        """

    @abc.abstractmethod
    def get(self, uri: str, local_path: str | Path) -> Path:
        """Copy a stored file or folder to `local_path` and return it.

        Raises:
            NotFoundError: nothing is stored at `uri`.
            StoreValueError: `uri` is not under this store's root.
        """

    @abc.abstractmethod
    def exists(self, uri: str) -> bool:
        """Whether a complete artifact is stored at `uri`.

        Raises:
            StoreValueError: `uri` is not under this store's root.
        """

    @abc.abstractmethod
    def delete(self, uri_or_prefix: str) -> int:
        """Delete an artifact, or everything under a prefix of the root; return how many files went.

        Raises:
            StoreValueError: the URI is not under this store's root.
        """
