"""The server and the dashboard with a 10,000-trial experiment, many experiments at once, and optuna-dashboard.

Run by hand (never as a timed test), from the repository root, nice'd on a shared machine:

    nice -n 10 .venv/bin/python benchmarks/server.py                  # everything, ~10-15 minutes
    nice -n 10 .venv/bin/python benchmarks/server.py --quick          # 1,000 trials x 20 points, a smoke run
    .venv/bin/python benchmarks/server.py --sqlite-only --skip-optuna --skip-load

What it does, in one run:

1. Writes the 10,000-trial experiment of `benchmarks/visualization.py` (3 parameters, `accuracy` with 100
   steps per trial, `loss` once, every 50th trial Failed) through the store API on SQLite and on PostgreSQL
   (a database of its own, dropped afterwards), with the Katib status the controller would have written
   (counts and `currentOptimalTrial`).
2. Starts a real `tuner server` (uvicorn subprocess on loopback) on each store and measures, as medians and
   95th percentiles over `--repeats` requests on one keep-alive connection: the experiments list, the
   experiment (`GET .../{name}`, whose status carries the best trial), the best trial as a client reads it
   (the experiment, then `GET .../trials/{bestTrialName}`), the first trial page and every page of a walk
   through all trials by cursor (`limit=100`).
3. Each figure's JSON: `tuner.visualization.figure_json` on data loaded once by `load_experiment_data`
   (what `benchmarks/visualization.py` measures), and, when the dashboard exists (`tuner.dashboard`), its
   figure endpoints `/dashboard-api/experiments/{ns}/{name}/figures/{kind}` (first call and later calls)
   and every other GET of `/dashboard-api/` that takes only the experiment's namespace and name; then the
   dashboard in headless Chromium: `/experiments/{ns}/{name}` until the page sets
   `document.body.dataset.tableReady == "1"` and `figuresReady == "1"`, with the time of each milestone
   from the page's performance marks (table shown, history preview painted, plotly parsed, first
   interactive figure, every figure); "first render" is table, best trial and a figure on screen. Once in
   a fresh browser context per load (a first visit), once as the third load in one context (a returning
   user). Without the dashboard these parts print "dashboard not present" and are left out.
4. Load: one fresh server on a fresh SQLite store (and on PostgreSQL unless --sqlite-only), 50 experiments
   submitted through the REST API at once (10 trials each, 2 in parallel, each trial `sh -c 'echo loss=X'`),
   while a client thread asks list / get / trial page in a loop: trials/s until all finish and the p50/p99
   of each request.
5. optuna-dashboard (same run, same machine) serving the same study (10,000 trials, 3 parameters, 100
   intermediate values each) from an optuna RDB storage on SQLite, written with bulk INSERTs into optuna's
   own schema (created by `optuna.storages.RDBStorage`): its page HTML, its study API (first call, then
   later calls) and the first plot drawn in Chromium.

Targets (issue 13): each JSON < 300 ms, first render < 2 s. Prints a Markdown table and writes the raw
figures to benchmarks/results/server.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.visualization import (  # noqa: E402  (after the path is set)
    DEFAULT_PG,
    SPEC,
    _postgres_database,
    build,
)

TARGET_MS = 300.0
TARGET_RENDER_S = 2.0
NAMESPACE, NAME = "default", "big"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def summary(times: list[float]) -> dict[str, Any]:
    """Milliseconds: median, 95th and 99th percentile (nearest rank), max, count."""
    ordered = sorted(1000 * t for t in times)

    def rank(q: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]

    return {
        "median_ms": statistics.median(ordered),
        "p95_ms": rank(0.95),
        "p99_ms": rank(0.99),
        "max_ms": ordered[-1],
        "n": len(ordered),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], logfile: Path, timeout: float = 180) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the server exited:\n{logfile.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


@contextmanager
def process(args: list[str], ready: str, home: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """A server subprocess on a free loopback port (`{port}` in `args`); yields its base URL."""
    port = free_port()
    logfile = home / f"server-{port}.log"
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), "TUNER_HOME": str(home), **(env or {})}
    with open(logfile, "wb") as out:
        proc = subprocess.Popen(
            [a.replace("{port}", str(port)) for a in args], env=full_env, cwd=ROOT, stdout=out, stderr=out
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + ready, proc, logfile)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def tuner_server(store_url: str, home: Path) -> Any:
    args = [sys.executable, "-m", "tuner.cli", "server", "--port", "{port}", "--store", store_url]
    return process([*args, "--log-level", "warning"], "/readyz", home)


def time_gets(client: Any, path: str, repeats: int, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """`repeats` GETs of `path` after one untimed first call (reported apart as `first_ms`)."""
    start = time.perf_counter()
    reply = client.get(path, params=params)
    first = time.perf_counter() - start
    reply.raise_for_status()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        reply = client.get(path, params=params)
        times.append(time.perf_counter() - start)
        reply.raise_for_status()
    return {**summary(times), "first_ms": 1000 * first, "bytes": len(reply.content)}


# --- seeding -------------------------------------------------------------------------------------------------


def seed_tuner(url: str, trials: int, steps: int) -> float:
    """The experiment of benchmarks/visualization.py, plus the status the controller would have written."""
    from controllers.status import TrialView, optimal_trial, trial_counts
    from tuner.states import ExperimentState
    from tuner.store import open_store
    from tuner.store.records import Goal, MetricStrategy

    start = time.perf_counter()
    if url.startswith("sqlite"):
        build(url, trials, steps)  # one writer at a time on SQLite: threads would only wait on its lock
    else:
        _build_parallel(url, trials, steps, workers=4)
    store = open_store(url)
    try:
        record = store.get_experiment(NAME, NAMESPACE)
        outlines = store.trial_outlines(record.id)
        best = store.best_trial(record.id, "accuracy", Goal.MAXIMIZE, MetricStrategy.MAX)
        assert best is not None
        best_view = TrialView(
            best.trial.name,
            best.trial.state,
            tuple((a.name, a.value) for a in best.trial.assignments),
            store.metric_summaries(best.trial.id),
        )
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        status = {
            "startTime": now,
            "completionTime": now,
            "conditions": [
                {
                    "type": "Created",
                    "status": "True",
                    "reason": "ExperimentCreated",
                    "lastTransitionTime": now,
                },
                {
                    "type": "Succeeded",
                    "status": "True",
                    "reason": "ExperimentMaxTrialsReached",
                    "lastTransitionTime": now,
                },
            ],
            **trial_counts([TrialView(o.name, o.state, ()) for o in outlines]),
            "currentOptimalTrial": optimal_trial(best_view, ["accuracy", "loss"]),
        }
        store.update_experiment_status(record.id, ExperimentState.SUCCEEDED, status)
    finally:
        store.close()
    return time.perf_counter() - start


def _build_parallel(url: str, trials: int, steps: int, workers: int) -> None:
    """`benchmarks.visualization.build`'s experiment written by `workers` threads on one store (PostgreSQL
    takes concurrent writers; each trial is three transactions of a few round trips each)."""
    from concurrent.futures import ThreadPoolExecutor

    from tuner.states import TrialState
    from tuner.store import open_store
    from tuner.store.records import Assignment, Observation

    store = open_store(url)
    try:
        record = store.create_experiment(NAME, SPEC, "sha256:0")

        def write(numbers: range) -> None:
            points: list[Observation] = []
            for n in numbers:
                u = ((n * 7919) % 10007) / 10007
                lr = 1e-4 * 10 ** (4 * u)
                layers = n % 8 + 1
                assignments = [
                    Assignment("lr", repr(lr), lr),
                    Assignment("layers", str(layers), float(layers)),
                    Assignment("optimizer", "adam" if n % 2 else "sgd"),
                ]
                trial = store.create_trial(record.id, f"big-{n:06d}", assignments, number=n)
                store.transition_trial(trial.id, TrialState.RUNNING)
                store.transition_trial(trial.id, TrialState.FAILED if n % 50 == 49 else TrialState.SUCCEEDED)
                final = 1 - abs(u - 0.6) - 0.02 * abs(layers - 5)
                points += [
                    Observation(trial.id, "accuracy", final * (1 - 0.9**s), s) for s in range(1, steps + 1)
                ]
                points.append(Observation(trial.id, "loss", 1 - final + 0.05 * layers, steps))
                if len(points) >= 50_000:
                    store.log_metrics(points)
                    points = []
            store.log_metrics(points)

        chunk = math.ceil(trials / workers)
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(write, [range(i, min(trials, i + chunk)) for i in range(0, trials, chunk)]))
    finally:
        store.close()


def seed_optuna(path: Path, trials: int, steps: int) -> float:
    """The same study in optuna's RDB schema: the schema by optuna itself, the rows by bulk INSERTs.

    Optuna's storage API writes a trial per transaction (an earlier attempt took 1,362 s for this study);
    executemany over sqlite3 writes the 1,000,000 intermediate values in seconds. Values are those of
    `benchmarks.visualization.build` (accuracy's last step is the trial's value; every 50th trial FAIL).
    """
    import optuna
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
        distribution_to_json,
    )

    start = time.perf_counter()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url = f"sqlite:///{path}"
    storage = optuna.storages.RDBStorage(url)
    study = optuna.create_study(storage=storage, study_name=NAME, direction="maximize")
    study_id = study._study_id
    storage.engine.dispose() if hasattr(storage, "engine") else None
    del study, storage
    lr_json = distribution_to_json(FloatDistribution(1e-4, 1.0, log=True))
    layers_json = distribution_to_json(IntDistribution(1, 8))
    opt_json = distribution_to_json(CategoricalDistribution(["sgd", "adam"]))
    began = datetime(2026, 1, 1, tzinfo=timezone.utc).replace(tzinfo=None)
    trial_rows, params, values, intermediate = [], [], [], []
    for n in range(trials):
        trial_id = n + 1
        u = ((n * 7919) % 10007) / 10007
        lr = 1e-4 * 10 ** (4 * u)
        layers = n % 8 + 1
        failed = n % 50 == 49
        t0 = began + timedelta(seconds=n)
        trial_rows.append(
            (trial_id, n, study_id, "FAIL" if failed else "COMPLETE", str(t0), str(t0 + timedelta(seconds=1)))
        )
        params += [
            (trial_id, "lr", lr, lr_json),
            (trial_id, "layers", float(layers), layers_json),
            (trial_id, "optimizer", float(1 if n % 2 else 0), opt_json),
        ]
        final = 1 - abs(u - 0.6) - 0.02 * abs(layers - 5)
        if not failed:
            values.append((trial_id, 0, final * (1 - 0.9**steps), "FINITE"))
        intermediate += [(trial_id, s, final * (1 - 0.9**s), "FINITE") for s in range(1, steps + 1)]
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO trials (trial_id, number, study_id, state, datetime_start, datetime_complete) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            trial_rows,
        )
        conn.executemany(
            "INSERT INTO trial_params (trial_id, param_name, param_value, distribution_json) "
            "VALUES (?, ?, ?, ?)",
            params,
        )
        conn.executemany(
            "INSERT INTO trial_values (trial_id, objective, value, value_type) VALUES (?, ?, ?, ?)", values
        )
        conn.executemany(
            "INSERT INTO trial_intermediate_values (trial_id, step, intermediate_value, "
            "intermediate_value_type) VALUES (?, ?, ?, ?)",
            intermediate,
        )
    check = optuna.load_study(study_name=NAME, storage=url)
    done = check.get_trials(deepcopy=False)
    assert len(done) == trials and len(done[0].intermediate_values) == steps, "optuna does not read the rows"
    assert done[0].params["optimizer"] == "sgd" and done[0].distributions["lr"].log
    return time.perf_counter() - start


# --- measurements ------------------------------------------------------------------------------------------


def measure_api(base: str, repeats: int) -> dict[str, Any]:
    import httpx

    out: dict[str, Any] = {}
    experiment = f"/api/v1/experiments/{NAMESPACE}/{NAME}"
    with httpx.Client(base_url=base, timeout=120) as client:
        out["experiments list"] = time_gets(client, "/api/v1/experiments", repeats)
        out["experiment get"] = time_gets(client, experiment, repeats)

        def best_trial() -> None:
            document = client.get(experiment).json()
            best = document["status"]["currentOptimalTrial"]["bestTrialName"]
            client.get(f"{experiment}/trials/{best}").raise_for_status()

        best_trial()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            best_trial()
            times.append(time.perf_counter() - start)
        out["best trial (experiment, then its best trial)"] = summary(times)
        out["trial list, first page (100)"] = time_gets(
            client, f"{experiment}/trials", repeats, {"limit": 100}
        )
        pages, cursor, count = [], "", 0
        while True:
            start = time.perf_counter()
            reply = client.get(f"{experiment}/trials", params={"limit": 100, "cursor": cursor or None})
            pages.append(time.perf_counter() - start)
            reply.raise_for_status()
            body = reply.json()
            count += len(body["items"])
            cursor = body["metadata"]["continue"]
            if not cursor:
                break
        out["trial list, every page by cursor (100 each)"] = {**summary(pages), "trials": count}
    return out


def dashboard_present() -> bool:
    return importlib.util.find_spec("tuner.dashboard") is not None


def measure_dashboard_api(base: str, repeats: int) -> dict[str, Any]:
    """Figure endpoints (first call: the server loads the experiment) and other experiment GETs."""
    import httpx

    from tuner.visualization import FIGURE_KINDS

    out: dict[str, Any] = {}
    with httpx.Client(base_url=base, timeout=120) as client:
        for kind in FIGURE_KINDS:
            path = f"/dashboard-api/experiments/{NAMESPACE}/{NAME}/figures/{kind}"
            out[f"figure {kind}"] = time_gets(client, path, repeats)
        spec = client.get("/openapi.json").json()
        for path, item in sorted(spec.get("paths", {}).items()):
            if not path.startswith("/dashboard-api/") or "/figures/" in path or "get" not in item:
                continue
            names = {p.get("name") for p in item["get"].get("parameters") or [] if p.get("in") == "path"}
            if names != {"namespace", "name"}:
                continue
            concrete = path.replace("{namespace}", NAMESPACE).replace("{name}", NAME)
            try:
                out[f"GET {path}"] = time_gets(client, concrete, repeats)
            except httpx.HTTPStatusError as exc:
                out[f"GET {path}"] = {"error": str(exc)}
    return out


def measure_figures(url: str, repeats: int) -> dict[str, Any]:
    from benchmarks.visualization import measure

    return measure(url, repeats)


def chromium_render(
    url: str, ready_js: str, repeats: int, timeout_s: float = 120, visits: int = 1
) -> dict[str, Any]:
    """Seconds from navigation to `ready_js` being true, each time in a fresh browser context; with
    `visits` > 1 the page is loaded that many times in each context and only the last is measured: a
    returning user, whose browser holds plotly.min.js and (from the third visit) V8's compiled code of it."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    times: list[float] = []
    milestones: dict[str, list[float]] = {}
    errors: list[str] = []
    first = math.nan
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for i in range(repeats + 1):
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                page = context.new_page()
                page.on("pageerror", lambda exc: errors.append(str(exc)))
                for _ in range(visits - 1):
                    page.goto(url, wait_until="commit")
                    page.wait_for_function(ready_js, timeout=timeout_s * 1000, polling=100)
                start = time.perf_counter()
                page.goto(url, wait_until="commit")
                try:
                    page.wait_for_function(ready_js, timeout=timeout_s * 1000, polling=20)
                except PlaywrightTimeout:
                    context.close()
                    return {
                        "error": f"load {i + 1} not ready within {timeout_s:.0f} s",
                        "first_ms": 1000 * first,
                        "done_ms": [1000 * t for t in times],
                        "js_errors": errors[:5],
                    }
                elapsed = time.perf_counter() - start
                if i:  # the first load warms the server's caches and the browser's disk cache is per context
                    times.append(elapsed)
                    for name, at_ms in page.evaluate(MILESTONES_JS).items():
                        milestones.setdefault(name, []).append(at_ms / 1000)
                else:
                    first = elapsed
                context.close()
        finally:
            browser.close()
    stages = {name: summary(values) for name, values in milestones.items()}
    return {**summary(times), "first_ms": 1000 * first, "milestones": stages, "js_errors": errors[:5]}


