"""A pipeline used as a component inside another pipeline (KFP v2): its tasks are recorded into the outer
pipeline, in place, with the arguments it was called with; what the call returns stands for the whole
inner pipeline.

The inner tasks keep their component names (made unique in the outer pipeline: `add`, `add-2`), so a
compiled pipeline is flat: the local runner, the checks and the Argo target need nothing new. `.output`
and `.outputs[...]` are the inner pipeline's returned values; `.after(...)` on it makes every inner task
wait, and `other.after(it)` waits for every inner task.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipelines.dsl.channels import Channel
from pipelines.dsl.tasks import PipelineTask


class NestedPipelineTask:
    """What calling a pipeline inside a pipeline returns."""

    def __init__(self, name: str, tasks: list[PipelineTask], returned: Any) -> None:
        self.name = name
        self.tasks = tasks
        self._outputs = self._outputs_of(returned)

    def __repr__(self) -> str:
        return f"<NestedPipelineTask {self.name}: {', '.join(t.name for t in self.tasks)}>"

    def _outputs_of(self, returned: Any) -> dict[str, Channel]:
        if returned is None:
            return {}
        if isinstance(returned, PipelineTask):
            return {"Output": returned.output}
        if isinstance(returned, Channel):
            return {"Output": returned}
        if hasattr(returned, "_asdict"):
            returned = returned._asdict()
        if isinstance(returned, Mapping):
            return {
                str(k): (v.output if isinstance(v, PipelineTask) else v)
                for k, v in returned.items()
                if isinstance(v, (Channel, PipelineTask))
            }
        raise TypeError(
            f"pipeline {self.name!r} returned {returned!r}; return a task output or a dict of them"
        )

    @property
    def outputs(self) -> dict[str, Channel]:
        """The inner pipeline's returned values by name (`Output` for a single one)."""
        return dict(self._outputs)

    @property
    def output(self) -> Channel:
        """The inner pipeline's only returned value."""
        if len(self._outputs) != 1:
            raise AttributeError(
                f"pipeline {self.name!r} returns {len(self._outputs)} values; use .outputs[name]"
                if self._outputs
                else f"pipeline {self.name!r} returns nothing; return a task output from it to use .output"
            )
        return next(iter(self._outputs.values()))

    def after(self, *tasks: Any) -> NestedPipelineTask:
        """Every inner task waits for these tasks."""
        for task in self.tasks:
            task.after(*tasks)
        return self
