"""Inference server benchmark (run by hand): `tuner serve` against KServe's Python server, same model, same run.

    .venv/bin/python benchmarks/serving.py [--seconds 5] [--connections 1,16,64]

The model is a digits LogisticRegression (one row per request). Each server runs as its own process on
127.0.0.1; `wrk` (one thread; `apt-get install wrk`) keeps N connections busy for a fixed time. Reported
per server and connection count: CPU ms of the server process per request (user + system from /proc),
throughput, and p50/p99 latency seen by wrk. Load stays on loopback and is bounded by time.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# run as a script, this file's folder comes first on sys.path and its name would hide the `serving` package
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]
sys.path.insert(0, str(ROOT))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def _tree_cpu(pid: int) -> float:
    """CPU of a process (all its threads) and of all its descendants (uvicorn workers, mlflow's server)."""
    total = _cpu_seconds(pid)
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        for child_pid in children.read_text().split():
            try:
                total += _tree_cpu(int(child_pid))
            except FileNotFoundError:  # exited meanwhile
                pass
    return total


def _model_and_rows() -> tuple[Any, np.ndarray]:
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    x, y = load_digits(return_X_y=True)
    return LogisticRegression(max_iter=300).fit(x, y), x


def start_tuner(
    home: Path, model: Any, rows: np.ndarray, extra: list[str]
) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "TUNER_HOME": str(home), "PYTHONPATH": str(ROOT)}
    os.environ["TUNER_HOME"] = str(home)
    from serving.logged import save_to_store
    from serving.registry import Registry
    from tuner.config import Settings
    from tuner.store import open_store

    settings = Settings.from_env(env)
    store = open_store(settings.store_url)
    try:
        try:
            Registry(store).resolve("digits@bench")
        except Exception:
            logged = save_to_store(store, settings, model, "digits", flavor="sklearn", input_example=rows[:3])
            version, _ = Registry(store).register("digits", logged.artifact)
            Registry(store).set_alias("digits", "bench", version.version)
    finally:
        store.close()
    port = _free_port()
    command = [sys.executable, "-m", "tuner.cli", "serve", "digits@bench", "--port", str(port), *extra]
    process = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL, text=True)
    return process, f"http://127.0.0.1:{port}"


KSERVE_SERVER = textwrap.dedent(
    """
    import sys, joblib, numpy as np
    from kserve import Model, ModelServer
    from kserve.protocol.infer_type import InferResponse, InferOutput

    class Digits(Model):
        def __init__(self):
            super().__init__("digits")
            self.model = joblib.load(sys.argv[1])
            self.ready = True

        def predict(self, payload, headers=None):
            if isinstance(payload, dict):
                return {"predictions": self.model.predict(np.asarray(payload["instances"])).tolist()}
            x = payload.inputs[0].as_numpy()
            out = self.model.predict(x)
            return InferResponse(model_name=self.name, infer_outputs=[
                InferOutput(name="output-0", shape=list(out.shape), datatype="INT64", data=out.tolist())],
                response_id=payload.id or "bench")

    ModelServer(http_port=int(sys.argv[2]), workers=1, enable_grpc=False).start([Digits()])
    """
)


MLFLOW_SERVER = textwrap.dedent(
    """
    import os, sys
    import mlflow.sklearn
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    x, y = load_digits(return_X_y=True)
    folder = sys.argv[1]
    if not os.path.isdir(folder):
        mlflow.sklearn.save_model(LogisticRegression(max_iter=300).fit(x, y), folder)
    os.execv(sys.executable, [sys.executable, "-m", "mlflow", "models", "serve", "-m", folder,
             "-h", "127.0.0.1", "-p", sys.argv[2], "-w", "1", "--env-manager", "local"])
    """
)


def start_mlflow(python: str, folder: Path) -> tuple[subprocess.Popen[str], str]:
    """MLflow's scoring server (its own venv: MLflow must not touch the project's) on the same model."""
    script = folder / "mlflow_server.py"
    script.write_text(MLFLOW_SERVER, encoding="utf-8")
    port = _free_port()
    process = subprocess.Popen(
        [python, str(script), str(folder / "mlflow-model"), str(port)],
        env={**os.environ, "PATH": f"{Path(python).parent}{os.pathsep}{os.environ.get('PATH', '')}"},
        stderr=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    return process, f"http://127.0.0.1:{port}"


def start_kserve(folder: Path, model: Any) -> tuple[subprocess.Popen[str], str]:
    import joblib

    joblib.dump(model, folder / "model.joblib")
    script = folder / "kserve_server.py"
    script.write_text(KSERVE_SERVER, encoding="utf-8")
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, str(script), str(folder / "model.joblib"), str(port)],
        stderr=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    return process, f"http://127.0.0.1:{port}"


