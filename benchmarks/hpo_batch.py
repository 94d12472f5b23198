"""Batch (parallel) and held-out benchmark of `auto` against optuna's samplers (issue 17).

The shared harness (``../shared/bench/hpo``) runs one trial at a time. Here every optimizer is driven in
rounds of k pending trials, as a controller with parallelTrialCount = k does: ask k points, evaluate
them, tell all k, until the trial budget is spent (the last round may be shorter). tuner's algorithms
answer each round with one ``Suggester.suggest(..., k)`` call over the whole history (the k points of
the round are RUNNING trials in every later call of that round, as with the controller); optuna's
samplers get k ``study.ask`` calls before the k ``study.tell`` calls, so the earlier points of the round
are RUNNING trials they see (TPE with ``constant_liar=True``; GPSampler scores with q-batch log EI).

    # from the folder holding bench/ (run_hpo.sh does this: STEPS=batch or STEPS=heldout)
    PYTHONPATH=/repo python -m benchmarks.hpo_batch run --problems public --ks 1,4,8 --out batch.json
    PYTHONPATH=/repo python -m benchmarks.hpo_batch report batch.json

Quality of a run after its budget: best value minus f* (ML problems: the best CV error); on a noisy
problem, the noise-free value of the point with the best observed value (the one a user would pick)
minus f*, and the best observed value is reported beside it. Ranks are the harness's expected ranks
(``bench.hpo.report.expected_ranks``) averaged over problems.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import multiprocessing as mp  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import warnings  # noqa: E402
from collections import defaultdict  # noqa: E402
from collections.abc import Callable  # noqa: E402
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

REFERENCES = ("optuna-tpe-liar", "optuna-gp", "random")
"""optuna's TPESampler(constant_liar=True) and GPSampler(), with their defaults otherwise, and random."""

DEFAULT_OPTIMIZERS = ("tuner-auto", *REFERENCES)


# -- problems ---------------------------------------------------------------------------------------------


class _Problem:
    """A public harness problem or a held-out one behind one interface."""

    def __init__(self, name: str) -> None:
        from benchmarks.hpo_heldout import PROBLEMS

        if name in PROBLEMS:
            p = PROBLEMS[name]
            self.name, self.space, self.f_opt, self.kind = p.name, p.space, p.f_opt, p.kind
            self.noisy = p.noise_sd > 0
            self.observe: Callable[[dict[str, Any], int], float] = p.observe
            self.true: Callable[[dict[str, Any]], float] = p.true
        else:
            from bench.hpo.problems import get_problem

            h = get_problem(name)
            self.name, self.space, self.f_opt, self.kind = h.name, h.space, h.f_opt, h.kind
            self.noisy = False
            self.observe = lambda params, seed: h(params)
            self.true = h


def problem_names(which: str) -> list[str]:
    """``public`` (the harness's seven), ``heldout`` (benchmarks/hpo_heldout.py) or a comma list."""
    if which == "public":
        from bench.hpo.problems import get_problems

        return [p.name for p in get_problems("public")]
    if which == "heldout":
        from benchmarks.hpo_heldout import PROBLEMS

        return list(PROBLEMS)
    return [n.strip() for n in which.split(",") if n.strip()]


# -- optimizers -------------------------------------------------------------------------------------------


class _Tuner:
    def __init__(self, algorithm: str, space: dict[str, Any], seed: int) -> None:
        from benchmarks.hpo_adapter import ContractOptimizer

        self.impl = ContractOptimizer(space, seed, algorithm, {})

    def ask(self, k: int) -> list[dict[str, Any]]:
        return self.impl.ask_batch(k)

    def tell(self, points: list[dict[str, Any]], values: list[float]) -> None:
        for p, v in zip(points, values, strict=True):
            self.impl.tell(p, v)


