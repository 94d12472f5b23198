"""Fixtures for the serving tests: a store with registered models, and a real server on loopback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from serving.asgi import ServingApp
from serving.logged import save_to_store
from serving.registry import Registry
from serving.server import ModelServer, ServeOptions
from serving.signature import Signature, TensorSpec
from tuner.config import Settings
from tuner.store import Store, open_store


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    """Poll `condition` until it is truthy; fail naming `what` if it never is (a state wait, not a timing)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Store]:
    db = open_store(sqlite_url)
    yield db
    db.close()


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    return Settings.from_env(store_url=sqlite_url)


DIGITS_SIGNATURE = Signature(
    (TensorSpec("input-0", "FP64", (-1, 64)),), (TensorSpec("output-0", "INT64", (-1,)),)
)


def register(
    store: Store,
    settings: Settings,
    model: Any,
    example: Any,
    *,
    name: str = "digits",
    flavor: str = "sklearn",
) -> int:
    """Log `model` (no trial) and register it as the next version of `name`; return the version number.

    'python' models get the digits signature given, not inferred (the broken one cannot answer).
    """
    signature = DIGITS_SIGNATURE if flavor == "python" else None
    logged = save_to_store(
        store, settings, model, name, flavor=flavor, input_example=example, signature=signature
    )
    version, _ = Registry(store, actor="test").register(name, logged.artifact)
    return version.version


@contextmanager
def serving(options: ServeOptions) -> Iterator[tuple[str, ModelServer]]:
    """A `tuner serve` server (the same app and uvicorn) on a free loopback port, in a thread."""
    import uvicorn

    server = ModelServer(options)
    server.open()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(ServingApp(server), lifespan="on", log_level="warning", access_log=False)
    runner = uvicorn.Server(config)
    thread = threading.Thread(target=runner.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_for(lambda: runner.started, "the server to start")
    try:
        yield f"http://127.0.0.1:{port}", server
    finally:
        runner.should_exit = True
        thread.join(timeout=30)


def v2_body(rows: Any) -> dict[str, Any]:
    import numpy as np

    array = np.asarray(rows, dtype=float)
    return {
        "inputs": [
            {
                "name": "input-0",
                "shape": list(array.shape),
                "datatype": "FP64",
                "data": array.ravel().tolist(),
            }
        ]
    }


@dataclass
class Load:
    """Clients sending V2 requests until stopped; counts answers by version and every failure."""

    url: str
    rows: Any
    clients: int = 8
    versions: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    requests: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)

    def _client(self, index: int) -> None:
        body = v2_body(self.rows[index % len(self.rows) : index % len(self.rows) + 1])
        with httpx.Client(timeout=30) as client:
            while not self._stop.is_set():
                try:
                    response = client.post(f"{self.url}/v2/models/digits/infer", json=body)
                except httpx.HTTPError as exc:
                    with self._lock:
                        self.failures.append(repr(exc))
                    continue
                with self._lock:
                    self.requests += 1
                    if response.status_code != 200:
                        self.failures.append(f"{response.status_code} {response.text}")
                    else:
                        version = response.json()["model_version"]
                        self.versions[version] = self.versions.get(version, 0) + 1

    def __enter__(self) -> Load:
        for index in range(self.clients):
            thread = threading.Thread(target=self._client, args=(index,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def count(self, version: str) -> int:
        with self._lock:
            return self.versions.get(version, 0)
