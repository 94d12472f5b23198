"""pbt under `tuner operator` against a real kube-apiserver: every trial's Job mounts its checkpoint folder
from the PersistentVolumeClaim named by `checkpoint_volume`, a second-generation trial first copies its
parent's folder (init container), and the experiment runs its generations to the end.

No kubelet runs here (and no volume provisioner): the claim stays Pending, and the pods are stood in for as in
test_operator_on_apiserver.py (the Job's command run as a local process, its metrics pushed to a real
`tuner server`, the pod's status patched to Succeeded). What this proves is what the API server accepts and
stores: the Job specs with the volume, the subPath mount and the init container, owned by their Trials.
"""

from __future__ import annotations

from typing import Any

import yaml
from kubernetes import client

from controllers.kubernetes.checkpoints import SEED_IMAGE, VOLUME
from controllers.kubernetes.client import JOBS, Resource
from controllers.kubernetes.operator import OperatorConfig
from controllers.kubernetes.real import RealKubeClient
from suggestions.pbt import GENERATION_LABEL, PARENT_LABEL
from tests.k8s.apiserver import ApiServer
from tests.k8s.conftest import ensure_default_service_account, running_operator
from tests.k8s.test_operator_on_apiserver import (
    EXAMPLE,
    EXPERIMENTS,
    TRIALS,
    PodStandIn,
    condition,
    server,  # noqa: F401  (fixture)
    store,  # noqa: F401  (fixture)
    wait_for,
)
from tests.server.conftest import ServerProcess
from tuner.store import Store

CLAIMS = Resource("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims")


def pbt_document() -> dict[str, Any]:
    document = yaml.safe_load(EXAMPLE.read_text())
    settings = {
        "n_population": "5",
        "truncation_threshold": "0.5",
        "random_state": "3",
        "checkpoint_volume": "pbt-ckpt",
        "suggestion_trial_dir": "/ckpt",
    }
    spec = document["spec"]
    spec["algorithm"] = {
        "algorithmName": "pbt",
        "algorithmSettings": [{"name": k, "value": v} for k, v in settings.items()],
    }
    spec["parallelTrialCount"], spec["maxTrialCount"] = 5, 10
    return document


def test_pbt_jobs_carry_their_checkpoint_folders(
    kube: ApiServer,
    kube_client: client.ApiClient,
    tuner_crds: list[dict[str, Any]],
    controller_manager: bool,
    namespace: str,
    store: Store,  # noqa: F811
    server: ServerProcess,  # noqa: F811
) -> None:
    kube_api = RealKubeClient(kube_client)
    ensure_default_service_account(kube_api, namespace, controller_manager)
    claim = {
        "metadata": {"name": "pbt-ckpt"},
        "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    kube_api.create(CLAIMS, claim, namespace)
    config = OperatorConfig(
        namespaces=[namespace], server_url=server.url, poll_interval=0.2, watch_timeout=20, leader_elect=False
    )
    with (
        running_operator(kube_api, store, config),
        PodStandIn(kube_api, namespace, controller_manager) as pods,
    ):
        kube_api.create(EXPERIMENTS, pbt_document(), namespace)

        def ended() -> dict[str, Any] | None:
            obj = kube_api.get(EXPERIMENTS, "quadratic", namespace)
            return obj if condition(obj, "Succeeded") or condition(obj, "Failed") else None

        experiment = wait_for("the pbt Experiment to end", ended)
        assert not pods.errors, pods.errors
    assert condition(experiment, "Succeeded") is not None, experiment["status"]["conditions"]
    assert experiment["status"]["trialsSucceeded"] == 10

    record = store.get_experiment("quadratic", namespace)
    trials = {t.name: t for t in store.list_trials(record.id)}
    jobs = {j["metadata"]["name"]: j for j in kube_api.list(JOBS, namespace)[0]}
    kube_trials = {t["metadata"]["name"] for t in kube_api.list(TRIALS, namespace)[0]}
    assert set(trials) == set(jobs) == kube_trials and len(trials) == 10
    generations = sorted(t.labels[GENERATION_LABEL] for t in trials.values())
    assert generations == ["0"] * 5 + ["1"] * 5  # the second generation continues the first
    for name, trial in trials.items():
        pod = jobs[name]["spec"]["template"]["spec"]
        assert {"name": VOLUME, "persistentVolumeClaim": {"claimName": "pbt-ckpt"}} in pod["volumes"]
        (container,) = pod["containers"]
        mount = next(m for m in container["volumeMounts"] if m["name"] == VOLUME)
        assert mount == {"name": VOLUME, "mountPath": "/ckpt", "subPath": f"quadratic/{name}"}
        assert {"name": "TUNER_CHECKPOINT_DIR", "value": "/ckpt"} in container["env"]
        parent = trial.labels.get(PARENT_LABEL)
        if trial.labels[GENERATION_LABEL] == "0":
            assert parent is None and not pod.get("initContainers")
            continue
        assert parent in trials and trials[parent].labels[GENERATION_LABEL] == "0"
        (seed,) = pod["initContainers"]
        assert seed["image"] == SEED_IMAGE
        seed_env = {e["name"]: e["value"] for e in seed["env"]}
        assert seed_env["PARENT"].endswith(f"/quadratic/{parent}") and seed_env["OWN"].endswith(f"/{name}")
