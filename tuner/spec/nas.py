"""`spec.nasConfig`: Katib's neural architecture search space (ENAS, DARTS).

Parsed and validated so that Katib files using it are understood; running NAS needs a cluster with
Katib's NAS services, and the controller refuses it locally with a clear message.
"""

from __future__ import annotations

from pydantic import Field

from tuner.spec.field_types import Count, KatibModel
from tuner.spec.parameters import ParameterSpec


class GraphConfig(KatibModel):
    """The network's layer count and input/output sizes."""

    num_layers: Count | None = Field(default=None, alias="numLayers")
    input_sizes: list[Count] | None = Field(default=None, alias="inputSizes")
    output_sizes: list[Count] | None = Field(default=None, alias="outputSizes")


class Operation(KatibModel):
    """One operation type a layer may use, with its own parameters."""

    operation_type: str | None = Field(default=None, alias="operationType")
    parameters: list[ParameterSpec] | None = None


class NasConfig(KatibModel):
    """`spec.nasConfig`."""

    graph_config: GraphConfig | None = Field(default=None, alias="graphConfig")
    operations: list[Operation] | None = None
