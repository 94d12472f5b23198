"""KFP v2 retry pattern: a component exits with a code picked from a list through `sys.exit`, retried
with `set_retry`. Here the codes are taken in turn from a counter file (not at random) so the outcome is
fixed: the first task exits 0 at once, the second fails twice (exit 1, 2) and exits 0 on attempt 3."""

from pipelines.kfp import compiler, dsl


@dsl.component
def random_failure_op(exit_codes: str, counter_file: str):
    import os
    import sys

    attempt = int(open(counter_file).read()) if os.path.exists(counter_file) else 0
    with open(counter_file, "w") as f:
        f.write(str(attempt + 1))
    codes = exit_codes.split(",")
    exit_code = int(codes[min(attempt, len(codes) - 1)])
    print(exit_code)
    sys.exit(exit_code)


@dsl.pipeline(name="retry-random-failures")
def retry_random_failures(counter_dir: str):
    random_failure_op(exit_codes="0", counter_file=f"{counter_dir}/first").set_retry(10)
    random_failure_op(exit_codes="1,2,0", counter_file=f"{counter_dir}/second").set_retry(10)


if __name__ == "__main__":
    compiler.Compiler().compile(retry_random_failures, __file__ + ".yaml")
