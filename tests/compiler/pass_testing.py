"""Plans for testing one pass at a time: the first plan of a graph, placed as a test says."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Sequence

from gpugraph.compiler.build import build
from gpugraph.compiler.ir import Plan
from gpugraph.compiler.schedule import prune


def first_plan(ctx: Any, fetches: Sequence[Any], feeds: Sequence[Any] = (),
               devices: dict[Any, str] | None = None) -> Plan:
    """The build pass's plan for ``fetches``; ``devices`` maps ops to device names (others: the host)."""
    order = prune(list(fetches), set(feeds))
    placements = None
    if devices is not None:
        host = ctx.backend.device
        placements = {op: SimpleNamespace(device=SimpleNamespace(name=devices.get(op, host)), reason="test")
                      for op in order}
    return build(list(fetches), list(feeds), order, ctx, placements)


def step_types(plan: Plan) -> list[str]:
    return [step.op.type for step in plan.steps]
