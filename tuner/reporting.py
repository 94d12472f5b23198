"""`tuner.report(...)`: how a trial's own code hands its metrics to tuner (Katib's Push collector).

Where the values go depends on how the trial runs, and the trial does not need to know:
- inside `tuner.tune` (a function trial) they go straight to the controller through the active reporter
  that the worker installs, and `report` raises `TrialStopped` once the controller decided to stop the trial;
- in a process trial they are appended as JSON lines to the file named by `TUNER_METRICS_FILE`, which the
  controller tails (the same format as Katib's File collector with format JSON);
- in a cluster trial (`tuner operator` sets TUNER_SERVER, TUNER_NAMESPACE, TUNER_EXPERIMENT and
  TUNER_TRIAL_NAME in the pod) they are POSTed to the server's
  `/api/v1/experiments/{namespace}/{experiment}/trials/{trial}/metrics`, which writes them into the store the
  operator reads (a few retries; a server that stays unreachable raises `RuntimeError`);
- outside any trial, `report` raises a `RuntimeError` that says so, instead of silently dropping values.

`KATIB_TRIAL_NAME` is honoured like `TUNER_TRIAL_NAME`, so code written for Katib's
`report_metrics` keeps working through `tuner.report_metrics`.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

METRICS_FILE_ENV = "TUNER_METRICS_FILE"
TRIAL_NAME_ENV = "TUNER_TRIAL_NAME"
SERVER_ENV = "TUNER_SERVER"

ReporterFn = Callable[[int | None, dict[str, float], float], None]
"""A reporter receives (step, metrics, unix time) and may raise `TrialStopped`."""

_local = threading.local()
_process_reporter: ReporterFn | None = None


class TrialStopped(BaseException):
    """Raised inside a trial when tuner decided to stop it (early stopping, experiment end, Ctrl-C).

    It derives from BaseException so that a trial's own `except Exception:` does not swallow it.
    """


def install_reporter(reporter: ReporterFn | None, *, thread_only: bool = False) -> None:
    """Route `report` calls of this process (or only of this thread) to `reporter`; None removes it."""
    global _process_reporter
    if thread_only:
        _local.reporter = reporter
    else:
        _process_reporter = reporter


def install_trial_environment(env: Mapping[str, str] | None) -> None:
    """Give this thread its trial's variables (TUNER_TRIAL_NAME, TUNER_STORE, ...), or remove them.

    Function trials run in threads share one `os.environ`, so each thread's own variables live here;
    `trial_environ` is what trial-side helpers (`tuner.log_model`) read instead of `os.environ`.
    """
    _local.environ = dict(env) if env else None


def trial_environ() -> dict[str, str]:
    """The environment the running trial sees: `os.environ` overlaid with this thread's trial variables."""
    own: dict[str, str] | None = getattr(_local, "environ", None)
    return {**os.environ, **own} if own else dict(os.environ)


def report(step: int | None = None, **metrics: float) -> None:
    """Report metric values of the running trial, e.g. `tuner.report(step=epoch, loss=0.3, accuracy=0.91)`.

    Args:
        step: the trial's own step (epoch, iteration) for early stopping and plots; when omitted, reports of
            a metric are numbered 1, 2, 3, ...
        **metrics: metric name -> number (anything `float()` accepts).

    Raises:
        TrialStopped: the trial should end now; let it propagate.
        ValueError: a value is not a number.
        RuntimeError: not called from inside a trial.
    """
    publish(metrics, step)


def report_metrics(metrics: Mapping[str, Any], **_ignored: Any) -> None:
    """Katib SDK compatibility: `katib.report_metrics({"accuracy": 0.9})`."""
    publish(metrics)


def publish(metrics: Mapping[str, Any], step: int | None = None) -> None:
    """`report` with the metrics as a mapping (any names, `step` included); raises as `report` does."""
    values = _as_floats({str(k): v for k, v in metrics.items()})
    if step is not None and (isinstance(step, bool) or not isinstance(step, int) or step < 0):
        raise ValueError(f"step must be a non-negative int, got {step!r}")
    now = time.time()
    reporter: ReporterFn | None = getattr(_local, "reporter", None) or _process_reporter
    if reporter is not None:
        reporter(step, values, now)
        return
    path = os.environ.get(METRICS_FILE_ENV)
    if path:
        _append_json_line(path, step, values, now)
        return
    server = os.environ.get(SERVER_ENV)
    if server:
        _post(server, step, values, now)
        return
    raise RuntimeError(
        "tuner.report() was called outside a trial: run this code as a trial of `tuner run` or `tuner.tune`, "
        f"or set {METRICS_FILE_ENV} to a file to collect the values"
    )


def _as_floats(metrics: Mapping[str, Any]) -> dict[str, float]:
    if not metrics:
        raise ValueError("report() needs at least one metric, e.g. report(accuracy=0.9)")
    values: dict[str, float] = {}
    for name, raw in metrics.items():
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"metric {name!r} must be a number, got {raw!r}") from None
        if math.isnan(value):
            raise ValueError(f"metric {name!r} is NaN; report a number or leave the metric out")
        values[name] = value
    return values


def _append_json_line(path: str, step: int | None, values: dict[str, float], now: float) -> None:
    record: dict[str, Any] = {"timestamp": now, **values}
    if step is not None:
        record["step"] = step
    line = json.dumps(record) + "\n"
    # one write() of a short line in append mode is atomic with respect to the reader tailing the file
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def _post(server: str, step: int | None, values: dict[str, float], now: float) -> None:
    """Send the values to the server (see the module docstring); retried 5 times over about 15 s."""
    import httpx

    env = os.environ
    trial = env.get(TRIAL_NAME_ENV) or env.get("KATIB_TRIAL_NAME") or ""
    experiment, namespace = env.get("TUNER_EXPERIMENT", ""), env.get("TUNER_NAMESPACE", "default")
    if not trial or not experiment:
        raise RuntimeError(
            f"tuner.report() with {SERVER_ENV} set needs TUNER_TRIAL_NAME and TUNER_EXPERIMENT (the operator sets "
            "them in the trial's primary container)"
        )
    url = f"{server.rstrip('/')}/api/v1/experiments/{namespace}/{experiment}/trials/{trial}/metrics"
    body: dict[str, Any] = {"metrics": values, "timestamp": now}
    if step is not None:
        body["step"] = step
    headers = {"Authorization": f"Bearer {env['TUNER_TOKEN']}"} if env.get("TUNER_TOKEN") else {}
    delay, problem = 0.5, ""
    for _ in range(6):
        try:
            answer = httpx.post(url, json=body, headers=headers, timeout=10)
        except httpx.HTTPError as exc:
            problem = str(exc)
        else:
            if answer.status_code < 300:
                return
            if answer.status_code < 500:
                raise RuntimeError(
                    f"the server refused the metrics ({answer.status_code}): {answer.text[:300]}"
                )
            problem = f"{answer.status_code} {answer.text[:200]}"
        time.sleep(delay)
        delay = min(delay * 2, 5.0)
    raise RuntimeError(f"could not report metrics to {url}: {problem}")