class _Optuna:
    def __init__(self, name: str, space: dict[str, Any], seed: int) -> None:
        import optuna
        from bench.hpo.optimizers import space_to_optuna

        optuna.logging.set_verbosity(optuna.logging.ERROR)
        samplers: dict[str, Callable[[], Any]] = {
            "optuna-tpe-liar": lambda: optuna.samplers.TPESampler(seed=seed, constant_liar=True),
            "optuna-gp": lambda: optuna.samplers.GPSampler(seed=seed),
            "random": lambda: optuna.samplers.RandomSampler(seed=seed),
        }
        self.space = space
        self.dists = space_to_optuna(space)
        self.study = optuna.create_study(direction="minimize", sampler=samplers[name]())
        self.trials: list[Any] = []

    def ask(self, k: int) -> list[dict[str, Any]]:
        from bench.hpo.core import clip_to_space

        self.trials = [self.study.ask(self.dists) for _ in range(k)]
        return [clip_to_space(self.space, t.params) for t in self.trials]

    def tell(self, points: list[dict[str, Any]], values: list[float]) -> None:
        for trial, v in zip(self.trials, values, strict=True):
            self.study.tell(trial, v)


def _make(name: str, space: dict[str, Any], seed: int) -> _Tuner | _Optuna:
    if name.startswith("tuner-"):
        return _Tuner(name.removeprefix("tuner-"), space, seed)
    return _Optuna(name, space, seed)


# -- running ----------------------------------------------------------------------------------------------


def run_one(task: dict[str, Any]) -> dict[str, Any]:
    """One (problem, optimizer, k, seed) run; errors are recorded, never raised."""
    from bench.hpo.core import in_space

    warnings.filterwarnings("ignore")
    problem = _Problem(task["problem"])
    rec: dict[str, Any] = {
        **{k: task[k] for k in ("problem", "optimizer", "k", "seed", "budget")},
        "kind": problem.kind,
        "f_opt": problem.f_opt,
        "noisy": problem.noisy,
        "values": [],
        "true_values": [],
        "ask_s": 0.0,
        "error": None,
    }
    start = time.perf_counter()
    try:
        opt = _make(task["optimizer"], problem.space, task["seed"])
        while len(rec["values"]) < task["budget"]:
            k = min(task["k"], task["budget"] - len(rec["values"]))
            t0 = time.perf_counter()
            points = opt.ask(k)
            rec["ask_s"] += time.perf_counter() - t0
            if len(points) != k:
                raise ValueError(f"asked for {k} points, got {len(points)}")
            for p in points:
                if not in_space(problem.space, p):
                    raise ValueError(f"suggestion outside the search space: {p!r}")
            values = [problem.observe(p, task["seed"]) for p in points]
            rec["values"] += values
            rec["true_values"] += [float(problem.true(p)) for p in points] if problem.noisy else values
            opt.tell(points, values)
    except Exception as exc:  # the run is reported as failed
        tb = traceback.extract_tb(exc.__traceback__)
        rec["error"] = f"{type(exc).__name__}: {exc} at {os.path.basename(tb[-1].filename)}:{tb[-1].lineno}"
    rec["wall_s"] = round(time.perf_counter() - start, 2)
    rec["ask_s"] = round(rec["ask_s"], 3)
    return rec


def _init_worker() -> None:
    warnings.filterwarnings("ignore")
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass


def _cost(task: dict[str, Any]) -> float:
    gp = 20 if task["optimizer"] in ("tuner-auto", "optuna-gp") else 1
    return gp * (5 if task["problem"] in ("svc_digits", "gb_breast_cancer", "hgb_diabetes") else 1)


