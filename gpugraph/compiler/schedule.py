"""The prune and order passes: the ops a run needs, in an order that runs each after its inputs.

Pruning walks back from the fetches (``needed_ops``, stopping at fed tensors); ordering is creation
order among ready ops, with in-place writes held back until the reads of what they write are done.
"""

from __future__ import annotations

import heapq
from typing import Sequence

from gpugraph import errors
from gpugraph.framework.func_graph import updates_variables
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.framework.traversal import needed_ops

__all__ = ["needed_ops", "prune", "schedule"]


def prune(fetches: Sequence[Tensor | Operation], fed: set[Tensor]) -> list[Operation]:
    """The ops ``fetches`` need given the ``fed`` tensors, in run order."""
    return schedule(needed_ops(fetches, fed), fed)


def _variable_reads(ops: list[Operation]) -> dict[Operation, set[Operation]]:
    """For each op of ``ops`` that reads a variable's storage (directly, or through ops whose output may
    alias it, such as an Identity ``read``), the variables it reads."""
    reads: dict[Operation, set[Operation]] = {}
    aliasing: dict[Tensor, Operation] = {}  # tensor -> the variable whose storage it may be
    for op in ops:  # creation order: an alias is made after what it aliases
        if op.opdef.role == "variable":
            for t in op.outputs:
                aliasing[t] = op
    for op in sorted(ops, key=lambda o: o._id):
        for t in op.inputs[op.opdef.ref_input:]:
            var = aliasing.get(t)
            if var is None:
                continue
            reads.setdefault(op, set()).add(var)
            if op.opdef.aliases and op.outputs:
                aliasing[op.outputs[0]] = var
    return reads


def _creation(op: Operation) -> int:
    return op._id


def _may_write(op: Operation) -> bool:
    return bool(op._opdef.ref_input or (op._attrs and updates_variables(op)))


def _written_variables(op: Operation) -> tuple[Operation, ...] | None:
    """The variables ``op`` writes in place; None: not known here (a loop or branch writing from inside)."""
    if op.opdef.ref_input:
        return tuple(t.op for t in op.inputs[:op.opdef.ref_input])
    return None


def _depends_on_later(op: Operation, members: set[Operation], fed: set[Tensor]) -> bool:
    """Whether ``op`` waits for an op of the plan created after it (through a control input, or a data
    input that is not fed and not a variable it writes in place)."""
    op_id = op._id
    for c in op._control_inputs:
        if c._id > op_id and c in members:
            return True
    ref = op._opdef.ref_input
    for i, t in enumerate(op._inputs):
        if t.op._id > op_id and i >= ref and t not in fed and t.op in members:
            return True
    return False


def schedule(ops: list[Operation], fed: set[Tensor]) -> list[Operation]:
    """Topological order by creation among ready ops, except that an in-place write waits while a read
    of a variable it writes is still to run (unless nothing else can run): reads see the value from
    before the run's writes, and each update runs as soon as its own reads are done, so a group of
    ``assign_add(v, f(v))`` keeps one temporary alive at a time, not all of them."""
    members = set(ops)
    # no dependency on a later op (only a control input added later makes one): checked first on its own,
    # since a large plan is mostly that and needs no dependency tables at all
    in_creation_order = not any(_depends_on_later(op, members, fed) for op in ops)
    if in_creation_order and not any(op._opdef.role == "variable" for op in ops):
        return sorted(ops, key=_creation)  # nothing to reorder: creation order is topological, nothing read
    reads = _variable_reads(ops)
    if in_creation_order and (not reads or not any(_may_write(op) for op in ops)):
        return sorted(ops, key=_creation)
    deps_of: dict[Operation, set[Operation]] = {}
    for op in ops:
        deps = {c for c in op._control_inputs if c in members}
        ref = op._opdef.ref_input
        for i, t in enumerate(op._inputs):
            if i >= ref and t not in fed and t.op in members:
                deps.add(t.op)
        deps_of[op] = deps
    pending = {op: len(deps) for op, deps in deps_of.items()}
    users: dict[Operation, list[Operation]] = {op: [] for op in ops}
    for op, deps in deps_of.items():
        for d in deps:
            users[d].append(op)
    unread: dict[Operation, int] = {}  # reads of each variable still to schedule
    for variables in reads.values():
        for var in variables:
            unread[var] = unread.get(var, 0) + 1
    all_unread = sum(unread.values())
    ready: list[tuple[int, Operation]] = []
    waiting: list[tuple[int, Operation]] = []  # writes held back by reads still to run

    def blocked(op: Operation) -> bool:
        if not updates_variables(op):
            return False
        targets = _written_variables(op)
        if targets is None:
            return all_unread > 0
        own = reads.get(op, ())
        return any(unread.get(v, 0) > (v in own) for v in targets)

    def push(op: Operation) -> None:
        heapq.heappush(waiting if blocked(op) else ready, (op._id, op))

    for op in ops:
        if pending[op] == 0:
            push(op)
    order: list[Operation] = []
    while ready or waiting:
        if not ready:  # only held-back writes can run: the reads they wait for depend on them
            _, op = heapq.heappop(waiting)
        else:
            _, op = heapq.heappop(ready)
        order.append(op)
        for var in reads.get(op, ()):
            unread[var] -= 1
            all_unread -= 1
        if waiting:  # a read done may free a held-back write
            still = [item for item in waiting if blocked(item[1])]
            for item in waiting:
                if not blocked(item[1]):
                    heapq.heappush(ready, item)
            waiting = still
            heapq.heapify(waiting)
        for u in users[op]:
            pending[u] -= 1
            if pending[u] == 0:
                push(u)
    if len(order) != len(ops):
        raise errors.InvalidArgumentError(None, None, "Graph has a cycle among the fetched ops.")
    return order
