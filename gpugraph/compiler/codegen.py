"""The hot loop of a plan: straight-line generated code over the slot list, in chunks.

Each chunk is one generated function of up to ``CHUNK_STEPS`` lines; line k + 2 of a chunk is its
k-th step, so an exception's traceback names the step that raised it. Slots nothing reads any more
are dropped on the line of their last reader.

Compiling costs about 40 us a line, so a large plan starts interpreted (one generic loop over its
steps, a little slower per step) and compiles a chunk after each later run: a 100k-node graph's first
run pays no compilation and no run pauses for more than one chunk's.
"""

from __future__ import annotations

import functools
import sys
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import numpy as np

if TYPE_CHECKING:
    from gpugraph.compiler.ir import ExecutionPlan, Step

PLAN_FILENAME = "<gpugraph plan>"  # the generated code's file name: how tracebacks find plan steps
CHUNK_STEPS = 2000
EAGER_STEPS = 2000  # plans this small compile before their first run
Hook = Callable[[list[Any]], Any]


class Runner:
    """Runs a plan's steps over a slot list: ``runner(slots)``.

    Steps go in chunks of ``CHUNK_STEPS``. A plan of up to ``EAGER_STEPS`` steps compiles them all
    before its first run. A larger one runs its chunks through the interpreter at first and, from its
    second run on, compiles one more chunk after each run: no run pays more than one chunk's compile.
    """

    __slots__ = ("steps", "releases", "hooks", "_chunks", "_bounds", "_tables", "_runs", "_fast")

    def __init__(self, steps: Sequence[Step], releases: Sequence[tuple[int, ...]] | None = None,
                 hooks: Mapping[int, Hook] | None = None):
        self.steps = tuple(steps)
        self.releases = tuple(releases) if releases else tuple(() for _ in self.steps)
        self.hooks = dict(hooks or {})  # step index -> called with the slots after that step
        n = len(self.steps)
        self._bounds = [(start, min(start + CHUNK_STEPS, n)) for start in range(0, max(n, 1), CHUNK_STEPS)]
        self._chunks: list[Callable[[list[Any]], None] | None] = [None] * len(self._bounds)
        self._tables: list[list[tuple[Any, ...]] | None] = [None] * len(self._bounds)
        self._runs = 0
        self._fast: Callable[[list[Any]], None] | None = None  # set once every chunk is compiled
        if n <= EAGER_STEPS:
            for k in range(len(self._bounds)):
                self._compile(k)

    def __call__(self, s: list[Any]) -> None:
        fast = self._fast
        if fast is not None:
            fast(s)
            return
        for k, chunk in enumerate(self._chunks):
            if chunk is not None:
                chunk(s)
            else:
                _interpret(self._table(k), s)
        self._runs += 1
        if self._runs > 1 and None in self._chunks:
            self._compile(self._chunks.index(None))

    @property
    def compiled(self) -> bool:
        return None not in self._chunks

    def _table(self, k: int) -> list[tuple[Any, ...]]:
        table = self._tables[k]
        if table is None:
            start, stop = self._bounds[k]
            table = self._tables[k] = [(self.steps[i].fn, self.steps[i].inputs, self.steps[i].outputs,
                                        self.releases[i], self.hooks.get(i), self.steps[i])
                                       for i in range(start, stop)]
        return table

    def _compile(self, k: int) -> None:
        start, stop = self._bounds[k]
        self._chunks[k] = _chunk(self.steps, self.releases, self.hooks, start, stop)
        self._tables[k] = None
        if None not in self._chunks:
            chunks = tuple(self._chunks)
            self._fast = chunks[0] if len(chunks) == 1 else functools.partial(_run_all, chunks)


def _run_all(chunks: tuple[Callable[[list[Any]], None], ...], s: list[Any]) -> None:
    for chunk in chunks:
        chunk(s)


def generate_runner(steps: Sequence[Step], releases: Sequence[tuple[int, ...]] | None = None,
                    hooks: Mapping[int, Hook] | None = None) -> Runner:
    return Runner(steps, releases, hooks)


