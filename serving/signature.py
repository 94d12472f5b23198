"""What a model takes and returns, in Open Inference Protocol terms (tensor name, datatype, shape).

A signature is inferred from the input example given to `log_model` (and the model's answer to it), stored
with every version, published by `GET /v2/models/{m}` and used to refuse a payload that does not fit
with a 4xx that names the input, what was expected and what came.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# Open Inference Protocol datatypes and the numpy dtype each one decodes to.
V2_TO_NUMPY: dict[str, np.dtype[Any]] = {
    "BOOL": np.dtype(np.bool_),
    "UINT8": np.dtype(np.uint8),
    "UINT16": np.dtype(np.uint16),
    "UINT32": np.dtype(np.uint32),
    "UINT64": np.dtype(np.uint64),
    "INT8": np.dtype(np.int8),
    "INT16": np.dtype(np.int16),
    "INT32": np.dtype(np.int32),
    "INT64": np.dtype(np.int64),
    "FP16": np.dtype(np.float16),
    "FP32": np.dtype(np.float32),
    "FP64": np.dtype(np.float64),
    "BYTES": np.dtype(object),
}
_NUMPY_TO_V2 = {dtype: name for name, dtype in V2_TO_NUMPY.items()}


def v2_datatype(dtype: np.dtype[Any]) -> str:
    """The V2 datatype of a numpy dtype; strings and objects are BYTES."""
    if dtype.kind in "USO":
        return "BYTES"
    try:
        return _NUMPY_TO_V2[dtype]
    except KeyError:
        raise ValueError(f"numpy dtype {dtype} has no Open Inference Protocol datatype") from None


@dataclass(frozen=True)
class TensorSpec:
    """One named tensor: `shape` uses -1 for a dimension of any size (the batch dimension first)."""

    name: str
    datatype: str
    shape: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "datatype": self.datatype, "shape": list(self.shape)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TensorSpec:
        return cls(str(data["name"]), str(data["datatype"]), tuple(int(d) for d in data["shape"]))

    @property
    def dtype(self) -> np.dtype[Any]:
        return V2_TO_NUMPY[self.datatype]


@dataclass(frozen=True)
class Signature:
    """The input and output tensors of a model."""

    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": [spec.to_dict() for spec in self.inputs],
            "outputs": [spec.to_dict() for spec in self.outputs],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Signature:
        return cls(
            tuple(TensorSpec.from_dict(item) for item in data.get("inputs") or []),
            tuple(TensorSpec.from_dict(item) for item in data.get("outputs") or []),
        )


def as_batch(example: Any) -> np.ndarray:
    """An input example as a 2-D batch of rows (a single row becomes a batch of one)."""
    if hasattr(example, "to_numpy"):  # a pandas DataFrame or Series
        example = example.to_numpy()
    array = np.asarray(example)
    if array.ndim == 0:
        raise ValueError("an input example must hold at least one row, e.g. x_test[:5]")
    if array.ndim == 1:
        array = array.reshape(1, -1)
    return array


def tensor_spec(name: str, array: np.ndarray) -> TensorSpec:
    """The spec of a batch: any number of rows, the other dimensions as in the example."""
    return TensorSpec(name, v2_datatype(array.dtype), (-1, *array.shape[1:]))


def infer_signature(example: np.ndarray, prediction: Any) -> Signature:
    """The signature of a model that answered `prediction` to the batch `example`."""
    output = np.asarray(prediction)
    if output.ndim == 0:
        output = output.reshape(1)
    return Signature((tensor_spec("input-0", example),), (tensor_spec("output-0", output),))


def example_rows(example: np.ndarray, limit: int = 5) -> list[Any]:
    """The first rows of an example as JSON-ready lists (what is stored as the version's input example)."""
    return np.asarray(example[:limit]).tolist()


def describe_shape(shape: Sequence[int]) -> str:
    return "[" + ", ".join("any" if d < 0 else str(d) for d in shape) + "]"
