"""`tuner suggestion-server` as a user runs it: a real subprocess serving real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_suggestion_server_serves_until_interrupted() -> None:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TUNER_SUGGESTION_PORT": str(port)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tuner.cli", "suggestion-server", "--log-level", "warning"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 300  # a bound for a hang; it waits for the state
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, "the server did not come up"
            time.sleep(0.2)
        body = {
            "algorithm": "sobol",
            "parameters": [
                {"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.01", "max": "1"}}
            ],
            "count": 3,
        }
        reply = httpx.post(f"http://127.0.0.1:{port}/api/v1/suggest", json=body, timeout=300).json()
        assert len(reply["assignments"]) == 3
        assert all(0.01 <= float(a["lr"]) <= 1 for a in reply["assignments"])
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=300)
    assert f"suggestion service on http://127.0.0.1:{port}" in stderr


def test_bad_port_is_a_usage_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tuner.cli", "suggestion-server", "--port", "70000"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 2 and "--port" in result.stderr