MILESTONES_JS = """() => {
  const at = {};
  for (const m of performance.getEntriesByType("mark")) if (m.name.startsWith("tuner-")) at[m.name] = m.startTime;
  const draws = performance.getEntriesByType("measure").filter((m) => m.name.startsWith("tuner-draw-"));
  if (draws.length) at["tuner-first-figure"] = Math.min(...draws.map((m) => m.startTime + m.duration));
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  if (at["tuner-preview-shown"] !== undefined) {  // in the HTML: on screen at the first paint after it
    at["tuner-preview-painted"] = Math.max(at["tuner-preview-shown"], paint ? paint.startTime : 0);
  }
  const figure = Math.min(at["tuner-preview-painted"] ?? Infinity, at["tuner-first-figure"] ?? Infinity);
  if (at["tuner-table-ready"] !== undefined && figure < Infinity) {
    at["tuner-first-render"] = Math.max(at["tuner-table-ready"], figure);
  }
  return at;
}"""
"""Milliseconds from navigation to each of the page's performance marks (table shown, the server-drawn
history preview painted, plotly parsed, first interactive figure drawn, every figure drawn) and to the first
render (table, best trial and a figure on screen): what a user sees when."""


TUNER_READY = "() => document.body && document.body.dataset.tableReady == '1' && document.body.dataset.figuresReady == '1'"
OPTUNA_READY = (
    "() => Array.from(document.querySelectorAll('.js-plotly-plot')).some("
    "el => el.data && el.data.length > 0 && el.querySelector('.main-svg'))"
)


