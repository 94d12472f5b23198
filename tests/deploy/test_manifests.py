"""deploy/ rendered with kustomize: what each overlay promises (namespace, images, commands, probes, RBAC
subjects, volumes, secrets, replicas) holds together, and every command and flag a container runs is a real
`tuner` command (or listed in render.PENDING_FLAGS). The same manifests go to a real kube-apiserver in
tests/k8s/test_deploy_on_apiserver.py."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
import yaml

from tests.deploy.render import NAMESPACE, OVERLAYS, PENDING_FLAGS, ROOT, commands, render
from tuner._version import __version__

CLUSTER_SCOPED = {"Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"}


@pytest.fixture(scope="module", params=sorted(OVERLAYS))
def overlay(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    return request.param, render(OVERLAYS[request.param])


def of_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def containers(objects: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [
        (d, c)
        for d in of_kind(objects, "Deployment").values()
        for c in d["spec"]["template"]["spec"]["containers"]
    ]


def test_everything_namespaced_lives_in_tuner_system(overlay: tuple[str, list[dict[str, Any]]]) -> None:
    _, objects = overlay
    for o in objects:
        if o["kind"] in CLUSTER_SCOPED:
            assert "namespace" not in o["metadata"], o["metadata"]["name"]
        else:
            assert o["metadata"].get("namespace") == NAMESPACE, f"{o['kind']} {o['metadata']['name']}"
    assert set(of_kind(objects, "Namespace")) == {NAMESPACE}


def test_the_crds_are_those_of_crds_folder(overlay: tuple[str, list[dict[str, Any]]]) -> None:
    _, objects = overlay
    committed = {
        d["metadata"]["name"]: d
        for p in (ROOT / "crds").glob("*.yaml")
        if p.name != "kustomization.yaml"
        for d in [yaml.safe_load(p.read_text())]
    }
    rendered = of_kind(objects, "CustomResourceDefinition")
    assert (
        set(rendered)
        == set(committed)
        == {"experiments.tuner.dev", "trials.tuner.dev", "suggestions.tuner.dev"}
    )
    for name, crd in rendered.items():
        assert crd["spec"] == committed[name]["spec"]


def test_every_container_runs_a_real_tuner_command(overlay: tuple[str, list[dict[str, Any]]]) -> None:
    """args[0] is the command (the image's entrypoint is `tuner`), each --flag exists on it or is pending."""
    _, objects = overlay
    known = commands()
    ran = set()
    for deployment, container in containers(objects):
        command, *args = container["args"]
        ran.add(command)
        flags = {a.split("=", 1)[0] for a in args if a.startswith("-")}
        pending = PENDING_FLAGS.get(command, set())
        if command not in known:
            assert command in PENDING_FLAGS, (
                f"{deployment['metadata']['name']}: `tuner {command}` does not exist"
            )
            missing = flags - pending
        else:
            missing = flags - known[command]["options"] - pending
        assert not missing, f"{deployment['metadata']['name']}: `tuner {command}` has no {sorted(missing)}"
        assert container["image"] == f"tuner-hpo:{__version__}"
    assert ran == {"operator", "server", "suggestion-server"}


def test_pending_flags_are_still_pending() -> None:
    """Once `tuner operator` and the server's auth are merged, their flags leave PENDING_FLAGS."""
    known = commands()
    landed = {
        f"{command} {flag}"
        for command, flags in PENDING_FLAGS.items()
        for flag in flags
        if flag in known.get(command, {}).get("options", set())
    }
    assert not landed, (
        f"these exist now; remove them from tests/deploy/render.py PENDING_FLAGS: {sorted(landed)}"
    )


def test_settings_in_the_configmap_are_read_by_tuner(overlay: tuple[str, list[dict[str, Any]]]) -> None:
    _, objects = overlay
    known = commands()
    read = set().union(*(c["envvars"] for c in known.values())) | {
        "TUNER_HOME",
        "TUNER_STORE",
        "TUNER_ARTIFACTS",
    }
    aws = {
        "AWS_ENDPOINT_URL_S3",
        "AWS_DEFAULT_REGION",
    }  # read by botocore under s3fs (tests/artifacts/test_s3_store.py)
    settings = of_kind(objects, "ConfigMap")["tuner-settings"]["data"]
    assert set(settings) - read - aws == set()


def test_probes_services_and_references_fit(overlay: tuple[str, list[dict[str, Any]]]) -> None:
    _, objects = overlay
    accounts = of_kind(objects, "ServiceAccount")
    secrets, config_maps = of_kind(objects, "Secret"), of_kind(objects, "ConfigMap")
    claims = of_kind(objects, "PersistentVolumeClaim")
    for deployment, container in containers(objects):
        pod = deployment["spec"]["template"]["spec"]
        assert pod["serviceAccountName"] in accounts
        assert (
            deployment["spec"]["selector"]["matchLabels"].items()
            <= deployment["spec"]["template"]["metadata"]["labels"].items()
        )
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        for probe in ("livenessProbe", "readinessProbe"):
            assert container[probe]["httpGet"]["port"] in ports
        for source in container.get("envFrom", []):
            if "secretRef" in source:
                assert source["secretRef"]["name"] in secrets
            if "configMapRef" in source:
                assert source["configMapRef"]["name"] in config_maps
        for volume in pod.get("volumes", []):
            assert len(set(volume) - {"name"}) == 1, f"volume {volume['name']} has two sources: {volume}"
            if "secret" in volume:
                assert volume["secret"]["secretName"] in secrets
            if "persistentVolumeClaim" in volume:
                assert volume["persistentVolumeClaim"]["claimName"] in claims
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert pod["securityContext"]["runAsNonRoot"] is True
    operator = of_kind(objects, "Deployment")["tuner-operator"]["spec"]["template"]["spec"]["containers"][0]
    assert {p["containerPort"] for p in operator["ports"]} == {8081}
    assert "--metrics-port=8081" in operator["args"] and "--leader-elect" in operator["args"]
    deployments = of_kind(objects, "Deployment")
    for service in of_kind(objects, "Service").values():
        backing = [
            d for d in deployments.values()
            if service["spec"]["selector"].items() <= d["spec"]["template"]["metadata"]["labels"].items()
        ]  # fmt: skip
        assert len(backing) == 1, service["metadata"]["name"]
        names = {p["name"] for c in backing[0]["spec"]["template"]["spec"]["containers"] for p in c["ports"]}
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= names
    suggestion = of_kind(objects, "Service")["tuner-suggestion"]
    assert (
        f"--suggestion-service=http://tuner-suggestion:{suggestion['spec']['ports'][0]['port']}"
        in operator["args"]
    )


def test_only_the_operator_gets_an_api_token(overlay: tuple[str, list[dict[str, Any]]]) -> None:
    _, objects = overlay
    accounts = of_kind(objects, "ServiceAccount")
    bound = {
        s["name"]
        for kind in ("RoleBinding", "ClusterRoleBinding")
        for b in of_kind(objects, kind).values()
        for s in b["subjects"]
    }
    assert bound == {"tuner-operator"}
    for name in ("tuner-server", "tuner-suggestion"):
        assert accounts[name]["automountServiceAccountToken"] is False
    for binding in of_kind(objects, "ClusterRoleBinding").values():
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": "tuner-operator", "namespace": NAMESPACE}
        ]


