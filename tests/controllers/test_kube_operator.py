"""The operator's whole loop on the in-process fake KubeClient (fast; the same loop runs against a real
kube-apiserver in tests/k8s/test_operator_on_apiserver.py).

No kubelet exists here, so a small stand-in plays it: for every Job the operator creates it computes the
trial's result from the Job's rendered arguments, writes what the pod would print as the pod's log
(`set_log`, read back by the operator through `pod_log`) and marks the Job Complete or Failed.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from controllers.kubernetes.client import JOBS, PODS, NotFoundError, Resource
from controllers.kubernetes.fake import FakeKubeClient
from controllers.kubernetes.operator import Operator, OperatorConfig
from controllers.kubernetes.trials import TUNER_GROUP
from tuner.config import Settings
from tuner.states import ExperimentState, TrialState
from tuner.store import Store, open_store

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "kubernetes" / "experiment.yaml"
EXPERIMENTS, TRIALS = TUNER_GROUP.experiments, TUNER_GROUP.trials
WORKFLOWS = Resource("argoproj.io", "v1alpha1", "Workflow", "workflows")
NS = "team-a"


def example(**spec: Any) -> dict[str, Any]:
    document = yaml.safe_load(EXAMPLE.read_text())
    document["spec"].update(spec)
    return document


def args_of(job: dict[str, Any]) -> dict[str, str]:
    container = job["spec"]["template"]["spec"]["containers"][0]
    return dict(a[2:].split("=", 1) for a in container["args"] if a.startswith("--") and "=" in a)


def loss_of(job: dict[str, Any]) -> float:
    args = args_of(job)
    return (float(args["x"]) - 1) ** 2 + int(args["shift"])


Outcome = Callable[[dict[str, Any]], tuple[str, str] | None]
"""Given a Job: (log text, "Complete" | "Failed"), or None to leave it running."""


def printed(job: dict[str, Any]) -> tuple[str, str]:
    return f"epoch 1\nloss={loss_of(job)}\n", "Complete"


class Kubelet:
    """Completes the operator's Jobs as a node would (see the module docstring)."""

    def __init__(self, kube: FakeKubeClient, outcome: Outcome = printed) -> None:
        self.kube, self.outcome = kube, outcome
        self.done: set[str] = set()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self.stop.wait(0.02):
            for job in self.kube.all(JOBS, NS):
                name = job["metadata"]["name"]
                if name in self.done:
                    continue
                result = self.outcome(job)
                if result is None:
                    continue
                log, condition = result
                labels = job["spec"]["template"]["metadata"]["labels"]
                self.kube.create(PODS, {"metadata": {"name": f"{name}-pod", "labels": labels}}, NS)
                self.kube.set_log(NS, f"{name}-pod", log, container="training")
                self.kube.patch_status(
                    JOBS,
                    name,
                    {
                        "status": {
                            "conditions": [
                                {
                                    "type": condition,
                                    "status": "True",
                                    "reason": "BackoffLimitExceeded" if condition == "Failed" else "",
                                }
                            ]
                        }
                    },
                    NS,
                )
                self.done.add(name)

    def __enter__(self) -> Kubelet:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def wait_for(what: str, check: Callable[[], Any], timeout: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c["type"] == kind and c["status"] == "True":
            return c
    return None


def finished(kube: FakeKubeClient, name: str) -> Callable[[], dict[str, Any] | None]:
    def check() -> dict[str, Any] | None:
        try:
            obj = kube.get(EXPERIMENTS, name, NS)
        except NotFoundError:
            return None
        return obj if condition(obj, "Succeeded") or condition(obj, "Failed") else None

    return check


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    db = open_store(settings.store_url)
    yield db
    db.close()


@pytest.fixture
def kube() -> FakeKubeClient:
    return FakeKubeClient([EXPERIMENTS, TRIALS, WORKFLOWS])


@pytest.fixture
def operator(kube: FakeKubeClient, store: Store) -> Iterator[Operator]:
    op = Operator(kube, store, OperatorConfig(namespaces=[NS], poll_interval=0.05, watch_timeout=2))
    stop = threading.Event()
    thread = threading.Thread(target=op.run, args=(stop,), daemon=True)
    thread.start()
    yield op
    stop.set()
    thread.join(timeout=60)


def test_experiment_to_succeeded_with_katibs_status(
    kube: FakeKubeClient, operator: Operator, store: Store
) -> None:
    with Kubelet(kube):
        kube.create(EXPERIMENTS, example(), NS)
        experiment = wait_for("the experiment to end", finished(kube, "quadratic"))
    success = condition(experiment, "Succeeded")
    assert success is not None and success["reason"] == "ExperimentMaxTrialsReached"
    running = next(c for c in experiment["status"]["conditions"] if c["type"] == "Running")
    assert running["status"] == "False"
    status = experiment["status"]
    assert status["trialsSucceeded"] == 4 and status["trials"] == 4 and "trialsRunning" not in status
    trials = kube.all(TRIALS, NS)
    jobs = {j["metadata"]["name"]: j for j in kube.all(JOBS, NS)}
    assert len(trials) == 4 and set(jobs) == {t["metadata"]["name"] for t in trials}
    losses = {name: loss_of(job) for name, job in jobs.items()}
    best = min(losses, key=losses.__getitem__)
    assert status["currentOptimalTrial"]["bestTrialName"] == best
    assert status["currentOptimalTrial"]["objectiveValue"] == pytest.approx(losses[best])
    uid = experiment["metadata"]["uid"]
    for trial in trials:
        name = trial["metadata"]["name"]
        assert trial["metadata"]["ownerReferences"][0]["uid"] == uid
        assert trial["metadata"]["labels"] == {"tuner.dev/experiment": "quadratic"}
        job = jobs[name]
        assert job["metadata"]["ownerReferences"][0]["uid"] == trial["metadata"]["uid"]
        # the parameters substituted into the Job are the trial's assignments
        assigned = {a["name"]: a["value"] for a in trial["spec"]["parameterAssignments"]}
        assert args_of(job) == assigned
        assert job["spec"]["template"]["metadata"]["labels"]["tuner.dev/trial"] == name
        env = {e["name"]: e["value"] for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["TUNER_TRIAL_NAME"] == name and env["TUNER_EXPERIMENT"] == "quadratic"
        assert condition(trial, "Succeeded")["reason"] == "TrialSucceeded"  # type: ignore[index]
        loss = trial["status"]["observation"]["metrics"][0]
        assert loss["name"] == "loss" and float(loss["latest"]) == pytest.approx(losses[name])
    # the store (what the dashboard reads) says the same
    record = store.get_experiment("quadratic", NS)
    assert record.state == ExperimentState.SUCCEEDED
    assert {t.name: t.state for t in store.list_trials(record.id)} == dict.fromkeys(
        jobs, TrialState.SUCCEEDED
    )
    exposition = operator.metrics.exposition().decode()
    assert "tuner_operator_trial_created_total 4.0" in exposition
    assert "tuner_operator_trial_succeeded_total 4.0" in exposition
    # counted when the worker returns, just after it wrote the final status
    wait_for(
        "the succeeded counter",
        lambda: "tuner_operator_experiment_succeeded_total 1.0" in operator.metrics.exposition().decode(),
    )


def test_name_colon_value_lines_with_metrics_format(kube: FakeKubeClient, operator: Operator) -> None:
    colon = r"([\w|-]+)\s*:\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)"
    document = example(
        maxTrialCount=2,
        metricsCollectorSpec={
            "collector": {"kind": "StdOut"},
            "source": {"filter": {"metricsFormat": [colon]}},
        },
    )

    def colon_lines(job: dict[str, Any]) -> tuple[str, str]:
        return f"2026-12-05T08:00:00Z loss: {loss_of(job)}\nloss=999\n", "Complete"

    with Kubelet(kube, colon_lines):
        kube.create(EXPERIMENTS, document, NS)
        experiment = wait_for("the experiment to end", finished(kube, "quadratic"))
    losses = [loss_of(j) for j in kube.all(JOBS, NS)]
    assert condition(experiment, "Succeeded") is not None
    assert experiment["status"]["currentOptimalTrial"]["objectiveValue"] == pytest.approx(min(losses))


def test_failed_jobs_fail_the_experiment(kube: FakeKubeClient, operator: Operator) -> None:
    with Kubelet(kube, lambda job: ("Traceback: boom\n", "Failed")):
        kube.create(EXPERIMENTS, example(), NS)
        experiment = wait_for("the experiment to end", finished(kube, "quadratic"))
    failed = condition(experiment, "Failed")
    assert failed is not None and failed["reason"] == "ExperimentFailed"
    assert experiment["status"]["trialsFailed"] >= 2
    trial = next(t for t in kube.all(TRIALS, NS) if condition(t, "Failed"))
    assert "BackoffLimitExceeded" in condition(trial, "Failed")["message"]  # type: ignore[index]


def test_metrics_unavailable_when_the_log_has_no_objective(kube: FakeKubeClient, operator: Operator) -> None:
    with Kubelet(kube, lambda job: ("accuracy=0.3\n", "Complete")):
        kube.create(EXPERIMENTS, example(maxTrialCount=2, maxFailedTrialCount=1), NS)
        experiment = wait_for("the experiment to end", finished(kube, "quadratic"))
    assert condition(experiment, "Failed") is not None
    assert experiment["status"]["trialMetricsUnavailable"] >= 1


def test_goal_reached_deletes_the_trials_still_running(kube: FakeKubeClient, operator: Operator) -> None:
    first: list[str] = []

    def only_the_first(job: dict[str, Any]) -> tuple[str, str] | None:
        if not first:
            first.append(job["metadata"]["name"])
        return ("loss=0.001\n", "Complete") if job["metadata"]["name"] == first[0] else None

    document = example(maxTrialCount=10, parallelTrialCount=3)
    document["spec"]["objective"]["goal"] = 0.01
    with Kubelet(kube, only_the_first):
        kube.create(EXPERIMENTS, document, NS)
        experiment = wait_for("the experiment to end", finished(kube, "quadratic"))
    assert condition(experiment, "Succeeded")["reason"] == "ExperimentGoalReached"  # type: ignore[index]
    assert [j["metadata"]["name"] for j in kube.all(JOBS, NS)] == first  # the running ones were deleted
    killed = wait_for(
        "the killed trials' status", lambda: [t for t in kube.all(TRIALS, NS) if condition(t, "Killed")]
    )
    assert len(killed) == 2 and experiment["status"]["trialsSucceeded"] == 1


def test_any_kind_judged_by_its_conditions(kube: FakeKubeClient, operator: Operator) -> None:
    """An Argo Workflow as the trial, with the success/failure conditions of Katib's docs."""
    document = example(maxTrialCount=2)
    template = document["spec"]["trialTemplate"]
    job_spec = template["trialSpec"]["spec"]["template"]["spec"]
    template["trialSpec"] = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "spec": {
            "entrypoint": "main",
            "templates": [{"name": "main", "container": job_spec["containers"][0]}],
        },
    }
    template["successCondition"] = 'status.[@this].#(phase=="Succeeded")#'
    template["failureCondition"] = 'status.[@this].#(phase=="Failed")#'
    document["spec"]["metricsCollectorSpec"] = {"collector": {"kind": "None"}}
    kube.create(EXPERIMENTS, document, NS)
    workflows = wait_for(
        "two workflows", lambda: len(kube.all(WORKFLOWS, NS)) == 2 and kube.all(WORKFLOWS, NS)
    )
    for workflow in workflows:
        assert workflow["spec"]["templates"][0]["container"]["args"][0].startswith("--x=")
        kube.patch_status(WORKFLOWS, workflow["metadata"]["name"], {"status": {"phase": "Succeeded"}}, NS)
    experiment = wait_for("the experiment to end", finished(kube, "quadratic"))
    assert condition(experiment, "Succeeded") is not None and experiment["status"]["trialsSucceeded"] == 2


def test_deleting_the_experiment_stops_it_and_cascades(
    kube: FakeKubeClient, operator: Operator, store: Store
) -> None:
    kube.create(EXPERIMENTS, example(), NS)
    wait_for("two jobs", lambda: len(kube.all(JOBS, NS)) == 2)
    kube.delete(EXPERIMENTS, "quadratic", NS)
    assert operator.wait_idle(60)
    assert kube.all(TRIALS, NS) == [] and kube.all(JOBS, NS) == []
    record = store.get_experiment("quadratic", NS)
    assert record.state == ExperimentState.INTERRUPTED
    # recreated under the same name: a new experiment, not the old one's record
    with Kubelet(kube):
        kube.create(EXPERIMENTS, example(maxTrialCount=2), NS)
        experiment = wait_for("the new experiment to end", finished(kube, "quadratic"))
    assert experiment["status"]["trials"] == 2


def test_an_invalid_experiment_gets_a_failed_condition_naming_the_field(
    kube: FakeKubeClient, operator: Operator
) -> None:
    document = example()
    document["spec"]["metricsCollectorSpec"] = {"collector": {"kind": "TensorFlowEvent"}}
    kube.create(EXPERIMENTS, document, NS)
    experiment = wait_for("the Failed condition", finished(kube, "quadratic"))
    message = condition(experiment, "Failed")["message"]  # type: ignore[index]
    assert "spec.metricsCollectorSpec.collector.kind" in message and "sidecar" in message
    assert kube.all(JOBS, NS) == []


def test_edited_counts_are_picked_up(kube: FakeKubeClient, operator: Operator) -> None:
    """maxTrialCount raised while running (one of the three editable fields): the run continues to it."""
    jobs_seen: list[str] = []

    def hold_until_edited(job: dict[str, Any]) -> tuple[str, str] | None:
        jobs_seen.append(job["metadata"]["name"])
        return printed(job)

    with Kubelet(kube, hold_until_edited):
        obj = kube.create(EXPERIMENTS, example(maxTrialCount=2, parallelTrialCount=1), NS)
        current = kube.get(EXPERIMENTS, "quadratic", NS)
        edited = copy.deepcopy(current["spec"])
        edited["maxTrialCount"] = 3
        kube.patch(EXPERIMENTS, "quadratic", {"spec": edited}, NS)
        experiment = wait_for("the experiment to end", finished(kube, "quadratic"))
    assert obj["metadata"]["uid"] == experiment["metadata"]["uid"]
    assert experiment["status"]["trialsSucceeded"] == 3


def test_katib_compat_reconciles_kubeflow_experiments(store: Store) -> None:
    """`--katib-compat`: Katib's own kubeflow.org/v1beta1 Experiment, Trials labelled as Katib labels them."""
    from controllers.kubernetes.trials import KATIB_GROUP

    kube = FakeKubeClient([KATIB_GROUP.experiments, KATIB_GROUP.trials])
    op = Operator(
        kube, store, OperatorConfig(namespaces=[NS], group=KATIB_GROUP, poll_interval=0.05, watch_timeout=2)
    )
    stop = threading.Event()
    thread = threading.Thread(target=op.run, args=(stop,), daemon=True)
    thread.start()
    document = example(maxTrialCount=2)
    document["apiVersion"] = "kubeflow.org/v1beta1"
    try:
        with Kubelet(kube):
            kube.create(KATIB_GROUP.experiments, document, NS)

            def ended() -> dict[str, Any] | None:
                obj = kube.get(KATIB_GROUP.experiments, "quadratic", NS)
                return obj if condition(obj, "Succeeded") else None

            experiment = wait_for("the Katib experiment to end", ended)
    finally:
        stop.set()
        thread.join(timeout=60)
    assert experiment["status"]["trialsSucceeded"] == 2
    trials = kube.all(KATIB_GROUP.trials, NS)
    assert [t["apiVersion"] for t in trials] == ["kubeflow.org/v1beta1"] * 2
    assert all(t["metadata"]["labels"] == {"katib.kubeflow.org/experiment": "quadratic"} for t in trials)
    job = kube.all(JOBS, NS)[0]
    assert "katib.kubeflow.org/trial" in job["spec"]["template"]["metadata"]["labels"]


@pytest.mark.parametrize("fmt", ["TEXT", "JSON"])
def test_file_collector_through_the_wrapped_command(
    kube: FakeKubeClient, operator: Operator, tmp_path: Path, fmt: str
) -> None:
    """The File collector: the stand-in kubelet runs the Job's (wrapped) container command for real with sh;
    its output, marker and metrics file included, becomes the pod's log."""
    import subprocess
    import sys

    metrics_file = tmp_path / "out" / "metrics.log"
    metrics_file.parent.mkdir()
    line = '{"loss": "%s"}' if fmt == "JSON" else "loss=%s"
    document = example(
        maxTrialCount=2,
        metricsCollectorSpec={
            "collector": {"kind": "File"},
            "source": {"fileSystemPath": {"path": str(metrics_file), "kind": "File", "format": fmt}},
        },
    )
    container = document["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container["command"] = [
        sys.executable,
        "-c",
        "import sys\n"
        "args = dict(a.lstrip('-').split('=', 1) for a in sys.argv[1:])\n"
        "loss = (float(args['x']) - 1) ** 2 + int(args['shift'])\n"
        "print('loss=12345 is printed, not collected')\n"
        f"open({str(metrics_file)!r}, 'w').write({line!r} % loss + '\\n')\n",
    ]

    def run_it(job: dict[str, Any]) -> tuple[str, str]:
        spec = job["spec"]["template"]["spec"]["containers"][0]
        done = subprocess.run([*spec["command"], *spec["args"]], capture_output=True, text=True, timeout=120)
        return done.stdout, "Complete" if done.returncode == 0 else "Failed"

    with Kubelet(kube, run_it):
        kube.create(EXPERIMENTS, document, NS)
        experiment = wait_for("the experiment to end", finished(kube, "quadratic"))
    assert condition(experiment, "Succeeded") is not None, experiment["status"]
    losses = [loss_of(j) for j in kube.all(JOBS, NS)]
    assert experiment["status"]["currentOptimalTrial"]["objectiveValue"] == pytest.approx(min(losses))
    job = kube.all(JOBS, NS)[0]
    assert job["spec"]["template"]["spec"]["containers"][0]["command"][:2] == ["sh", "-c"]


def test_configmap_template_is_read_from_the_cluster(kube: FakeKubeClient, operator: Operator) -> None:
    from controllers.kubernetes.operator import CONFIG_MAPS

    document = example(maxTrialCount=2)
    template = document["spec"]["trialTemplate"]
    workload = template.pop("trialSpec")
    kube.create(
        CONFIG_MAPS, {"metadata": {"name": "templates"}, "data": {"job.yaml": yaml.safe_dump(workload)}}, NS
    )
    template["configMap"] = {
        "configMapName": "templates",
        "configMapNamespace": NS,
        "templatePath": "job.yaml",
    }
    with Kubelet(kube):
        kube.create(EXPERIMENTS, document, NS)
        experiment = wait_for("the experiment to end", finished(kube, "quadratic"))
    assert condition(experiment, "Succeeded") is not None and experiment["status"]["trialsSucceeded"] == 2
    broken = copy.deepcopy(document)
    broken["metadata"]["name"] = "broken"
    broken["spec"]["trialTemplate"]["configMap"]["templatePath"] = "nope.yaml"
    kube.create(EXPERIMENTS, broken, NS)
    failed = wait_for("the Failed condition", finished(kube, "broken"))
    message = condition(failed, "Failed")["message"]  # type: ignore[index]
    assert "spec.trialTemplate.configMap.templatePath" in message and "job.yaml" in message


def test_finished_workloads_are_deleted_unless_retained(kube: FakeKubeClient, operator: Operator) -> None:
    kubelet = Kubelet(kube)
    document = example(maxTrialCount=3)
    document["spec"]["trialTemplate"]["retain"] = False
    with kubelet:
        kube.create(EXPERIMENTS, document, NS)
        experiment = wait_for("the experiment to end", finished(kube, "quadratic"))
    assert experiment["status"]["trialsSucceeded"] == 3 and len(kubelet.done) == 3
    assert kube.all(JOBS, NS) == []  # Katib's rule: a finished trial's Job goes unless retain
    assert len(kube.all(TRIALS, NS)) == 3


def test_a_restarted_operator_adopts_the_running_trials(kube: FakeKubeClient, store: Store) -> None:
    """Stopping the operator (a rolling update, a lost lease) leaves the Jobs running; the next one adopts
    them from the store and the experiment ends with no trial lost or repeated."""

    def start() -> tuple[Operator, threading.Event, threading.Thread]:
        op = Operator(kube, store, OperatorConfig(namespaces=[NS], poll_interval=0.05, watch_timeout=2))
        stop = threading.Event()
        thread = threading.Thread(target=op.run, args=(stop,), daemon=True)
        thread.start()
        return op, stop, thread

    _, stop, thread = start()
    kube.create(EXPERIMENTS, example(), NS)
    first = wait_for("two running jobs", lambda: len(kube.all(JOBS, NS)) == 2 and kube.all(JOBS, NS))
    stop.set()
    thread.join(timeout=60)
    assert [j["metadata"]["name"] for j in kube.all(JOBS, NS)] == [j["metadata"]["name"] for j in first]
    record = store.get_experiment("quadratic", NS)
    assert {t.state for t in store.list_trials(record.id)} == {TrialState.RUNNING}
    _, stop, thread = start()
    try:
        with Kubelet(kube):
            experiment = wait_for("the experiment to end", finished(kube, "quadratic"))
    finally:
        stop.set()
        thread.join(timeout=60)
    assert condition(experiment, "Succeeded") is not None
    trials = store.list_trials(record.id)
    assert len(trials) == 4 and all(t.state == TrialState.SUCCEEDED for t in trials)
    assert {j["metadata"]["name"] for j in first} <= {t.name for t in trials}


def test_status_conflicts_are_retried(kube: FakeKubeClient, operator: Operator) -> None:
    """Another writer keeps changing the Experiment (409 on the operator's conditional status writes): the
    operator reads again and retries, and the final status is complete."""
    stop = threading.Event()

    def meddler() -> None:  # a second controller touching the object's labels all the time
        n = 0
        while not stop.wait(0.01):
            try:
                kube.patch(EXPERIMENTS, "quadratic", {"metadata": {"labels": {"touched": str(n)}}}, NS)
                n += 1
            except NotFoundError:
                pass

    thread = threading.Thread(target=meddler, daemon=True)
    with Kubelet(kube):
        kube.create(EXPERIMENTS, example(), NS)
        thread.start()
        kube.conflicts_to_inject = 20
        experiment = wait_for("the experiment to end", finished(kube, "quadratic"))
    stop.set()
    thread.join()
    assert kube.conflicts_to_inject == 0  # every injected conflict was hit and retried
    assert experiment["status"]["trialsSucceeded"] == 4
    assert condition(experiment, "Succeeded")["reason"] == "ExperimentMaxTrialsReached"  # type: ignore[index]
