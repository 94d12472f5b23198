"""Merge latency results of several ``bench.hpo.latency`` runs into one file for ``--render``.

The harness names the project's optimizer ``project`` in every run; each project run here measured one
algorithm (``HPO_BENCH_ALGORITHM``), so its rows are renamed after the file: ``latency-tuner-tpe.json``
-> ``tuner-tpe``. Usage::

    python benchmarks/merge_latency.py OUT.json latency-reference.json latency-tuner-*.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def merge(out: Path, inputs: list[Path]) -> None:
    """Write one latency document holding every input's rows (project rows renamed)."""
    merged: dict = {"meta": None, "results": []}
    optimizers: list[str] = []
    for path in inputs:
        data = json.loads(path.read_text())
        label = path.stem.removeprefix("latency-")
        for row in data["results"]:
            if row["optimizer"] == "project":
                row["optimizer"] = label
            merged["results"].append(row)
            if row["optimizer"] not in optimizers:
                optimizers.append(row["optimizer"])
        if merged["meta"] is None:
            merged["meta"] = data["meta"]
    merged["meta"]["optimizers"] = optimizers
    out.write_text(json.dumps(merged, indent=1))


if __name__ == "__main__":
    merge(Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]])
