"""Each container of the minimal overlay that exists on main is started here as a real process, with the
command and arguments of its Deployment and the environment of the settings ConfigMap, and answers its
liveness and readiness probes. Two things differ from a pod, and only these: the address is 127.0.0.1 and
the port a free one (tests never listen on all interfaces nor on fixed ports), and TUNER_HOME is a temporary
folder. Flags still in PENDING_FLAGS are left out (their commands are on other branches)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.deploy.render import OVERLAYS, PENDING_FLAGS, ROOT, render

READY_WAIT_S = 120.0
PORT_VARIABLE = {"server": "TUNER_SERVER_PORT", "suggestion-server": "TUNER_SUGGESTION_PORT"}
HOST_VARIABLE = {"server": "TUNER_SERVER_HOST", "suggestion-server": "TUNER_SUGGESTION_HOST"}


@pytest.fixture(scope="module")
def minimal() -> list[dict[str, Any]]:
    return render(OVERLAYS["minimal"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("command", sorted(PORT_VARIABLE))
def test_the_container_command_starts_and_answers_its_probes(
    command: str, minimal: list[dict[str, Any]], tmp_path: Path
) -> None:
    settings = next(o for o in minimal if o["kind"] == "ConfigMap")["data"]
    (container,) = [
        c
        for o in minimal
        if o["kind"] == "Deployment"
        for c in o["spec"]["template"]["spec"]["containers"]
        if c["args"][0] == command
    ]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    probe_port = ports[container["readinessProbe"]["httpGet"]["port"]]
    assert str(probe_port) == settings[PORT_VARIABLE[command]]  # the probe asks where the process listens
    assert settings[HOST_VARIABLE[command]] == "0.0.0.0"  # reachable from the kubelet in a pod
    port = _free_port()
    pending = PENDING_FLAGS.get(command, set())
    args = [_mounted(a, tmp_path) for a in container["args"][1:] if a.split("=", 1)[0] not in pending]
    env = {**os.environ, **settings, "TUNER_HOME": str(tmp_path / "home")}
    env.update({PORT_VARIABLE[command]: str(port), HOST_VARIABLE[command]: "127.0.0.1"})
    env.pop("TUNER_STORE", None)
    env.pop("TUNER_ARTIFACTS", None)
    log = tmp_path / "out.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tuner.cli", command, *args], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        for probe in ("livenessProbe", "readinessProbe"):
            path = container[probe]["httpGet"]["path"]
            answer = _wait_for(f"http://127.0.0.1:{port}{path}", process, log)
            assert answer.status_code == 200, f"{command} {path}: {answer.status_code} {answer.text}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def _mounted(arg: str, tmp_path: Path) -> str:
    """The tokens file the Secret mounts in the pod, here a copy of the overlay's file in a temporary folder."""
    flag, _, value = arg.partition("=")
    if flag != "--auth-file":
        return arg
    copy = tmp_path / Path(value).name
    copy.write_text((ROOT / "deploy/overlays/minimal/server-tokens.yaml").read_text())
    return f"{flag}={copy}"


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> httpx.Response:
    deadline = time.monotonic() + READY_WAIT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited ({process.returncode}): {log.read_text()[-2000:]}")
        try:
            answer = httpx.get(url, timeout=5)
            if answer.status_code == 200:
                return answer
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} did not answer 200 within {READY_WAIT_S:.0f} s: {log.read_text()[-2000:]}")
