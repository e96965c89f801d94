"""A fused step's function: its member ops run as one region, or one by one.

On a GPU the region is one ``cupy.ElementwiseKernel`` (gpugraph.fusion). On the CPU it runs as one
compiled C++ loop when its arrays are large (a NumPy call per op costs more in memory traffic than it
saves), and as the members' own functions when they are small or no compiler is installed; the loop is
compiled once the region has run ``COMPILE_AFTER`` times with large arrays, so a plan run once or
twice never waits for the compiler.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from gpugraph.framework.tensor import Operation

LARGE_ELEMENTS = 8192  # on the CPU, regions over fewer elements run op by op
COMPILE_AFTER = 3


def static_size(shape: Any) -> int | None:
    if shape is None or any(d is None for d in shape):
        return None
    size = 1
    for d in shape:
        size *= d
    return size


def _largest_input(region: Any) -> int:
    """The region input most likely to be its largest: one of unknown size, else the biggest."""
    sizes = [static_size(i.shape) for i in region.inputs]
    unknown = [k for k, n in enumerate(sizes) if n is None]
    return unknown[0] if unknown else max(range(len(sizes)), key=lambda k: sizes[k])


@dataclass(frozen=True)
class FusedRegion:
    """How a fused step's members map onto its region: the first ``n_views`` members are views of the
    step's inputs run before the region (no kernel of their own); ``region_inputs`` are the locals the
    region reads; a ``reduction`` (its other operands at ``extras``) ends the region."""

    region: Any
    n_views: int
    region_inputs: tuple[int, ...]
    reduction: Any = None  # gpugraph.fusion.reduction.Reduction
    extras: tuple[int, ...] = ()


# Ops whose NumPy lowering is exactly this Python expression of their operands: the straight-line code
# writes it in place of a call (a per-sample loop's scalars spend more in the call than in the arithmetic).
_EXPRESSIONS = {"Add": "{0} + {1}", "Sub": "{0} - {1}", "Mul": "{0} * {1}", "RealDiv": "{0} / {1}",
                "Square": "{0} * {0}", "Neg": "-{0}"}


def _inline(member: Member, operands: list[str]) -> str | None:
    """The member as an inline expression, where its function is its op's own generic lowering."""
    template = _EXPRESSIONS.get(member.op.type)
    fn = member.fn
    if template is None or getattr(fn, "func", None) is not member.op.opdef.impl:
        return None
    return "(" + template.format(*operands) + ")"


class _Unfit(Exception):
    """Run-time shapes the fused paths do not take: the members run one by one."""


@dataclass(frozen=True)
class Member:
    """One op of a fused step: its function and where its operands and result live among the step's
    locals (the step's inputs first, then each member's result)."""

    op: Operation
    fn: Callable[..., Any]
    operands: tuple[int, ...]


