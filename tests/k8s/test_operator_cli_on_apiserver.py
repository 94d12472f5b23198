"""`tuner operator` as the Deployment runs it (`--namespace NS --metrics-port P --leader-elect`), two
replicas against a real kube-apiserver: both answer /healthz and /readyz, exactly one holds the Lease and
says so in /metrics, and when the leader stops (SIGTERM) it releases the Lease and the other takes over."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from kubernetes import client

from controllers.kubernetes.client import LEASES, KubeError
from controllers.kubernetes.real import RealKubeClient
from tests.k8s.apiserver import ApiServer

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(what: str, check: Callable[[], Any], timeout: float = 180.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class Replica:
    def __init__(self, kube: ApiServer, namespace: str, name: str, store: str, log: Path) -> None:
        self.port = free_port()
        self.name = name
        self.log = log
        env = {**os.environ, "PYTHONPATH": str(ROOT), "KUBECONFIG": str(kube.kubeconfig), "POD_NAME": name}
        env.pop("KUBERNETES_SERVICE_HOST", None)
        with log.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tuner.cli", "operator", "--namespace", namespace,
                 "--metrics-port", str(self.port), "--metrics-host", "127.0.0.1", "--leader-elect", "--store", store],
                env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def get(self, path: str) -> httpx.Response | None:
        assert self.process.poll() is None, self.log.read_text()
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}{path}", timeout=5)
        except httpx.HTTPError:
            return None

    def leader_metric(self) -> float | None:
        answer = self.get("/metrics")
        if answer is None:
            return None
        for line in answer.text.splitlines():
            if line.startswith("tuner_operator_leader "):
                return float(line.split()[1])
        return None

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=120)


@pytest.fixture
def replicas(kube: ApiServer, namespace: str, tuner_crds: Any, tmp_path: Path) -> Iterator[list[Replica]]:
    store = f"sqlite:///{tmp_path / 'tuner.db'}"
    started = [
        Replica(kube, namespace, f"replica-{i}", store, tmp_path / f"replica-{i}.log") for i in range(2)
    ]
    yield started
    for replica in started:
        if replica.process.poll() is None:
            replica.process.kill()
            replica.process.wait()


def test_two_replicas_one_leader_and_a_handover(
    replicas: list[Replica], kube_client: client.ApiClient, namespace: str
) -> None:
    kube = RealKubeClient(kube_client)
    for replica in replicas:
        wait_for("/healthz", lambda r=replica: (a := r.get("/healthz")) is not None and a.status_code == 200)
        wait_for("/readyz", lambda r=replica: (a := r.get("/readyz")) is not None and a.status_code == 200)

    def holder() -> str:
        try:
            return str(kube.get(LEASES, "tuner-operator", namespace)["spec"].get("holderIdentity") or "")
        except KubeError:
            return ""

    leader_name = wait_for("a leader", holder)
    leader = next(r for r in replicas if r.name == leader_name)
    other = next(r for r in replicas if r is not leader)
    wait_for("the leader's metric", lambda: leader.leader_metric() == 1.0)
    assert other.leader_metric() == 0.0
    assert "tuner_operator_experiments_current" in leader.get("/metrics").text  # type: ignore[union-attr]
    assert leader.stop() == 0
    logged = [json.loads(line) for line in leader.log.read_text().splitlines() if line.startswith("{")]
    assert any(r["message"] == "became the leader" and r["identity"] == leader.name for r in logged)
    assert all({"time", "level", "logger", "message"} <= set(r) for r in logged)
    wait_for("the other replica to take over", lambda: holder() == other.name)
    wait_for("its metric", lambda: other.leader_metric() == 1.0)
    assert other.stop() == 0
