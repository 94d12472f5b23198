"""Request and response bodies of the Open Inference Protocol V2 (REST) and KServe's V1, as numpy.

Decoding checks a payload against the version's signature and raises `PayloadError` naming the field,
what was expected and what came; the server answers it with a 400 whose JSON body has `error` (what
KServe's clients read) plus `field`, `expected` and `got`. No pydantic on this path: the checks are a
handful of comparisons, done once per request.
"""

from __future__ import annotations

from collections.abc import Mapping
from math import prod
from typing import Any

import numpy as np
import orjson

from serving.signature import V2_TO_NUMPY, Signature, TensorSpec, describe_shape, v2_datatype

JSONDecodeError = orjson.JSONDecodeError


def dumps(value: Any) -> bytes:
    """JSON bytes; numpy arrays and scalars are written directly (no `.tolist()` on the hot path)."""
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY)


def loads(raw: bytes) -> Any:
    return orjson.loads(raw)


class PayloadError(ValueError):
    """A request body that does not fit the protocol or the model's signature (answered with a 4xx)."""

    def __init__(self, field: str, message: str, *, expected: Any = None, got: Any = None, status: int = 400):
        super().__init__(message)
        self.field = field
        self.expected = expected
        self.got = got
        self.status = status

    def body(self) -> dict[str, Any]:
        problem: dict[str, Any] = {"error": str(self), "field": self.field}
        if self.expected is not None:
            problem["expected"] = self.expected
        if self.got is not None:
            problem["got"] = self.got
        return problem


def parse_json(raw: bytes) -> Any:
    try:
        return loads(raw)
    except (JSONDecodeError, ValueError, UnicodeDecodeError) as exc:
        raise PayloadError("body", f"the request body is not valid JSON: {exc}") from None


def _fit(array: np.ndarray, spec: TensorSpec, field: str) -> np.ndarray:
    """Check `array` against one input spec (rank, fixed dimensions, datatype) and cast it."""
    if array.ndim != len(spec.shape) or any(
        want >= 0 and want != have for want, have in zip(spec.shape, array.shape, strict=False)
    ):
        raise PayloadError(
            field,
            f"{field} has shape {list(array.shape)} but the model takes {describe_shape(spec.shape)}",
            expected=list(spec.shape),
            got=list(array.shape),
        )
    target = spec.dtype
    if array.dtype != target:
        if target.kind == "O" or not np.can_cast(array.dtype, target, "same_kind"):
            raise PayloadError(
                field,
                f"{field} has datatype {v2_datatype(array.dtype)} but the model takes {spec.datatype}",
                expected=spec.datatype,
                got=v2_datatype(array.dtype),
            )
        array = array.astype(target)
    return array


def decode_v2(body: Any, signature: Signature | None) -> tuple[np.ndarray, str | None, Any]:
    """The input batch of a V2 inference request, its `id` and its `parameters`."""
    if not isinstance(body, Mapping):
        raise PayloadError("body", "a V2 inference request is a JSON object with 'inputs'")
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise PayloadError(
            "inputs", "'inputs' must be a non-empty list of tensors {name, shape, datatype, data}"
        )
    specs = signature.inputs if signature else ()
    if specs and len(inputs) != len(specs):
        raise PayloadError(
            "inputs",
            f"the model takes {len(specs)} input tensor(s) ({', '.join(s.name for s in specs)}), got {len(inputs)}",
            expected=[s.name for s in specs],
            got=len(inputs),
        )
    if len(inputs) != 1:
        raise PayloadError("inputs", "this server serves models with one input tensor; send exactly one")
    tensor = inputs[0]
    if not isinstance(tensor, Mapping):
        raise PayloadError("inputs[0]", "each input must be an object {name, shape, datatype, data}")
    spec = specs[0] if specs else None
    name = tensor.get("name")
    if spec is not None and name != spec.name:
        raise PayloadError(
            "inputs[0].name",
            f"the model's input is named {spec.name!r}, got {name!r}",
            expected=spec.name,
            got=name,
        )
    datatype = tensor.get("datatype")
    dtype = V2_TO_NUMPY.get(datatype) if isinstance(datatype, str) else None
    if dtype is None:
        raise PayloadError(
            "inputs[0].datatype",
            f"datatype {datatype!r} is not an Open Inference Protocol datatype ({', '.join(V2_TO_NUMPY)})",
            expected=spec.datatype if spec else None,
            got=datatype,
        )
    shape = tensor.get("shape")
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise PayloadError("inputs[0].shape", f"shape must be a list of non-negative integers, got {shape!r}")
    data = tensor.get("data")
    if not isinstance(data, list):
        raise PayloadError("inputs[0].data", "data must be a list (row-major, flat or nested)")
    try:
        array = np.asarray(data, dtype=dtype)
    except (ValueError, TypeError) as exc:
        raise PayloadError("inputs[0].data", f"data does not hold {datatype} values: {exc}") from None
    if array.size != prod(shape):
        raise PayloadError(
            "inputs[0].data",
            f"data holds {array.size} values but shape {shape} needs {prod(shape)}",
            expected=prod(shape),
            got=array.size,
        )
    array = array.reshape(shape)
    if spec is not None:
        array = _fit(array, spec, "inputs[0]")
    return array, body.get("id"), body.get("parameters")


def encode_v2(model: str, version: int, request_id: Any, output: Any, spec: TensorSpec | None) -> bytes:
    """A V2 inference response with one output tensor."""
    array = output if isinstance(output, np.ndarray) else np.asarray(output)
    if array.ndim == 0:
        array = array.reshape(1)
    datatype = v2_datatype(array.dtype)
    flat = array.ravel()
    data: Any = flat.tolist() if flat.dtype.kind in "OUS" else flat
    response: dict[str, Any] = {
        "model_name": model,
        "model_version": str(version),
        "outputs": [
            {
                "name": spec.name if spec else "output-0",
                "shape": list(array.shape),
                "datatype": datatype,
                "data": data,
            }
        ],
    }
    if request_id is not None:
        response["id"] = request_id
    return dumps(response)


def decode_v1(body: Any, signature: Signature | None) -> np.ndarray:
    """The batch of a V1 `:predict` request (`{"instances": [...]}` or `{"inputs": [...]}`)."""
    if not isinstance(body, Mapping):
        raise PayloadError("body", "a V1 predict request is a JSON object with 'instances'")
    field = "instances" if "instances" in body else "inputs"
    rows = body.get(field)
    if not isinstance(rows, list) or not rows:
        raise PayloadError("instances", "'instances' must be a non-empty list of rows")
    spec = signature.inputs[0] if signature and signature.inputs else None
    try:
        array = np.asarray(rows, dtype=spec.dtype if spec and spec.dtype.kind != "O" else None)
    except (ValueError, TypeError) as exc:
        expected = spec.datatype if spec else None
        raise PayloadError(field, f"{field} do not hold {expected or 'uniform'} values: {exc}") from None
    if spec is not None:
        array = _fit(array, spec, field)
    return array


def encode_v1(output: Any) -> bytes:
    array = output if isinstance(output, np.ndarray) else np.asarray(output)
    predictions = array.tolist() if array.dtype.kind in "OUS" else array
    return dumps({"predictions": predictions})


def error_body(message: str, **extra: Any) -> bytes:
    return dumps({"error": message, **extra})
