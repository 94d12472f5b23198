"""KFP v1 style: nested dsl.Condition on real outputs, outputs formatted into strings, an exit handler."""

from pipelines.kfp import dsl
from pipelines.kfp.components import func_to_container_op


@func_to_container_op
def flip_coin_op(forced: str) -> str:
    import random

    result = forced or random.choice(["heads", "tails"])
    print(result)
    return result


@func_to_container_op
def get_number_op(value: int) -> int:
    print(value)
    return value


@func_to_container_op
def print_op(message: str):
    print(message)


@func_to_container_op
def fail_op(message):
    """Fails."""
    import sys

    print(message)
    sys.exit(1)


@dsl.pipeline(name="flip_coin_with_exit", description="Conditions and an exit handler.")
def flip_coin_pipeline(forced: str = "", number: int = 7):
    exit_task = print_op("Exit handler has worked!")
    with dsl.ExitHandler(exit_task):
        flip = flip_coin_op(forced)
        with dsl.Condition(flip.output == "heads"):
            num = get_number_op(number)
            with dsl.Condition(num.output > 5):
                print_op("heads and %s > 5!" % num.output)
            with dsl.Condition(num.output <= 5):
                print_op("heads and %s <= 5!" % num.output)
        with dsl.Condition(flip.output == "tails"):
            fail_op(message="Failing the run to show that the exit handler still runs.")
