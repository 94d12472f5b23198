"""`FsspecArtifactStore`: the artifact store on any fsspec filesystem (local folder, s3://, memory://...).

Layout under the root, content-addressed (see `tuner.artifacts.base` for why):

    blobs/<h[:2]>/<h>/<name>           a file or byte string whose sha256 is h, under its own name
    trees/<h[:2]>/<h>/...              a folder; h is the sha256 of its manifest (relative path, file
    trees/<h[:2]>/<h>/.tuner-tree.json digest and size of every file); the manifest is written last and
                                       marks the folder complete

Keeping the file name in the blob path costs a little deduplication (the same bytes under two names
are stored twice) and buys loaders that go by extension (model.pkl, model.onnx) and paths a person can
read. Run-scoped paths were not chosen because they let a "version" change underneath a deployment.

Atomic writes: on a local filesystem everything is written to a temporary name in the root and renamed
into place (a rename is atomic within one filesystem); object stores (S3 and friends) make a single PUT
visible whole, and folders there become visible when their manifest is written.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, cast

import fsspec
from fsspec.implementations.local import LocalFileSystem

from tuner.artifacts.base import ArtifactStore, StoredArtifact, check_range
from tuner.errors import ConfigError, NotFoundError, StoreValueError

MANIFEST = ".tuner-tree.json"
_CHUNK = 1 << 20


def file_digest(path: Path) -> tuple[str, int]:
    """sha256 (as "sha256:<hex>") and size of a local file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return f"sha256:{digest.hexdigest()}", size


def _check_name(name: str) -> str:
    if not name or "/" in name or "\\" in name or name in (".", ".."):
        raise StoreValueError(f"artifact name {name!r} must be a plain file name (no '/'), e.g. 'model.pkl'")
    return name


