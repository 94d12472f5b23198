"""Fixtures for tests against a real kube-apiserver: one server per test session (per xdist worker; all
tests of this folder go to one worker: tests/xdist_scheduling.py), the CRDs of crds/ applied to it.

A server that cannot start fails the tests that use it; nothing here skips.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, watch

from controllers.kubernetes.client import KubeClient, Resource
from controllers.kubernetes.operator import Operator, OperatorConfig
from tests.k8s import apiserver

CRDS = Path(__file__).resolve().parents[2] / "crds"
FIELD_MANAGER = "tuner-tests"


@pytest.fixture(scope="session")
def kube() -> Iterator[apiserver.ApiServer]:
    """A running etcd + kube-apiserver on loopback, stopped (and its data deleted) after the session."""
    try:
        server = apiserver.start()
    except apiserver.ApiServerError as exc:
        problem = str(exc)
    else:
        yield server
        server.stop()
        return
    pytest.fail(f"the test kube-apiserver did not start: {problem}", pytrace=False)


@pytest.fixture(scope="session")
def kube_client(kube: apiserver.ApiServer) -> Iterator[client.ApiClient]:
    """The official client, configured for the test server (admin token, its CA)."""
    config = client.Configuration(host=kube.url)
    config.ssl_ca_cert = str(kube.ca_file)
    config.api_key = {"authorization": kube.token}
    config.api_key_prefix = {"authorization": "Bearer"}
    with client.ApiClient(config) as api:
        yield api


def crd_documents() -> list[dict[str, Any]]:
    """The CustomResourceDefinitions committed in crds/."""
    return [
        yaml.safe_load(p.read_text()) for p in sorted(CRDS.glob("*.yaml")) if p.name != "kustomization.yaml"
    ]


def apply_crds(api: client.ApiClient) -> list[dict[str, Any]]:
    """Server-side apply every CRD of crds/ and wait until the server says each is Established."""
    extensions = client.ApiextensionsV1Api(api)
    applied = []
    for document in crd_documents():
        applied.append(
            extensions.patch_custom_resource_definition(
                document["metadata"]["name"],
                document,
                field_manager=FIELD_MANAGER,
                force=True,
                _content_type="application/apply-patch+yaml",
            )
        )
    for crd in applied:
        _wait_established(extensions, crd.metadata.name)
    return [api.sanitize_for_serialization(crd) for crd in applied]


def _wait_established(extensions: client.ApiextensionsV1Api, name: str) -> None:
    stream = watch.Watch()
    for event in stream.stream(
        extensions.list_custom_resource_definition, field_selector=f"metadata.name={name}", timeout_seconds=30
    ):
        conditions = event["object"].status.conditions or []
        if any(c.type == "Established" and c.status == "True" for c in conditions):
            stream.stop()
            return
    raise AssertionError(f"CRD {name} was not Established within 30 s")


@pytest.fixture(scope="session")
def tuner_crds(kube_client: client.ApiClient) -> list[dict[str, Any]]:
    """The CRDs of crds/, applied to the test server (as the server returned them)."""
    return apply_crds(kube_client)


@pytest.fixture
def namespace(kube_client: client.ApiClient) -> Iterator[str]:
    """A fresh namespace for one test (deleted afterwards; nothing waits for the deletion to finish)."""
    name = f"t-{secrets.token_hex(4)}"
    core = client.CoreV1Api(kube_client)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name)


@pytest.fixture(scope="session")
def controller_manager(kube: apiserver.ApiServer) -> bool:
    """kube-controller-manager running beside the test server (Job controller, garbage collector), when
    build.sh built it; False when the binary is missing (tests then say what they check instead)."""
    if not apiserver.controller_manager_binary().is_file():
        return False
    apiserver.start_controller_manager(kube)
    return True


def ensure_default_service_account(kube_api: KubeClient, namespace: str, controller_manager: bool) -> None:
    """Without kube-controller-manager no ServiceAccount controller gives the namespace its `default`
    account, and the server refuses Jobs (pods) without one: create it as that controller would."""
    if not controller_manager:
        kube_api.create(
            Resource("", "v1", "ServiceAccount", "serviceaccounts"),
            {"metadata": {"name": "default"}},
            namespace,
        )


@contextmanager
def running_operator(kube_api: KubeClient, store: Any, config: OperatorConfig) -> Iterator[Operator]:
    """`tuner operator` in a thread of this process for the block, then stopped as SIGTERM stops it."""
    operator = Operator(kube_api, store, config)
    stop = threading.Event()
    runner = threading.Thread(target=operator.run, args=(stop,), daemon=True)
    runner.start()
    try:
        yield operator
    finally:
        stop.set()
        runner.join(timeout=120)
