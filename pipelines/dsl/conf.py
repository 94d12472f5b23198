"""KFP v1 `dsl.PipelineConf` and `dsl.get_pipeline_conf()`: settings of a whole pipeline.

Honoured here where they mean something on one machine: `set_parallelism` caps the tasks running at once,
`set_timeout` stops the run when it takes longer, op transformers are applied to every task when the
pipeline is recorded. `set_ttl_seconds_after_finished`, `set_image_pull_secrets`,
`set_default_pod_node_selector` and `set_image_pull_policy` only matter on Kubernetes: they are kept and
written into the Argo Workflow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pipelines.compiler.ir import PipelineSettings


class PipelineConf:
    """Pipeline-wide settings (KFP v1)."""

    def __init__(self) -> None:
        self.parallelism: int | None = None
        self.timeout: float | None = None
        self.ttl_seconds_after_finished: int | None = None
        self.image_pull_secrets: list[str] = []
        self.image_pull_policy: str | None = None
        self.default_pod_node_selector: dict[str, str] = {}
        self.op_transformers: list[Callable[[Any], Any]] = []

    def set_parallelism(self, max_num_pods: int) -> PipelineConf:
        """At most this many tasks at once."""
        if isinstance(max_num_pods, bool) or not isinstance(max_num_pods, int) or max_num_pods < 1:
            raise ValueError(
                f"PipelineConf.set_parallelism: expected a whole number >= 1, got {max_num_pods!r}"
            )
        self.parallelism = max_num_pods
        return self

    def set_timeout(self, seconds: float) -> PipelineConf:
        """Stop the run (Failed) when it has run longer than this."""
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
            raise ValueError(f"PipelineConf.set_timeout: expected seconds > 0, got {seconds!r}")
        self.timeout = float(seconds)
        return self

    def set_ttl_seconds_after_finished(self, seconds: int) -> PipelineConf:
        """Kubernetes: delete the Workflow this long after it finished (kept locally: runs live in the store)."""
        self.ttl_seconds_after_finished = int(seconds)
        return self

    def set_image_pull_secrets(self, image_pull_secrets: list[Any]) -> PipelineConf:
        """Kubernetes: secrets to pull images with (names, or objects with `.name` like V1LocalObjectReference)."""
        self.image_pull_secrets = [
            s if isinstance(s, str) else str(s["name"] if isinstance(s, dict) else s.name)
            for s in image_pull_secrets
        ]
        return self

    def set_image_pull_policy(self, policy: str) -> PipelineConf:
        """Kubernetes: Always, Never or IfNotPresent."""
        if policy not in ("Always", "Never", "IfNotPresent"):
            raise ValueError(
                f"PipelineConf.set_image_pull_policy: use Always, Never or IfNotPresent, got {policy!r}"
            )
        self.image_pull_policy = policy
        return self

    def set_default_pod_node_selector(self, label_name: str, value: str) -> PipelineConf:
        """Kubernetes: a node selector for every task's pod."""
        self.default_pod_node_selector[str(label_name)] = str(value)
        return self

    def add_op_transformer(self, transformer: Callable[[Any], Any]) -> PipelineConf:
        """A function applied to every task after the pipeline body ran (e.g. to set a limit on all)."""
        self.op_transformers.append(transformer)
        return self

    def settings(self) -> PipelineSettings | None:
        """The IR form (None when nothing is set)."""
        settings = PipelineSettings(
            parallelism=self.parallelism,
            timeout_seconds=self.timeout,
            ttl_seconds_after_finished=self.ttl_seconds_after_finished,
            image_pull_secrets=list(self.image_pull_secrets),
            image_pull_policy=self.image_pull_policy,
            node_selector=dict(self.default_pod_node_selector),
        )
        return None if settings == PipelineSettings() else settings

    def merge(self, other: PipelineConf | None) -> None:
        """Take every setting `other` (a conf passed to compile or to a run) sets."""
        if other is None:
            return
        for key, value in vars(other).items():
            if key == "op_transformers":
                self.op_transformers.extend(value)
            elif value not in (None, [], {}):
                setattr(self, key, value)


def get_pipeline_conf() -> PipelineConf:
    """KFP v1 `dsl.get_pipeline_conf()`: the settings of the pipeline being defined."""
    from pipelines.dsl.context import current_context

    return current_context().conf
