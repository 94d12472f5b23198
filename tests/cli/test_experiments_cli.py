"""`tuner experiments|trials ...` on a real store: best N by the experiment's metric strategy, paging, streamed
documents, CSV, lookups that say where a name exists, short trial ids.

The store is filled through its API (a 30-trial maximize experiment whose trials' max and latest accuracy
differ), then the commands run in-process through typer's runner, as `tuner` would run them.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tuner.cli import app
from tuner.states import ExperimentState, TrialState
from tuner.store import open_store
from tuner.store.records import Assignment, Observation, RuntimeInfo
from tuner.store.sql import SqlStore

ROOT = Path(__file__).resolve().parents[2]
TRIALS = 30


def experiment_spec(name: str, namespace: str = "default") -> dict[str, object]:
    return {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Experiment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "objective": {
                "type": "maximize",
                "objectiveMetricName": "accuracy",
                "additionalMetricNames": ["loss"],
            },
            "algorithm": {"algorithmName": "random"},
            "parameters": [
                {"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.001", "max": "1"}},
                {"name": "layers", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "64"}},
                {
                    "name": "optimizer",
                    "parameterType": "categorical",
                    "feasibleSpace": {"list": ["sgd", "adam"]},
                },
            ],
        },
    }


def accuracy_curve(n: int) -> list[float]:
    """Trial n peaks at 0.5 + n/100 and ends lower, so max and latest rank trials differently."""
    peak = 0.5 + n / 100
    return [peak - 0.2, peak, peak - 0.3 + (n % 3) / 10]


@pytest.fixture
def store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'tuner.db'}"
    monkeypatch.setenv("TUNER_STORE", url)
    store = open_store(url)
    try:
        record = store.create_experiment("mnist", experiment_spec("mnist"), "sha256:0")
        best_name = ""
        for n in range(TRIALS):
            name = f"mnist-{n:02d}x{'abcdefghijklmnopqrstuvwxyz'[n % 26]}q7w2k"
            assignments = [
                Assignment("lr", repr(0.001 * (n + 1)), 0.001 * (n + 1)),
                Assignment("layers", str(n + 1), float(n + 1)),
                Assignment("optimizer", "adam" if n % 2 else "sgd", None),
            ]
            trial = store.create_trial(record.id, name, assignments, number=n)
            folder = tmp_path / "runs" / name
            folder.mkdir(parents=True)
            (folder / "trial.log").write_text(f"hello from {name}\n")
            store.transition_trial(
                trial.id, TrialState.RUNNING, runtime=RuntimeInfo(log_path=str(folder / "trial.log"))
            )
            if n == 7:
                store.transition_trial(trial.id, TrialState.FAILED, "Error", "boom")
                continue
            store.log_metrics(
                [
                    Observation(trial.id, "accuracy", v, step, 100.0 + step)
                    for step, v in enumerate(accuracy_curve(n))
                ]
                + [Observation(trial.id, "loss", 1.0 - n / 100, 0, 100.0)]
            )
            store.transition_trial(trial.id, TrialState.SUCCEEDED)
            best_name = name
        status = {
            "trials": TRIALS,
            "currentOptimalTrial": {
                "bestTrialName": best_name,
                "parameterAssignments": [{"name": "lr", "value": "0.03"}],
                "observation": {
                    "metrics": [{"name": "accuracy", "min": "0.59", "max": "0.79", "latest": "0.49"}]
                },
            },
        }
        store.update_experiment_status(record.id, ExperimentState.RUNNING, status)
        other = store.create_experiment(
            "median-stop", experiment_spec("median-stop", "kubeflow"), "sha256:1", "kubeflow"
        )
        store.create_trial(other.id, "median-stop-zz9y8x7w", [Assignment("lr", "0.1", 0.1)], number=0)
    finally:
        store.close()
    return url


def tuner(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def table_rows(text: str) -> list[list[str]]:
    """The data rows of a rich table printed plainly: the cells between the box characters."""
    rows = []
    for line in text.splitlines():
        if line.startswith("│"):
            rows.append([cell.strip() for cell in line.strip("│").split("│")])
    return rows


def header(text: str) -> list[str]:
    for line in text.splitlines():
        if line.startswith("┃"):
            return [cell.strip() for cell in line.strip("┃").split("┃")]
    raise AssertionError(f"no table header in {text!r}")


def test_trials_list_shows_the_best_20_by_the_strategy_and_labels_it(store_url: str) -> None:
    code, out, _ = tuner("trials", "list", "mnist")
    assert code == 0
    columns = header(out)
    assert "accuracy (max)" in columns and "loss (max)" in columns
    rows = table_rows(out)
    assert len(rows) == 20
    accuracy = [float(r[columns.index("accuracy (max)")]) for r in rows]
    assert accuracy == sorted(accuracy, reverse=True)
    assert rows[0][0].startswith("mnist-29") and accuracy[0] == pytest.approx(0.79)  # the max, not the latest
    assert "trials 1-20 of 30" in out and "--offset 20" in out


def test_trials_list_pages_filters_and_sorts(store_url: str) -> None:
    code, out, _ = tuner("trials", "list", "mnist", "--limit", "5", "--offset", "5")
    assert code == 0 and len(table_rows(out)) == 5 and "trials 6-10 of 30" in out
    assert table_rows(out)[0][0].startswith("mnist-24")
    code, out, _ = tuner("trials", "list", "mnist", "--state", "failed")
    assert code == 0 and [r[0][:8] for r in table_rows(out)] == ["mnist-07"]
    code, out, _ = tuner("trials", "list", "mnist", "--sort-by", "number", "--limit", "3")
    assert [r[0][:8] for r in table_rows(out)] == ["mnist-00", "mnist-01", "mnist-02"]
    code, out, _ = tuner("trials", "list", "mnist", "--sort-by", "loss", "--limit", "1")
    assert table_rows(out)[0][0].startswith("mnist-00")  # loss sorted by its strategy (max), best first
    code, _, err = tuner("trials", "list", "mnist", "--state", "Suceeded")
    assert code == 2 and "did you mean Succeeded" in err
    code, _, err = tuner("trials", "list", "mnist", "--sort-by", "acuracy")
    assert code == 2 and "did you mean accuracy" in err


def test_trials_list_documents_stream_as_a_katib_list(store_url: str) -> None:
    code, out, _ = tuner("trials", "list", "mnist", "-o", "json")
    assert code == 0
    document = json.loads(out)
    assert document["kind"] == "List" and document["apiVersion"] == "v1"
    assert [item["metadata"]["name"][:8] for item in document["items"]] == [
        f"mnist-{n:02d}" for n in range(TRIALS)
    ]
    code, out, _ = tuner("trials", "list", "mnist", "-o", "yaml", "--sort-by", "accuracy", "--limit", "2")
    listed = yaml.safe_load(out)
    assert [item["metadata"]["name"][:8] for item in listed["items"]] == ["mnist-29", "mnist-28"]
    assert listed["metadata"] == {"resourceVersion": ""}
    code, out, _ = tuner("trials", "list", "mnist", "-o", "json", "--state", "Killed")
    assert code == 0 and json.loads(out)["items"] == []


def test_trials_list_csv_has_one_typed_row_per_trial(store_url: str) -> None:
    code, out, _ = tuner("trials", "list", "mnist", "-o", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == TRIALS
    first = rows[0]
    assert {"number", "name", "state", "value", "params_lr", "params_layers", "params_optimizer"} <= set(
        first
    )
    assert {"accuracy_final", "accuracy_best", "loss_final", "duration", "folder"} <= set(first)
    assert first["params_layers"] == "1" and first["params_optimizer"] == "sgd"
    assert float(rows[29]["value"]) == pytest.approx(0.79) and float(
        rows[29]["accuracy_final"]
    ) == pytest.approx(0.69)
    assert rows[7]["state"] == "Failed" and rows[7]["value"] == ""
    assert Path(first["folder"], "trial.log").exists()


def test_experiments_show_summarises_with_the_best_n(store_url: str) -> None:
    code, out, _ = tuner("experiments", "show", "mnist")
    assert code == 0
    columns = header(out)
    assert columns[-1] == "accuracy (max)"
    rows = table_rows(out)
    assert len(rows) == 10 and rows[0][0].startswith("mnist-29")
    assert "30 trials (29 Succeeded, 1 Failed); best 10 shown by accuracy (max), 20 more" in out
    assert "accuracy (max)=0.79" in out  # the best trial line uses the strategy, not latest (0.49)


def test_experiments_list_shows_the_objective_by_its_strategy(store_url: str) -> None:
    code, out, _ = tuner("experiments", "list")
    assert code == 0
    row = next(r for r in table_rows(out) if r[1] == "mnist")
    assert row[5] == "accuracy (max) 0.79"
    code, out, _ = tuner("experiments", "list", "-o", "yaml")
    assert [i["metadata"]["name"] for i in yaml.safe_load(out)["items"]] == ["mnist", "median-stop"]


def test_a_miss_says_where_the_experiment_is_or_what_was_meant(store_url: str) -> None:
    code, _, err = tuner("experiments", "show", "median-stop")
    assert code == 2
    assert "no experiment 'median-stop' in namespace 'default'" in err
    assert "exists in namespace 'kubeflow' (add -n kubeflow)" in err
    code, _, err = tuner("trials", "list", "mnsit")
    assert code == 2 and "did you mean mnist?" in err
    code, _, err = tuner("experiments", "show", "median-stp")
    assert code == 2 and "did you mean median-stop (in namespace kubeflow, -n kubeflow)?" in err


def test_short_trial_ids_work_for_logs_and_show(store_url: str) -> None:
    code, out, _ = tuner("trials", "logs", "05xfq7w2k")  # the suffix alone
    assert code == 0 and out == "hello from mnist-05xfq7w2k\n"
    code, out, _ = tuner("trials", "logs", "mnist-12")  # a unique prefix
    assert code == 0 and "mnist-12xmq7w2k" in out
    code, out, _ = tuner("trials", "show", "29x")
    assert (
        code == 0
        and "mnist-29xdq7w2k" in out
        and "accuracy (objective, max): 0.79  (min 0.59, max 0.79, latest 0.69; 3 values)" in out
    )
    code, out, _ = tuner("trials", "show", "zz9y", "-o", "yaml")
    assert code == 0 and yaml.safe_load(out)["metadata"]["namespace"] == "kubeflow"
    code, _, err = tuner("trials", "logs", "mnist-1")
    assert code == 2 and "matches several trials" in err
    code, _, err = tuner("trials", "logs", "nope")
    assert code == 2 and "no trial 'nope'" in err


def test_trial_logs_find_the_trial_without_listing_experiments(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lookup is one query; walking every experiment (what it did before) now fails the command."""

    def walk(*args: object, **kwargs: object) -> None:
        raise AssertionError("trials logs listed every experiment")

    monkeypatch.setattr(SqlStore, "list_experiments", walk)
    code, out, _ = tuner("trials", "logs", "mnist-03xdq7w2k")
    assert code == 0 and out == "hello from mnist-03xdq7w2k\n"


