"""The CRDs of crds/ on a real kube-apiserver (1.20, with etcd; no kubelet or controller manager needed).

What a mock cannot show and these check: the server takes the schemas as structural, keeps every field the
examples use (nothing pruned), refuses bad values with 422 naming the field, fills Katib's static defaults,
lets the status subresource change status only, and prints the columns `kubectl get` shows.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client.rest import ApiException
from typer.testing import CliRunner

from tests.k8s.apiserver import ApiServer
from tuner.cli import app
from tuner.spec import apply_defaults, experiment_from_document
from tuner.spec.crd import GROUP, RESOURCES, VERSION
from tuner.spec.experiment import TUNER_API_VERSION

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_FILES = [
    *sorted((ROOT / "examples" / "katib").glob("*.yaml")),
    ROOT / "examples" / "quickstart" / "experiment.yaml",
]
GOLDEN = ROOT / "tests" / "golden" / "experiments" / "valid"
UNQUOTED = GOLDEN / "unquoted-numbers.yaml"
"""Valid for tuner, which reads numbers where Katib's API has text; a cluster (Katib's too) refuses it."""
GOLDEN_FILES = sorted(p for p in GOLDEN.iterdir() if p.suffix in (".yaml", ".json") and p != UNQUOTED)
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"
SERVER_OWNED = ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "namespace")


def experiments_in(paths: list[Path]) -> list[tuple[str, dict[str, Any]]]:
    """Every Experiment of the files, as (label, document) ready to create: apiVersion tuner.dev/v1beta1, no
    status or server-owned metadata (as `kubectl apply` of an exported object sends)."""
    found = []
    for path in paths:
        for i, doc in enumerate(d for d in yaml.safe_load_all(path.read_text()) if d):
            if doc.get("kind") == "Experiment":
                doc["apiVersion"] = TUNER_API_VERSION
                doc.pop("status", None)
                for key in SERVER_OWNED:
                    doc.get("metadata", {}).pop(key, None)
                found.append((f"{path.parent.name}/{path.name}#{i}", doc))
    return found


EXAMPLES = experiments_in(EXAMPLE_FILES)
ACCEPTED = EXAMPLES + experiments_in(GOLDEN_FILES)


def objects(api: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api)


def create(api: client.ApiClient, namespace: str, plural: str, body: dict[str, Any]) -> dict[str, Any]:
    created: dict[str, Any] = objects(api).create_namespaced_custom_object(
        GROUP, VERSION, namespace, plural, body
    )
    return created


def missing_from(sent: Any, got: Any, path: str = "") -> list[str]:
    """The paths of `sent` whose values `got` does not hold (the server pruned or changed them)."""
    if isinstance(sent, dict):
        if not isinstance(got, dict):
            return [path or "."]
        return [p for k, v in sent.items() for p in missing_from(v, got.get(k), f"{path}.{k}")]
    if isinstance(sent, list):
        if not isinstance(got, list) or len(got) != len(sent):
            return [path]
        return [
            p
            for i, (s, g) in enumerate(zip(sent, got, strict=True))
            for p in missing_from(s, g, f"{path}[{i}]")
        ]
    return [] if sent == got else [path]


def minimal_experiment(name: str = "minimal") -> dict[str, Any]:
    return {
        "apiVersion": TUNER_API_VERSION,
        "kind": "Experiment",
        "metadata": {"name": name},
        "spec": {
            "objective": {"type": "maximize", "objectiveMetricName": "accuracy"},
            "algorithm": {"algorithmName": "random"},
            "maxTrialCount": 4,
            "parameters": [
                {"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.01", "max": "0.1"}}
            ],
            "trialTemplate": {
                "primaryContainerName": "main",
                "trialParameters": [{"name": "lr", "reference": "lr"}],
                "trialSpec": {
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "spec": {
                        "template": {
                            "spec": {
                                "restartPolicy": "Never",
                                "containers": [
                                    {
                                        "name": "main",
                                        "image": "python:3.12",
                                        "command": ["echo", "${trialParameters.lr}"],
                                    }
                                ],
                            }
                        }
                    },
                },
            },
        },
    }


def test_the_crds_are_accepted_as_structural_and_served(
    tuner_crds: list[dict[str, Any]], kube_client: client.ApiClient
) -> None:
    assert sorted(c["metadata"]["name"] for c in tuner_crds) == sorted(r.name for r in RESOURCES)
    for crd in client.ApiextensionsV1Api(kube_client).list_custom_resource_definition().items:
        if crd.spec.group != GROUP:
            continue
        conditions = {c.type: c.status for c in crd.status.conditions}
        # NonStructuralSchema would be set (and defaulting/pruning disabled) for a schema the server cannot use
        assert conditions.get("Established") == "True", conditions
        assert "NonStructuralSchema" not in conditions, crd.status.conditions
    served = client.ApisApi(kube_client).get_api_versions().groups
    assert any(g.name == GROUP and g.preferred_version.version == VERSION for g in served)


@pytest.mark.parametrize(("label", "document"), ACCEPTED, ids=[label for label, _ in ACCEPTED])
def test_every_example_and_valid_golden_experiment_is_accepted_unpruned(
    tuner_crds: list[dict[str, Any]],
    kube_client: client.ApiClient,
    namespace: str,
    label: str,
    document: dict[str, Any],
) -> None:
    created = create(kube_client, namespace, "experiments", document)
    assert created["metadata"]["uid"]
    # every field the file sets is still there: the schema covers it (an unknown one would be pruned)
    assert missing_from(document["spec"], created["spec"]) == [], label


def test_numbers_where_katibs_api_has_text_are_refused_by_the_cluster(
    tuner_crds: list[dict[str, Any]], kube_client: client.ApiClient, namespace: str
) -> None:
    """The one documented difference: tuner reads `min: 0.01`, the CRD (like Katib's) wants `min: "0.01"`."""
    ((_, document),) = experiments_in([UNQUOTED])
    with pytest.raises(ApiException) as refused:
        create(kube_client, namespace, "experiments", document)
    assert refused.value.status == 422
    fields = {cause["field"] for cause in json.loads(refused.value.body)["details"]["causes"]}
    assert "spec.parameters.feasibleSpace.max" in fields


def test_the_converted_examples_pass_tuner_validate_too(tmp_path: Path) -> None:
    files = []
    for i, (_, document) in enumerate(EXAMPLES):
        files.append(tmp_path / f"experiment-{i}.yaml")
        files[-1].write_text(yaml.safe_dump(document, sort_keys=False))
    result = CliRunner().invoke(app, ["validate", *map(str, files)])
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout.count(": ok (") == len(files)


BAD = [
    ("spec.maxTrialCount", ["spec", "maxTrialCount"], "x"),
    ("spec.maxTrialCount", ["spec", "maxTrialCount"], 0),
    ("spec.parallelTrialCount", ["spec", "parallelTrialCount"], 0),
    ("spec.maxFailedTrialCount", ["spec", "maxFailedTrialCount"], -1),
    ("spec.parameters.parameterType", ["spec", "parameters", 0, "parameterType"], "nope"),
    (
        "spec.parameters.feasibleSpace.distribution",
        ["spec", "parameters", 0, "feasibleSpace", "distribution"],
        "gaussian",
    ),
    ("spec.objective.type", ["spec", "objective", "type"], "maximise"),
    ("spec.resumePolicy", ["spec", "resumePolicy"], "Sometimes"),
    ("spec.parameters.feasibleSpace.min", ["spec", "parameters", 0, "feasibleSpace", "min"], 0.01),
]


@pytest.mark.parametrize(("field", "where", "value"), BAD, ids=[f"{f}={v!r}" for f, _, v in BAD])
def test_a_bad_value_gets_422_naming_the_field_and_tuner_refuses_it_too(
    tuner_crds: list[dict[str, Any]],
    kube_client: client.ApiClient,
    namespace: str,
    field: str,
    where: list[Any],
    value: Any,
) -> None:
    document = minimal_experiment()
    node: Any = document
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    with pytest.raises(ApiException) as refused:
        create(kube_client, namespace, "experiments", document)
    assert refused.value.status == 422
    body = json.loads(refused.value.body)
    # 1.20 names a list entry's field without its index (`spec.parameters.parameterType`)
    assert field in {cause["field"] for cause in body["details"]["causes"]}, body
    # the same document is refused locally at the same field (the CRD is not stricter than `tuner validate`,
    # except for unquoted numbers where Katib's API has text: tuner reads them, a cluster refuses them)
    if not isinstance(value, float):
        _, problems = experiment_from_document(document)
        assert any(re.sub(r"\[\d+\]", "", p.path) == field for p in problems), problems


def test_the_server_fills_katibs_static_defaults_as_apply_defaults_does(
    tuner_crds: list[dict[str, Any]], kube_client: client.ApiClient, namespace: str
) -> None:
    document = minimal_experiment()
    created = create(kube_client, namespace, "experiments", document)
    experiment, problems = experiment_from_document(copy.deepcopy(document))
    assert experiment is not None and problems == []
    expected = apply_defaults(experiment).to_dict()["spec"]
    spec = created["spec"]
    assert spec["parallelTrialCount"] == expected["parallelTrialCount"] == 3
    assert spec["resumePolicy"] == expected["resumePolicy"] == "Never"
    assert (
        spec["metricsCollectorSpec"] == expected["metricsCollectorSpec"] == {"collector": {"kind": "StdOut"}}
    )
    distribution = spec["parameters"][0]["feasibleSpace"]["distribution"]
    assert distribution == expected["parameters"][0]["feasibleSpace"]["distribution"] == "uniform"
    # what the user set is never overwritten by a default; a null is dropped, as the models read it as unset
    document["spec"]["parallelTrialCount"] = 1
    document["spec"]["objective"]["goal"] = None
    document["metadata"]["name"] = "explicit"
    explicit = create(kube_client, namespace, "experiments", document)["spec"]
    assert explicit["parallelTrialCount"] == 1
    assert "goal" not in explicit["objective"]


def test_the_status_subresource_changes_status_only(
    tuner_crds: list[dict[str, Any]], kube_client: client.ApiClient, namespace: str
) -> None:
    api = objects(kube_client)
    created = create(kube_client, namespace, "experiments", minimal_experiment())
    changed = copy.deepcopy(created)
    changed["spec"]["maxTrialCount"] = 99
    changed["status"] = {"trialsSucceeded": 2, "conditions": [{"type": "Running", "status": "True"}]}
    after = api.replace_namespaced_custom_object_status(
        GROUP, VERSION, namespace, "experiments", "minimal", changed
    )
    assert after["status"]["trialsSucceeded"] == 2
    assert after["spec"]["maxTrialCount"] == 4  # the spec change through /status is ignored
    assert after["metadata"]["generation"] == created["metadata"]["generation"]
    # and the main resource ignores status: a spec update keeps the status the controller wrote
    edited = copy.deepcopy(after)
    edited["spec"]["maxTrialCount"] = 5
    edited["status"] = {"trialsSucceeded": 7}
    updated = api.replace_namespaced_custom_object(
        GROUP, VERSION, namespace, "experiments", "minimal", edited
    )
    assert updated["spec"]["maxTrialCount"] == 5
    assert updated["status"]["trialsSucceeded"] == 2
    assert updated["metadata"]["generation"] == created["metadata"]["generation"] + 1


def table(kube: ApiServer, namespace: str, plural: str) -> dict[str, Any]:
    with kube.http() as http:
        answer = http.get(
            f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{plural}", headers={"Accept": TABLE}
        )
    answer.raise_for_status()
    result: dict[str, Any] = answer.json()
    assert result["kind"] == "Table"
    return result


def test_kubectl_get_experiments_shows_status_best_value_and_trial_counts(
    tuner_crds: list[dict[str, Any]], kube_client: client.ApiClient, kube: ApiServer, namespace: str
) -> None:
    api = objects(kube_client)
    created = create(kube_client, namespace, "experiments", minimal_experiment())
    created["status"] = {
        "conditions": [
            {"type": "Created", "status": "True", "reason": "ExperimentCreated"},
            {"type": "Running", "status": "True", "reason": "ExperimentRunning"},
        ],
        "currentOptimalTrial": {
            "bestTrialName": "minimal-abc",
            "objectiveValue": 0.93,
            "observation": {"metrics": [{"name": "accuracy", "min": "0.5", "max": "0.93", "latest": "0.9"}]},
        },
        "trialsSucceeded": 3,
        "trialsRunning": 2,
        "trialsFailed": 1,
    }
    api.replace_namespaced_custom_object_status(GROUP, VERSION, namespace, "experiments", "minimal", created)
    shown = table(kube, namespace, "experiments")
    names = [c["name"] for c in shown["columnDefinitions"]]
    assert names == ["Name", "Status", "Best", "Succeeded", "Running", "Failed", "Age"]
    (row,) = shown["rows"]
    assert row["cells"][:6] == ["minimal", "Running", 0.93, 3, 2, 1]


def test_kubectl_get_trials_and_suggestions_show_their_columns(
    tuner_crds: list[dict[str, Any]], kube_client: client.ApiClient, kube: ApiServer, namespace: str
) -> None:
    from tuner.spec import Trial
    from tuner.spec.suggestion import Suggestion

    trial = Trial.model_validate(
        {
            "metadata": {"name": "minimal-abc"},
            "spec": {
                "objective": {"type": "maximize", "objectiveMetricName": "accuracy"},
                "parameterAssignments": [{"name": "lr", "value": "0.05"}],
                "runSpec": {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "minimal-abc"}},
                "primaryContainerName": "main",
            },
        }
    ).to_dict()
    created = create(kube_client, namespace, "trials", trial)
    assert missing_from(trial["spec"], created["spec"]) == []
    created["status"] = {
        "conditions": [{"type": "Succeeded", "status": "True"}],
        "observation": {"metrics": [{"name": "accuracy", "latest": "0.91"}]},
    }
    objects(kube_client).replace_namespaced_custom_object_status(
        GROUP, VERSION, namespace, "trials", "minimal-abc", created
    )
    (row,) = table(kube, namespace, "trials")["rows"]
    assert row["cells"][:3] == ["minimal-abc", "Succeeded", "0.91"]

    suggestion = Suggestion.model_validate(
        {"metadata": {"name": "minimal"}, "spec": {"algorithm": {"algorithmName": "random"}, "requests": 3}}
    ).to_dict()
    created = create(kube_client, namespace, "suggestions", suggestion)
    created["status"] = {
        "suggestionCount": 2,
        "suggestions": [{"name": "minimal-abc", "parameterAssignments": [{"name": "lr", "value": "0.05"}]}],
        "conditions": [{"type": "Running", "status": "True"}],
    }
    after = objects(kube_client).replace_namespaced_custom_object_status(
        GROUP, VERSION, namespace, "suggestions", "minimal", created
    )
    assert missing_from(created["status"], after["status"]) == []
    shown = table(kube, namespace, "suggestions")
    assert [c["name"] for c in shown["columnDefinitions"]] == [
        "Name",
        "Status",
        "Requested",
        "Assigned",
        "Age",
    ]
    assert shown["rows"][0]["cells"][:4] == ["minimal", "Running", 3, 2]
