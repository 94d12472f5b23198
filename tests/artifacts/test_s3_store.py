"""The artifact store's s3:// path (fsspec + s3fs) against a real S3-speaking server on loopback: moto's server
mode in a subprocess, with IAM authentication switched on, so that wrong credentials are refused as MinIO or
AWS would refuse them (HTTP 403), not accepted as moto does by default.

The deployment (deploy/overlays/production) configures the store through the environment only
(TUNER_ARTIFACTS, AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY); one test opens it that way.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import httpx
import pytest

from tuner.artifacts import ArtifactStore, open_artifact_store
from tuner.config import Settings
from tuner.errors import ConfigError, NotFoundError, StoreValueError

BUCKET = "tuner-artifacts"
READY_WAIT_S = 60.0
ALLOW_S3 = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}


@dataclass(frozen=True)
class S3Server:
    """A running moto server: its endpoint and the one IAM user's key that may use the bucket."""

    endpoint: str
    key: str
    secret: str

    def options(self, key: str | None = None, secret: str | None = None) -> dict[str, object]:
        """s3fs storage options for this server (these credentials, or others)."""
        return {
            "endpoint_url": self.endpoint,
            "key": key or self.key,
            "secret": secret or self.secret,
            "client_kwargs": {"region_name": "us-east-1"},
            "skip_instance_cache": True,
        }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """moto's S3 server on a free loopback port; an IAM user with an s3:* policy, its access key and the
    bucket are made while authentication is off, then authentication is switched on for every request."""
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    try:
        _wait_ready(endpoint, process, log)
        setup = {
            "endpoint_url": endpoint,
            "region_name": "us-east-1",
            "aws_access_key_id": "setup",
            "aws_secret_access_key": "setup",
        }
        iam = boto3.client("iam", **setup)
        iam.create_user(UserName="tuner")
        iam.put_user_policy(UserName="tuner", PolicyName="s3", PolicyDocument=json.dumps(ALLOW_S3))
        key = iam.create_access_key(UserName="tuner")["AccessKey"]
        boto3.client("s3", **setup).create_bucket(Bucket=BUCKET)
        httpx.post(f"{endpoint}/moto-api/reset-auth", content=b"0").raise_for_status()
        yield S3Server(endpoint, key["AccessKeyId"], key["SecretAccessKey"])
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_ready(endpoint: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_WAIT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"moto server exited ({process.returncode}): {log.read_text()[-2000:]}")
        try:
            httpx.get(f"{endpoint}/moto-api/", timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError(f"moto server not answering at {endpoint} after {READY_WAIT_S:.0f} s")


@pytest.fixture
def store(s3: S3Server, request: pytest.FixtureRequest) -> ArtifactStore:
    """A store under its own prefix of the bucket (tests do not see each other's files)."""
    return open_artifact_store(f"s3://{BUCKET}/{request.node.name}", **s3.options())


def test_upload_and_download_bytes_files_and_folders(store: ArtifactStore, tmp_path: Path) -> None:
    stored = store.put_bytes(b"weights" * 1000, name="model.bin")
    assert stored.uri.startswith(f"s3://{BUCKET}/") and stored.uri.endswith("/model.bin")
    assert stored.size == 7000 and store.exists(stored.uri)
    with store.open(stored.uri) as handle:
        assert handle.read() == b"weights" * 1000

    source = tmp_path / "report.json"
    source.write_text('{"accuracy": 0.93}')
    copy = store.get(store.put_file(source).uri, tmp_path / "out" / "report.json")
    assert copy.read_text() == '{"accuracy": 0.93}'

    folder = tmp_path / "model"
    (folder / "sub").mkdir(parents=True)
    (folder / "MLmodel").write_text("flavor: sklearn")
    (folder / "sub" / "weights.npy").write_bytes(bytes(range(256)))
    tree = store.put_dir(folder)
    assert store.exists(tree.uri)
    back = store.get(tree.uri, tmp_path / "back")
    assert (back / "MLmodel").read_text() == "flavor: sklearn"
    assert (back / "sub" / "weights.npy").read_bytes() == bytes(range(256))


def test_download_with_ranges(store: ArtifactStore) -> None:
    data = bytes(range(256)) * 64  # 16 KiB, every offset's byte known
    stored = store.put_bytes(data, name="blob.bin")
    assert store.read_range(stored.uri, 0, 10) == data[:10]
    assert store.read_range(stored.uri, 1000, 1300) == data[1000:1300]
    assert store.read_range(stored.uri, len(data) - 5) == data[-5:]
    assert store.read_range(stored.uri, 7, 7) == b""
    with store.open(stored.uri) as handle:  # seeking a file opened for reading fetches from that offset
        handle.seek(4096)
        assert handle.read(3) == data[4096:4099]
    with pytest.raises(StoreValueError, match="start=20 end=10"):
        store.read_range(stored.uri, 20, 10)


def test_listing(store: ArtifactStore, tmp_path: Path) -> None:
    assert store.list_files() == []
    first = store.put_bytes(b"a", name="a.txt")
    second = store.put_bytes(b"b", name="b.txt")
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "x.txt").write_text("x")
    tree = store.put_dir(folder)
    listed = store.list_files()
    assert listed == sorted(listed)
    assert {first.uri, second.uri, tree.uri + "x.txt", tree.uri + ".tuner-tree.json"} == set(listed)
    assert store.list_files(tree.uri) == [tree.uri + ".tuner-tree.json", tree.uri + "x.txt"]
    assert store.list_files(first.uri) == [first.uri]
    assert store.delete(second.uri) == 1
    assert second.uri not in store.list_files()


