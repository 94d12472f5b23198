"""Katib's own Python SDK (kubeflow-katib 0.19, unchanged) against `tuner operator --katib-compat` on a real
kube-apiserver where Katib's CRDs are installed and Katib's controller is not.

tests/k8s/katib_sdk_driver.py is the user's script: `KatibClient(config_file=kubeconfig)`,
`create_experiment` with the SDK's models, `wait_for_experiment_condition`, `get_optimal_hyperparameters`,
`list_trials`, `get_success_trial_details`, `delete_experiment`, and `tune` with a Python objective. It runs in
its own process with the SDK's environment (tests/k8s_env/katib_sdk.sh says why); the operator runs here.

No kubelet runs here: the Jobs' commands run as local processes and their pods' completion is patched in by
the stand-in of test_operator_on_apiserver.py (see its docstring); the metrics a pod prints reach the store
by push, as the StdOut collector would read them from the pod's log.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from controllers.kubernetes.client import JOBS, Resource
from controllers.kubernetes.operator import Operator, OperatorConfig
from controllers.kubernetes.real import RealKubeClient
from controllers.kubernetes.trials import KATIB_GROUP
from tests.k8s import apiserver
from tests.k8s.test_katib_compat_on_apiserver import katib_crds  # noqa: F401  (a fixture)
from tests.k8s.test_operator_on_apiserver import PodStandIn, wait_for
from tests.server.conftest import ServerProcess
from tuner.store import open_store

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("katib_sdk_driver.py")


@pytest.fixture(scope="module")
def katib_sdk() -> str:
    """The folder holding Katib's SDK, installed once per machine by katib_sdk.sh."""
    built = subprocess.run(
        ["bash", str(ROOT / "tests/k8s_env/katib_sdk.sh")],
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, f"installing Katib's SDK failed:\n{built.stderr[-2000:]}"
    return built.stdout.strip().splitlines()[-1]


@pytest.fixture
def operator_running(
    kube_client: client.ApiClient,
    katib_crds: None,  # noqa: F811
    controller_manager: bool,
    namespace: str,
    tmp_path: Path,
) -> Iterator[PodStandIn]:
    """The operator in Katib mode with a server for pushed metrics, and the pods' stand-in."""
    kube = RealKubeClient(kube_client)
    (tmp_path / "home").mkdir()
    url = f"sqlite:///{tmp_path / 'tuner.db'}"
    store = open_store(url)
    server = ServerProcess(tmp_path / "home", url)
    server.start()
    if not controller_manager:
        kube.create(
            Resource("", "v1", "ServiceAccount", "serviceaccounts"),
            {"metadata": {"name": "default"}},
            namespace,
        )
    config = OperatorConfig(
        namespaces=[namespace], group=KATIB_GROUP, server_url=server.url, poll_interval=0.2, watch_timeout=20
    )
    operator = Operator(kube, store, config)
    stop = threading.Event()
    thread = threading.Thread(target=operator.run, args=(stop,), daemon=True)
    thread.start()
    try:
        with PodStandIn(kube, namespace, controller_manager) as pods:
            yield pods
    finally:
        stop.set()
        thread.join(timeout=120)
        server.stop()
        store.close()


def run_sdk(sdk_folder: str, kube: apiserver.ApiServer, namespace: str, action: str) -> dict[str, Any]:
    """The user's script in the SDK's environment: its folder first on the path, then the project's venv."""
    env = {**os.environ, "PYTHONPATH": sdk_folder}
    ran = subprocess.run(
        [sys.executable, str(DRIVER), str(kube.kubeconfig), namespace, action],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert ran.returncode == 0, f"the Katib SDK script failed:\n{ran.stderr[-4000:]}"
    answer: dict[str, Any] = json.loads(ran.stdout.strip().splitlines()[-1])
    return answer


def test_katib_client_create_experiment_and_read_results(
    katib_sdk: str,
    kube: apiserver.ApiServer,
    kube_client: client.ApiClient,
    namespace: str,
    operator_running: PodStandIn,
) -> None:
    found = run_sdk(katib_sdk, kube, namespace, "create")
    pods = operator_running
    assert not pods.errors, pods.errors
    assert found["succeeded"] is True and found["trials_succeeded"] == 3
    best_job = min(pods.done, key=pods.done.__getitem__)
    assert found["best"]["trial"] == best_job
    loss = float(found["best"]["metrics"]["loss"])
    assert loss == pytest.approx(pods.done[best_job])
    assert loss == pytest.approx((float(found["best"]["parameters"]["x"]) - 1) ** 2)
    assert found["trials"] == sorted(pods.done)
    assert [d["name"] for d in found["details"]] == sorted(pods.done)
    assert all(
        float(d["metrics"][0]["latest"]) == pytest.approx(pods.done[d["name"]]) for d in found["details"]
    )
    # delete_experiment cascades to the Trials and the retained Jobs
    kube_api = RealKubeClient(kube_client)
    wait_for(
        "the deleted Experiment's Trials and Jobs to be gone",
        lambda: (
            kube_api.list(KATIB_GROUP.trials, namespace)[0] == [] and kube_api.list(JOBS, namespace)[0] == []
        ),
    )


def test_katib_client_tune_runs_a_python_objective(
    katib_sdk: str,
    kube: apiserver.ApiServer,
    kube_client: client.ApiClient,
    namespace: str,
    operator_running: PodStandIn,
) -> None:
    found = run_sdk(katib_sdk, kube, namespace, "tune")
    pods = operator_running
    assert not pods.errors, pods.errors[:1]
    assert found["succeeded"] is True and len(pods.done) == 2
    assert found["best"]["trial"] == min(pods.done, key=pods.done.__getitem__)
    assigned = found["best"]["parameters"]
    expected = (float(assigned["lr"]) - 0.1) ** 2 + 0.01 * int(assigned["layers"])
    assert float(found["best"]["metrics"]["loss"]) == pytest.approx(expected)
    # tune() does not retain trials: the operator deletes each finished trial's Job, as Katib does
    kube_api = RealKubeClient(kube_client)
    wait_for("the finished trials' Jobs to be deleted", lambda: kube_api.list(JOBS, namespace)[0] == [])
