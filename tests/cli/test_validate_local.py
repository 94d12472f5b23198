"""`tuner validate --local` checks exactly what `tuner run` checks; plain `validate` leaves out only what
matters when running on this machine (features that need a cluster, files next to the experiment, this
machine's resources). In-process through the CLI's real entry point."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cli.malformed_cases import BASE, dump
from tuner.cli import main

Document = dict[str, Any]


def tuner(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def container(document: Document) -> dict[str, Any]:
    result: dict[str, Any] = document["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"][
        "containers"
    ][0]
    return result


def as_config_map(document: Document, folder: Path, data: Any = None) -> None:
    """Move the inline template into a ConfigMap manifest next to the experiment (`data`: the value of its
    key instead of the template's YAML)."""
    template = document["spec"]["trialTemplate"].pop("trialSpec")
    document["spec"]["trialTemplate"]["successCondition"] = (
        'status.conditions.#(type=="Complete")#|#(status=="True")#'
    )
    document["spec"]["trialTemplate"]["failureCondition"] = (
        'status.conditions.#(type=="Failed")#|#(status=="True")#'
    )
    document["spec"]["trialTemplate"]["configMap"] = {
        "configMapName": "trial-templates",
        "configMapNamespace": "default",
        "templatePath": "job.yaml",
    }
    manifest = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "trial-templates", "namespace": "default"},
        "data": {"job.yaml": dump(template) if data is None else data},
    }
    (folder / "templates.yaml").write_text(dump(manifest))


def gpus(document: Document, folder: Path) -> None:
    container(document)["resources"] = {"limits": {"nvidia.com/gpu": 64}}


def cpus(document: Document, folder: Path) -> None:
    container(document)["resources"] = {"requests": {"cpu": "100000"}}


def no_command(document: Document, folder: Path) -> None:
    container(document)["args"] = container(document).pop("command")


def collector(document: Document, folder: Path) -> None:
    document["spec"]["metricsCollectorSpec"] = {"collector": {"kind": "PrometheusMetric"}}


def cpu_per_trial(document: Document, folder: Path) -> None:
    document["spec"]["trialTemplate"]["trialParameters"][1]["name"] = "cores"
    container(document)["resources"] = {"limits": {"cpu": "${trialParameters.cores}"}}
    container(document)["command"][4] = "x"


def backoff_per_trial(document: Document, folder: Path) -> None:
    document["spec"]["trialTemplate"]["trialParameters"][1]["name"] = "retries"
    document["spec"]["trialTemplate"]["trialSpec"]["spec"]["backoffLimit"] = "${trialParameters.retries}"
    container(document)["command"][4] = "x"


def missing_config_map(document: Document, folder: Path) -> None:
    as_config_map(document, folder)
    (folder / "templates.yaml").unlink()


def config_map_not_yaml(document: Document, folder: Path) -> None:
    as_config_map(document, folder, data="apiVersion: batch/v1\nkind: Job\nspec: {template: [\n")


def config_map_not_a_mapping(document: Document, folder: Path) -> None:
    as_config_map(document, folder, data="- just\n- a list\n")


def config_map_bad_cpu(document: Document, folder: Path) -> None:
    container(document)["resources"] = {"limits": {"cpu": "lots"}}
    as_config_map(document, folder)


LOCAL_ONLY: list[tuple[str, Callable[[Document, Path], None], str]] = [
    ("more GPUs than here", gpus, "asks for 64 nvidia.com/gpu but this machine has"),
    ("more CPUs than here", cpus, "asks for 100000 CPUs but this machine has"),
    ("no command", no_command, "container 'trainer' has no `command`"),
    ("a cluster-only collector", collector, "PrometheusMetric is not available locally"),
    ("cpu set per trial", cpu_per_trial, "resources.limits.cpu holds a ${trialParameters...} placeholder"),
    ("backoffLimit set per trial", backoff_per_trial, "spec.backoffLimit holds a ${trialParameters...}"),
    ("configMap not next to the file", missing_config_map, "ConfigMap 'trial-templates' was not found"),
    (
        "configMap data not YAML",
        config_map_not_yaml,
        "'job.yaml' in ConfigMap 'trial-templates' (templates.yaml)",
    ),
    (
        "configMap data not a mapping",
        config_map_not_a_mapping,
        "'job.yaml' in ConfigMap 'trial-templates' is not",
    ),
    ("configMap template with a bad cpu", config_map_bad_cpu, "cannot read 'lots' as a CPU quantity"),
]


