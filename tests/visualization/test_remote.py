"""Figures of an experiment read from a running `tuner server` through `tuner.Client(host=...)`.

A real server process on loopback serves the store the small experiment was tuned into; the data read over
HTTP must equal what the store gives directly, and the learning curves come from the metric-series endpoint.
"""

from __future__ import annotations

from pathlib import Path

import tuner
from tests.server.conftest import ServerProcess
from tuner.visualization import ExperimentData, figure_json, load_experiment_data


def test_client_with_host_loads_the_same_experiment(small_store: str, tmp_path: Path) -> None:
    local = load_experiment_data(small_store, "small")
    server = ServerProcess(tmp_path, small_store)
    server.start()
    try:
        with tuner.Client(host=server.url) as client:
            remote = load_experiment_data(client, "small")
            _same(local, remote)
            remote_curves = figure_json("intermediate", remote)
    finally:
        server.stop()
    local_curves = figure_json("intermediate", local)
    assert remote_curves["data"] == local_curves["data"]
    assert figure_json("pareto", remote)["data"] == figure_json("pareto", local)["data"]


def _same(local: ExperimentData, remote: ExperimentData) -> None:
    assert (remote.name, remote.namespace, remote.state) == (local.name, local.namespace, local.state)
    assert remote.metrics == local.metrics and remote.parameters == local.parameters
    assert [(t.number, t.name, t.state, t.params, t.metrics) for t in remote.trials] == [
        (t.number, t.name, t.state, t.params, t.metrics) for t in local.trials
    ]
    for r, t in zip(remote.trials, local.trials, strict=True):  # the API's times have whole seconds
        assert r.start is not None and t.start is not None
        assert r.start == t.start.replace(microsecond=0)
