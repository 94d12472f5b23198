"""Katib's own kinds of Experiment, run here: what runs as Katib runs it, and what is refused with the real reason.

The experiments under tests/golden/experiments are re-creations of Katib's examples (written for these tests,
not copied); each refusal must name the field and say what to do instead.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from controllers.local_run import load_local
from suggestions.pbt import GENERATION_LABEL, PARENT_LABEL
from tuner.config import Settings
from tuner.errors import SpecError

ROOT = Path(__file__).resolve().parents[2]
VALID = ROOT / "tests" / "golden" / "experiments" / "valid"


def refusal(path: Path, settings: Settings) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_local(path, settings)
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize("name", ["nas-darts", "nas-enas"])
def test_nas_experiments_are_refused_as_nas_not_as_an_unknown_algorithm(
    name: str, settings: Settings
) -> None:
    [line] = refusal(VALID / f"{name}.yaml", settings)
    assert line.startswith("spec.algorithm.algorithmName: ")
    assert "neural architecture search" in line and "Katib on Kubernetes" in line
    assert "unknown algorithm" not in line


def test_pbt_runs_here_its_mount_path_meaning_the_trials_own_checkpoint_folder(settings: Settings) -> None:
    local = load_local(VALID / "resume-from-volume-pbt.yaml", settings)
    plan, runs = local.plan, local.plan.context.runs_dir
    parent = runs / "simple-pbt-parent" / "checkpoint"
    parent.mkdir(parents=True)
    (parent / "model.txt").write_text("weights")
    labels = {GENERATION_LABEL: "1", PARENT_LABEL: "simple-pbt-parent"}
    request = plan.request("simple-pbt-child", {"lr": "0.01"}, 1, None, labels)
    own = runs / "simple-pbt-child" / "checkpoint"
    assert f"--checkpoint={own}/" in request.argv  # Katib mounts the folder at suggestion_trial_dir
    assert (own / "model.txt").read_text() == "weights"  # seeded with the parent's, as Katib's service does
    assert request.env["TUNER_CHECKPOINT_DIR"] == str(own)
    assert request.env["TUNER_PARENT_CHECKPOINT_DIR"] == str(parent)
    (own / "model.txt").write_text("trained further")
    again = plan.request("simple-pbt-child", {"lr": "0.01"}, 2, None, labels)  # a retry keeps its progress
    assert (own / "model.txt").read_text() == "trained further" and again.argv == request.argv


def test_pbt_checkpoint_volume_is_said_to_apply_on_kubernetes_only(
    settings: Settings, tmp_path: Path
) -> None:
    document = yaml.safe_load((VALID / "resume-from-volume-pbt.yaml").read_text())
    local = load_local(VALID / "resume-from-volume-pbt.yaml", settings)
    assert not [n for n in local.plan.notes() if "checkpoint_volume" in n]
    document["spec"]["algorithm"]["algorithmSettings"].append({"name": "checkpoint_volume", "value": "ckpt"})
    path = tmp_path / "with-volume.yaml"
    path.write_text(yaml.safe_dump(document))
    [note] = [n for n in load_local(path, settings).plan.notes() if "checkpoint_volume" in n]
    assert "'ckpt'" in note and "tuner operator" in note and str(local.plan.context.runs_dir) in note


def test_an_argo_workflow_is_refused_naming_the_step_katib_would_run(settings: Settings) -> None:
    [line] = refusal(VALID / "argo-workflow.yaml", settings)
    assert line.startswith("spec.trialTemplate.trialSpec: an Argo Workflow runs its steps as pods")
    assert "template 'model-training'" in line and "batch/v1 Job" in line
    assert "no container named" not in line


def test_a_trainjob_is_refused_naming_its_runtime(settings: Settings) -> None:
    [line] = refusal(VALID / "trainjob.yaml", settings)
    assert line.startswith("spec.trialTemplate.trialSpec: a TrainJob's pods are made by Kubeflow Trainer")
    assert "'torch-distributed'" in line and "Katib on Kubernetes" in line
    assert "no container named" not in line


def test_katibs_hyperband_example_validates_and_runs(settings: Settings) -> None:
    """Katib runs its hyperband example (resource fixed to [1, 1], r_l 2); so must `tuner run`."""
    from controllers.local_run import run_local
    from tuner.states import ExperimentState, TrialState
    from tuner.store import open_store

    local = load_local(VALID / "hyperband.yaml", settings)
    store = open_store(settings.store_url)
    try:
        outcome = run_local(store, local)
        trials = store.list_trials(outcome.record.id)
    finally:
        store.close()
    assert outcome.record.state == ExperimentState.SUCCEEDED
    assert [t.state for t in trials] == [TrialState.SUCCEEDED] * 2
    assert [t.assignment_values()["num-epochs"] for t in trials] == ["1", "1"]  # hyperband's first rung
    assert outcome.record.status["currentOptimalTrial"]["bestTrialName"] in {t.name for t in trials}


CONFIG_MAP_EXPERIMENT = """
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: from-configmap, namespace: kubeflow}
spec:
  objective: {type: minimize, objectiveMetricName: loss}
  algorithm: {algorithmName: random, algorithmSettings: [{name: random_state, value: "5"}]}
  parallelTrialCount: 1
  maxTrialCount: 2
  parameters:
    - {name: lr, parameterType: double, feasibleSpace: {min: "0.1", max: "0.2"}}
  trialTemplate:
    primaryContainerName: training-container
    successCondition: status.conditions.#(type=="Complete")#|#(status=="True")#
    failureCondition: status.conditions.#(type=="Failed")#|#(status=="True")#
    trialParameters:
      - {name: learningRate, reference: lr}
    configMap: {configMapName: trial-templates, configMapNamespace: kubeflow, templatePath: job.yaml}
