"""The default session stack: what ``Tensor.eval`` and ``Operation.run`` use without a session.

It lives with the graph, not the runtime: a session registers itself here (``with sess.as_default()``),
so the framework finds it without importing the runtime.
"""

from __future__ import annotations

import threading
from typing import Any

_local = threading.local()


def session_stack() -> list[Any]:
    """This thread's default sessions, innermost last."""
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    return stack


def get_default_session() -> Any:
    stack = session_stack()
    return stack[-1] if stack else None


def session_for(session: Any, graph: Any, what: str) -> Any:
    """``session``, or the default one, checked to run ``graph``; ``what`` names the thing evaluated."""
    if session is None:
        session = get_default_session()
        if session is None:
            raise ValueError(f"Cannot evaluate {what} using `eval()` or `run()`: No default session is "
                             "registered. Use `with sess.as_default()` or pass an explicit session.")
    if session.graph is not graph:
        raise ValueError(f"Cannot use the given session to evaluate {what}: the tensor's graph is "
                         "different from the session's graph.")
    return session
