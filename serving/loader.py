"""Load a registered version for serving, only from an artifact the registry owns.

A version's model folder is copied out of the artifact store (which refuses URIs outside its root) into
a local cache keyed by digest, and its digest is recomputed from the files and compared with the digest
the store recorded before anything is unpickled. A pickle that was swapped, edited or placed by hand is
therefore never loaded.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from serving import flavors
from serving.logged import MODEL_TYPES
from serving.signature import Signature
from tuner.artifacts import ArtifactStore
from tuner.artifacts.fsspec_store import MANIFEST, file_digest
from tuner.errors import StoreValueError
from tuner.store.records import Artifact, ModelVersion


@dataclass(frozen=True)
class LoadedModel:
    """A version ready to answer: its predict function, signature and where it came from."""

    name: str
    version: int
    version_id: int
    flavor: str
    predict: flavors.Predict
    signature: Signature | None
    digest: str


def tree_digest(folder: Path) -> str:
    """The digest the artifact store gives a folder (sha256 of its manifest of files and digests)."""
    entries: list[dict[str, Any]] = []
    for file in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST):
        digest, size = file_digest(file)
        entries.append({"path": file.relative_to(folder).as_posix(), "digest": digest, "size": size})
    manifest = json.dumps({"files": entries}, sort_keys=True, separators=(",", ":")).encode()
    return f"sha256:{hashlib.sha256(manifest).hexdigest()}"


def fetch(artifacts: ArtifactStore, artifact: Artifact, cache: Path) -> Path:
    """A verified local copy of a model artifact's folder (reused when the cached copy still matches)."""
    target = cache / artifact.digest.removeprefix("sha256:")
    if target.is_dir() and tree_digest(target) == artifact.digest:
        return target
    cache.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{uuid.uuid4().hex[:8]}-", dir=cache))
    try:
        artifacts.get(artifact.uri, scratch / "model")
        found = tree_digest(scratch / "model")
        if found != artifact.digest:
            raise StoreValueError(
                f"model artifact {artifact.uri} has digest {found}, but the registry recorded "
                f"{artifact.digest}: it was changed after it was logged, so it is not loaded"
            )
        shutil.rmtree(target, ignore_errors=True)
        (scratch / "model").rename(target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def load_version(
    name: str, version: ModelVersion, artifact: Artifact, artifacts: ArtifactStore, cache: Path
) -> LoadedModel:
    """Load a version's model (see the module docstring for the checks)."""
    if artifact.type not in MODEL_TYPES:
        raise StoreValueError(f"artifact {artifact.uri} is a {artifact.type!r}, not a model")
    folder = fetch(artifacts, artifact, cache)
    meta = flavors.read_meta(folder)
    signature = Signature.from_dict(meta["signature"]) if meta.get("signature") else None
    return LoadedModel(
        name=name,
        version=version.version,
        version_id=version.id,
        flavor=str(meta.get("flavor")),
        predict=flavors.load(folder, meta),
        signature=signature,
        digest=artifact.digest,
    )