def measure_optuna(
    path: Path, home: Path, repeats: int, browser: bool, out: dict[str, Any]
) -> dict[str, Any]:
    """Fills `out` as it goes (each call of its study API reads the whole study: seconds at 10,000 trials)."""
    import httpx

    exe = Path(sys.executable).with_name("optuna-dashboard")
    args = [str(exe), f"sqlite:///{path}", "--host", "127.0.0.1", "--port", "{port}"]
    with process(args, "/api/meta", home) as base:
        import optuna

        study_id = optuna.load_study(study_name=NAME, storage=f"sqlite:///{path}")._study_id
        with httpx.Client(base_url=base, timeout=300) as client:
            out["page HTML"] = time_gets(client, f"/dashboard/studies/{study_id}", repeats)
            out["study API /api/studies/{id}"] = time_gets(client, f"/api/studies/{study_id}", repeats)
            out["studies list /api/studies"] = time_gets(client, "/api/studies", repeats)
        if browser:
            out["first plot in Chromium"] = chromium_render(
                f"{base}/dashboard/studies/{study_id}", OPTUNA_READY, 2, timeout_s=300
            )
    # a fresh server: the study API's first call with nothing cached
    with process(args, "/api/meta", home) as base, httpx.Client(base_url=base, timeout=300) as client:
        start = time.perf_counter()
        client.get(f"/api/studies/{study_id}").raise_for_status()
        out["study API, first call of a fresh server (ms)"] = 1000 * (time.perf_counter() - start)
    return out


