"""Plain JSON values from a plotly figure's dict: lists for numpy arrays, null for NaN, text for dates."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any


def json_safe(value: Any) -> Any:
    """`value` with only dict, list, str, int, float (finite), bool and None inside."""
    import numpy as np

    if isinstance(value, dict):
        if "bdata" in value and "dtype" in value and len(value) <= 3:
            return json_safe(_typed_array(value))
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        if value.ndim > 1:
            return [json_safe(row) for row in value]
        if value.dtype.kind == "f":
            return [v if math.isfinite(v) else None for v in value.tolist()]
        if value.dtype.kind in "iub":
            return value.tolist()
        return [json_safe(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if isinstance(value, np.generic):
        return json_safe(value.item())
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def _typed_array(spec: dict[str, Any]) -> Any:
    """plotly's base64 typed array ({dtype, bdata, shape}), which plotly 6+ makes of numpy arrays."""
    import base64

    import numpy as np

    array = np.frombuffer(base64.b64decode(spec["bdata"]), dtype=np.dtype(spec["dtype"]))
    shape = spec.get("shape")
    if shape:
        dims = [int(d) for d in str(shape).split(",")] if isinstance(shape, str) else list(shape)
        array = array.reshape(dims)
    return array
