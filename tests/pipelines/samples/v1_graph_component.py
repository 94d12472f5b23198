"""KFP v1 graph-component patterns. `flipcoin_unrolled`: a `@dsl.graph_component` called twice, its
body (a flip and, when heads, a print) recorded in place each time, with `.after` on and by the call.
`flipcoin_recursive`: KFP's recursion sample, where the graph component calls itself under a
`dsl.Condition` until a flip comes up tails (refused: recursion is not supported yet)."""

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


@dsl.graph_component
def flip_component(flip_result):
    with dsl.Condition(flip_result == "heads"):
        print_flip = print_msg(msg=flip_result)
        again = flip_coin(seed=1).after(print_flip)
        flip_component(again.output)


@dsl.pipeline(name="recursive loop pipeline")
def flipcoin_recursive():
    first = flip_coin(seed=2)
    graph = flip_component(first.output)
    print_msg(msg="it is over: %s" % first.output).after(graph)
