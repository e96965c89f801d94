"""The hot loop of a plan: one generated straight-line function over the slot list.

Line i + 2 of the generated source is step i, so an exception's traceback names the step that
raised it; slots nothing reads any more are dropped on the line of their last reader.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

if TYPE_CHECKING:
    from gpugraph.runtime.plan import ExecutionPlan, Step


def releases_after(steps: Sequence[Step], fetch_slots: Sequence[int | None]) -> list[tuple[int, ...]]:
    """For each step, the slots nothing reads after it: dropped there so their memory comes back."""
    keep = {s for s in fetch_slots if s is not None}
    last: dict[int, int] = {}
    for i, step in enumerate(steps):
        for slot in step.outputs:
            last.setdefault(slot, i)
        for slot in step.inputs:
            last[slot] = i
    out: list[list[int]] = [[] for _ in steps]
    for slot, i in last.items():
        if slot not in keep:
            out[i].append(slot)
    return [tuple(sorted(r)) for r in out]


def generate_runner(steps: Sequence[Step], releases: Sequence[tuple[int, ...]] | None = None,
                    hooks: Mapping[int, Callable[[list[Any]], Any]] | None = None) -> Callable[[list[Any]], None]:
    """One straight-line function over the slot list: the cheapest loop Python can run.

    Line i + 2 is step i (failing_step relies on it); dead slots are dropped on the same line.
    """
    env: dict[str, Any] = {"steps": tuple(steps)}  # read back by run_errors for a step that raised inside a sub-plan
    lines = ["def run(s):"]
    for i, step in enumerate(steps):
        env[f"f{i}"] = step.fn
        call = f"f{i}(" + ", ".join(f"s[{j}]" for j in step.inputs) + ")"
        if not step.outputs:
            line = call
        elif len(step.outputs) == 1:
            line = f"s[{step.outputs[0]}] = {call}"
        else:
            line = ", ".join(f"s[{j}]" for j in step.outputs) + f", = {call}"
        if hooks and i in hooks:  # before the release: a hook may look at the step's outputs
            env[f"h{i}"] = hooks[i]
            line += f"; h{i}(s)"
        dead = releases[i] if releases else ()
        if dead:
            line += "; " + " = ".join(f"s[{j}]" for j in dead) + " = None"
        lines.append(f"    {line}")
    if not steps:
        lines.append("    pass")
    code = compile("\n".join(lines), "<gpugraph plan>", "exec")
    exec(code, env)  # generated from slot numbers only; no user strings reach the source
    return env["run"]


def failing_step(plan: ExecutionPlan, exc: BaseException) -> Step | None:
    """The step whose call raised ``exc``, from the generated function's line number."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<gpugraph plan>":
            index = tb.tb_lineno - 2
            return plan.steps[index] if 0 <= index < len(plan.steps) else None
        tb = tb.tb_next
    return None