def test_minimal_shares_one_volume_for_sqlite() -> None:
    objects = render(OVERLAYS["minimal"])
    deployments = of_kind(objects, "Deployment")
    home = of_kind(objects, "ConfigMap")["tuner-settings"]["data"]["TUNER_HOME"]
    assert (
        "TUNER_STORE" not in of_kind(objects, "ConfigMap")["tuner-settings"]["data"]
    )  # SQLite in TUNER_HOME
    for name in ("tuner-operator", "tuner-server"):
        spec = deployments[name]["spec"]
        assert spec["replicas"] == 1 and spec["strategy"]["type"] == "Recreate"
        pod = spec["template"]["spec"]
        data = next(v for v in pod["volumes"] if v["name"] == "data")
        assert data == {"name": "data", "persistentVolumeClaim": {"claimName": "tuner-data"}}
        assert {"name": "data", "mountPath": home} in pod["containers"][0]["volumeMounts"]
    assert deployments["tuner-suggestion"]["spec"]["replicas"] == 1


def test_production_uses_postgres_s3_and_two_operators() -> None:
    objects = render(OVERLAYS["production"])
    deployments, secrets = of_kind(objects, "Deployment"), of_kind(objects, "Secret")
    settings = of_kind(objects, "ConfigMap")["tuner-settings"]["data"]
    assert settings["TUNER_ARTIFACTS"].startswith("s3://") and settings["AWS_ENDPOINT_URL_S3"].startswith(
        "http"
    )
    postgres = next(s for n, s in secrets.items() if n.startswith("tuner-postgres-"))
    s3 = next(s for n, s in secrets.items() if n.startswith("tuner-s3-"))
    assert set(postgres["data"]) == {"TUNER_STORE"} and set(s3["data"]) == {
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    }
    for name in ("tuner-operator", "tuner-server"):
        sources = deployments[name]["spec"]["template"]["spec"]["containers"][0]["envFrom"]
        assert {s["secretRef"]["name"] for s in sources if "secretRef" in s} == {
            postgres["metadata"]["name"],
            s3["metadata"]["name"],
        }
    assert deployments["tuner-operator"]["spec"]["replicas"] == 2
    for _deployment, container in containers(objects):
        resources = container["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"]) and {"cpu", "memory"} <= set(
            resources["limits"]
        )
    budgets = of_kind(objects, "PodDisruptionBudget")
    assert budgets["tuner-operator"]["spec"]["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "tuner-operator"
    }
    for budget in budgets.values():
        assert budget["apiVersion"] == "policy/v1" and budget["spec"]["maxUnavailable"] == 1
        target = deployments[budget["metadata"]["name"]]
        assert target["spec"]["replicas"] > budget["spec"]["maxUnavailable"]  # a drain never takes all down