def run(args: argparse.Namespace) -> int:
    names = problem_names(args.problems)
    ks = [int(k) for k in args.ks.split(",")]
    optimizers = [o.strip() for o in args.optimizers.split(",") if o.strip()]
    partial = args.out + ".partial.jsonl"
    done: dict[tuple[Any, ...], dict[str, Any]] = {}
    if args.resume and os.path.exists(partial):
        with open(partial) as fp:
            for line in fp:
                r = json.loads(line)
                if not r["error"]:
                    done[(r["problem"], r["optimizer"], r["k"], r["seed"])] = r
    tasks = [
        {"problem": p, "optimizer": o, "k": k, "seed": s, "budget": args.budget}
        for s in range(args.seed_offset, args.seed_offset + args.seeds)
        for p in names
        for o in optimizers
        for k in ks
        if (p, o, k, s) not in done
    ]
    tasks.sort(key=lambda t: (t["seed"], -_cost(t)))  # complete seeds first, slow runs first within one
    runs = list(done.values())
    print(f"{len(tasks)} runs to do ({len(done)} resumed) on {args.workers} worker(s)", flush=True)
    t0 = time.time()
    ctx = mp.get_context("spawn")
    with (
        open(partial, "a") as fp,
        ProcessPoolExecutor(args.workers, mp_context=ctx, initializer=_init_worker) as pool,
    ):
        queue, inflight = list(tasks), set()
        while queue or inflight:
            while queue and len(inflight) < args.workers:
                inflight.add(pool.submit(run_one, queue.pop(0)))
            finished, inflight = wait(inflight, return_when=FIRST_COMPLETED)
            for fut in finished:
                rec = fut.result()
                runs.append(rec)
                fp.write(json.dumps(rec) + "\n")
                fp.flush()
                best = min(rec["values"]) if rec["values"] else math.nan
                print(
                    f"[{len(runs)}/{len(tasks) + len(done)} {time.time() - t0:6.0f}s] {rec['problem']:18s} "
                    f"{rec['optimizer']:16s} k={rec['k']} seed={rec['seed']} best={best:.5g} "
                    f"run={rec['wall_s']:.1f}s {rec['error'] or ''}",
                    flush=True,
                )
    meta = {"argv": sys.argv[1:], "wall_s": round(time.time() - t0, 1), "loadavg_end": list(os.getloadavg())}
    with open(args.out, "w") as fp:
        json.dump({"meta": meta, "runs": runs}, fp)
    failed = sum(1 for r in runs if r["error"])
    print(f"wrote {args.out}: {len(runs)} runs, {failed} failed", flush=True)
    return 1 if failed else 0


# -- report -----------------------------------------------------------------------------------------------


def quality(run: dict[str, Any]) -> float:
    """Best value minus f* (ML: the value); noisy: the true value of the best observed point, minus f*."""
    values = run["values"]
    i = int(np.argmin(values))
    value = run["true_values"][i] if run.get("noisy") else values[i]
    return float(value - (run["f_opt"] or 0.0))


