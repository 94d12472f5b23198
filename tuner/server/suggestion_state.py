"""The state of an experiment's suggestion, shaped like Katib's Suggestion object.

Katib runs one Suggestion per experiment: its spec says the algorithm and how many assignments the
experiment controller requested so far (`spec.requests`), its status how many it produced
(`suggestionCount`) and conditions (Created, Running, Succeeded, Exhausted, Failed). Here the algorithm
runs in the driver's process; every assignment it produced became a trial, so both counts are the number
of trials, and the state follows the experiment's.
"""

from __future__ import annotations

from typing import Any

from tuner.states import ExperimentReason, ExperimentState
from tuner.store import StoreReader
from tuner.store.records import Experiment as StoredExperiment
from tuner.views import rfc3339


def _state(record: StoredExperiment, driven: bool) -> tuple[str, str]:
    """(state, why) of the suggestion."""
    reason = ""
    for condition in reversed(record.status.get("conditions") or []):
        if condition.get("type") == record.state.value:
            reason = str(condition.get("reason") or "")
            break
    if record.state == ExperimentState.SUCCEEDED and reason == ExperimentReason.SUGGESTION_END_REACHED.value:
        return "Exhausted", "the algorithm has nothing more to suggest"
    if record.state.is_finished:
        return "Succeeded", f"the experiment ended ({record.state.value}, {reason or 'no reason'})"
    if driven or record.state == ExperimentState.RUNNING:
        return "Running", "the experiment's driver asks it for assignments"
    return "Created", f"nobody drives the experiment now ({record.state.value})"


def suggestion_document(store: StoreReader, record: StoredExperiment, driven: bool) -> dict[str, Any]:
    """The Suggestion of a stored experiment (`driven`: this server drives it now)."""
    spec = record.spec.get("spec") or {}
    algorithm = dict(spec.get("algorithm") or {})
    counts = store.count_trials(record.id)
    requested = sum(counts.values())
    state, why = _state(record, driven)
    settings = algorithm.get("algorithmSettings") or []
    return {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Suggestion",
        "metadata": {
            "name": record.name,
            "namespace": record.namespace,
            "creationTimestamp": rfc3339(record.created_at),
            "ownerReferences": [{"kind": "Experiment", "name": record.name}],
        },
        "spec": {
            "algorithm": {
                "algorithmName": algorithm.get("algorithmName"),
                "algorithmSettings": settings,
            },
            "earlyStopping": spec.get("earlyStopping"),
            "requests": requested,
            "resumePolicy": spec.get("resumePolicy") or "Never",
        },
        "status": {
            "state": state,
            "message": why,
            "suggestionCount": requested,
            "trialsByState": {s.value: n for s, n in sorted(counts.items(), key=lambda kv: kv[0].value)},
            "service": "in-process",
            "startTime": rfc3339(record.started_at),
            "completionTime": rfc3339(record.completed_at),
        },
    }