def test_print_summary_hides_what_does_not_fit(store_url: str) -> None:
    from rich.console import Console

    from tuner.cli.run import print_summary

    console = Console(record=True, width=200)
    store = open_store(store_url)
    try:
        print_summary(store, store.get_experiment("mnist"), console, limit=3)
    finally:
        store.close()
    text = console.export_text()
    rows = table_rows(text)
    assert [r[0][:8] for r in rows] == ["mnist-29", "mnist-28", "mnist-27"]
    assert [r[-1] for r in rows] == ["0.79", "0.78", "0.77"]  # six significant digits, no float noise
    assert "27 more with `tuner trials list mnist --offset 3`" in text


def test_read_commands_import_only_the_store(store_url: str) -> None:
    """What makes `tuner experiments list` answer quickly: no spec models, engines or algorithms load
    (and no Alembic: the store is already migrated)."""
    script = (
        "import sys; from tuner.cli import app\n"
        "try:\n    app(['experiments', 'list'])\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"TUNER_STORE": store_url, "PATH": "/usr/bin:/bin", "HOME": str(ROOT)},
        timeout=60,
    )
    loaded = set(done.stdout.splitlines()[-1].split())
    assert "tuner.store.sql" in loaded and "mnist" in done.stdout, done.stderr
    heavy = {"tuner.spec", "controllers.local_run", "suggestions", "numpy", "pandas", "alembic"}
    assert not heavy & loaded


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_lists_are_written_item_by_item(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each item reaches stdout before the next one is read: a long list never sits in memory whole."""
    from tuner.cli._common import OutputFormat, print_list
    from tuner.views import list_document

    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    items = [{"kind": "Trial", "metadata": {"name": f"t-{n}"}} for n in range(3)]

    def produce() -> Iterator[dict[str, object]]:
        for n, item in enumerate(items):
            assert out.getvalue().count("t-") == n  # the earlier items are already written
            yield item

    print_list(produce(), OutputFormat(fmt))
    parsed = json.loads(out.getvalue()) if fmt == "json" else yaml.safe_load(out.getvalue())
    assert parsed == list_document(items)