def _samples(runs: list[dict[str, Any]]) -> dict[str, dict[tuple[str, int], np.ndarray]]:
    """{problem: {(optimizer, k): qualities over seeds}}."""
    out: dict[str, dict[tuple[str, int], list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in runs:
        if not r["error"] and r["values"]:
            out[r["problem"]][(r["optimizer"], r["k"])].append(quality(r))
    return {p: {key: np.array(v) for key, v in d.items()} for p, d in out.items()}


def average_rank(
    samples: dict[str, dict[tuple[str, int], np.ndarray]], entrants: list[tuple[str, int]]
) -> dict[tuple[str, int], float]:
    """Mean over problems of the harness's expected rank among `entrants` (problems where all ran)."""
    from bench.hpo.report import expected_ranks

    acc: dict[tuple[str, int], list[float]] = defaultdict(list)
    for d in samples.values():
        if all(e in d for e in entrants):
            for e, r in expected_ranks({e: d[e] for e in entrants}).items():
                acc[e].append(r)
    return {e: float(np.mean(v)) for e, v in acc.items()}


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    return f"{v:.2e}" if abs(v) < 1e-3 or abs(v) >= 1e4 else f"{v:.3g}"


def report(args: argparse.Namespace) -> int:
    runs: list[dict[str, Any]] = []
    for path in args.results:
        with open(path) as fp:
            runs += json.load(fp)["runs"] if path.endswith(".json") else [json.loads(x) for x in fp]
    if args.problems:
        wanted = set(problem_names(args.problems))
        runs = [r for r in runs if r["problem"] in wanted]
    samples = _samples(runs)
    ks = sorted({r["k"] for r in runs})
    optimizers = sorted({r["optimizer"] for r in runs}, key=lambda o: (not o.startswith("tuner"), o))
    tuner = [o for o in optimizers if o.startswith("tuner")]
    refs = [o for o in optimizers if not o.startswith("tuner")]
    lines = [
        f"Average rank over {len(samples)} problems (1 = best; same k: every optimizer driven with k pending)",
        "",
    ]
    lines += ["| optimizer | " + " | ".join(f"k={k}" for k in ks) + " |", "|---|" + "---|" * len(ks)]
    per_k = {k: average_rank(samples, [(o, k) for o in optimizers]) for k in ks}
    for o in optimizers:
        lines.append(f"| {o} | " + " | ".join(_fmt(per_k[k].get((o, k), math.nan)) for k in ks) + " |")
    if 1 in ks and refs:
        lines += [
            "",
            "Against the sequential (k=1) references: rank of tuner's algorithm at each k among it and "
            "the references at k=1 (the loss of sequential quality):",
            "",
        ]
        lines += ["| optimizer | " + " | ".join(f"k={k}" for k in ks) + " |", "|---|" + "---|" * len(ks)]
        for o in tuner:
            cells = []
            for k in ks:
                r = average_rank(samples, [(o, k)] + [(ref, 1) for ref in refs])
                cells.append(_fmt(r.get((o, k), math.nan)))
            lines.append(f"| {o} | " + " | ".join(cells) + " |")
    noisy = {r["problem"] for r in runs if r.get("noisy")}
    lines += [
        "",
        "Mean / median over seeds of the best value minus f* (ML: the CV error); noisy problems: "
        "the true value of the best observed point minus f*, then (best observed minus f*)",
        "",
    ]
    cols = [(o, k) for k in ks for o in optimizers]
    lines += ["| problem | " + " | ".join(f"{o} k={k}" for o, k in cols) + " |", "|---|" + "---|" * len(cols)]
    for p in sorted(samples):
        cells = []
        for o, k in cols:
            v = samples[p].get((o, k))
            if v is None:
                cells.append("n/a")
                continue
            cell = f"{_fmt(float(np.mean(v)))} / {_fmt(float(np.median(v)))}"
            if p in noisy:
                obs = [
                    min(r["values"]) - (r["f_opt"] or 0.0)
                    for r in runs
                    if r["problem"] == p and r["optimizer"] == o and r["k"] == k and not r["error"]
                ]
                cell += f" ({_fmt(float(np.mean(obs)))})"
            cells.append(cell)
        lines.append(f"| {p} | " + " | ".join(cells) + " |")
    seeds = {(r["optimizer"], r["k"]) for r in runs}
    failed = [r for r in runs if r["error"]]
    lines += ["", f"{len(runs)} runs, {len(seeds)} optimizer/k pairs, {len(failed)} failed."]
    lines += [
        f"- failed: {r['problem']} {r['optimizer']} k={r['k']} seed={r['seed']}: {r['error']}" for r in failed
    ]
    print("\n".join(lines))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run the benchmark")
    r.add_argument("--problems", default="public", help="public | heldout | comma list")
    r.add_argument("--optimizers", default=",".join(DEFAULT_OPTIMIZERS))
    r.add_argument("--ks", default="1,4,8", help="batch sizes (parallel trials)")
    r.add_argument("--seeds", type=int, default=5)
    r.add_argument("--seed-offset", type=int, default=0, help="first seed (to split a run over processes)")
    r.add_argument("--budget", type=int, default=40, help="trials per run, whatever k")
    r.add_argument("--workers", type=int, default=2)
    r.add_argument("--resume", action="store_true", help="skip runs already in OUT.partial.jsonl")
    r.add_argument("--out", required=True)
    p = sub.add_parser("report", help="markdown tables of one or more result files")
    p.add_argument("results", nargs="+", help="result .json files (or a run's .partial.jsonl)")
    p.add_argument("--problems", default="", help="only these: public | heldout | comma list (default: all)")
    args = parser.parse_args(argv)
    return run(args) if args.command == "run" else report(args)


if __name__ == "__main__":
    sys.exit(main())