@pytest.mark.parametrize(("name", "change", "expect"), LOCAL_ONLY, ids=[case[0] for case in LOCAL_ONLY])
def test_local_problems_are_found_by_validate_local_and_run_alike(
    name: str,
    change: Callable[[Document, Path], None],
    expect: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    document = copy.deepcopy(BASE)
    change(document, tmp_path)
    file = tmp_path / "experiment.yaml"
    file.write_text(dump(document))
    store = tmp_path / "store.db"

    code, out, _ = tuner(capsys, "validate", str(file))
    assert code == 0, out  # valid for a cluster
    code, out, err = tuner(capsys, "validate", "--local", str(file))
    assert code == 2 and expect in out and "Traceback" not in out + err, out + err
    problems = [line.removeprefix(f"{file}: ") for line in out.splitlines()]
    code, out, err = tuner(capsys, "run", str(file), "--store", f"sqlite:///{store}")
    assert code == 2 and "Traceback" not in out + err, err
    reported = err.removeprefix(f"error: {file}: ").splitlines()
    assert [line.strip() for line in reported if not line.endswith("problems:")] == problems  # the same
    assert not store.exists()


def test_a_configmap_template_next_to_the_file_is_checked_and_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = copy.deepcopy(BASE)
    as_config_map(document, tmp_path)
    file = tmp_path / "experiment.yaml"
    file.write_text(dump(document))
    assert tuner(capsys, "validate", "--local", str(file))[0] == 0
    code, out, err = tuner(capsys, "run", "-q", str(file), "--store", f"sqlite:///{tmp_path / 'store.db'}")
    assert code == 0, err
    assert "Succeeded" in out


def test_every_problem_is_reported_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = copy.deepcopy(BASE)
    document["spec"]["algorithm"]["algorithmName"] = "nosuch"
    document["spec"]["maxTrialCount"] = 0
    container(document)["resources"] = {"limits": {"cpu": "lots", "nvidia.com/gpu": "0.5"}}
    file = tmp_path / "experiment.yaml"
    file.write_text(dump(document))
    code, out, _ = tuner(capsys, "validate", str(file))
    assert code == 2
    assert [line.removeprefix(f"{file}: ").split(":")[0] for line in out.splitlines()] == [
        "spec.algorithm.algorithmName",
        "spec.maxTrialCount",
        "spec.trialTemplate.trialSpec.spec.template.spec.containers[0].resources.limits.cpu",
        "spec.trialTemplate.trialSpec.spec.template.spec.containers[0].resources.limits['nvidia.com/gpu']",
    ]
    code, _, err = tuner(capsys, "run", str(file))
    assert code == 2 and err.startswith(f"error: {file}: 4 problems:")


def test_run_takes_one_experiment_per_file_and_validate_local_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = copy.deepcopy(BASE), copy.deepcopy(BASE)
    second["metadata"]["name"] = "second"
    file = tmp_path / "two.yaml"
    file.write_text(yaml.safe_dump_all([first, second], sort_keys=False))
    assert tuner(capsys, "validate", str(file))[0] == 0
    code, out, _ = tuner(capsys, "validate", "--local", str(file))
    assert code == 2 and "expected one Experiment document, found 2 documents" in out
    code, _, err = tuner(capsys, "run", str(file))
    assert code == 2 and "expected one Experiment document, found 2 documents" in err


def test_the_examples_pass_validate_local() -> None:
    """What the README tells users to run must pass the local checks here (this machine has no GPU)."""
    root = Path(__file__).resolve().parents[2] / "examples"
    files = sorted(p for p in root.rglob("*.yaml") if "kind: Experiment" in p.read_text())
    assert len(files) >= 10
    from controllers.admission import check_file, local_site
    from tuner.config import Settings

    for file in files:
        check_file(file, local_site(file, Settings.from_env()))