def test_the_readme_section_names_real_files_and_commands() -> None:
    """`Run on Kubernetes` in README.md: every repository path it names exists, every `tuner X` is a command."""
    readme = (ROOT / "README.md").read_text()
    start = readme.index("## Run on Kubernetes")
    section = readme[start : readme.index("\n## ", start + 1)]
    # repository paths have a second segment or an extension (`deploy/tuner-server` is a kubectl name)
    paths = set(re.findall(r"\b((?:deploy|examples|crds)/[\w.-]+(?:/[\w./-]*\w|\.\w+))", section))
    assert {
        "deploy/overlays/minimal",
        "deploy/overlays/production",
        "examples/katib/python-inline.yaml",
    } <= paths
    for path in paths:
        assert (ROOT / path).exists(), f"README names {path}, which does not exist"
    named = set(re.findall(r"`tuner ([a-z-]+)", section))
    assert named - set(commands()) - set(PENDING_FLAGS) == set()


def test_the_server_reads_its_tokens_from_the_overlays_secret(
    overlay: tuple[str, list[dict[str, Any]]],
) -> None:
    name, objects = overlay
    server = of_kind(objects, "Deployment")["tuner-server"]["spec"]["template"]["spec"]
    container = server["containers"][0]
    auth_file = next(a.split("=", 1)[1] for a in container["args"] if a.startswith("--auth-file="))
    volume = next(v for v in server["volumes"] if "secret" in v)
    mount = next(m for m in container["volumeMounts"] if m["name"] == volume["name"])
    secret = of_kind(objects, "Secret")[volume["secret"]["secretName"]]
    assert volume["secret"]["secretName"].startswith("tuner-server-auth-")  # generated: named by content
    assert auth_file == f"{mount['mountPath']}/tokens.yaml" and set(secret["data"]) == {"tokens.yaml"}
    own = (OVERLAYS[name] / "server-tokens.yaml").read_bytes()
    assert base64.b64decode(secret["data"]["tokens.yaml"]) == own


def test_the_token_files_of_deploy_are_valid_auth_files() -> None:
    """The server of every overlay starts with `--auth-file` on these files: they must parse (an empty list
    is the placeholder that lets nobody in until the operator of the cluster adds tokens)."""
    from tuner.server.tokens import parse_tokens

    files = sorted((ROOT / "deploy").rglob("server-tokens.yaml"))
    assert len(files) >= 3
    for path in files:
        table = parse_tokens(path.read_text(), str(path))
        assert table.lookup("not-a-token") is None
