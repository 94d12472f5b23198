"""What a Katib user's script does with Katib's own SDK, run by tests/k8s/test_katib_sdk_on_apiserver.py in
its own process (the SDK's environment: see tests/k8s_env/katib_sdk.sh). Prints one JSON document of what
the SDK answered.

    python katib_sdk_driver.py KUBECONFIG NAMESPACE create|tune
"""

from __future__ import annotations

import json
import sys
from typing import Any


def objective(parameters):  # type: ignore[no-untyped-def]
    # Shipped as source into a bash heredoc by KatibClient.tune, so self-contained: no annotations naming
    # imports of this file, no backticks.
    lr = float(parameters["lr"])
    layers = int(parameters["layers"])
    print(f"loss={(lr - 0.1) ** 2 + 0.01 * layers}")


def quadratic_experiment(katib: Any, namespace: str) -> Any:
    """An Experiment built from the SDK's models, as Katib's examples build them."""
    from kubernetes import client

    container = client.V1Container(
        name="training",
        image="python:3.12-slim",
        command=["python3", "-c", "import sys; x = float(sys.argv[1]); print(f'loss={(x - 1) ** 2}')"],
        args=["${trialParameters.x}"],
    )
    return katib.V1beta1Experiment(
        api_version="kubeflow.org/v1beta1",
        kind="Experiment",
        metadata=client.V1ObjectMeta(name="sdk-quadratic", namespace=namespace),
        spec=katib.V1beta1ExperimentSpec(
            max_trial_count=3,
            parallel_trial_count=2,
            max_failed_trial_count=1,
            algorithm=katib.V1beta1AlgorithmSpec(algorithm_name="random"),
            objective=katib.V1beta1ObjectiveSpec(type="minimize", objective_metric_name="loss"),
            parameters=[
                katib.V1beta1ParameterSpec(
                    name="x",
                    parameter_type="double",
                    feasible_space=katib.V1beta1FeasibleSpace(min="-3", max="3"),
                )
            ],
            trial_template=katib.V1beta1TrialTemplate(
                primary_container_name="training",
                retain=True,
                trial_parameters=[katib.V1beta1TrialParameterSpec(name="x", reference="x")],
                trial_spec={
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "spec": {"template": {"spec": {"containers": [container], "restartPolicy": "Never"}}},
                },
            ),
        ),
    )


def plain(value: Any) -> Any:
    """An SDK model as a dict (the SDK's details hold models or dicts, by version)."""
    return value.to_dict() if hasattr(value, "to_dict") else value


def results(sdk: Any, name: str, namespace: str) -> dict[str, Any]:
    best = sdk.get_optimal_hyperparameters(name, namespace)
    return {
        "succeeded": sdk.is_experiment_succeeded(name, namespace),
        "trials_succeeded": sdk.get_experiment(name, namespace).status.trials_succeeded,
        "best": {
            "trial": best.best_trial_name,
            "parameters": {p.name: p.value for p in best.parameter_assignments},
            "metrics": {m.name: m.latest for m in best.observation.metrics},
        },
        "trials": sorted(t.metadata.name for t in sdk.list_trials(name, namespace)),
        "details": sorted(
            (
                {"name": d["name"], "metrics": [plain(m) for m in d["metrics"]]}
                for d in sdk.get_success_trial_details(name, namespace)
            ),
            key=lambda d: d["name"],
        ),
    }


def main(kubeconfig: str, namespace: str, action: str) -> dict[str, Any]:
    import kubeflow.katib as katib

    sdk = katib.KatibClient(config_file=kubeconfig, namespace=namespace)
    if action == "create":
        sdk.create_experiment(quadratic_experiment(katib, namespace), namespace=namespace)
        sdk.wait_for_experiment_condition("sdk-quadratic", namespace, timeout=300, polling_interval=1)
        found = results(sdk, "sdk-quadratic", namespace)
        sdk.delete_experiment("sdk-quadratic", namespace)
        return found
    sdk.tune(
        name="sdk-tune",
        objective=objective,
        parameters={"lr": katib.search.double(min=0.01, max=0.5), "layers": katib.search.int(min=1, max=4)},
        objective_metric_name="loss",
        objective_type="minimize",
        max_trial_count=2,
        parallel_trial_count=2,
        base_image="python:3.12-slim",
    )
    sdk.wait_for_experiment_condition("sdk-tune", namespace, timeout=300, polling_interval=1)
    return results(sdk, "sdk-tune", namespace)


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4]), default=str))
