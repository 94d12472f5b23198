"""KFP v1 graph-component patterns. `flipcoin_unrolled`: a `@dsl.graph_component` called twice, its
body (a flip and, when heads, a print) recorded in place each time, with `.after` on and by the call.
`flipcoin_recursive`: KFP's recursion sample, where the graph component calls itself under a
`dsl.Condition` until a flip comes up heads. `countdown`: the same with Python components, for the depth
limit."""

from pipelines.kfp import dsl


@dsl.component
def flip_coin(seed: int) -> str:
    return "heads" if seed % 2 == 0 else "tails"


@dsl.component
def print_msg(msg: str):
    print(msg)


@dsl.graph_component
def flip_and_report(seed: int):
    flip = flip_coin(seed=seed)
    with dsl.Condition(flip.output == "heads"):
        print_msg(msg="heads for %s" % seed)
    return flip


@dsl.pipeline(name="flipcoin unrolled")
def flipcoin_unrolled(seed: int = 2):
    first = flip_and_report(seed)
    second = flip_and_report(seed=3).after(first)
    print_msg(msg=second.output).after(second)


# --- recursion, as KFP's recursion sample writes it --------------------------------------------------------


def flip_coin_op(tally, heads_on):
    """A coin that lands tails until its `heads_on`-th toss: each toss appends a line to the file `tally`, so
    the same step gives a new result each time it runs (as a random flip does) and a test knows when it
    stops. A coin must not be cached (KFP's own advice for recursion: max_cache_staleness "P0D")."""
    flip = dsl.ContainerOp(
        name="flip",
        image="alpine:3.18",
        command=["sh", "-c"],
        arguments=[
            'echo toss >> "%s"; if [ "$(wc -l < "%s")" -ge %s ]; then echo heads; else echo tails; fi'
            " | tee /tmp/output" % (tally, tally, heads_on)
        ],
        file_outputs={"output": "/tmp/output"},
    )
    flip.execution_options.caching_strategy.max_cache_staleness = "P0D"
    return flip


def print_op(msg):
    return dsl.ContainerOp(name="print", image="alpine:3.18", command=["echo", msg])


@dsl.graph_component
def flip_component(flip_result, tally, heads_on):
    print_flip = print_op(flip_result)
    flip_again = flip_coin_op(tally, heads_on).after(print_flip)
    with dsl.Condition(flip_again.output == "tails"):
        # the next call reads this flip's result where this call read the one it was given
        flip_component(flip_again.output, tally, heads_on)


@dsl.pipeline(name="recursive loop pipeline", description="a coin flipped again until it lands heads")
def flipcoin_recursive(tally: str, heads_on: int = 4):
    first_flip = flip_coin_op(tally, heads_on)
    flip_loop = flip_component(first_flip.output, tally, heads_on)
    print_op("it is over: %s" % first_flip.output).after(flip_loop)


# --- recursion with Python components: a countdown --------------------------------------------------------


@dsl.component
def decrement(n: int) -> int:
    return n - 1


@dsl.graph_component
def count_down(n):
    left = decrement(n=n)
    with dsl.Condition(left.output > 0):
        count_down(left.output)


@dsl.pipeline(name="countdown")
def countdown(start: int = 3):
    count_down(start)
