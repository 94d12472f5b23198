#!/usr/bin/env bash
# Side-by-side benchmark of tuner's suggestion algorithms and the reference tools, then the latency table.
# Run by hand (takes hours on 2 cores); results and reports go to benchmarks/results/.
#
#   benchmarks/run_hpo.sh                 # everything
#   STEPS=quality benchmarks/run_hpo.sh   # or latency
#   STEPS=batch benchmarks/run_hpo.sh     # k = 1, 4, 8 pending trials at equal budget (BATCH_BUDGET, 40)
#   STEPS=heldout benchmarks/run_hpo.sh   # the held-out problems of benchmarks/hpo_heldout.py
#
# The harness lives beside the repository, in ../shared/bench/hpo (from the repository's root; from a git
# worktree, beside the main checkout). HPO_BENCH_HOME overrides the folder holding bench/; PYTHON is a
# Python with the project, the reference libraries and torch installed.
set -euo pipefail
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
find_harness() {
  local main
  main=$(git -C "$ROOT" rev-parse --path-format=absolute --git-common-dir 2>/dev/null | xargs -r dirname)
  for candidate in "$ROOT/../shared" ${main:+"$main/../shared"}; do
    if [[ -d "$candidate/bench/hpo" ]]; then (cd "$candidate" && pwd); return; fi
  done
  echo "run_hpo.sh: the HPO harness is not at $ROOT/../shared/bench/hpo${main:+ nor $main/../shared/bench/hpo};" \
    "set HPO_BENCH_HOME to the folder that holds bench/hpo" >&2
  return 1
}
HOME_DIR=${HPO_BENCH_HOME:-$(find_harness)}
OUT=${OUT:-$ROOT/benchmarks/results}
PY=${PYTHON:-$ROOT/.venv/bin/python}
SEEDS=${SEEDS:-5}
BUDGET=${BUDGET:-100}
STEPS=${STEPS:-quality latency}
ALGORITHMS=${ALGORITHMS:-auto tpe multivariate-tpe bayesianoptimization cmaes sobol random grid}
mkdir -p "$OUT"
cd "$HOME_DIR"
export PYTHONPATH=$ROOT HPO_BENCH_PROJECT=benchmarks.hpo_adapter:create_optimizer

if [[ " $STEPS " == *" quality "* ]]; then
  "$PY" -m bench.hpo.run --optimizers random,optuna-tpe,optuna-gp,skopt-gp,optuna-cmaes,hyperopt-tpe \
    --problems public --seeds "$SEEDS" --budget "$BUDGET" --threads 1 --out "$OUT/reference.json"
  for alg in $ALGORITHMS; do
    HPO_BENCH_ALGORITHM=$alg "$PY" -m bench.hpo.run --optimizers project --project-label "tuner-$alg" \
      --problems public --seeds "$SEEDS" --budget "$BUDGET" --threads 1 --out "$OUT/tuner-$alg.json"
  done
  "$PY" -m bench.hpo.report "$OUT/reference.json" "$OUT/tuner-auto.json" \
    --budgets 20,50,100 --reference optuna-tpe --out "$OUT/report-auto.md"
  "$PY" -m bench.hpo.report "$OUT/reference.json" "$OUT"/tuner-*.json \
    --budgets 20,50,100 --reference optuna-tpe --out "$OUT/report-all.md"
  # the issue's two pairwise checks, per problem
  "$PY" -m benchmarks.hpo_pairs "$OUT/reference.json" "$OUT/tuner-tpe.json" \
    --optimizer tuner-tpe --reference optuna-tpe > "$OUT/pairs-tpe.md"
  "$PY" -m benchmarks.hpo_pairs "$OUT/reference.json" "$OUT/tuner-bayesianoptimization.json" \
    --optimizer tuner-bayesianoptimization --reference random > "$OUT/pairs-bayesianoptimization.md"
fi

# issue 17: parallel (batch) mode and held-out problems, driven by benchmarks/hpo_batch.py
BATCH_BUDGET=${BATCH_BUDGET:-40}
BATCH_KS=${BATCH_KS:-1,4,8}
for step in batch heldout; do
  if [[ " $STEPS " == *" $step "* ]]; then
    problems=public; [[ $step == heldout ]] && problems=heldout
    nice -n 10 "$PY" -m benchmarks.hpo_batch run --problems "$problems" --ks "$BATCH_KS" --seeds "$SEEDS" \
      --budget "$BATCH_BUDGET" --workers 2 --resume --out "$OUT/$step.json"
    "$PY" -m benchmarks.hpo_batch report "$OUT/$step.json" > "$OUT/report-$step.md"
  fi
done

if [[ " $STEPS " == *" latency "* ]]; then
  "$PY" -m bench.hpo.latency --optimizers random,optuna-tpe,hyperopt-tpe,optuna-cmaes,optuna-gp,skopt-gp \
    --n 50,200,500,1000 --repeats 3 --cap 30 --out "$OUT/latency-reference.json"
  for alg in $ALGORITHMS; do
    HPO_BENCH_ALGORITHM=$alg "$PY" -m bench.hpo.latency --optimizers project \
      --n 50,200,500,1000 --repeats 3 --cap 30 --out "$OUT/latency-tuner-$alg.json"
  done
  "$PY" "$ROOT/benchmarks/merge_latency.py" "$OUT/latency.json" "$OUT/latency-reference.json" "$OUT"/latency-tuner-*.json
  "$PY" -m bench.hpo.latency --render "$OUT/latency.json" > "$OUT/report-latency.md"
fi