# --- many experiments at once ----------------------------------------------------------------------------


def load_experiment(name: str, trials: int) -> dict[str, Any]:
    return {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Experiment",
        "metadata": {"name": name},
        "spec": {
            "objective": {"type": "minimize", "objectiveMetricName": "loss"},
            "algorithm": {
                "algorithmName": "random",
                "algorithmSettings": [{"name": "random_state", "value": "1"}],
            },
            "parallelTrialCount": 2,
            "maxTrialCount": trials,
            "parameters": [
                {"name": "x", "parameterType": "double", "feasibleSpace": {"min": "-5", "max": "5"}}
            ],
            "trialTemplate": {
                "primaryContainerName": "main",
                "trialParameters": [{"name": "x", "reference": "x"}],
                "trialSpec": {
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "spec": {
                        "template": {
                            "spec": {
                                "containers": [
                                    {
                                        "name": "main",
                                        "image": "busybox",
                                        "command": ["sh", "-c", "echo loss=${trialParameters.x}"],
                                    }
                                ],
                                "restartPolicy": "Never",
                            }
                        }
                    },
                },
            },
        },
    }


def measure_load(store_url: str, home: Path, experiments: int, trials: int) -> dict[str, Any]:
    """`experiments` submitted at once; trials/s until all finish; request latencies meanwhile."""
    import httpx

    names = [f"load-{i:02d}" for i in range(experiments)]
    latencies: dict[str, list[float]] = {"experiments list": [], "experiment get": [], "trial list page": []}
    errors: list[str] = []
    stop = threading.Event()

    def ask(base: str) -> None:
        paths = {
            "experiments list": ("/api/v1/experiments", {"limit": 100}),
            "experiment get": (f"/api/v1/experiments/{NAMESPACE}/{{}}", None),
            "trial list page": (f"/api/v1/experiments/{NAMESPACE}/{{}}/trials", {"limit": 100}),
        }
        with httpx.Client(base_url=base, timeout=60) as client:
            i = 0
            while not stop.is_set():
                for label, (path, params) in paths.items():
                    start = time.perf_counter()
                    reply = client.get(path.format(names[i % len(names)]), params=params)
                    latencies[label].append(time.perf_counter() - start)
                    if reply.status_code != 200:
                        errors.append(f"{label}: {reply.status_code}")
                i += 1

    with tuner_server(store_url, home) as base, httpx.Client(base_url=base, timeout=120) as client:
        started = time.perf_counter()
        for name in names:
            reply = client.post(
                "/api/v1/experiments",
                content=json.dumps(load_experiment(name, trials)),
                headers={"content-type": "application/json"},
            )
            assert reply.status_code == 201, reply.text
        submitted = time.perf_counter() - started
        asker = threading.Thread(target=ask, args=(base,), daemon=True)
        asker.start()
        finished: dict[str, str] = {}
        deadline = time.monotonic() + 1800
        while len(finished) < len(names) and time.monotonic() < deadline:
            body = client.get("/api/v1/experiments", params={"limit": 500}).json()
            for item in body["items"]:
                conditions = (item.get("status") or {}).get("conditions") or []
                state = conditions[-1]["type"] if conditions else ""
                if state in ("Succeeded", "Failed"):
                    finished.setdefault(item["metadata"]["name"], state)
            time.sleep(0.25)
        wall = time.perf_counter() - started
        stop.set()
        asker.join(timeout=60)
        counted = 0
        for name in names:
            status = client.get(f"/api/v1/experiments/{NAMESPACE}/{name}").json()["status"]
            counted += int(status.get("trialsSucceeded", 0)) + int(status.get("trialsFailed", 0))
    return {
        "experiments": experiments,
        "trials_per_experiment": trials,
        "finished": finished,
        "trials_finished": counted,
        "wall_s": wall,
        "submit_s": submitted,
        "trials_per_s": counted / wall,
        "latency": {label: summary(times) for label, times in latencies.items() if times},
        "errors": errors[:10],
    }