class FusedStep:
    """The function of a fused step: ``fused(*inputs)`` -> its outputs (one value, or a tuple)."""

    def __init__(self, members: Sequence[Member], n_inputs: int, outputs: tuple[int, ...], region: Any,
                 on_gpu: bool):
        self.members = tuple(members)
        self.ops = tuple(m.op for m in members)
        self.n_inputs = n_inputs
        self.outputs = outputs  # local indices of the step's outputs
        if not isinstance(region, FusedRegion):
            region = FusedRegion(region, 0, tuple(range(n_inputs)))
        self.layout = region
        self.region = region.region
        self._plain = region.n_views == 0 and region.region_inputs == tuple(range(n_inputs))
        self.on_gpu = on_gpu
        self._compiled: Any = None
        self._large_runs = 0
        self._small: Callable[..., Any] | None = None  # generated on the second small call, as runners compile
        self._small_calls = 0
        self._probe = _largest_input(self.region)  # the input whose size tells whether the region is large
        # the step input that is that region input, where no view makes it (host steps check it first)
        probed = region.region_inputs[self._probe] if self._probe < len(region.region_inputs) else n_inputs
        self._probe_input = probed if probed < n_inputs else None
        self._whole: Callable[..., Any] | None = None  # every member from the step's inputs, once small twice
        # the last call's arrays were small: the runner calls the step plainly, not offering buffers to
        # write over (a per-sample loop's scalars would only pay for the offer)
        self.small = False
        # the compiled loop bound to the last large call's shapes (CompiledRegion.bound): None until then
        self._bound: Callable[[Any, tuple[Any, ...]], Any] | None = None
        self._bound_shapes: tuple[tuple[int, ...], ...] | None = None

    def __call__(self, *xs: Any) -> Any:
        bound = self._bound
        if bound is not None:
            outs = bound(None, xs)
            if outs is not None:
                return outs[0] if len(outs) == 1 else outs
        whole = self._whole
        if whole is not None and xs[self._probe_input].size < LARGE_ELEMENTS:
            try:  # small on the host (a per-sample loop's scalars): no further call in between
                return whole(*xs)
            except Exception:
                return self._op_by_op(xs)
        return self._run(xs, None)

    def donating(self, given: tuple[Any, ...], *xs: Any) -> Any:
        """As a call, with each output written into its ``given`` array (None: a new one) where the region
        runs as one loop or kernel over arrays of the output's shape. The plan's runner gives an input's
        own buffer when nothing else holds it (gpugraph.compiler.codegen): the step writes in place."""
        bound = self._bound
        if bound is not None:
            outs = bound(given, xs)
            if outs is not None:
                return outs[0] if len(outs) == 1 else outs
        return self._run(xs, given if any(g is not None for g in given) else None)

    def _run(self, xs: tuple[Any, ...], given: tuple[Any, ...] | None) -> Any:
        whole = self._whole
        if whole is not None and xs[self._probe_input].size < LARGE_ELEMENTS:
            self.small = True
            try:  # small on the host: the members one after another, views included, from the step's inputs
                return whole(*xs)
            except Exception:
                return self._op_by_op(xs)  # again, one op at a time, to say which op failed on what
        if self._plain:
            env, args = xs, xs
        else:
            try:
                env, args = self._region_args(xs)
            except Exception:
                return self._op_by_op(xs)  # the view fails again there, named as its own op
        self.small = args[self._probe].size < LARGE_ELEMENTS
        if self.on_gpu:
            from gpugraph.fusion import run_on_device

            try:
                if self.layout.reduction is not None:
                    return self._reduced(args, env, None)
                if given is None:
                    outs = run_on_device(self.region, *args)
                else:
                    from gpugraph.fusion.cuda import run_on_device_into

                    outs = run_on_device_into(self.region, given, *args)
            except (ValueError, _Unfit):  # run-time shapes that do not share one iteration space
                return self._op_by_op(xs)
            return outs[0] if len(outs) == 1 else outs
        if not self.small:
            compiled = self._compiled or self._compile()
            if compiled is not None:
                try:
                    if self.layout.reduction is not None:
                        return self._reduced(args, env, compiled)
                    outs = compiled(*args) if given is None else compiled.into(given, *args)
                except (ValueError, _Unfit):  # run-time shapes that do not share one iteration space
                    return self._op_by_op(xs)
                if self._plain:  # the next call with these shapes goes straight to the loop
                    shapes = tuple([np.shape(a) for a in args])
                    if shapes != self._bound_shapes:
                        self._bound, self._bound_shapes = compiled.bound(shapes), shapes
                return outs[0] if len(outs) == 1 else outs
        small = self._small
        if small is None:
            self._small_calls += 1
            if self._small_calls == 1:
                return self._op_by_op(xs)
            small = self._small = self._straight_line()
            if self._probe_input is not None:
                self._whole = self._straight_line(from_inputs=True)
        try:
            return small(*env)  # the members after the views, from the locals the views made
        except Exception:
            return self._op_by_op(xs)  # again, one op at a time, to say which op failed on what

    def _region_args(self, xs: tuple[Any, ...]) -> tuple[list[Any], tuple[Any, ...]]:
        """The step's locals after its views, and the region's inputs among them."""
        env = list(xs)
        for member in self.members[:self.layout.n_views]:
            env.append(member.fn(*[env[i] for i in member.operands]))
        return env, tuple(env[i] for i in self.layout.region_inputs)

    def _reduced(self, args: tuple[Any, ...], env: Sequence[Any], compiled: Any) -> Any:
        """The region ending in its reduction: one ReductionKernel on a GPU (``compiled`` None), else the
        compiled loop block by block."""
        from gpugraph.fusion import reduction as reductions

        shapes = [tuple(a.shape) for a in args]
        shape = tuple(np.broadcast_shapes(*shapes))
        if 0 in shape or tuple(self.region.output_shapes(shapes)[0]) != shape:
            raise _Unfit  # an empty result, or one that does not span the iteration space
        plan = self.layout.reduction.plan(shape, [env[i] for i in self.layout.extras])
        if plan is None:
            raise _Unfit
        axes, out_shape = plan
        if compiled is None:
            if not axes:
                from gpugraph.fusion import run_on_device

                return run_on_device(self.region, *args)[0].reshape(out_shape)
            return reductions.reduce_on_device(self.region, self.layout.reduction, args, axes, out_shape)
        if not axes:
            return compiled(*args)[0].reshape(out_shape)
        dtype = np.dtype(self.region.dtype_of(self.region.outputs[0]))
        return reductions.reduce_on_host(compiled, args, self.layout.reduction, axes, out_shape, shape, dtype)

    def _straight_line(self, from_inputs: bool = False) -> Callable[..., Any]:
        """The members as one generated function: small arrays cost what the unfused steps cost. It starts
        after the views (they ran to give the region its inputs), or ``from_inputs``, with them."""
        names = [f"v{i}" for i in range(self.n_inputs + len(self.members))]
        env: dict[str, Any] = {}
        first = 0 if from_inputs else self.layout.n_views
        lines = [f"def run({', '.join(names[:self.n_inputs + first])}):"]
        for k, member in enumerate(self.members[first:], start=first):
            operands = [names[i] for i in member.operands]
            expression = _inline(member, operands)
            if expression is None:
                env[f"f{k}"] = member.fn
                expression = f"f{k}({', '.join(operands)})"
            lines.append(f"    {names[self.n_inputs + k]} = {expression}")
        result = ", ".join(names[i] for i in self.outputs)
        lines.append(f"    return {result}" + ("," if len(self.outputs) > 1 else ""))
        exec(compile("\n".join(lines), "<gpugraph fused region>", "exec"), env)  # slot numbers only
        return env["run"]

    def _compile(self) -> Any:
        self._large_runs += 1
        if self._large_runs < COMPILE_AFTER:
            return None
        from gpugraph.fusion import compiled

        if not compiled.available() or not compiled.worth_compiling(self.region):
            self._large_runs = -(1 << 62)  # never again
            return None
        try:
            self._compiled = compiled.CompiledRegion(self.region)
        except (RuntimeError, OSError):  # a compiler that fails here: the ops still run one by one
            self._large_runs = -(1 << 62)
            return None
        return self._compiled

    def _op_by_op(self, xs: tuple[Any, ...]) -> Any:
        env = list(xs)
        for member in self.members:
            args = [env[i] for i in member.operands]
            try:
                env.append(member.fn(*args))
            except Exception as e:  # run errors name the op and its inputs, not the region
                e.gpugraph_step = (member.op, args)  # type: ignore[attr-defined]
                raise
        if len(self.outputs) == 1:
            return env[self.outputs[0]]
        return tuple(env[i] for i in self.outputs)
