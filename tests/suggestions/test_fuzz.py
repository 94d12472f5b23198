"""Schema-driven fuzzing (schemathesis, every check; see tests/fuzzing.py) of a real `tuner suggestion-server`
subprocess: no 5xx, errors as the documented problem+json, /metrics as documented text."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from prometheus_client import CONTENT_TYPE_LATEST

from tests.fuzzing import fuzz

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 120.0

# Where a schema-valid request may still be refused with 422, because the meaning is checked beyond what a
# JSON schema can say: the algorithm must be registered, its settings must parse, the space must be feasible.
CONFIG = """
[[operations]]
include-path-regex = "^/api/v1/(suggest|validate)$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "422"]
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_suggestion_service_conforms_to_its_openapi(tmp_path: Path) -> None:
    port = _free_port()
    log = tmp_path / "service.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [
        sys.executable,
        "-m",
        "tuner.cli",
        "suggestion-server",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    with open(log, "w") as out:
        proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"the service did not come up:\n{log.read_text()}"
            time.sleep(0.2)
        spec = httpx.get(f"{base}/openapi.json").json()
        count, failures = fuzz(f"{base}/openapi.json", CONFIG)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    assert count >= 6  # suggest, validate, algorithms, healthz, readyz, metrics
    assert list(spec["paths"]["/metrics"]["get"]["responses"]["200"]["content"]) == [CONTENT_TYPE_LATEST]
    assert (
        "application/problem+json" in spec["paths"]["/api/v1/suggest"]["post"]["responses"]["422"]["content"]
    )
    assert not failures, "\n\n".join(failures)
