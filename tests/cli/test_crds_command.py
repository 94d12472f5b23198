"""`tuner crds print` gives exactly the CRDs committed in crds/ (both come from tuner.spec.crd), and
`tuner crds apply` refuses a bad kubeconfig and an unreachable cluster with one line each. Applying to a real
API server is tested in tests/k8s/test_deploy_on_apiserver.py."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def tuner(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tuner.cli", *args], capture_output=True, text=True, timeout=120, env=env
    )


def test_print_gives_the_committed_crds() -> None:
    done = tuner("crds", "print")
    assert done.returncode == 0, done.stderr
    printed = {d["metadata"]["name"]: d for d in yaml.safe_load_all(done.stdout)}
    committed = {
        d["metadata"]["name"]: d
        for p in sorted((ROOT / "crds").glob("*.yaml"))
        if p.name != "kustomization.yaml"
        for d in [yaml.safe_load(p.read_text())]
    }
    assert printed == committed and len(printed) == 3


def test_apply_refuses_a_missing_kubeconfig(tmp_path: Path) -> None:
    done = tuner("crds", "apply", "--kubeconfig", str(tmp_path / "nope"))
    assert done.returncode == 2
    assert done.stderr.strip() == f"error: --kubeconfig {tmp_path / 'nope'}: no such file"


def test_apply_says_when_the_cluster_cannot_be_reached(tmp_path: Path) -> None:
    with socket.socket() as s:  # a loopback port nobody listens on once closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
                "users": [{"name": "u", "user": {"token": "x"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    done = tuner("crds", "apply", "--kubeconfig", str(kubeconfig))
    assert done.returncode == 1, done.stderr
    assert f"cannot reach the cluster at http://127.0.0.1:{port}" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