# --- report -----------------------------------------------------------------------------------------------


def table(results: dict[str, Any]) -> str:
    lines = []
    backends = list(results["tuner"])
    lines.append(
        f"| {results['trials']:,} trials x {results['steps']} points: median / p95 ms | "
        + " | ".join(backends)
        + " | target |"
    )
    lines.append("|---|" + "---|" * len(backends) + "---|")
    first = results["tuner"][backends[0]]

    def cell(entry: dict[str, Any] | None) -> str:
        if not entry or "median_ms" not in entry:
            return "n/a"
        return f"{entry['median_ms']:.1f} / {entry['p95_ms']:.1f}"

    def seconds(entry: dict[str, Any]) -> str:
        if "median_ms" not in entry:
            return str(entry.get("error", "n/a"))
        return f"{entry['median_ms'] / 1000:.2f} / {entry['p95_ms'] / 1000:.2f}"

    for label in first["api"]:
        lines.append(
            f"| API: {label} | "
            + " | ".join(cell(results["tuner"][b]["api"].get(label)) for b in backends)
            + f" | < {TARGET_MS:.0f} |"
        )
    lines.append(
        "| load_experiment_data (once per experiment) | "
        + " | ".join(f"{results['tuner'][b]['figures']['load_ms']:.0f}" for b in backends)
        + " | |"
    )
    for label in first["figures"]["figures"]:
        lines.append(
            f"| figure JSON (library): {label} | "
            + " | ".join(
                f"{results['tuner'][b]['figures']['figures'][label]['median_ms']:.0f}" for b in backends
            )
            + f" | < {TARGET_MS:.0f} |"
        )
    if "dashboard" in first:
        for label in first["dashboard"]:
            lines.append(
                f"| dashboard: {label} (first call {first['dashboard'][label].get('first_ms', 0):.0f}) | "
                + " | ".join(cell(results["tuner"][b]["dashboard"].get(label)) for b in backends)
                + f" | < {TARGET_MS:.0f} |"
            )
    if "render" in first:
        lines.append(
            "| dashboard: page complete in Chromium, table and every figure (s) | "
            + " | ".join(seconds(results["tuner"][b]["render"]) for b in backends)
            + " | |"
        )
        for visit, who in (("render", "first visit"), ("render_returning", "returning user")):
            for mark, label in MILESTONE_LABELS.items():
                if mark in first.get(visit, {}).get("milestones", {}):
                    lines.append(
                        f"| dashboard in Chromium, {who}: {label} (s) | "
                        + " | ".join(
                            seconds(results["tuner"][b].get(visit, {}).get("milestones", {}).get(mark, {}))
                            for b in backends
                        )
                        + (f" | < {TARGET_RENDER_S:.0f} |" if mark == FIRST_RENDER_MARK else " | |")
                    )
    out = "\n".join(lines)
    if "optuna" in results:
        o = results["optuna"]
        rows = [
            f"\n| optuna-dashboard {o.get('version', '')}, same study (SQLite RDB) | median / p95 ms |",
            "|---|---|",
        ]
        for label, entry in o.items():
            if isinstance(entry, dict) and "median_ms" in entry:
                rows.append(f"| {label} (first call {entry.get('first_ms', 0):.0f}) | {cell(entry)} |")
            elif isinstance(entry, dict) and "error" in entry:
                rows.append(f"| {label} | {entry['error']} |")
            elif isinstance(entry, float):
                rows.append(f"| {label} | {entry:.0f} |")
        out += "\n" + "\n".join(rows)
    for backend, load in results.get("load", {}).items():
        out += (
            f"\n\nLoad ({backend}): {load['experiments']} experiments x {load['trials_per_experiment']} trials, "
            f"{load['trials_finished']} trials in {load['wall_s']:.1f} s = {load['trials_per_s']:.1f} trials/s; "
            + "; ".join(
                f"{label} p50 {v['median_ms']:.0f} / p99 {v['p99_ms']:.0f} ms (n={v['n']})"
                for label, v in load["latency"].items()
            )
        )
    return out


