"""The artifact store on a local folder (the default) and on fsspec's in-memory filesystem."""

from __future__ import annotations

import hashlib
import shutil
import uuid
from pathlib import Path

import pytest

from tuner.artifacts import ArtifactStore, open_artifact_store
from tuner.config import Settings
from tuner.errors import NotFoundError, StoreValueError


@pytest.fixture(params=["local", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    if request.param == "local":
        return open_artifact_store(str(tmp_path / "artifacts"))
    return open_artifact_store(f"memory://tests-{uuid.uuid4().hex}")


def _tree(root: Path) -> Path:
    (root / "sub").mkdir(parents=True)
    (root / "model.pkl").write_bytes(b"weights")
    (root / "sub" / "config.json").write_text('{"a": 1}')
    return root


def test_put_bytes_is_content_addressed(store: ArtifactStore) -> None:
    stored = store.put_bytes(b"hello", name="greeting.txt")
    assert stored.digest == "sha256:" + hashlib.sha256(b"hello").hexdigest()
    assert stored.size == 5 and stored.uri.startswith(store.root) and stored.uri.endswith("/greeting.txt")
    assert store.put_bytes(b"hello", name="greeting.txt") == stored  # same content, same place
    assert store.put_bytes(b"hello!", name="greeting.txt").uri != stored.uri
    with store.open(stored.uri) as handle:
        assert handle.read() == b"hello"
    assert store.exists(stored.uri)


def test_put_file_and_get(store: ArtifactStore, tmp_path: Path) -> None:
    source = tmp_path / "model.pkl"
    source.write_bytes(b"\x00" * 3000)
    stored = store.put_file(source)
    assert stored.uri.endswith("/model.pkl") and stored.size == 3000
    copy = store.get(stored.uri, tmp_path / "out" / "copy.pkl")
    assert copy.read_bytes() == source.read_bytes()
    assert store.put_file(source, name="renamed.bin").uri.endswith("/renamed.bin")
    with pytest.raises(NotFoundError, match="no file"):
        store.put_file(tmp_path / "missing")
    with pytest.raises(StoreValueError, match="plain file name"):
        store.put_file(source, name="a/b")


def test_put_dir_round_trip(store: ArtifactStore, tmp_path: Path) -> None:
    source = _tree(tmp_path / "model")
    stored = store.put_dir(source)
    assert stored.uri.endswith("/") and stored.size == len(b"weights") + len('{"a": 1}')
    assert store.exists(stored.uri)
    assert store.put_dir(source) == stored
    out = store.get(stored.uri, tmp_path / "restored")
    assert (out / "model.pkl").read_bytes() == b"weights"
    assert (out / "sub" / "config.json").read_text() == '{"a": 1}'
    assert not (out / ".tuner-tree.json").exists()
    (source / "sub" / "config.json").write_text('{"a": 2}')
    assert store.put_dir(source).digest != stored.digest  # any content change is a new artifact


def test_delete_by_uri_and_prefix(store: ArtifactStore, tmp_path: Path) -> None:
    one = store.put_bytes(b"1", name="one")
    two = store.put_bytes(b"2", name="two")
    tree = store.put_dir(_tree(tmp_path / "t"))
    assert store.delete(one.uri) == 1
    assert not store.exists(one.uri) and store.exists(two.uri)
    assert store.delete(tree.uri) == 3  # two files and the manifest
    assert not store.exists(tree.uri)
    assert store.delete(store.root + "/blobs") == 1
    assert not store.exists(two.uri)
    assert store.delete(one.uri) == 0


def test_missing_and_foreign_uris(store: ArtifactStore) -> None:
    missing = store.root + "/blobs/00/00/nothing"
    assert not store.exists(missing)
    with pytest.raises(NotFoundError):
        store.open(missing)
    with pytest.raises(NotFoundError):
        store.get(missing, "/tmp/never")
    with pytest.raises(StoreValueError, match="not under the artifact store root"):
        store.exists("memory://somewhere-else/x" if store.root.startswith("file") else "file:///etc/passwd")


def test_a_failed_local_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Injects a failure halfway through copying (the disk cannot be made to fail for real here)."""
    store = open_artifact_store(str(tmp_path / "artifacts"))
    source = tmp_path / "big.bin"
    source.write_bytes(b"x" * 10_000)

    def broken_copy(src: Path, dst: Path) -> None:
        Path(dst).write_bytes(Path(src).read_bytes()[:100])
        raise OSError("disk full")

    monkeypatch.setattr(shutil, "copyfile", broken_copy)
    with pytest.raises(OSError, match="disk full"):
        store.put_file(source)
    leftovers = [p for p in (tmp_path / "artifacts").rglob("*") if p.is_file()]
    assert leftovers == []


def test_default_location_is_the_data_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TUNER_HOME", str(tmp_path / "home"))
    store = open_artifact_store()
    stored = store.put_bytes(b"x")
    assert stored.uri.startswith(f"file://{tmp_path / 'home' / 'artifacts'}")
    monkeypatch.setenv("TUNER_ARTIFACTS", "memory://configured")
    root = open_artifact_store(settings=Settings.from_env()).root
    assert root.startswith("memory://") and root.endswith("/configured")


def test_read_range_and_list_files(store: ArtifactStore) -> None:
    data = bytes(range(200))
    stored = store.put_bytes(data, name="r.bin")
    assert store.read_range(stored.uri, 10, 20) == data[10:20]
    assert store.read_range(stored.uri, 195) == data[195:]
    assert store.read_range(stored.uri, 5, 5) == b""
    with pytest.raises(StoreValueError, match="start=-1"):
        store.read_range(stored.uri, -1)
    with pytest.raises(NotFoundError):
        store.read_range(stored.uri + "-missing", 0, 1)
    assert store.list_files() == [stored.uri]
