"""pbt under the operator (in-process fake KubeClient): each trial's Job mounts its checkpoint folder on the
claim named by `checkpoint_volume`, and a trial with a parent first copies the parent's folder (init
container), Katib-style. Without the claim the experiment is refused naming the setting."""

from __future__ import annotations

from typing import Any

from controllers.kubernetes.checkpoints import VOLUME
from controllers.kubernetes.client import JOBS
from controllers.kubernetes.fake import FakeKubeClient
from controllers.kubernetes.operator import Operator
from suggestions.pbt import GENERATION_LABEL, PARENT_LABEL
from tests.controllers import test_kube_operator as base
from tests.controllers.test_kube_operator import (
    EXPERIMENTS,
    NS,
    Kubelet,
    condition,
    example,
    finished,
    wait_for,
)
from tuner.store import Store

kube, operator, store = base.kube, base.operator, base.store  # the operator tests' fixtures


def pbt_example(**settings: str) -> dict[str, Any]:
    values = {"n_population": "5", "truncation_threshold": "0.4", "random_state": "3", **settings}
    return example(
        algorithm={
            "algorithmName": "pbt",
            "algorithmSettings": [{"name": k, "value": v} for k, v in values.items()],
        },
        parallelTrialCount=5,
        maxTrialCount=10,
    )


def test_each_job_mounts_its_folder_and_copies_its_parents(
    kube: FakeKubeClient, operator: Operator, store: Store
) -> None:
    with Kubelet(kube):
        kube.create(EXPERIMENTS, pbt_example(checkpoint_volume="pbt-ckpt", suggestion_trial_dir="/ckpt/"), NS)
        experiment = wait_for("the experiment to end", finished(kube, "quadratic"))
    assert condition(experiment, "Succeeded") is not None
    jobs = {j["metadata"]["name"]: j for j in kube.all(JOBS, NS)}
    record = store.get_experiment("quadratic", NS)
    trials = store.list_trials(record.id)
    assert len(trials) == 10 and set(jobs) == {t.name for t in trials}
    assert sum(PARENT_LABEL in t.labels for t in trials) == 5  # the second generation continues the first
    for t in trials:
        pod = jobs[t.name]["spec"]["template"]["spec"]
        assert {"name": VOLUME, "persistentVolumeClaim": {"claimName": "pbt-ckpt"}} in pod["volumes"]
        (container,) = pod["containers"]
        mount = next(m for m in container["volumeMounts"] if m["name"] == VOLUME)
        assert mount == {"name": VOLUME, "mountPath": "/ckpt", "subPath": f"quadratic/{t.name}"}
        env = {e["name"]: e["value"] for e in container["env"]}
        assert env["TUNER_CHECKPOINT_DIR"] == "/ckpt"
        parent = t.labels.get(PARENT_LABEL)
        if t.labels[GENERATION_LABEL] == "0":
            assert parent is None and "initContainers" not in pod
            continue
        (seed,) = pod["initContainers"]
        seed_env = {e["name"]: e["value"] for e in seed["env"]}
        assert seed_env["PARENT"].endswith(f"/quadratic/{parent}") and seed_env["OWN"].endswith(f"/{t.name}")


def test_pbt_without_a_checkpoint_volume_is_refused_naming_the_setting(
    kube: FakeKubeClient, operator: Operator
) -> None:
    kube.create(EXPERIMENTS, pbt_example(), NS)
    experiment = wait_for("the Failed condition", finished(kube, "quadratic"))
    message = condition(experiment, "Failed")["message"]  # type: ignore[index]
    assert "algorithmSettings.checkpoint_volume" in message and "ReadWriteMany" in message
    assert kube.all(JOBS, NS) == []
