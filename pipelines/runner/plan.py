"""The run's bookkeeping: which task instances exist, which can start, which are skipped and why.

`Plan` turns a compiled pipeline into task instances (one per task, one per loop iteration inside a
`parallelFor`, one per level of a recursive graph component), expands loops once their items are known and
recursive graph components once their recursive call's conditions hold, evaluates conditions on real
upstream values,
holds exit tasks until their block has finished, and skips what cannot run (a false condition, a failed or
skipped producer of a needed value). It resolves each ready instance's arguments to values and artifacts.
It starts no process and does no I/O except reading an artifact's text through the function it is given:
`pipelines.runner.local` drives it.

Rules (KFP's, as Argo and the KFP backend apply them):
* a task whose producer failed or was skipped is skipped (it cannot get its input);
* `.after(t)` waits for `t` to finish; it is skipped only when `t` failed;
* an exit task waits for every task of its block and runs whatever happened there;
* independent branches keep running after a failure; the run ends Failed if any task failed.

Recursion (KFP v1 `@dsl.graph_component` calling itself): the body's tasks exist once per level. Level 0
is the call written in the pipeline; each time a recursive call's conditions hold and its arguments are
known, a new level opens in which the body reads the call's values wherever it read the values of the
first call (as kfp 1.8 passes them as the body template's input parameters). Outside the body, a body
task's output is the first level's, and waiting for a body task waits for every level. A recursion
deeper than `max_recursion_depth` fails the run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pipelines.compiler.graph import exit_groups, expression_refs, leaf_refs, tasks_in_group
from pipelines.compiler.ir import (
    TOKEN_PATTERN,
    AllExpr,
    CollectedRef,
    CompareExpr,
    ConditionExpr,
    ConstRef,
    InputRef,
    LoopItemRef,
    NotExpr,
    OneOfRef,
    PipelineSpec,
    TaskOutputRef,
    TemplateRef,
    ValueRef,
    ref_from_token,
)
from pipelines.runner.executor import CoercionError, coerce, render
from pipelines.runner.records import ArtifactRef, TaskState

Scope = tuple[tuple[str, int], ...]
MISSING: Any = object()
DEFAULT_MAX_RECURSION_DEPTH = 100
RECURSION_VARIABLE = "TUNER_PIPELINES_MAX_RECURSION_DEPTH"


@dataclass
class Instance:
    """One task, or one loop iteration of a task."""

    id: str
    task: str
    scope: Scope
    state: TaskState = TaskState.PENDING
    outputs: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, ArtifactRef] = field(default_factory=dict)
    message: str = ""
    queued: bool = False
    iteration: tuple[int, ...] = ()  # loop indices, outermost first


@dataclass
class LoopState:
    """One `parallelFor` group in one enclosing scope."""

    group: str
    scope: Scope
    items: list[Any] | None = None
    skipped: bool = False
    failed: bool = False
    message: str = ""

    @property
    def decided(self) -> bool:
        return self.items is not None or self.skipped or self.failed


@dataclass
class Level:
    """One run of a recursive graph component's body: `depth` calls deep, reading `bindings` (the values
    of the recursive call that opened it, by parameter) where the body reads its parameters."""

    depth: int
    bindings: dict[str, Resolved] | None = None


@dataclass
class RecursionState:
    """A graph component's call of itself, in one scope: decided once it opened a level (`level`), was
    skipped (a false condition or a missing argument) or failed (too deep)."""

    group: str
    scope: Scope
    level: int | None = None
    skipped: bool = False
    failed: bool = False
    message: str = ""

    @property
    def decided(self) -> bool:
        return self.level is not None or self.skipped or self.failed


@dataclass(frozen=True)
class Resolved:
    """A known value, an artifact, or both (a file output also read as text)."""

    value: Any = MISSING
    artifact: ArtifactRef | None = None


class _Wait:
    """Not known yet: a producer has not finished."""


WAIT = _Wait()


@dataclass(frozen=True)
class Unavailable:
    """Will never be known: the producer failed or was skipped."""

    reason: str


Resolution = Resolved | _Wait | Unavailable


def instance_id(task: str, scope: Scope, loops: frozenset[str] | set[str] | None = None) -> str:
    """`task` at the top level, `task[2]` in loop iteration 2, `task[2][0]` nested; `task@3` in the fourth
    level of a recursive graph component (entries of `scope` whose group is not in `loops`)."""
    return task + "".join(
        f"[{i}]" if loops is None or g in loops else (f"@{i}" if i else "") for g, i in scope
    )


def compare(op: str, left: Any, right: Any) -> bool:
    """Compare as numbers when both sides read as numbers, as booleans when one side is a bool, else as text."""
    if isinstance(left, bool) or isinstance(right, bool):
        try:
            left, right = coerce(left, "bool"), coerce(right, "bool")
        except CoercionError:
            left, right = render(left), render(right)
    else:
        a, b = _number(left), _number(right)
        left, right = (a, b) if a is not None and b is not None else (render(left), render(right))
    return {
        "==": lambda: left == right,
        "!=": lambda: left != right,
        "<": lambda: left < right,
        "<=": lambda: left <= right,
        ">": lambda: left > right,
        ">=": lambda: left >= right,
    }[op]()


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


class Plan:
    """Task instances of one run and the rules that move them."""

    def __init__(
        self,
        spec: PipelineSpec,
        arguments: dict[str, Any],
        artifact_text: Callable[[ArtifactRef], str],
        max_recursion_depth: int = DEFAULT_MAX_RECURSION_DEPTH,
    ) -> None:
        self.spec = spec
        self.arguments = arguments
        self._artifact_text = artifact_text
        self.max_recursion_depth = max_recursion_depth
        self.instances: dict[str, Instance] = {}
        self.loops: dict[tuple[str, Scope], LoopState] = {}
        self.levels: dict[tuple[str, Scope], list[Level]] = {}  # (recursive graph, outer scope) -> levels
        self.recursions: dict[tuple[str, Scope], RecursionState] = {}
        self._recursive = spec.recursive_graphs()
        self._loop_groups = frozenset(n for n, g in spec.groups.items() if g.kind == "parallelFor")
        self._graph_args = {g: list(spec.groups[g].inputs.items()) for g in self._recursive}
        # The loops and recursive graph bodies around each task and group ("scopes"), outermost first.
        self._task_loops = {name: spec.scopes_of(task.group) for name, task in spec.tasks.items()}
        self._group_loops = {name: spec.scopes_of(name) for name in spec.groups}
        self._exit_groups = exit_groups(spec)
        self._condition_cache: dict[tuple[str, Scope], Resolution] = {}
        self._open_scope(())

    def is_exit_task(self, task: str) -> bool:
        """True for the exit task of an exit handler (never cached: it reports on the run)."""
        return task in self._exit_groups

    # --- structure ---------------------------------------------------------------------------------------

    def _id(self, task: str, scope: Scope) -> str:
        return instance_id(task, scope, self._loop_groups)

    def _open_scope(self, scope: Scope) -> None:
        """Create the instances, loop states and recursion states that live directly in `scope`, and the
        first level of each recursive graph component there."""
        loops = [g for g, _ in scope]
        iteration = tuple(i for g, i in scope if g in self._loop_groups)
        for task in self.spec.tasks:
            if self._task_loops[task] == loops:
                inst = Instance(self._id(task, scope), task, scope, iteration=iteration)
                self.instances[inst.id] = inst
        for group, spec in self.spec.groups.items():
            if spec.kind == "parallelFor" and self._group_loops[group][:-1] == loops:
                self.loops[(group, scope)] = LoopState(group, scope)
            elif group in self._recursive and self._group_loops[group][:-1] == loops:
                self.levels[(group, scope)] = [Level(depth=0)]
                self._open_scope((*scope, (group, 0)))
            elif spec.recursive_ref is not None and self._group_loops[group] == loops:
                self.recursions[(group, scope)] = RecursionState(group, scope)

    def _levels_final(self, graph: str, scope: Scope) -> bool:
        """True when no more levels of `graph` can open inside `scope`: every recursive call and loop in its
        levels there is decided."""
        n = len(scope)

        def inside(state_scope: Scope) -> bool:
            return len(state_scope) > n and state_scope[:n] == scope and state_scope[n][0] == graph

        return all(s.decided for s in self.recursions.values() if inside(s.scope)) and all(
            s.decided for s in self.loops.values() if inside(s.scope)
        )

    def instances_under(self, task: str, prefix: Scope) -> list[Instance] | None:
        """Every instance of `task` inside `prefix`, or None while some enclosing loop is not expanded."""
        loops = self._task_loops[task]

        def walk(scope: Scope) -> list[Instance] | None:
            if len(scope) == len(loops):
                return [self.instances[self._id(task, scope)]]
            group = loops[len(scope)]
            if group in self._recursive:
                levels = self.levels.get((group, scope))
                if levels is None or not self._levels_final(group, scope):
                    return None
                every: list[Instance] = []
                for key in range(len(levels)):
                    sub = walk((*scope, (group, key)))
                    if sub is None:
                        return None
                    every.extend(sub)
                return every
            state = self.loops.get((loops[len(scope)], scope))
            if state is None or not state.decided:
                return None
            if state.items is None:
                return []
            found: list[Instance] = []
            for index in range(len(state.items)):
                sub = walk((*scope, (loops[len(scope)], index)))
                if sub is None:
                    return None
                found.extend(sub)
            return found

        return walk(prefix)

    def _common_prefix(self, task: str, scope: Scope) -> Scope:
        loops = self._task_loops[task]
        n = 0
        while n < len(loops) and n < len(scope) and scope[n][0] == loops[n]:
            n += 1
        return scope[:n]

    def _instance_for(self, task: str, scope: Scope) -> Instance | None:
        """The instance of `task` that a reference from `scope` reads: the same loop iteration and recursion
        level where both are inside them, the first level of a recursive body seen from outside it."""
        prefix = list(self._common_prefix(task, scope))
        for group in self._task_loops[task][len(prefix) :]:
            if group not in self._recursive:
                return None
            prefix.append((group, 0))
        return self.instances.get(self._id(task, tuple(prefix)))

    def _rebound(self, ref: ValueRef, scope: Scope) -> Resolution | None:
        """Inside a deeper level of a recursive graph component, what the recursive call passed for the
        parameter whose first value `ref` is; None when `ref` is not one of them."""
        for depth in range(len(scope) - 1, -1, -1):
            group, key = scope[depth]
            if key == 0 or group not in self._graph_args:
                continue
            for param, arg in self._graph_args[group]:
                if arg == ref:
                    bindings = self.levels[(group, scope[:depth])][key].bindings
                    assert bindings is not None
                    return bindings[param]
        return None

    # --- resolving values ----------------------------------------------------------------------------------

    def value_of(self, resolved: Resolved) -> Any:
        """The value of a resolution, reading an artifact's text when only the artifact exists."""
        if resolved.value is not MISSING:
            return resolved.value
        assert resolved.artifact is not None
        return self._artifact_text(resolved.artifact)

    def resolve(self, ref: ValueRef, scope: Scope) -> Resolution:
        """What `ref` stands for, seen from `scope`."""
        if self._graph_args and isinstance(ref, (InputRef, TaskOutputRef, LoopItemRef)):
            rebound = self._rebound(ref, scope)
            if rebound is not None:
                return rebound
        if isinstance(ref, ConstRef):
            return Resolved(ref.value)
        if isinstance(ref, InputRef):
            return Resolved(self.arguments.get(ref.input))
        if isinstance(ref, LoopItemRef):
            return self._loop_item(ref, scope)
        if isinstance(ref, TaskOutputRef):
            return self._task_output(ref, scope)
        if isinstance(ref, CollectedRef):
            return self._collected(ref, scope)
        if isinstance(ref, OneOfRef):
            return self._one_of(ref, scope)
        assert isinstance(ref, TemplateRef)
        return self._template(ref.template, scope)

    def _loop_item(self, ref: LoopItemRef, scope: Scope) -> Resolution:
        for depth, (group, index) in enumerate(scope):
            if group == ref.loop_item:
                state = self.loops[(group, scope[:depth])]
                assert state.items is not None
                item = state.items[index]
                if ref.field is None:
                    return Resolved(item)
                if not isinstance(item, dict) or ref.field not in item:
                    return Unavailable(f"loop item {item!r} has no key {ref.field!r}")
                return Resolved(item[ref.field])
        return Unavailable(f"not inside loop {ref.loop_item}")

    def _task_output(self, ref: TaskOutputRef, scope: Scope) -> Resolution:
        producer = self._instance_for(ref.task, scope)
        if producer is None or not producer.state.is_finished:
            return WAIT
        if not producer.state.has_outputs:
            return Unavailable(f"{producer.id} {producer.state.value.lower()}")
        return Resolved(producer.outputs.get(ref.output, MISSING), producer.artifacts.get(ref.output))

    def _collected(self, ref: CollectedRef, scope: Scope) -> Resolution:
        found = self.instances_under(ref.collected.task, self._common_prefix(ref.collected.task, scope))
        if found is None or any(not i.state.is_finished for i in found):
            return WAIT
        failed = [i.id for i in found if i.state == TaskState.FAILED]
        if failed:
            return Unavailable(f"{', '.join(failed)} failed")
        values = []
        for inst in found:
            if inst.state.has_outputs:
                part = Resolved(
                    inst.outputs.get(ref.collected.output, MISSING), inst.artifacts.get(ref.collected.output)
                )
                values.append(self.value_of(part))
        return Resolved(values)

    def _one_of(self, ref: OneOfRef, scope: Scope) -> Resolution:
        """The first branch that produced a value, once every branch has finished or been skipped."""
        found: Resolution | None = None
        reasons: list[str] = []
        for option in ref.one_of:
            got = self.resolve(option, scope)
            if isinstance(got, _Wait):
                return WAIT
            if isinstance(got, Resolved):
                found = found or got
            else:
                reasons.append(got.reason)
        return found or Unavailable("no branch of dsl.OneOf ran (" + "; ".join(reasons) + ")")

    def _template(self, template: str, scope: Scope) -> Resolution:
        parts: dict[str, str] = {}
        for match in TOKEN_PATTERN.finditer(template):
            raw = ref_from_token(match)
            leaf: ValueRef
            if "input" in raw:
                leaf = InputRef(input=raw["input"])
            elif "task" in raw:
                leaf = TaskOutputRef(task=raw["task"], output=raw["output"])
            else:
                leaf = LoopItemRef(loop_item=raw["loopItem"], field=raw.get("field"))
            got = self.resolve(leaf, scope)
            if not isinstance(got, Resolved):
                return got
            parts[match.group(0)] = render(self.value_of(got))
        return Resolved(TOKEN_PATTERN.sub(lambda m: parts[m.group(0)], template))

    # --- conditions -------------------------------------------------------------------------------------

    def _evaluate(self, expr: ConditionExpr, scope: Scope) -> tuple[Resolution, str]:
        """(Resolved(True/False) | WAIT | Unavailable, a description with the real values)."""
        if isinstance(expr, CompareExpr):
            sides = []
            for ref in (expr.left, expr.right):
                got = self.resolve(ref, scope)
                if not isinstance(got, Resolved):
                    return got, ""
                sides.append(self.value_of(got))
            return Resolved(compare(expr.op, sides[0], sides[1])), f"{sides[0]!r} {expr.op} {sides[1]!r}"
        if isinstance(expr, NotExpr):
            inner, text = self._evaluate(expr.not_, scope)
            return (Resolved(not inner.value) if isinstance(inner, Resolved) else inner), f"not ({text})"
        assert isinstance(expr, AllExpr)
        texts = []
        for part in expr.all:
            got, text = self._evaluate(part, scope)
            texts.append(text)
            if not isinstance(got, Resolved) or not got.value:
                return got, " and ".join(texts)
        return Resolved(True), " and ".join(texts)

    def _conditions(self, group: str | None, scope: Scope) -> Resolution:
        """Resolved(True) when every condition around `group` holds; else why not (or WAIT)."""
        for name in self.spec.group_chain(group):
            cond = self.spec.groups[name].condition
            if cond is None:
                continue
            own = self.spec.groups[name].kind == "parallelFor" or name in self._recursive
            depth = len(self._group_loops[name]) - (1 if own else 0)
            key = (name, scope[:depth])
            result = self._condition_cache.get(key)
            if result is None:
                got, text = self._evaluate(cond, scope)
                if isinstance(got, _Wait):
                    return WAIT
                if isinstance(got, Unavailable):
                    result = Unavailable(f"{name} cannot be evaluated: {got.reason}")
                else:
                    result = got if got.value else Unavailable(f"{name} is false ({text})")
                self._condition_cache[key] = result
            if not isinstance(result, Resolved):
                return result
        return Resolved(True)

    # --- deciding --------------------------------------------------------------------------------------

    def _decide_loop(self, state: LoopState) -> bool:
        """Expand, skip or fail a loop whose items are known; True when it was decided now."""
        group = self.spec.groups[state.group]
        allowed = self._conditions(group.parent, state.scope)
        if isinstance(allowed, _Wait):
            return False
        if isinstance(allowed, Unavailable):
            state.skipped, state.message = True, allowed.reason
            return True
        assert group.items is not None
        got = self.resolve(group.items, state.scope)
        if isinstance(got, _Wait):
            return False
        if isinstance(got, Unavailable):
            state.skipped, state.message = True, f"items unavailable: {got.reason}"
            return True
        try:
            items = coerce(self.value_of(got), "list")
        except CoercionError as exc:
            state.failed, state.message = True, f"the items of {state.group} are not a list: {exc}"
            return True
        state.items = items
        for index in range(len(items)):
            self._open_scope((*state.scope, (state.group, index)))
        return True

    def _decide_recursion(self, state: RecursionState) -> bool:
        """Open the next level of a graph component's body, skip the call, or fail it for being too deep;
        True when it was decided now."""
        group = self.spec.groups[state.group]
        allowed = self._conditions(group.parent, state.scope)
        if isinstance(allowed, _Wait):
            return False
        if isinstance(allowed, Unavailable):
            state.skipped, state.message = True, allowed.reason
            return True
        values: dict[str, Resolved] = {}
        for key, ref in group.inputs.items():
            got = self.resolve(ref, state.scope)
            if isinstance(got, _Wait):
                return False
            if isinstance(got, Unavailable):
                state.skipped, state.message = True, f"input {key!r} is unavailable: {got.reason}"
                return True
            values[key] = got
        target = group.recursive_ref
        assert target is not None
        position = next(i for i, (g, _) in enumerate(state.scope) if g == target)
        outer = state.scope[:position]
        levels = self.levels[(target, outer)]
        depth = levels[state.scope[position][1]].depth + 1
        if depth > self.max_recursion_depth:
            name = self.spec.groups[target].display_name or target
            state.failed = True
            state.message = (
                f"graph component {name!r} ({target}) called itself {depth} times nested, past the limit of "
                f"{self.max_recursion_depth}; raise it with --max-recursion-depth or {RECURSION_VARIABLE} if "
                "the recursion is meant to go deeper"
            )
            return True
        levels.append(Level(depth, values))
        state.level = len(levels) - 1
        self._open_scope((*outer, (target, state.level)))
        return True

    def _decide(self, inst: Instance) -> Resolution:
        """Resolved(arguments) when ready, Unavailable(reason) to skip, WAIT otherwise."""
        task = self.spec.tasks[inst.task]
        exit_group = self._exit_groups.get(inst.task)
        if exit_group is not None:
            for name in tasks_in_group(self.spec, exit_group):
                body = self.instances_under(name, self._common_prefix(name, inst.scope))
                if body is None or any(not b.state.is_finished for b in body):
                    return WAIT
        allowed = self._conditions(task.group, inst.scope)
        if not isinstance(allowed, Resolved):
            return allowed
        for name in task.after:
            found = self.instances_under(name, self._common_prefix(name, inst.scope))
            if found is None or any(not f.state.is_finished for f in found):
                return WAIT
            failed = [f.id for f in found if f.state == TaskState.FAILED]
            if failed:
                return Unavailable(f"upstream {', '.join(failed)} failed")
        resolved: dict[str, Resolved] = {}
        for arg, ref in task.arguments.items():
            got = self.resolve(ref, inst.scope)
            if isinstance(got, _Wait):
                return WAIT
            if isinstance(got, Unavailable):
                return Unavailable(f"input {arg!r} is unavailable: {got.reason}")
            resolved[arg] = got
        return Resolved(resolved)

    def advance(self) -> tuple[list[Instance], list[Instance]]:
        """Decide all that can be decided now: (instances ready to start, instances skipped just now)."""
        ready: list[Instance] = []
        skipped: list[Instance] = []
        changed = True
        while changed:
            changed = False
            for state in list(self.loops.values()):
                if not state.decided and self._decide_loop(state):
                    changed = True
            for call in list(self.recursions.values()):
                if not call.decided and self._decide_recursion(call):
                    changed = True
            for inst in list(self.instances.values()):
                if inst.queued or inst.state != TaskState.PENDING:
                    continue
                decision = self._decide(inst)
                if isinstance(decision, Resolved):
                    inst.queued = True
                    ready.append(inst)
                elif isinstance(decision, Unavailable):
                    inst.state, inst.message = TaskState.SKIPPED, decision.reason
                    skipped.append(inst)
                    changed = True
        return ready, skipped

    def arguments_of(self, inst: Instance) -> dict[str, Resolved]:
        """The resolved arguments of a ready instance."""
        decision = self._decide(inst)
        assert isinstance(decision, Resolved), f"{inst.id} is not ready"
        return dict(decision.value)

    def finish(self, inst: Instance, state: TaskState, message: str = "") -> None:
        """Record an instance's end (outputs and artifacts are set on it by the caller)."""
        inst.state, inst.message = state, message

    def final_status(self, inst: Instance) -> dict[str, Any]:
        """What an exit task's `PipelineTaskFinalStatus` parameter receives."""
        group = self._exit_groups.get(inst.task)
        failed: list[str] = []
        reasons: list[str] = []
        if group is not None:
            for name in tasks_in_group(self.spec, group):
                for body in self.instances_under(name, self._common_prefix(name, inst.scope)) or []:
                    if body.state == TaskState.FAILED:
                        failed.append(body.id)
                        reasons.append(f"{body.id} {body.message}" if body.message else body.id)
        return {
            "state": "FAILED" if failed else "SUCCEEDED",
            "error_message": f"failed: {'; '.join(reasons)}" if failed else "",
            "error_code": 1 if failed else 0,
            "pipeline_task_name": group or "",
            "pipeline_job_resource_name": self.spec.pipeline.name,
        }

    # --- progress ------------------------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        """True when every loop is decided and every instance is finished."""
        return (
            all(s.decided for s in self.loops.values())
            and all(s.decided for s in self.recursions.values())
            and all(i.state.is_finished for i in self.instances.values())
        )

    @property
    def failed(self) -> bool:
        """True when a task or a loop failed."""
        return (
            any(i.state == TaskState.FAILED for i in self.instances.values())
            or any(s.failed for s in self.loops.values())
            or any(s.failed for s in self.recursions.values())
        )

    def running_iterations(self, running: list[Instance], group: str, prefix: Scope) -> set[int]:
        """Indices of iterations of loop `group` in `prefix` that have a running instance."""
        depth = len(prefix)
        return {
            inst.scope[depth][1]
            for inst in running
            if len(inst.scope) > depth and inst.scope[:depth] == prefix and inst.scope[depth][0] == group
        }

    def pipeline_outputs(self) -> dict[str, Any]:
        """The pipeline's declared outputs that could be resolved."""
        found: dict[str, Any] = {}
        for name, ref in self.spec.outputs.items():
            got = self.resolve(ref, ())
            if isinstance(got, Resolved):
                found[name] = self.value_of(got)
        return found

    def references(self, inst: Instance) -> list[ValueRef]:
        """Every leaf reference of an instance's arguments (for lineage)."""
        task = self.spec.tasks[inst.task]
        return [leaf for ref in task.arguments.values() for leaf in leaf_refs(ref)]

    def condition_refs(self, group: str) -> list[ValueRef]:
        """The references a condition group compares."""
        cond = self.spec.groups[group].condition
        return list(expression_refs(cond)) if cond is not None else []