def wait_ready(url: str, path: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + path, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} never became ready")


WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [==[%s]==]
"""


def _wrk(url: str, body: bytes, connections: int, seconds: float, folder: Path) -> dict[str, float]:
    """Run wrk (one thread, N connections) and read requests, non-2xx answers, throughput and p99."""
    script = folder / "post.lua"
    script.write_text(WRK_SCRIPT % body.decode(), encoding="utf-8")
    command = ["wrk", "-t1", f"-c{connections}", f"-d{int(seconds)}s", "--latency", "-s", str(script), url]
    text = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    values: dict[str, float] = {"failed": 0.0}
    for line in text.splitlines():
        parts = line.split()
        if "requests in" in line:
            values["requests"] = float(parts[0])
        elif line.startswith("Requests/sec:"):
            values["throughput_rps"] = float(parts[1])
        elif line.strip().startswith(("50%", "99%")) and len(parts) == 2:
            values[f"p{parts[0][:-1]}_ms"] = _ms(parts[1])
        elif "Non-2xx" in line or line.strip().startswith("Socket errors"):
            values["failed"] += sum(float(p.rstrip(",")) for p in parts if p.rstrip(",").isdigit())
    return values


def _ms(text: str) -> float:
    for suffix, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(suffix):
            return round(float(text[: -len(suffix)]) * factor, 3)
    return float(text)


def measure(
    name: str, pid: int, url: str, body: bytes, connections: int, seconds: float, folder: Path
) -> dict[str, Any]:
    _wrk(url, body, connections, 1, folder)  # warm up
    cpu_before = _tree_cpu(pid)
    values = _wrk(url, body, connections, seconds, folder)
    cpu = _tree_cpu(pid) - cpu_before
    return {
        "server": name,
        "connections": connections,
        **values,
        "cpu_ms_per_request": round(1000 * cpu / max(values.get("requests", 0), 1), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", default="1,16,64")
    parser.add_argument("--skip-kserve", action="store_true")
    parser.add_argument("--skip-tuner", action="store_true")
    parser.add_argument(
        "--mlflow-python", help="python of a venv with mlflow, e.g. /work/venvs/mlflow/bin/python"
    )
    parser.add_argument("--workers", type=int, default=2, help="workers of the multi-worker tuner run")
    args = parser.parse_args()
    connections = [int(c) for c in args.connections.split(",")]
    model, rows = _model_and_rows()
    row = rows[:1]
    v2 = json.dumps(
        {"inputs": [{"name": "input-0", "shape": [1, 64], "datatype": "FP64", "data": row.ravel().tolist()}]}
    ).encode()
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="tuner-bench-") as scratch:
        folder = Path(scratch)
        servers: list[tuple[str, list[str]]] = [
            ("tuner V2 (batching on)", []),
            ("tuner V2 (batching off)", ["--max-batch-size", "1"]),
            ("tuner V2 (batching, wait 2 ms)", ["--max-wait-ms", "2"]),
            (f"tuner V2 ({args.workers} workers)", ["--workers", str(args.workers)]),
        ]
        for name, extra in [] if args.skip_tuner else servers:
            process, url = start_tuner(folder / "home", model, rows, extra)
            try:
                wait_ready(url, "/v2/models/digits/ready")
                for n in connections:
                    results.append(
                        measure(
                            name, process.pid, url + "/v2/models/digits/infer", v2, n, args.seconds, folder
                        )
                    )
                    print(json.dumps(results[-1]), flush=True)
            finally:
                process.terminate()
                process.wait(timeout=30)
        if not args.skip_kserve:
            process, url = start_kserve(folder, model)
            try:
                wait_ready(url, "/v2/models/digits/ready")
                for n in connections:
                    results.append(
                        measure(
                            "kserve V2",
                            process.pid,
                            url + "/v2/models/digits/infer",
                            v2,
                            n,
                            args.seconds,
                            folder,
                        )
                    )
                    print(json.dumps(results[-1]), flush=True)
            finally:
                process.terminate()
                process.wait(timeout=30)
        if args.mlflow_python:
            mlflow_body = json.dumps({"inputs": row.tolist()}).encode()
            process, url = start_mlflow(args.mlflow_python, folder)
            try:
                wait_ready(url, "/ping")
                for n in connections:
                    results.append(
                        measure(
                            "mlflow /invocations",
                            process.pid,
                            url + "/invocations",
                            mlflow_body,
                            n,
                            args.seconds,
                            folder,
                        )
                    )
                    print(json.dumps(results[-1]), flush=True)
            finally:
                process.terminate()
                process.wait(timeout=30)


if __name__ == "__main__":
    main()
