"""Katib's success/failure conditions (the GJSON subset of controllers.kubernetes.gjson) on workload objects."""

from __future__ import annotations

import pytest

from controllers.kubernetes import gjson
from controllers.kubernetes.trials import judge
from controllers.launchers.base import Phase
from tuner.spec.defaults import JOB_FAILURE_CONDITION, JOB_SUCCESS_CONDITION, KUBEFLOW_SUCCESS_CONDITION

ARGO_SUCCESS = 'status.[@this].#(phase=="Succeeded")#'
ARGO_FAILURE = 'status.[@this].#(phase=="Failed")#'
TEKTON_FAILURE = 'status.conditions.#(type=="Succeeded")#|#(status=="False")#'


def job(*conditions: tuple[str, str]) -> dict:
    return {"status": {"conditions": [{"type": t, "status": s, "reason": f"R{t}"} for t, s in conditions]}}


def test_job_conditions_as_katib_defaults_them() -> None:
    assert gjson.is_true(job(("Complete", "True")), JOB_SUCCESS_CONDITION)
    assert not gjson.is_true(job(("Complete", "False")), JOB_SUCCESS_CONDITION)
    assert not gjson.is_true(job(), JOB_SUCCESS_CONDITION)
    assert not gjson.is_true({"status": {}}, JOB_SUCCESS_CONDITION)
    assert gjson.is_true(job(("Suspended", "False"), ("Failed", "True")), JOB_FAILURE_CONDITION)
    assert gjson.matched_detail(job(("Failed", "True")), JOB_FAILURE_CONDITION) == ("RFailed", "")
    assert gjson.is_true(job(("Succeeded", "True")), KUBEFLOW_SUCCESS_CONDITION)


def test_argo_and_tekton_conditions_from_katibs_docs() -> None:
    workflow = {"status": {"phase": "Succeeded"}}
    assert gjson.is_true(workflow, ARGO_SUCCESS) and not gjson.is_true(workflow, ARGO_FAILURE)
    assert not gjson.is_true({"status": {"phase": "Running"}}, ARGO_SUCCESS)
    assert gjson.is_true(job(("Succeeded", "False")), TEKTON_FAILURE)
    assert not gjson.is_true(job(("Succeeded", "True")), TEKTON_FAILURE)


def test_paths_counts_mapping_and_comparisons() -> None:
    doc = {"a": {"b.c": 1, "items": [{"n": "x", "v": 3}, {"n": "y", "v": 10}, {"n": "yz", "v": 7}]}}
    assert gjson.get(doc, r"a.b\.c") == 1
    assert gjson.get(doc, "a.items.#") == 3
    assert gjson.get(doc, "a.items.#.n") == ["x", "y", "yz"]
    assert gjson.get(doc, "a.items.1.v") == 10
    assert gjson.get(doc, "a.items.#(v>5)#.n") == ["y", "yz"]
    assert gjson.get(doc, "a.items.#(v>5).n") == "y"
    assert gjson.get(doc, 'a.items.#(n%"y*")#|#') == 2
    assert gjson.get(doc, 'a.items.#(n!="x")#.v') == [10, 7]
    assert gjson.get(doc, "a.missing.deeper") is None
    assert gjson.is_true({"status": {"done": True}}, "status.done")


def test_a_broken_path_is_an_error() -> None:
    with pytest.raises(gjson.PathError):
        gjson.get({}, 'status.conditions.#(type=="Complete"')


def test_judge_reads_failure_first() -> None:
    both = job(("Complete", "True"), ("Failed", "True"))
    assert judge(both, JOB_SUCCESS_CONDITION, JOB_FAILURE_CONDITION).phase == Phase.FAILED
    assert (
        judge(job(("Complete", "True")), JOB_SUCCESS_CONDITION, JOB_FAILURE_CONDITION).phase
        == Phase.SUCCEEDED
    )
    assert judge(job(), JOB_SUCCESS_CONDITION, JOB_FAILURE_CONDITION).phase == Phase.RUNNING
