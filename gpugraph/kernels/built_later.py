"""Compiled host functions built once a plan has shown it wants them: on the ``COMPILE_AFTER``-th call
that would use them (so a plan run once or twice never waits for the compiler), by the fused regions'
compiler, flags and disk cache (gpugraph.fusion.compiled). Until then, and without a compiler, the
caller's NumPy path runs."""

from __future__ import annotations

import ctypes
import threading
from typing import Any, Callable, Sequence

from gpugraph.compiler.fused_step import COMPILE_AFTER

__all__ = ["BuiltLater"]


class BuiltLater:
    """``functions()``: the named functions of ``source()``'s text (each with ``argtypes`` and ``restype``),
    or None before they are built and where they cannot be."""

    def __init__(self, source: Callable[[], str], names: Sequence[str], argtypes: Sequence[Sequence[Any]],
                 restypes: Sequence[Any] | None = None):
        self._source, self._names = source, list(names)
        self._argtypes = [list(a) for a in argtypes]
        self._restypes = list(restypes) if restypes is not None else [None] * len(self._names)
        self._lock = threading.Lock()
        self._functions: list[Any] | None = None  # built; [] where they cannot be
        self.calls = 0  # calls that wanted them, up to the build

    def functions(self) -> list[Any] | None:
        functions = self._functions
        if functions is not None:
            return functions or None
        self.calls += 1
        if self.calls < COMPILE_AFTER:
            return None
        with self._lock:
            if self._functions is None:
                self._functions = self._build()
        return self._functions or None

    def _build(self) -> list[Any]:
        from gpugraph.fusion import compiled

        if not compiled.available():
            return []
        try:  # one text, one compiler run: the first name carries it
            loaded = compiled.load([(self._source(), self._names[0])] + [("", n) for n in self._names[1:]])
        except (RuntimeError, OSError):  # a compiler that fails here: the NumPy path stays
            return []
        for function, argtypes, restype in zip(loaded, self._argtypes, self._restypes):
            function.argtypes, function.restype = argtypes, restype
        return loaded

    def reset(self) -> None:
        """Forget what was built (tests: build again, in another cache)."""
        self._functions, self.calls = None, 0


POINTER = ctypes.c_void_p
SIZE = ctypes.c_longlong
