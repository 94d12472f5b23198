"""KFP v1 ResourceOp pattern: create a Kubernetes Job from a manifest and wait for it to succeed (or
fail), read the job's name and an attribute as outputs, print the name in a container step, then delete
the job with a second ResourceOp."""

import json

from pipelines.kfp import dsl

JOB = """
{
  "apiVersion": "batch/v1",
  "kind": "Job",
  "metadata": {"generateName": "resourceop-basic-job-"},
  "spec": {
    "template": {
      "metadata": {"name": "resource-basic"},
      "spec": {
        "containers": [{"name": "sample-container", "image": "busybox", "command": ["/usr/bin/env"]}],
        "restartPolicy": "Never"
      }
    },
    "backoffLimit": 4
  }
}
"""


@dsl.pipeline(name="ResourceOp Basic", description="A basic example of ResourceOp usage.")
def resourceop_basic():
    job = dsl.ResourceOp(
        name="test-step",
        k8s_resource=json.loads(JOB),
        action="create",
        success_condition="status.succeeded > 0",
        failure_condition="status.failed > 0",
        attribute_outputs={"uid": "{.metadata.uid}"},
    )
    show = dsl.ContainerOp(
        name="show",
        image="library/bash:4.4.23",
        command=["sh", "-c"],
        arguments=["echo %s" % job.outputs["name"]],
    )
    dsl.ResourceOp(
        name="delete-job",
        k8s_resource={"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "resource-basic"}},
        action="delete",
    ).after(show)
