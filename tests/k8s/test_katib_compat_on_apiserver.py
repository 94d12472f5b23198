"""`tuner operator --katib-compat` against a real kube-apiserver where Katib's CRDs are installed and Katib's
controller is not: a `kubeflow.org/v1beta1` Experiment (examples/kubernetes/experiment.yaml with Katib's
apiVersion) runs to Succeeded, its Trials are Katib's kind, labelled as Katib labels them.

The CRDs are stand-ins for Katib's (same group, names, scope and status subresource; a schema that keeps
every field), since Katib's own manifests are not available here. Pods are completed as in
test_operator_on_apiserver.py (see its docstring: no kubelet).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from controllers.kubernetes.client import JOBS
from controllers.kubernetes.operator import OperatorConfig
from controllers.kubernetes.real import RealKubeClient
from controllers.kubernetes.trials import KATIB_GROUP
from tests.k8s.conftest import (
    FIELD_MANAGER,
    _wait_established,
    ensure_default_service_account,
    running_operator,
)
from tests.k8s.test_operator_on_apiserver import EXAMPLE, PodStandIn, condition, wait_for
from tests.server.conftest import ServerProcess
from tuner.store import Store, open_store


def katib_crd(kind: str, plural: str) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.kubeflow.org"},
        "spec": {
            "group": "kubeflow.org",
            "scope": "Namespaced",
            "names": {
                "kind": kind,
                "plural": plural,
                "singular": kind.lower(),
                "categories": ["all", "kubeflow", "katib"],
            },
            "versions": [
                {
                    "name": "v1beta1",
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "schema": {
                        "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                    },
                }
            ],
        },
    }


@pytest.fixture(scope="module")
def katib_crds(kube_client: client.ApiClient) -> None:
    extensions = client.ApiextensionsV1Api(kube_client)
    for kind, plural in (("Experiment", "experiments"), ("Trial", "trials"), ("Suggestion", "suggestions")):
        body = katib_crd(kind, plural)
        extensions.patch_custom_resource_definition(
            body["metadata"]["name"],
            body,
            field_manager=FIELD_MANAGER,
            force=True,
            _content_type="application/apply-patch+yaml",
        )
        _wait_established(extensions, body["metadata"]["name"])


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    db = open_store(f"sqlite:///{tmp_path / 'tuner.db'}")
    yield db
    db.close()


def test_katib_experiment_runs_under_katib_compat(
    kube_client: client.ApiClient,
    katib_crds: None,
    controller_manager: bool,
    namespace: str,
    store: Store,
    tmp_path: Path,
) -> None:
    kube = RealKubeClient(kube_client)
    (tmp_path / "home").mkdir()
    server = ServerProcess(tmp_path / "home", f"sqlite:///{tmp_path / 'tuner.db'}")
    server.start()
    config = OperatorConfig(
        namespaces=[namespace], group=KATIB_GROUP, server_url=server.url, poll_interval=0.2, watch_timeout=20
    )
    try:
        ensure_default_service_account(kube, namespace, controller_manager)
        document = yaml.safe_load(EXAMPLE.read_text())
        document["apiVersion"] = "kubeflow.org/v1beta1"
        document["spec"]["maxTrialCount"] = 2
        with running_operator(kube, store, config), PodStandIn(kube, namespace, controller_manager) as pods:
            kube.create(KATIB_GROUP.experiments, document, namespace)

            def ended() -> dict[str, Any] | None:
                obj = kube.get(KATIB_GROUP.experiments, "quadratic", namespace)
                return obj if condition(obj, "Succeeded") or condition(obj, "Failed") else None

            experiment = wait_for("the Katib Experiment to end", ended)
            assert not pods.errors, pods.errors
    finally:
        server.stop()
    assert condition(experiment, "Succeeded")["reason"] == "ExperimentMaxTrialsReached"  # type: ignore[index]
    assert experiment["status"]["trialsSucceeded"] == 2
    best = min(pods.done, key=pods.done.__getitem__)
    assert experiment["status"]["currentOptimalTrial"]["bestTrialName"] == best
    trials = kube.list(KATIB_GROUP.trials, namespace, "katib.kubeflow.org/experiment=quadratic")[0]
    assert sorted(t["metadata"]["name"] for t in trials) == sorted(pods.done)
    assert all(t["apiVersion"] == "kubeflow.org/v1beta1" for t in trials)
    assert len(kube.list(JOBS, namespace)[0]) == 2
