"""A real etcd and kube-apiserver on loopback for the Kubernetes tests (no kubelet; kube-controller-manager
on request: `start_controller_manager`).

The binaries come from `tests/k8s_env/build.sh` (cached under ~/.cache/tuner-kube/<version>; `.ci/run` builds
them on a fresh machine). Credentials are made with openssl: a CA, a serving certificate for 127.0.0.1, a
service-account key pair and a static admin token. `../shared/docs/kubernetes-testing.md` has the flags.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

READY_WAIT_S = 180.0
"""How long to wait for /readyz before giving up (about 3 s on this machine; slow CI gets more)."""


class ApiServerError(RuntimeError):
    """The test API server could not be started."""


def binary_folder() -> Path:
    """Where build.sh caches the binaries (the same rule as the script: TUNER_KUBE_CACHE, else by version)."""
    version = os.environ.get("TUNER_KUBE_VERSION", "1.20")
    cache = os.environ.get("TUNER_KUBE_CACHE") or str(Path.home() / ".cache" / "tuner-kube" / version)
    return Path(cache) / "bin"


@dataclass
class ApiServer:
    """A running API server: its URL, the admin token, the CA that signed it and a kubeconfig for it."""

    url: str
    token: str
    ca_file: Path
    kubeconfig: Path
    folder: Path
    processes: list[subprocess.Popen[bytes]]

    def http(self) -> httpx.Client:
        """An HTTP client authenticated as the admin."""
        return httpx.Client(
            base_url=self.url,
            verify=ssl.create_default_context(cafile=str(self.ca_file)),
            headers={"Authorization": f"Bearer {self.token}"},
        )

    def stop(self) -> None:
        """Stop the API server, then etcd, and delete the data folder."""
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def start() -> ApiServer:
    """Start etcd and kube-apiserver on free loopback ports; return once /readyz answers ok."""
    binaries = binary_folder()
    apiserver = binaries / "kube-apiserver"
    etcd = shutil.which("etcd")
    if not apiserver.is_file():
        raise ApiServerError(f"{apiserver} is missing: run `bash tests/k8s_env/build.sh` (once per machine)")
    if etcd is None:
        raise ApiServerError(
            "etcd is not installed: run `bash tests/k8s_env/build.sh` (installs etcd-server)"
        )
    folder = Path(tempfile.mkdtemp(prefix="tuner-kube-"))
    server = ApiServer("", "", folder / "ca.crt", folder / "kubeconfig", folder, [])
    try:
        _run_started(server, etcd, apiserver)
    except BaseException:
        server.stop()
        raise
    return server


def _run_started(server: ApiServer, etcd: str, apiserver: Path) -> None:
    folder = server.folder
    _credentials(folder)
    server.token = secrets.token_hex(16)
    (folder / "tokens.csv").write_text(f"{server.token},admin,admin-uid,system:masters\n")
    client_port, peer_port, api_port = _free_ports(3)
    etcd_url, peer_url = f"http://127.0.0.1:{client_port}", f"http://127.0.0.1:{peer_port}"
    server.processes.append(
        _spawn(
            [
                etcd,
                "--name=local",
                f"--data-dir={folder / 'etcd'}",
                f"--listen-client-urls={etcd_url}",
                f"--advertise-client-urls={etcd_url}",
                f"--listen-peer-urls={peer_url}",
                f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=local={peer_url}",
                "--log-level=error",
                "--logger=zap",
            ],
            folder / "etcd.log",
        )
    )
    server.processes.append(
        _spawn(
            [
                str(apiserver),
                f"--etcd-servers={etcd_url}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={api_port}",
                f"--cert-dir={folder / 'certs'}",
                f"--tls-cert-file={folder / 'server.crt'}",
                f"--tls-private-key-file={folder / 'server.key'}",
                f"--client-ca-file={folder / 'ca.crt'}",
                f"--token-auth-file={folder / 'tokens.csv'}",
                "--authorization-mode=RBAC",
                "--service-account-issuer=https://kubernetes.default.svc",
                f"--service-account-key-file={folder / 'sa.pub'}",
                f"--service-account-signing-key-file={folder / 'sa.key'}",
                "--service-cluster-ip-range=10.0.0.0/24",
                "--endpoint-reconciler-type=none",
                "--profiling=false",
            ],
            folder / "kube-apiserver.log",
        )
    )
    server.url = f"https://127.0.0.1:{api_port}"
    _write_kubeconfig(server)
    _wait_ready(server)


def _credentials(folder: Path) -> None:
    def openssl(*args: str) -> None:
        done = subprocess.run(["openssl", *args], cwd=folder, capture_output=True, text=True)
        if done.returncode != 0:
            raise ApiServerError(f"openssl {args[0]} failed: {done.stderr.strip()}")

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
            "-days", "2", "-subj", "/CN=tuner-test-ca")  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
            "-subj", "/CN=kube-apiserver")  # fmt: skip
    (folder / "san.cnf").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc,IP:10.0.0.1\n"
    )
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.crt", "-days", "2", "-extfile", "san.cnf")  # fmt: skip
    openssl("genrsa", "-out", "sa.key", "2048")
    openssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub")


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _spawn(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def _write_kubeconfig(server: ApiServer) -> None:
    server.kubeconfig.write_text(
        f"""apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {{server: "{server.url}", certificate-authority: "{server.ca_file}"}}