def _chunk(steps: Sequence[Step], releases: Sequence[tuple[int, ...]], hooks: Mapping[int, Hook],
           start: int, stop: int) -> Callable[[list[Any]], None]:
    """Steps ``start:stop`` as one straight-line function (line k + 2 is step start + k)."""
    env: dict[str, Any] = {"steps": tuple(steps[start:stop])}  # read back by failing_step / innermost_step
    lines = ["def run(s):"]
    for k, i in enumerate(range(start, stop)):
        step = steps[i]
        env[f"f{k}"] = step.fn
        call = f"f{k}(" + ", ".join(f"s[{j}]" for j in step.inputs) + ")"
        given = _given(step, releases[i])
        if given:  # the step offered buffers to write over, unless its arrays were small last time
            env["owned"] = owned
            call = f"({call} if f{k}.small else f{k}.donating(({given}), " + call[len(f"f{k}("):] + ")"
        if not step.outputs:
            line = call
        elif len(step.outputs) == 1:
            line = f"s[{step.outputs[0]}] = {call}"
        else:
            line = ", ".join(f"s[{j}]" for j in step.outputs) + f", = {call}"
        if i in hooks:  # before the release: a hook may look at the step's outputs
            env[f"h{k}"] = hooks[i]
            line += f"; h{k}(s)"
        dead = releases[i]
        if dead:
            line += "; " + " = ".join(f"s[{j}]" for j in dead) + " = None"
        lines.append(f"    {line}")
    if start == stop:
        lines.append("    pass")
    code = compile("\n".join(lines), PLAN_FILENAME, "exec")
    exec(code, env)  # generated from slot numbers only; no user strings reach the source
    return env["run"]


def _given(step: Step, dying: tuple[int, ...]) -> str:
    """The code of a donating step's first argument: for each output, ``owned(s, j)`` where it may be
    written over input slot j (dying here), else None; "" where the step takes none."""
    if not step.donate or not hasattr(step.fn, "donating") or not hasattr(step.fn, "small"):
        return ""
    donor = {out: step.inputs[k] for out, k in step.donate if step.inputs[k] in dying}
    if not donor:
        return ""
    return "".join(f"owned(s, {donor[j]}), " if j in donor else "None, " for j in range(len(step.outputs)))


def owned(s: list[Any], j: int) -> Any:
    """The array in slot j if nothing but the slot list can reach its memory (a step may write over it),
    else None: the array is held by the slot alone, and so is each array it views, up to the one that
    allocated the memory (views hold their base, so a value viewed elsewhere has more holders). NumPy
    collapses a view's base to the owner except across subclasses: a device array is a view of a view."""
    x = s[j]
    if sys.getrefcount(x) > _ALONE:
        return None
    up = getattr(x, "base", _NO_BASE)
    if up is None:
        return x if _owns_data(x) else None
    while up is not _NO_BASE:
        if sys.getrefcount(up) > _BASE_ALONE:
            return None
        if getattr(up, "base", _NO_BASE) is None:
            return x if _owns_data(up) else None
        up = getattr(up, "base", _NO_BASE)
    return None


def _owns_data(array: Any) -> bool:
    """Whether the array allocated its memory itself (not memory wrapped from elsewhere)."""
    flags = getattr(array, "flags", None)
    return bool(getattr(flags, "owndata", False)) and getattr(array, "ndim", 0) > 0


def _reference_counts(s: list[Any], j: int) -> tuple[int, int]:
    """What ``owned`` counts, counted by statements of the same form (the interpreter's own references
    differ between versions): references to slot j's array and to its base."""
    x = s[j]
    up = getattr(x, "base", _NO_BASE)
    return sys.getrefcount(x), sys.getrefcount(up)


class _View(np.ndarray):
    pass


_NO_BASE = object()
_ALONE = _reference_counts([np.empty(1)], 0)[0]
_BASE_ALONE = _reference_counts([np.empty(1).view(_View)], 0)[1]


# The interpreted loop lives in generated code too, under the plan's file name: a traceback through it
# is a plan step's, found by its frame's ``i`` (the step's index) instead of its line.
_INTERPRETER = '''
def interpret(table, s):
    i = 0
    for fn, ins, outs, dead, hook, _ in table:
        if len(outs) == 1:
            s[outs[0]] = fn(*[s[j] for j in ins])
        elif outs:
            for j, value in zip(outs, fn(*[s[j] for j in ins])):
                s[j] = value
        else:
            fn(*[s[j] for j in ins])
        if hook is not None:
            hook(s)
        for j in dead:
            s[j] = None
        i += 1
'''
_interpreter_env: dict[str, Any] = {"__interpreted__": True}
exec(compile(_INTERPRETER, PLAN_FILENAME, "exec"), _interpreter_env)
_interpret = _interpreter_env["interpret"]


def step_in_frame(frame: Any, line: int) -> Step | None:
    """The step a plan frame (a compiled chunk, or the interpreter) was running at ``line``."""
    if frame.f_globals.get("__interpreted__"):
        table, index = frame.f_locals.get("table"), frame.f_locals.get("i")
        return table[index][5] if table is not None and index is not None and 0 <= index < len(table) else None
    steps = frame.f_globals.get("steps", ())
    index = line - 2
    return steps[index] if 0 <= index < len(steps) else None


def failing_step(plan: ExecutionPlan, exc: BaseException) -> Step | None:
    """The step of ``plan`` whose call raised ``exc``: the outermost plan frame of the traceback."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == PLAN_FILENAME:
            return step_in_frame(tb.tb_frame, tb.tb_lineno)
        tb = tb.tb_next
    return None
