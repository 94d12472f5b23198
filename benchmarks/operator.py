"""How fast `tuner operator` turns suggestions into finished trials on a real kube-apiserver (control plane only).

Starts etcd + kube-apiserver from tests/k8s (the binaries of tests/k8s_env/build.sh), applies crds/, runs the
operator in this process (RealKubeClient, SQLite store) and an Experiment of N trials with P in parallel.
No kubelet: a stand-in thread marks each Job Complete as soon as it exists and writes its objective into the
store (what a push would do), so the figure is the operator's own overhead per trial: the Trial and Job
created, the Job read and judged, metrics read, the Trial's and the Experiment's status written.

    nice -n 10 .venv/bin/python -m benchmarks.operator [--trials 40] [--parallel 8]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import yaml
from kubernetes import client as k8s

from controllers.kubernetes.client import JOBS, Resource
from controllers.kubernetes.operator import Operator, OperatorConfig
from controllers.kubernetes.real import RealKubeClient
from controllers.kubernetes.trials import TUNER_GROUP
from tests.k8s import apiserver
from tests.k8s.conftest import apply_crds
from tuner.store import open_store

NAMESPACES = Resource("", "v1", "Namespace", "namespaces", namespaced=False)
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "kubernetes" / "experiment.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--parallel", type=int, default=8)
    args = parser.parse_args()
    server = apiserver.start()
    folder = Path(tempfile.mkdtemp(prefix="tuner-operator-bench-"))
    store = open_store(f"sqlite:///{folder / 'tuner.db'}")
    try:
        configuration = k8s.Configuration(host=server.url)
        configuration.ssl_ca_cert = str(server.ca_file)
        configuration.api_key = {"authorization": server.token}
        configuration.api_key_prefix = {"authorization": "Bearer"}
        api = k8s.ApiClient(configuration)
        apply_crds(api)
        kube = RealKubeClient(api)
        kube.create(NAMESPACES, {"metadata": {"name": "bench"}})
        operator = Operator(
            kube, store, OperatorConfig(namespaces=["bench"], poll_interval=0.1, watch_timeout=30)
        )
        stop = threading.Event()
        threading.Thread(target=operator.run, args=(stop,), daemon=True).start()
        done: set[str] = set()

        def kubelet() -> None:
            while not stop.wait(0.05):
                for job in kube.list(JOBS, "bench")[0]:
                    name = job["metadata"]["name"]
                    if name in done:
                        continue
                    record = store.get_experiment("quadratic", "bench")
                    trial = next(t for t in store.list_trials(record.id) if t.name == name)
                    store.log_metric(trial.id, "loss", 1.0)
                    kube.patch_status(
                        JOBS,
                        name,
                        {"status": {"conditions": [{"type": "Complete", "status": "True"}]}},
                        "bench",
                    )
                    done.add(name)

        threading.Thread(target=kubelet, daemon=True).start()
        document = yaml.safe_load(EXAMPLE.read_text())
        document["spec"].update(maxTrialCount=args.trials, parallelTrialCount=args.parallel)
        started = time.monotonic()
        kube.create(TUNER_GROUP.experiments, document, "bench")
        while True:
            status = kube.get(TUNER_GROUP.experiments, "quadratic", "bench").get("status") or {}
            if any(
                c["type"] == "Succeeded" and c["status"] == "True" for c in status.get("conditions") or []
            ):
                break
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        stop.set()
        print(
            f"{args.trials} trials, {args.parallel} in parallel: {elapsed:.1f} s from `create Experiment` to "
            f"Succeeded = {elapsed / args.trials * 1000:.0f} ms per trial, {args.trials / elapsed:.1f} trials/s"
        )
    finally:
        store.close()
        server.stop()


if __name__ == "__main__":
    main()