FIRST_RENDER_MARK = "tuner-first-render"
MILESTONE_LABELS = {
    "tuner-table-ready": "trial table and best trial shown",
    "tuner-preview-painted": "history preview (SVG in the page's HTML) painted",
    FIRST_RENDER_MARK: "first render: table, best trial and a figure on screen",
    "tuner-plotly-loaded": "plotly.min.js parsed",
    "tuner-first-figure": "first interactive (plotly) figure drawn",
    "tuner-figures-ready": "every figure drawn, interactive",
}


def save(results: dict[str, Any]) -> Path:
    """Written after every part, so that a failure late in a long run keeps what was measured."""
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    path = out / "server.json"
    path.write_text(json.dumps(results, indent=2, default=str))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--postgres", default=DEFAULT_PG, help="a PostgreSQL server URL (a database is made)")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--skip-optuna", action="store_true")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--optuna-repeats", type=int, default=5, help="calls of optuna-dashboard's API")
    parser.add_argument("--load-experiments", type=int, default=50)
    parser.add_argument("--load-trials", type=int, default=10)
    parser.add_argument(
        "--quick", action="store_true", help="1,000 trials x 20 points, 5 repeats, 10 x 4 load"
    )
    args = parser.parse_args()
    if args.quick:
        args.trials, args.steps, args.repeats = 1000, 20, 5
        args.load_experiments, args.load_trials = 10, 4
    results: dict[str, Any] = {
        "trials": args.trials,
        "steps": args.steps,
        "repeats": args.repeats,
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average_start": os.getloadavg(),
        "cpus": os.cpu_count(),
        "dashboard": dashboard_present(),
        "tuner": {},
        "seed_s": {},
    }
    browser = not args.skip_browser and Path(CHROMIUM).exists()
    if not browser:
        log(f"no Chromium at {CHROMIUM} (or --skip-browser): the render timings are left out")
    with tempfile.TemporaryDirectory(prefix="tuner-bench-server-") as folder:
        home = Path(folder)
        targets: list[tuple[str, str, Any]] = [("SQLite", f"sqlite:///{home}/big.db", None)]
        if not args.sqlite_only:
            url, hooks = _postgres_database(args.postgres)
            targets.append(("PostgreSQL", url, hooks))
        try:
            for label, url, hooks in targets:
                log(f"{label}: writing {args.trials} trials x {args.steps} points through the store API")
                results["seed_s"][label] = seed_tuner(url, args.trials, args.steps)
                log(f"{label}: written in {results['seed_s'][label]:.1f} s")
                if hooks is not None:
                    hooks[0]()
                entry: dict[str, Any] = {}
                log(f"{label}: figure JSON through tuner.visualization")
                entry["figures"] = measure_figures(url, max(3, args.repeats // 4))
                with tuner_server(url, home) as base:
                    log(f"{label}: REST API at {base}")
                    entry["api"] = measure_api(base, args.repeats)
                    if results["dashboard"]:
                        log(f"{label}: dashboard endpoints")
                        entry["dashboard"] = measure_dashboard_api(base, args.repeats)
                        if browser:
                            log(f"{label}: dashboard first render in Chromium")
                            page = f"{base}/experiments/{NAMESPACE}/{NAME}"
                            tries = max(3, args.repeats // 4)
                            entry["render"] = chromium_render(page, TUNER_READY, tries)
                            log(f"{label}: the same page for a returning user (third visit)")
                            entry["render_returning"] = chromium_render(page, TUNER_READY, tries, visits=3)
                    else:
                        log(
                            "dashboard not present (no tuner.dashboard): its endpoints and first render are left out"
                        )
                results["tuner"][label] = entry
                save(results)
            if not args.skip_load:
                results["load"] = {}
                loads = [("SQLite", f"sqlite:///{home}/load.db", None)]
                if not args.sqlite_only:
                    url, hooks = _postgres_database(args.postgres)
                    targets.append(("PostgreSQL load", url, hooks))
                    loads.append(("PostgreSQL", url, None))
                for label, url, _ in loads:
                    log(f"load on {label}: {args.load_experiments} experiments x {args.load_trials} trials")
                    results["load"][label] = measure_load(url, home, args.load_experiments, args.load_trials)
                    log(f"load on {label}: {results['load'][label]['trials_per_s']:.1f} trials/s")
                    save(results)
        finally:
            for _, _, hooks in targets:
                if hooks is not None:
                    hooks[1]()
        if not args.skip_optuna and importlib.util.find_spec("optuna_dashboard") is None:
            log("optuna-dashboard is not installed (pip install -e '.[bench]'): its part is left out")
        elif not args.skip_optuna:
            import optuna_dashboard

            path = home / "optuna.db"
            log(f"optuna: writing the same study into {path}")
            optuna_seed = seed_optuna(path, args.trials, args.steps)
            log(f"optuna: written in {optuna_seed:.1f} s; measuring optuna-dashboard")
            results["seed_s"]["optuna (bulk SQL)"] = optuna_seed
            results["optuna"] = {"version": getattr(optuna_dashboard, "__version__", "?")}
            try:
                measure_optuna(path, home, args.optuna_repeats, browser, results["optuna"])
            except Exception as exc:  # keep what was measured before, say what failed
                results["optuna"]["failed"] = repr(exc)
                log(f"optuna: {exc!r}")
            save(results)
    results["load_average_end"] = os.getloadavg()
    save(results)
    print(table(results))
    print(f"\nseeding (s): {results['seed_s']}")
    print(f"load average at start {results['load_average_start']}, at end {results['load_average_end']}")
    if not results["dashboard"]:
        print("dashboard not present: rerun after the dashboard is merged for its endpoints and first render")


if __name__ == "__main__":
    main()