users:
- name: admin
  user: {{token: "{server.token}"}}
contexts:
- name: test
  context: {{cluster: test, user: admin}}
current-context: test
"""
    )


def _wait_ready(server: ApiServer) -> None:
    """Poll /readyz until it answers ok; fail at once if a process exits, with the end of its log."""
    deadline = time.monotonic() + READY_WAIT_S
    last = ""
    with server.http() as http:
        while time.monotonic() < deadline:
            for process, name in zip(server.processes, ("etcd", "kube-apiserver"), strict=False):
                if process.poll() is not None:
                    raise ApiServerError(
                        f"{name} exited ({process.returncode}):\n{_tail(server.folder, name)}"
                    )
            try:
                answer = http.get("/readyz", timeout=2)
                if answer.status_code == 200 and answer.text == "ok":
                    return
                last = f"{answer.status_code} {answer.text[-300:]}"
            except httpx.HTTPError as exc:
                last = str(exc)
            time.sleep(0.2)
    raise ApiServerError(
        f"kube-apiserver not ready after {READY_WAIT_S:.0f} s ({last}):\n{_tail(server.folder, 'kube-apiserver')}"
    )


def _tail(folder: Path, name: str) -> str:
    log = folder / f"{name}.log"
    return "\n".join(log.read_text(errors="replace").splitlines()[-20:]) if log.exists() else "(no log)"


def controller_manager_binary() -> Path:
    return binary_folder() / "kube-controller-manager"


def start_controller_manager(server: ApiServer) -> None:
    """Start kube-controller-manager beside the API server (Jobs create Pods and get their conditions, the
    garbage collector deletes owned objects, namespaces get their `default` ServiceAccount). It joins
    `server.processes`, so `server.stop()` stops it first."""
    binary = controller_manager_binary()
    if not binary.is_file():
        raise ApiServerError(f"{binary} is missing: run `bash tests/k8s_env/build.sh` (once per machine)")
    (port,) = _free_ports(1)
    folder = server.folder
    kubeconfig = str(server.kubeconfig)
    server.processes.append(
        _spawn(
            [
                str(binary),
                f"--kubeconfig={kubeconfig}",
                f"--authentication-kubeconfig={kubeconfig}",
                f"--authorization-kubeconfig={kubeconfig}",
                "--bind-address=127.0.0.1",
                f"--secure-port={port}",
                f"--cert-dir={folder / 'kcm-certs'}",
                "--leader-elect=false",
                f"--service-account-private-key-file={folder / 'sa.key'}",
                f"--root-ca-file={folder / 'ca.crt'}",
                "--use-service-account-credentials=false",
                "--controllers=*",
            ],
            folder / "kube-controller-manager.log",
        )
    )
