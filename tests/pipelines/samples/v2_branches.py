"""KFP v2 control-flow patterns: If/Elif/Else whose branch outputs merge with `dsl.OneOf` (also returned
as the pipeline's output), and a producer inside a condition inside a ParallelFor whose outputs are
gathered with `dsl.Collected` (only the iterations where it ran)."""

from typing import List

from pipelines.kfp import dsl


@dsl.component
def flip_three_sided_coin(seed: int) -> str:
    return ["heads", "tails", "draw"][seed % 3]


@dsl.component
def print_and_return(text: str) -> str:
    print(text)
    return text


@dsl.component
def double(x: int) -> int:
    return 2 * x


@dsl.component
def add_all(values: List[int]) -> int:
    print(f"adding {sorted(values)}")
    return sum(values)


@dsl.pipeline(name="one-of-branches")
def one_of_branches(seed: int) -> str:
    flip = flip_three_sided_coin(seed=seed)
    with dsl.If(flip.output == "heads"):
        heads = print_and_return(text="heads wins")
    with dsl.Elif(flip.output == "tails"):
        tails = print_and_return(text="tails wins")
    with dsl.Else():
        draw = print_and_return(text="a draw")
    chosen = dsl.OneOf(heads.output, tails.output, draw.output)
    print_and_return(text=chosen)
    return chosen


@dsl.pipeline(name="collected-from-a-condition")
def collected_from_a_condition(numbers: List[int] = [1, 2, 3, 4]) -> int:
    with dsl.ParallelFor(numbers) as number, dsl.If(number > 2):
        doubled = double(x=number)
    return add_all(values=dsl.Collected(doubled.output)).output