def test_missing_objects_are_named(store: ArtifactStore, tmp_path: Path) -> None:
    missing = f"{store.root}/blobs/00/{'0' * 64}/model.bin"
    assert not store.exists(missing)
    with pytest.raises(NotFoundError, match=f"no stored file at {missing}"):
        store.open(missing)
    with pytest.raises(NotFoundError, match="no stored file"):
        store.read_range(missing, 0, 10)
    with pytest.raises(NotFoundError, match="nothing is stored"):
        store.get(missing, tmp_path / "x")
    with pytest.raises(StoreValueError, match="not under the artifact store root"):
        store.open(f"s3://{BUCKET}/elsewhere/model.bin")


def test_a_missing_bucket_is_named_with_the_fix(s3: S3Server) -> None:
    store = open_artifact_store("s3://no-such-bucket/tuner", **s3.options())
    with pytest.raises(ConfigError, match=r"s3://no-such-bucket/tuner cannot be written.*create the bucket"):
        store.put_bytes(b"x")


@pytest.mark.parametrize(
    "wrong", [pytest.param("key", id="unknown-access-key"), pytest.param("secret", id="wrong-secret")]
)
def test_wrong_credentials_are_refused_clearly(s3: S3Server, wrong: str) -> None:
    """Wrong credentials are a ConfigError naming the store and the variables to check, for reads as for
    writes; before, fsspec's isfile() turned a 403 into "no stored file", sending the user the wrong way."""
    good = open_artifact_store(f"s3://{BUCKET}/creds", **s3.options())
    stored = good.put_bytes(b"secret model", name="m.bin")
    options = (
        s3.options(key="AKIAWRONGWRONGWRONG1") if wrong == "key" else s3.options(secret="not-the-secret")
    )
    bad = open_artifact_store(f"s3://{BUCKET}/creds", **options)
    expected = r"s3://tuner-artifacts/creds denied {}.*AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    with pytest.raises(ConfigError, match=expected.format("writing")):
        bad.put_bytes(b"x")
    for read in (
        lambda: bad.open(stored.uri),
        lambda: bad.exists(stored.uri),
        lambda: bad.read_range(stored.uri, 0, 2),
    ):
        with pytest.raises(ConfigError, match=expected.format("reading")):
            read()
    with pytest.raises(ConfigError, match=expected.format("listing")):
        bad.list_files()


def test_configured_from_the_environment_as_deployed(s3: S3Server, monkeypatch: pytest.MonkeyPatch) -> None:
    """What deploy/overlays/production sets (TUNER_ARTIFACTS, AWS_ENDPOINT_URL_S3 and the key pair) is all
    the store needs: no storage options in code."""
    monkeypatch.setenv("TUNER_ARTIFACTS", f"s3://{BUCKET}/from-env")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3.key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3.secret)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    store = open_artifact_store(settings=Settings.from_env(), skip_instance_cache=True)
    stored = store.put_bytes(b"from the environment", name="env.txt")
    assert stored.uri.startswith(f"s3://{BUCKET}/from-env/")
    direct = boto3.client(
        "s3", endpoint_url=s3.endpoint, region_name="us-east-1",
        aws_access_key_id=s3.key, aws_secret_access_key=s3.secret,
    )  # fmt: skip
    key = stored.uri.removeprefix(f"s3://{BUCKET}/")
    assert direct.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"from the environment"
