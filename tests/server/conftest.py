"""A real `tuner server` subprocess on a free loopback port, as users start it, and experiment documents
whose trials are tiny `python3 -c` programs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.controllers.conftest import ARGS, experiment_document

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 120.0  # a loaded machine starts a server slowly (and it resumes work first)
WAIT_SECONDS = 120.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """`python -m tuner.cli server` on one store and data folder; can be killed and started again."""

    def __init__(
        self,
        home: Path,
        store_url: str,
        root_path: str = "",
        args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.home, self.store_url, self.root_path = home, store_url, root_path
        self.extra_args, self.extra_env = list(args), dict(env or {})
        self.port = free_port()
        self.proc: subprocess.Popen[str] | None = None
        self.log = home / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TUNER_HOME": str(self.home), **self.extra_env}
        args = [
            sys.executable,
            "-m",
            "tuner.cli",
            "server",
            "--port",
            str(self.port),
            "--store",
            self.store_url,
        ]
        if self.root_path:
            args += ["--root-path", self.root_path]
        args += self.extra_args
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen(
                args, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert self.proc.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, f"the server did not come up:\n{self.log.read_text()}"
            time.sleep(0.2)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    started: list[ServerProcess] = []

    def start(
        store_url: str | None = None,
        root_path: str = "",
        args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
    ) -> ServerProcess:
        home = tmp_path / f"home{len(started)}"
        home.mkdir()
        server = ServerProcess(home, store_url or f"sqlite:///{tmp_path / 'tuner.db'}", root_path, args, env)
        started.append(server)
        server.start()
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def server(server_factory: Callable[..., ServerProcess]) -> ServerProcess:
    return server_factory()


def trial_experiment(name: str, script: str, **options: Any) -> dict[str, Any]:
    """An Experiment whose trials run `python3 -c script` (`args['x']` holds the parameter)."""
    return experiment_document(name, ARGS + textwrap.dedent(script), **options)


def wait_for_state(
    base: str,
    namespace: str,
    name: str,
    states: set[str],
    timeout: float = WAIT_SECONDS,
    headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Poll the API until the experiment's latest condition is one of `states`; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    last: dict[str, Any] = {}
    while time.monotonic() < deadline:
        reply = httpx.get(f"{base}/api/v1/experiments/{namespace}/{name}", timeout=10, headers=headers)
        assert reply.status_code == 200, reply.text
        last = reply.json()
        conditions = last["status"].get("conditions") or []
        if conditions and conditions[-1]["type"] in states and conditions[-1]["status"] == "True":
            return last
        time.sleep(0.2)
    raise AssertionError(f"{namespace}/{name} never reached {states}: {last.get('status')}")


def latest_state(document: dict[str, Any]) -> str:
    conditions = document["status"].get("conditions") or []
    return str(conditions[-1]["type"]) if conditions else ""