"""

CONFIG_MAP = """
apiVersion: v1
kind: ConfigMap
metadata: {name: trial-templates, namespace: kubeflow}
data:
  job.yaml: |
    apiVersion: batch/v1
    kind: Job
    spec:
      template:
        spec:
          containers:
            - name: training-container
              image: example.org/train:1
              command:
                - python3
                - -c
                - "import sys; print('loss=' + sys.argv[1])"
                - "${trialParameters.learningRate}"
                - "${trialParameters.momentum}"
          restartPolicy: Never
"""


def test_a_configmap_template_is_checked_like_an_inline_one(tmp_path: Path, settings: Settings) -> None:
    """Katib's webhook fetches the ConfigMap and rejects a placeholder no trialParameter declares."""
    from tuner.spec import load_experiment

    (tmp_path / "experiment.yaml").write_text(CONFIG_MAP_EXPERIMENT)
    (tmp_path / "templates.yaml").write_text(CONFIG_MAP)
    expected = (
        "spec.trialTemplate.configMap: in the ConfigMap template (trial-templates, key job.yaml) at "
        "spec.template.spec.containers[0].command[4]: ${trialParameters.momentum} is not declared in "
        "spec.trialTemplate.trialParameters"
    )
    with pytest.raises(SpecError) as caught:
        load_experiment(tmp_path / "experiment.yaml")  # what `tuner validate` reads
    assert [str(p) for p in caught.value.problems] == [expected]
    assert refusal(tmp_path / "experiment.yaml", settings) == [expected]  # and `tuner run`

    # a declared parameter the template never uses is Katib's other placeholder rule
    (tmp_path / "templates.yaml").write_text(CONFIG_MAP.replace('- "${trialParameters.momentum}"', ""))
    (tmp_path / "experiment.yaml").write_text(
        CONFIG_MAP_EXPERIMENT.replace(
            "- {name: learningRate, reference: lr}",
            '- {name: learningRate, reference: lr}\n      - {name: unused, reference: "${trialSpec.Name}"}',
        )
    )
    assert refusal(tmp_path / "experiment.yaml", settings) == [
        "spec.trialTemplate.trialParameters[1].name: 'unused' is declared but ${trialParameters.unused} "
        "does not appear in the ConfigMap template (trial-templates, key job.yaml); use it there or remove "
        "this entry"
    ]


def test_a_valid_configmap_template_runs(tmp_path: Path, settings: Settings) -> None:
    from controllers.local_run import run_local
    from tuner.states import ExperimentState
    from tuner.store import open_store

    (tmp_path / "experiment.yaml").write_text(CONFIG_MAP_EXPERIMENT)
    (tmp_path / "templates.yaml").write_text(CONFIG_MAP.replace('- "${trialParameters.momentum}"', ""))
    store = open_store(settings.store_url)
    try:
        outcome = run_local(store, load_local(tmp_path / "experiment.yaml", settings))
    finally:
        store.close()
    assert outcome.record.state == ExperimentState.SUCCEEDED
    assert outcome.record.status["trialsSucceeded"] == 2