class FsspecArtifactStore(ArtifactStore):
    """Artifacts under `url` on the fsspec filesystem it names; a plain path means a local folder."""

    def __init__(self, url: str, **storage_options: Any) -> None:
        fs, root = fsspec.core.url_to_fs(url, **storage_options)
        self._fs = fs
        self._root = root.rstrip("/")
        self._local = isinstance(fs, LocalFileSystem)
        if self._local:
            Path(self._root).mkdir(parents=True, exist_ok=True)

    @property
    def root(self) -> str:
        return cast(str, self._fs.unstrip_protocol(self._root))

    def __repr__(self) -> str:
        return f"FsspecArtifactStore({self.root!r})"

    # --- public operations: the filesystem's access errors become messages that say what to fix ---------

    def put_bytes(self, data: bytes, name: str = "data") -> StoredArtifact:
        with self._remote_errors("writing", write=True):
            return self._put_bytes(data, name)

    def put_file(self, path: str | Path, name: str | None = None) -> StoredArtifact:
        with self._remote_errors("writing", write=True):
            return self._put_file(path, name)

    def put_dir(self, path: str | Path) -> StoredArtifact:
        with self._remote_errors("writing", write=True):
            return self._put_dir(path)

    def exists(self, uri: str) -> bool:
        with self._remote_errors("reading"):
            return self._exists(uri)

    def open(self, uri: str) -> BinaryIO:
        with self._remote_errors("reading"):
            return self._open(uri)

    def get(self, uri: str, local_path: str | Path) -> Path:
        with self._remote_errors("reading"):
            return self._get(uri, local_path)

    def delete(self, uri_or_prefix: str) -> int:
        with self._remote_errors("deleting", write=True):
            return self._delete(uri_or_prefix)

    def read_range(self, uri: str, start: int, end: int | None = None) -> bytes:
        check_range(start, end)
        path = self._path(uri)
        with self._remote_errors("reading"):
            self._require_file(path, uri)
            if end == start:  # an empty range; s3fs would send no Range header and return everything
                return b""
            return bytes(self._fs.cat_file(path, start=start, end=end))

    def list_files(self, prefix: str | None = None) -> list[str]:
        path = self._root if prefix is None else self._path(prefix)
        with self._remote_errors("listing"):
            if self._is_file(path):
                return [self._uri(path)]
            if not self._is_there(path):
                return []
            temporary = f"{self._root}/.tmp/"
            return sorted(self._uri(p) for p in self._fs.find(path) if not p.startswith(temporary))

    def _require_file(self, path: str, uri: str) -> None:
        if not self._is_file(path):
            raise NotFoundError(f"no stored file at {uri}")

    def _kind(self, path: str) -> str | None:
        """The kind of what is at `path`: "file", "directory" or None (nothing there). Asks the filesystem
        itself: fsspec's isfile() and exists() answer False to any error, so refused credentials looked
        like absence."""
        try:
            return cast(str, self._fs.info(path).get("type"))
        except FileNotFoundError:
            return None

    def _is_file(self, path: str) -> bool:
        return self._kind(path) == "file"

    def _is_there(self, path: str) -> bool:
        return self._kind(path) is not None

    @contextmanager
    def _remote_errors(self, doing: str, write: bool = False) -> Iterator[None]:
        """Refused credentials and missing buckets as ConfigError naming the root and the settings to check."""
        try:
            yield
        except PermissionError as exc:
            raise ConfigError(
                f"the artifact store {self.root} denied {doing} ({_reason(exc)}); check its credentials "
                f"({_credential_hint(self.root)}) and that they may read and write under it"
            ) from exc
        except FileNotFoundError as exc:
            if not write:
                raise
            raise ConfigError(
                f"the artifact store {self.root} cannot be written: {_reason(exc)}; create the bucket or folder "
                "it names, or point TUNER_ARTIFACTS elsewhere"
            ) from exc

    # --- paths ------------------------------------------------------------------------------------------

    def _uri(self, path: str) -> str:
        return cast(str, self._fs.unstrip_protocol(path))

    def _path(self, uri: str) -> str:
        """The filesystem path of a URI of this store; refuses URIs elsewhere."""
        path = cast(str, self._fs._strip_protocol(uri)).rstrip("/")
        if path != self._root and not path.startswith(self._root + "/"):
            raise StoreValueError(f"{uri} is not under the artifact store root {self.root}")
        return path

    def _blob_path(self, digest: str, name: str) -> str:
        hexdigest = digest.removeprefix("sha256:")
        return f"{self._root}/blobs/{hexdigest[:2]}/{hexdigest}/{name}"

    def _tree_path(self, digest: str) -> str:
        hexdigest = digest.removeprefix("sha256:")
        return f"{self._root}/trees/{hexdigest[:2]}/{hexdigest}"

    # --- writes -----------------------------------------------------------------------------------------

    def _put_bytes(self, data: bytes, name: str = "data") -> StoredArtifact:
        digest = f"sha256:{hashlib.sha256(data).hexdigest()}"
        target = self._blob_path(digest, _check_name(name))
        if not self._is_there(target):
            if self._local:
                self._replace_local(target, lambda tmp: Path(tmp).write_bytes(data))
            else:
                self._fs.pipe_file(target, data)
        return StoredArtifact(self._uri(target), digest, len(data))

    def _put_file(self, path: str | Path, name: str | None = None) -> StoredArtifact:
        source = Path(path)
        if not source.is_file():
            raise NotFoundError(f"there is no file at {source}")
        digest, size = file_digest(source)
        target = self._blob_path(digest, _check_name(name or source.name))
        if not self._is_there(target):
            if self._local:
                self._replace_local(target, lambda tmp: shutil.copyfile(source, tmp))
            else:
                self._fs.put_file(str(source), target)
        return StoredArtifact(self._uri(target), digest, size)

    def _put_dir(self, path: str | Path) -> StoredArtifact:
        source = Path(path)
        if not source.is_dir():
            raise NotFoundError(f"there is no folder at {source}")
        files = sorted(p for p in source.rglob("*") if p.is_file())
        entries: list[dict[str, Any]] = []
        total = 0
        for file in files:
            digest, size = file_digest(file)
            entries.append({"path": file.relative_to(source).as_posix(), "digest": digest, "size": size})
            total += size
        manifest = json.dumps({"files": entries}, sort_keys=True, separators=(",", ":")).encode()
        digest = f"sha256:{hashlib.sha256(manifest).hexdigest()}"
        target = self._tree_path(digest)
        if not self._is_there(f"{target}/{MANIFEST}"):
            if self._local:
                self._write_local_tree(source, files, manifest, target)
            else:
                for file in files:
                    self._fs.put_file(str(file), f"{target}/{file.relative_to(source).as_posix()}")
                self._fs.pipe_file(f"{target}/{MANIFEST}", manifest)  # last: marks the folder complete
        return StoredArtifact(self._uri(target) + "/", digest, total)

    def _replace_local(self, target: str, write: Any) -> None:
        """Write through a temporary file next to the root, then rename into place (atomic)."""
        temporary = Path(self._root) / ".tmp" / uuid.uuid4().hex
        temporary.parent.mkdir(parents=True, exist_ok=True)
        try:
            write(temporary)
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)

    def _write_local_tree(self, source: Path, files: list[Path], manifest: bytes, target: str) -> None:
        temporary = Path(self._root) / ".tmp" / uuid.uuid4().hex
        try:
            for file in files:
                destination = temporary / file.relative_to(source)
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(file, destination)
            temporary.mkdir(parents=True, exist_ok=True)
            (temporary / MANIFEST).write_bytes(manifest)
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(temporary, target)
            except OSError:
                if not (Path(target) / MANIFEST).exists():  # another writer won the race: same content
                    raise
        finally:
            shutil.rmtree(temporary, ignore_errors=True)

    # --- reads ------------------------------------------------------------------------------------------

    def _manifest(self, path: str) -> list[dict[str, Any]] | None:
        manifest = f"{path}/{MANIFEST}"
        if not self._is_there(manifest):
            return None
        return cast(list[dict[str, Any]], json.loads(self._fs.cat_file(manifest))["files"])

    def _exists(self, uri: str) -> bool:
        path = self._path(uri)
        if uri.endswith("/"):
            return self._manifest(path) is not None
        return bool(self._is_file(path)) or self._manifest(path) is not None

    def _open(self, uri: str) -> BinaryIO:
        path = self._path(uri)
        self._require_file(path, uri)
        return cast(BinaryIO, self._fs.open(path, "rb"))

    def _get(self, uri: str, local_path: str | Path) -> Path:
        path = self._path(uri)
        destination = Path(local_path)
        if self._is_file(path):
            destination.parent.mkdir(parents=True, exist_ok=True)
            self._fs.get_file(path, str(destination))
            return destination
        entries = self._manifest(path)
        if entries is None:
            raise NotFoundError(f"nothing is stored at {uri}")
        for entry in entries:
            file_destination = destination / entry["path"]
            file_destination.parent.mkdir(parents=True, exist_ok=True)
            self._fs.get_file(f"{path}/{entry['path']}", str(file_destination))
        return destination

    def _delete(self, uri_or_prefix: str) -> int:
        path = self._path(uri_or_prefix)
        if not self._is_there(path):
            return 0
        files = [path] if self._is_file(path) else list(self._fs.find(path))
        self._fs.rm(path, recursive=True)
        return len(files)


def _reason(exc: OSError) -> str:
    """The server's own words (s3fs puts the error code and message in args), on one line."""
    text = " ".join(str(a) for a in exc.args if a) or type(exc).__name__
    return " ".join(text.split())


def _credential_hint(root: str) -> str:
    if root.startswith(("file://", "/")):
        return "the folder's owner and permissions"
    if root.startswith(("s3://", "s3a://")):
        return "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and AWS_ENDPOINT_URL_S3 for MinIO or another S3-compatible server"
    return "the storage options or environment its fsspec filesystem reads"
