"""`tuner operator`'s whole loop against a real kube-apiserver (with etcd, and kube-controller-manager when
build.sh built it): the Experiment of examples/kubernetes/experiment.yaml applied -> Trials and Jobs with
the substituted parameters -> the pods' completion faked -> the Experiment ends Succeeded with Katib's
reason and `kubectl get experiments` prints the best value -> deleting it removes its Trials and Jobs.

No kubelet runs here, so two things are stood in for, and only these:
- running the container: the test runs the Job's own command and arguments as a local process with the
  container's environment. Its `loss=...` line cannot reach the operator through the pod log (the API server
  serves logs from the kubelet), so the stand-in hands it on by push: `tuner.report` in a process with the
  pod's environment (TUNER_SERVER, TUNER_TRIAL_NAME, ... as the operator set them), which POSTs to a real
  `tuner server` subprocess writing the store the operator reads. (Reading StdOut from pod logs is tested on
  the fake client: tests/controllers/test_kube_operator.py.)
- the pod's end: with kube-controller-manager the Job controller creates the Pods; the test patches each
  Pod's status to Succeeded (a terminated container, exit code 0) and the Job controller marks the Job
  Complete. Without it the test patches the Job's status itself (no Job controller to do it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from controllers.kubernetes.client import JOBS, LEASES, PODS, KubeError, NotFoundError
from controllers.kubernetes.operator import OperatorConfig
from controllers.kubernetes.real import RealKubeClient
from controllers.kubernetes.trials import TUNER_GROUP
from tests.k8s.apiserver import ApiServer
from tests.k8s.conftest import ensure_default_service_account, running_operator
from tests.server.conftest import ServerProcess
from tuner.states import ExperimentState, TrialState
from tuner.store import Store, open_store

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "kubernetes" / "experiment.yaml"
EXPERIMENTS, TRIALS = TUNER_GROUP.experiments, TUNER_GROUP.trials
WAIT_S = 240.0


def wait_for(what: str, check: Callable[[], Any], timeout: float = WAIT_S) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c["type"] == kind and c["status"] == "True":
            return c
    return None


class PodStandIn:
    """Plays the kubelet for the operator's Jobs (see the module docstring)."""

    def __init__(self, kube: RealKubeClient, namespace: str, with_kcm: bool) -> None:
        self.kube, self.namespace, self.with_kcm = kube, namespace, with_kcm
        self.done: dict[str, float] = {}  # job -> the loss it printed
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self.stop.wait(0.3):
            try:
                for job in self.kube.list(JOBS, self.namespace)[0]:
                    if job["metadata"]["name"] not in self.done:
                        self._run(job)
            except Exception as exc:  # reported by the test
                self.errors.append(repr(exc))

    def _run(self, job: dict[str, Any]) -> None:
        name = job["metadata"]["name"]
        container = job["spec"]["template"]["spec"]["containers"][0]
        env = {e["name"]: e["value"] for e in container.get("env") or []}
        pod_env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
        ran = subprocess.run(
            [*container["command"], *container["args"]],
            env=pod_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert ran.returncode == 0, ran.stderr
        metrics = dict(line.split("=", 1) for line in ran.stdout.splitlines() if "=" in line)
        push = "import json, sys, tuner; tuner.report(**json.loads(sys.argv[1]))"
        pushed = subprocess.run(
            [sys.executable, "-c", push, json.dumps(metrics)],
            env=pod_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert pushed.returncode == 0, pushed.stderr
        self._complete(job)
        self.done[name] = float(metrics["loss"])

    def _complete(self, job: dict[str, Any]) -> None:
        name = job["metadata"]["name"]
        if self.with_kcm:
            pods = wait_for(
                f"the Job controller to create the pod of {name}",
                lambda: self.kube.list(PODS, self.namespace, f"job-name={name}")[0],
                timeout=120,
            )
            now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            for pod in pods:
                status = {
                    "phase": "Succeeded",
                    "containerStatuses": [
                        {
                            "name": "training",
                            "ready": False,
                            "restartCount": 0,
                            "image": "python:3.12-slim",
                            "imageID": "",
                            "state": {
                                "terminated": {
                                    "exitCode": 0,
                                    "reason": "Completed",
                                    "startedAt": now,
                                    "finishedAt": now,
                                }
                            },
                        }
                    ],
                }
                self.kube.patch_status(PODS, pod["metadata"]["name"], {"status": status}, self.namespace)
        else:
            self.kube.patch_status(
                JOBS,
                name,
                {"status": {"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}},
                self.namespace,
            )

    def __enter__(self) -> PodStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=60)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    db = open_store(f"sqlite:///{tmp_path / 'tuner.db'}")
    yield db
    db.close()


@pytest.fixture
def server(tmp_path: Path, store: Store) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path / "home", f"sqlite:///{tmp_path / 'tuner.db'}")
    (tmp_path / "home").mkdir()
    process.start()
    yield process
    process.stop()


def kubectl(kube: ApiServer, *args: str) -> str:
    done = subprocess.run(
        ["kubectl", f"--kubeconfig={kube.kubeconfig}", *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_experiment_to_succeeded_and_cascade_delete(
    kube: ApiServer,
    kube_client: client.ApiClient,
    tuner_crds: list[dict[str, Any]],
    controller_manager: bool,
    namespace: str,
    store: Store,
    server: ServerProcess,
) -> None:
    kube_api = RealKubeClient(kube_client)
    ensure_default_service_account(kube_api, namespace, controller_manager)
    config = OperatorConfig(
        namespaces=[namespace],
        server_url=server.url,
        poll_interval=0.2,
        watch_timeout=20,
        leader_elect=True,
        lease_namespace=namespace,
        identity="test-operator",
    )
    with running_operator(kube_api, store, config) as operator:
        document = yaml.safe_load(EXAMPLE.read_text())
        with PodStandIn(kube_api, namespace, controller_manager) as pods:
            kube_api.create(EXPERIMENTS, document, namespace)

            def ended() -> dict[str, Any] | None:
                obj = kube_api.get(EXPERIMENTS, "quadratic", namespace)
                return obj if condition(obj, "Succeeded") or condition(obj, "Failed") else None

            experiment = wait_for("the Experiment to end", ended)
            assert not pods.errors, pods.errors
        succeeded = condition(experiment, "Succeeded")
        assert succeeded is not None, experiment["status"]
        assert succeeded["reason"] == "ExperimentMaxTrialsReached"
        status = experiment["status"]
        assert status["trialsSucceeded"] == 4 and status["trials"] == 4
        best = min(pods.done, key=pods.done.__getitem__)
        assert status["currentOptimalTrial"]["bestTrialName"] == best
        assert status["currentOptimalTrial"]["objectiveValue"] == pytest.approx(pods.done[best])

        # Trials and Jobs: one each per trial, parameters substituted, owned Experiment -> Trial -> Job
        trials = {t["metadata"]["name"]: t for t in kube_api.list(TRIALS, namespace)[0]}
        jobs = {j["metadata"]["name"]: j for j in kube_api.list(JOBS, namespace)[0]}
        assert set(trials) == set(jobs) == set(pods.done)
        for name, job in jobs.items():
            assigned = {a["name"]: a["value"] for a in trials[name]["spec"]["parameterAssignments"]}
            args = job["spec"]["template"]["spec"]["containers"][0]["args"]
            assert args == [f"--x={assigned['x']}", f"--shift={assigned['shift']}"]
            assert job["metadata"]["ownerReferences"][0]["uid"] == trials[name]["metadata"]["uid"]
            assert trials[name]["metadata"]["ownerReferences"][0]["uid"] == experiment["metadata"]["uid"]
            assert condition(trials[name], "Succeeded") is not None
            if controller_manager:
                assert condition(job, "Complete") is not None  # set by the Job controller

        # what `kubectl get experiments` prints: the printer columns of crds/
        table = kubectl(kube, "get", "experiments.tuner.dev", "-n", namespace)  # Katib may own `experiments`
        header, row = table.splitlines()[:2]
        assert header.split()[:5] == ["NAME", "STATUS", "BEST", "SUCCEEDED", "RUNNING"]
        cells = row.split()
        assert cells[0] == "quadratic" and cells[1] == "Succeeded" and cells[3] == "4"
        assert float(cells[2]) == pytest.approx(pods.done[best], rel=1e-3)

        # the store (the dashboard's source) holds the same experiment
        record = store.get_experiment("quadratic", namespace)
        assert record.state == ExperimentState.SUCCEEDED
        assert {t.state for t in store.list_trials(record.id)} == {TrialState.SUCCEEDED}
        lease = kube_api.get(LEASES, "tuner-operator", namespace)
        assert lease["spec"]["holderIdentity"] == "test-operator"

        # delete the Experiment: its Trials and Jobs go with it
        kube_api.delete(EXPERIMENTS, "quadratic", namespace)
        if controller_manager:

            def all_gone() -> bool:
                return not kube_api.list(TRIALS, namespace)[0] and not kube_api.list(JOBS, namespace)[0]

            wait_for("the garbage collector to delete the Trials and Jobs", all_gone, timeout=300)
        else:
            # no garbage collector without kube-controller-manager: the ownerReferences it would follow were checked above
            with pytest.raises(NotFoundError):
                kube_api.get(EXPERIMENTS, "quadratic", namespace)
    assert operator.elector is not None and not operator.elector.leading.is_set()
    try:
        released = kube_api.get(LEASES, "tuner-operator", namespace)["spec"].get("holderIdentity")
    except KubeError:
        released = None
    assert released in ("", None)
