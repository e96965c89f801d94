"""CuPy compatibility of the op lowerings, checked without a GPU.

1. A source scan: the lowering of every op that may run on a GPU (``gpu=True``), and every gpugraph
   helper it calls, uses ``xp`` for array work, never a NumPy function (``np.asarray`` of a CuPy
   array raises, ``np.exp`` of one copies it to the host). NumPy dtype constants and dtype facts
   (``np.float32``, ``np.dtype``, ``np.iinfo``) are fine; any other use needs an entry in ALLOWED.
2. The device branches: lowerings run with a stand-in array module that is NumPy under another name
   (so ``xp is numpy`` is false) and a stand-in ``cupyx``; they must equal the host lowering, and
   out-of-range indices, singular matrices and dtypes CuPy's scatter_add lacks must behave as on a GPU.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import inspect
import sys
import textwrap
import types
from typing import Any, Callable, Iterator

import numpy as np
import pytest

try:
    from . import conformance_util as cu
except ImportError:  # tests/ops is not a package: pytest put it on sys.path
    import conformance_util as cu

import gpugraph as tf
from gpugraph.kernels.twins import TWINS
from gpugraph.ops import xp_compat
from gpugraph.ops.registry import REGISTRY, OpDef
from gpugraph.ops.xp_compat import on_host
from gpugraph.compiler.place import has_gpu_kernel

cu.import_op_modules()

# (function, NumPy name) -> why that use is safe on a GPU.
ALLOWED: dict[tuple[str, str], str] = {
    ("gpugraph.ops.linalg_ops._inverse_impl", "np.linalg.LinAlgError"):
        "an exception class, not a function: CuPy raises NumPy's LinAlgError itself",
}

# (function, host read) -> why a GPU lowering must read that value back to the host.
HOST_READS: dict[tuple[str, str], str] = {
    ("gpugraph.ops.numerics_ops._bind", "bool()"):
        "the run must stop on NaN/Inf, so the flags are read back, as TF1's GPU CheckNumerics kernel does",
    ("gpugraph.ops.cond_ops._bind_if", "bool()"):
        "the predicate picks the branch to run on the host, as TF1's If reads its predicate to the host",
    ("gpugraph.ops.while_ops._bind_while", "bool()"):
        "the predicate decides whether the loop goes on, as TF1's While reads it to the host each iteration",
    ("gpugraph.ops.tensor_array_ops._new_array", "int()"):
        "the size allocates the array, once at creation; TF1 keeps TensorArray's size in host memory",
    ("gpugraph.ops.topk_ops._top_k_impl", "int()"):
        "a run-time k (a Tensor) sets the output shape, as TF1's kernel reads k from host memory; "
        "a k known when the graph is built is an attribute and needs no read",
    ("gpugraph.ops.random_ops.host_dims", ".to_host()"):
        "a shape known only at run time sets the output's size, as TF1's random kernels keep `shape` in host "
        "memory; a static shape is an attribute and needs no read",
    ("gpugraph.ops.random_extra_ops._bind_multinomial", ".to_host()"):
        "num_samples sets the output's size; TF1's Multinomial keeps it in host memory too",
}

# gpu=True ops whose lowering is host code, and why they never run on a GPU (none today).
HOST_ONLY: dict[str, str] = {}
SUMMARY_OPS = {"ScalarSummary", "HistogramSummary", "ImageSummary", "TensorSummaryV2", "MergeSummary"}

# The one module allowed to tell NumPy from CuPy (and to import numpy and cupyx for it).
TRUSTED_MODULES = ("gpugraph.ops.xp_compat",)

# NumPy scalar types a GPU array cannot hold.
_HOST_SCALAR_TYPES = (np.object_, np.str_, np.bytes_, np.void)
_DTYPE_FACTS = (np.dtype, np.iinfo, np.finfo)


# --- 1. the source scan ---
@functools.cache
def _module_tree(path: str) -> ast.Module:
    with open(path, encoding="utf-8") as f:
        return ast.parse(f.read(), path)


def _arg_names(node: ast.FunctionDef | ast.Lambda) -> tuple[str, ...]:
    a = node.args
    names = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs]
    names += [x.arg for x in (a.vararg, a.kwarg) if x is not None]
    return tuple(names)


def _code_arg_names(code: types.CodeType) -> tuple[str, ...]:
    n = code.co_argcount + code.co_kwonlyargcount
    n += bool(code.co_flags & inspect.CO_VARARGS) + bool(code.co_flags & inspect.CO_VARKEYWORDS)
    return code.co_varnames[:n]


def _function_nodes(fn: types.FunctionType) -> list[ast.AST]:
    """The def or lambda nodes of ``fn`` in its module's AST (several only for twin lambdas on one line)."""
    code = fn.__code__
    tree = _module_tree(code.co_filename)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            if first == code.co_firstlineno and node.name == code.co_name:
                found.append(node)
        elif isinstance(node, ast.Lambda) and code.co_name == "<lambda>":
            if node.lineno == code.co_firstlineno and sorted(_arg_names(node)) == sorted(_code_arg_names(code)):
                found.append(node)
    assert found, f"no source found for {fn.__module__}.{fn.__qualname__}"
    return found


def _annotations(top: ast.AST) -> Iterator[ast.AST]:
    for node in ast.walk(top):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns is not None:
            yield node.returns
        elif isinstance(node, ast.arg) and node.annotation is not None:
            yield node.annotation
        elif isinstance(node, ast.AnnAssign):
            yield node.annotation


def _namespace(fn: types.FunctionType) -> dict[str, Any]:
    ns = dict(fn.__globals__)
    for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or ()):
        with contextlib.suppress(ValueError):  # an empty cell
            ns[name] = cell.cell_contents
    return ns


def _is_numpy(obj: Any) -> bool:
    return isinstance(obj, types.ModuleType) and (obj.__name__ == "numpy" or obj.__name__.startswith("numpy."))


def _host_dtype_literal(node: ast.AST) -> bool:
    """``object``, ``str``, ``bytes`` or a string naming an object/string dtype ("O", "U8", "S")."""
    if isinstance(node, ast.Name):
        return node.id in ("object", "str", "bytes")
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value[:1] in ("O", "U", "S")


def _from_numpy(obj: Any) -> bool:
    module = getattr(obj, "__module__", None)
    return isinstance(module, str) and (module == "numpy" or module.startswith("numpy."))


def _chain(node: ast.AST) -> tuple[str, list[str]] | None:
    """``a.b.c`` -> ("a", ["b", "c"]); None when the chain does not start at a name."""
    attrs: list[str] = []
    while isinstance(node, ast.Attribute):
        attrs.append(node.attr)
        node = node.value
    return (node.id, attrs[::-1]) if isinstance(node, ast.Name) else None


def _resolve(ns: dict[str, Any], root: str, attrs: list[str]) -> Any:
    obj = ns.get(root, None)
    for a in attrs:
        obj = getattr(obj, a, None)
    return obj


def _numpy_problem(obj: Any) -> str | None:
    """Why using this NumPy object in a GPU lowering is a problem; None when it is a dtype fact or constant."""
    if isinstance(obj, type) and issubclass(obj, np.generic):
        return "a dtype a GPU array cannot hold" if issubclass(obj, _HOST_SCALAR_TYPES) else None
    if any(obj is t for t in _DTYPE_FACTS):
        return None
    if _is_numpy(obj):
        return "the numpy module itself (pass xp)"
    if not callable(obj):
        return None  # np.nan, np.inf, np.pi, np.newaxis
    return "a NumPy function or class: it needs host arrays"


def _scan(fn: types.FunctionType) -> tuple[list[str], list[types.FunctionType]]:
    """NumPy uses in ``fn``'s source ("module.func:line: np.x: why") and the gpugraph functions it calls."""
    ns = _namespace(fn)
    where = f"{fn.__module__}.{fn.__qualname__}"
    problems: list[str] = []
    callees: list[types.FunctionType] = []
    for top in _function_nodes(fn):
        parents = {id(child): node for node in ast.walk(top) for child in ast.iter_child_nodes(node)}
        hints = {id(n) for ann in _annotations(top) for n in ast.walk(ann)}
        for node in ast.walk(top):
            if id(node) in hints:
                continue  # type hints are not run (postponed annotations)
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                for m in mods:
                    if m == "numpy" or m.startswith("numpy."):
                        problems.append(f"{where}:{node.lineno}: import {m}: imports NumPy inside a lowering")
            if isinstance(node, (ast.Attribute, ast.Name)):
                parent = parents.get(id(node))
                if isinstance(parent, ast.Attribute) and parent.value is node:
                    continue  # judged as part of the longer chain
                chain = _chain(node)
                if chain is None:
                    continue
                root = ns.get(chain[0])
                obj = _resolve(ns, *chain)
                # np.<...> chains, and names imported from NumPy (from numpy import exp)
                if _is_numpy(root) or (not chain[1] and _from_numpy(obj)):
                    dotted = ".".join([chain[0], *chain[1]])
                    why = _numpy_problem(obj)
                    if why and (where, dotted) not in ALLOWED:
                        problems.append(f"{where}:{node.lineno}: {dotted}: {why}")
            if isinstance(node, ast.Call):
                for kw in node.keywords:
                    if kw.arg == "dtype" and _host_dtype_literal(kw.value):
                        problems.append(f"{where}:{node.lineno}: dtype={ast.unparse(kw.value)}: "
                                        "a dtype a GPU array cannot hold")
                chain = _chain(node.func)
                obj = None if chain is None else _resolve(ns, *chain)
                if (isinstance(obj, types.FunctionType) and obj.__module__.startswith("gpugraph.")
                        and obj.__module__ not in TRUSTED_MODULES):
                    callees.append(obj)
    return problems, callees


# Calls that read a device array's value back to the host, stalling the stream until it is computed.
_HOST_READ_BUILTINS = {"bool": bool, "int": int, "float": float}
_HOST_READ_METHODS = ("item", "get", "tolist")
_REDUCTIONS_TRUTH_TESTED = ("any", "all")


def _host_only_branches(top: ast.AST, ns: dict[str, Any]) -> set[int]:
    """Ids of nodes that run only when ``on_host(xp)`` is true (there a value check costs no device read)."""
    def is_on_host(node: ast.AST) -> bool:
        chain = _chain(node.func) if isinstance(node, ast.Call) else None
        return chain is not None and _resolve(ns, *chain) is xp_compat.on_host

    def is_not_on_host(node: ast.AST) -> bool:
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
            node = node.values[0]
        return isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not) and is_on_host(node.operand)

    skipped: set[int] = set()
    for node in ast.walk(top):
        body = getattr(node, "body", None)
        if isinstance(body, list):  # `if not on_host(xp): return` makes the rest of the block host-only
            for i, stmt in enumerate(body):
                if (isinstance(stmt, ast.If) and is_not_on_host(stmt.test)
                        and isinstance(stmt.body[-1], (ast.Return, ast.Raise))):
                    skipped |= {id(n) for rest in body[i + 1:] for n in ast.walk(rest)}
                    if isinstance(stmt.test, ast.BoolOp):
                        skipped |= {id(n) for v in stmt.test.values[1:] for n in ast.walk(v)}
        guarded: list[ast.AST] = []
        if isinstance(node, (ast.If, ast.IfExp)) and is_on_host(node.test):
            guarded = node.body if isinstance(node.body, list) else [node.body]
        elif isinstance(node, (ast.If, ast.IfExp)) and isinstance(node.test, ast.BoolOp) and isinstance(
                node.test.op, ast.And) and is_on_host(node.test.values[0]):
            guarded = [*node.test.values[1:], *(node.body if isinstance(node.body, list) else [node.body])]
        elif isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And) and is_on_host(node.values[0]):
            guarded = node.values[1:]
        skipped |= {id(n) for g in guarded for n in ast.walk(g)}
    return skipped


def _truth_tested(top: ast.AST) -> Iterator[ast.AST]:
    """Expressions Python turns into a bool: if/while/assert tests, ``and``/``or``/``not`` operands."""
    for node in ast.walk(top):
        if isinstance(node, (ast.If, ast.IfExp, ast.While, ast.Assert)):
            yield node.test
        elif isinstance(node, ast.BoolOp):
            yield from node.values
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            yield node.operand


def _host_reads(fn: types.FunctionType, allowed: dict[tuple[str, str], str] = HOST_READS) -> list[str]:
    """Device-to-host reads in ``fn``'s source: bool()/int()/float() of a computed value, .item()/.get()/
    .tolist()/backend.to_host(), and a truth test of an .any()/.all() reduction; code under ``on_host(xp)``
    is exempt."""
    ns = _namespace(fn)
    where = f"{fn.__module__}.{fn.__qualname__}"
    problems: list[str] = []
    for top in _function_nodes(fn):
        host_only = _host_only_branches(top, ns)
        for node in ast.walk(top):
            if id(node) in host_only or not isinstance(node, ast.Call):
                continue
            f = node.func
            what = None
            if (isinstance(f, ast.Name) and f.id in _HOST_READ_BUILTINS
                    and ns.get(f.id, _HOST_READ_BUILTINS[f.id]) is _HOST_READ_BUILTINS[f.id]
                    and node.args and not isinstance(node.args[0], ast.Constant)):
                what = f"{f.id}()"
            elif isinstance(f, ast.Attribute) and f.attr in _HOST_READ_METHODS and not node.args and not node.keywords:
                what = f".{f.attr}()"
            elif isinstance(f, ast.Attribute) and f.attr == "to_host":  # a backend's copy back: waits for it
                what = ".to_host()"
            if what and (where, what) not in allowed:
                problems.append(f"{where}:{node.lineno}: {what}: reads a value back to the host")
        for node in _truth_tested(top):
            if (id(node) not in host_only and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in _REDUCTIONS_TRUTH_TESTED):
                what = f"truth test of .{node.func.attr}()"
                if (where, what) not in allowed:
                    problems.append(f"{where}:{node.lineno}: {what}: reads a value back to the host")
    return problems


def _lowering_functions(opdef: OpDef) -> list[types.FunctionType]:
    fns = [f for f in (opdef.impl, opdef.bind) if isinstance(f, types.FunctionType)]
    kernel = opdef.extra.get("kernel")
    if kernel is not None:  # the NumPy twin the step calls where xp has no ElementwiseKernel
        fns.append(TWINS[kernel])
    return fns


def numpy_uses(opdef: OpDef, host_reads: bool = False) -> list[str]:
    """Every NumPy use (or, with ``host_reads``, every host read) in the op's lowering and the gpugraph
    functions it reaches."""
    todo = _lowering_functions(opdef)
    seen: set[types.CodeType] = set()
    problems: list[str] = []
    while todo:
        fn = todo.pop()
        if fn.__code__ in seen:
            continue
        seen.add(fn.__code__)
        found, callees = _scan(fn)
        problems += _host_reads(fn) if host_reads else found
        todo += callees
    return problems


GPU_OPS = sorted((o for o in REGISTRY.values() if o.gpu and (o.impl or o.bind)), key=lambda o: o.name)


@pytest.mark.parametrize("opdef", [o for o in GPU_OPS if o.name not in HOST_ONLY], ids=lambda o: o.name)
def test_gpu_lowering_calls_no_numpy_function(opdef: OpDef) -> None:
    for fn in (opdef.impl, opdef.bind):
        assert fn is None or isinstance(fn, types.FunctionType), (
            f"{opdef.name}: the lowering {fn!r} is not a Python function, so its source cannot be checked")
    problems = numpy_uses(opdef)
    assert not problems, (f"{opdef.name} may run on a GPU (gpu=True) but its lowering uses NumPy:\n  "
                          + "\n  ".join(problems)
                          + "\nUse xp (or a helper in gpugraph/ops/xp_compat.py), mark the op gpu=False, "
                            "or add an ALLOWED entry with the reason it is safe.")


@pytest.mark.parametrize("opdef", GPU_OPS, ids=lambda o: o.name)
def test_gpu_lowering_reads_nothing_back_to_the_host(opdef: OpDef) -> None:
    problems = numpy_uses(opdef, host_reads=True)
    assert not problems, (f"{opdef.name} may run on a GPU (gpu=True) but its lowering stalls the stream:\n  "
                          + "\n  ".join(problems)
                          + "\nCompute with xp (xp.where, not a Python-level check), check only under "
                            "on_host(xp), or add a HOST_READS entry saying why the value is needed on the host.")


def test_the_host_read_scan_finds_reads_and_skips_host_only_checks() -> None:
    def impl(xp: Any, x: Any, k: Any) -> Any:
        if not on_host(xp) or not x.size:
            y = x
        else:
            return float(x.sum())  # after a guard that does not return: still scanned
        if on_host(xp) and bool(x.any()):
            raise ValueError(int(k))
        if x.all() or y.any():
            return x.item() + x.get() + float("nan")
        assert on_host(xp) or not y.any()
        return {}.get("k") or x.tolist()

    def host_check(xp: Any, x: Any) -> None:
        if not on_host(xp):
            return
        if x.any():
            raise ValueError(int(x[0]))

    found = sorted(p.split(": ")[1] for p in _host_reads(impl, {}))
    assert found == [".get()", ".item()", ".tolist()", "float()", "truth test of .all()", "truth test of .any()",
                     "truth test of .any()"]
    assert _host_reads(host_check, {}) == []


def test_the_scan_finds_numpy_calls_and_accepts_dtype_constants() -> None:
    def impl(xp: Any, x: Any) -> Any:
        y = x.astype(np.float32) if x.dtype == np.float16 else x
        info = np.iinfo(np.int32)
        return np.exp(y) + np.asarray(info.max, dtype=np.object_) + np.nan + xp.empty((), dtype=object)

    problems, _ = _scan(impl)
    assert sorted(p.split(": ")[1] for p in problems) == ["dtype=object", "np.asarray", "np.exp", "np.object_"]


def test_the_scan_follows_gpugraph_helpers() -> None:
    def helper(x: Any) -> Any:
        return np.sum(x)

    def impl(xp: Any, x: Any) -> Any:
        return helper(x)

    helper.__module__ = impl.__module__ = "gpugraph.fake"  # pretend both live in the package
    fake = OpDef("FakeForScan", infer=lambda x: None, impl=impl)
    assert [p.split(": ")[1] for p in numpy_uses(fake)] == ["np.sum"]


def test_allow_lists_name_existing_gpu_ops_and_real_uses() -> None:
    for name in HOST_ONLY:
        assert name in REGISTRY and REGISTRY[name].gpu, f"stale HOST_ONLY entry {name}: remove it"
    scanned = {f"{f.__module__}.{f.__qualname__}" for o in GPU_OPS for f in _lowering_functions(o)}
    for fn_name, dotted in ALLOWED:
        module, _, qualname = fn_name.rpartition(".")
        fn = getattr(sys.modules[module], qualname)
        src = textwrap.dedent(inspect.getsource(fn))
        assert dotted in src, f"stale ALLOWED entry: {fn_name} no longer uses {dotted}"
        assert fn_name in scanned, f"stale ALLOWED entry: {fn_name} is not a GPU lowering"
    reached = {p.split(": ")[0].rsplit(":", 1)[0] + " " + p.split(": ")[1]
               for o in GPU_OPS for p in _scan_host_reads_unfiltered(o)}
    for fn_name, what in HOST_READS:
        assert f"{fn_name} {what}" in reached, f"stale HOST_READS entry: ({fn_name}, {what}) is no longer a read"


def _scan_host_reads_unfiltered(opdef: OpDef) -> list[str]:
    todo, seen, found = _lowering_functions(opdef), set(), []
    while todo:
        fn = todo.pop()
        if fn.__code__ not in seen:
            seen.add(fn.__code__)
            found += _host_reads(fn, {})
            todo += _scan(fn)[1]
    return found


def test_summary_ops_are_host_only() -> None:
    g = tf.Graph()
    with g.as_default():
        x = tf.constant([1.0, 2.0])
        made = [tf.summary.scalar("s", x[0]), tf.summary.histogram("h", x),
                tf.summary.image("i", tf.zeros([1, 2, 2, 1])),
                tf.summary.tensor_summary("t", x)]
        made.append(tf.summary.merge(made))
    assert {t.op.type for t in made} == SUMMARY_OPS
    for t in made:
        assert not t.op.opdef.gpu and not has_gpu_kernel(t.op), t.op.type


# --- 2. the device branches, on a NumPy stand-in ---
class _DeviceNumpy(types.ModuleType):
    """NumPy under another name: ``xp is numpy`` is false, so lowerings take their GPU branches."""

    def __init__(self, **overrides: Any):
        super().__init__("device_numpy")
        self.__dict__.update(overrides)

    def __getattr__(self, name: str) -> Any:
        return getattr(np, name)


CUPY_ATOMIC_ADD = {"int32", "uint32", "uint64", "float16", "float32", "float64"}


@pytest.fixture
def fake_cupyx(monkeypatch: pytest.MonkeyPatch) -> types.SimpleNamespace:
    """A ``cupyx`` with CuPy's scatter_add dtype limits and an errstate that records what was asked."""
    seen = types.SimpleNamespace(errstates=[], scatter_dtypes=[])
    mod = types.ModuleType("cupyx")

    def scatter_add(a: np.ndarray, slices: Any, value: Any) -> None:
        seen.scatter_dtypes.append(a.dtype.name)
        if a.dtype.name not in CUPY_ATOMIC_ADD:
            raise TypeError(f"scatter_add does not support {a.dtype}")
        np.add.at(a, slices, np.asarray(value).astype(a.dtype))

    @contextlib.contextmanager
    def errstate(**kwargs: Any) -> Iterator[None]:
        seen.errstates.append(kwargs)
        yield

    mod.scatter_add = scatter_add
    mod.errstate = errstate
    monkeypatch.setitem(sys.modules, "cupyx", mod)
    return seen


DEVICE = _DeviceNumpy()
SAMPLED_GPU = [o for o in GPU_OPS if o.sample is not None and o.impl is not None]


@pytest.mark.parametrize("opdef", SAMPLED_GPU, ids=lambda o: o.name)
def test_device_branch_equals_the_host_lowering(opdef: OpDef, fake_cupyx: Any) -> None:
    for inputs, attrs in opdef.sample(np.random.default_rng(7)):
        inputs = cu.frozen(inputs)
        n_out = len(cu.build(opdef, inputs, attrs)[2])
        want = cu.impl_outputs(opdef, np, inputs, attrs, n_out)
        got = cu.impl_outputs(opdef, DEVICE, inputs, attrs, n_out)
        for g, w in zip(got, want):
            g, w = np.asarray(g), np.asarray(w)
            assert g.dtype == w.dtype and g.shape == w.shape, opdef.name
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12, err_msg=opdef.name)


def _impl(name: str) -> Callable[..., Any]:
    return REGISTRY[name].impl


def test_gather_on_a_device_gives_zeros_for_out_of_range_indices_as_tf1_on_gpu() -> None:
    params = np.arange(12.0).reshape(4, 3)
    idx = np.array([[0, 4], [-1, 2]])
    got = _impl("GatherV2")(DEVICE, params, idx, axis=0)
    want = np.stack([np.stack([params[0], np.zeros(3)]), np.stack([np.zeros(3), params[2]])])
    np.testing.assert_array_equal(got, want)
    got1 = _impl("GatherV2")(DEVICE, params, np.array([2, 3, 7]), axis=1)
    np.testing.assert_array_equal(got1, np.stack([params[:, 2], np.zeros(4), np.zeros(4)], axis=1))
    empty = _impl("GatherV2")(DEVICE, np.zeros((0, 3)), np.array([0, 1]), axis=0)
    assert empty.shape == (2, 3) and not empty.any()
    with pytest.raises(ValueError, match=r"indices\[0,1\] = 4 is not in \[0, 4\)"):
        _impl("GatherV2")(np, params, idx, axis=0)  # the host still refuses them, as TF1 on CPU


def test_gather_grad_on_a_device_drops_out_of_range_ids_and_sums_repeats(fake_cupyx: Any) -> None:
    params = np.zeros((4, 2))
    idx = np.array([1, 9, 1, -2])
    dy = np.arange(8.0).reshape(4, 2)
    got = _impl("GatherGrad")(DEVICE, dy, params, idx, axis=0)
    want = np.zeros((4, 2))
    want[1] = dy[0] + dy[2]
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64,
                                   np.uint8, np.bool_])
def test_device_scatter_add_accumulates_every_dtype_as_numpy_does(dtype: type, fake_cupyx: Any) -> None:
    values = (np.arange(12) * 23 - 100).reshape(6, 2).astype(dtype)
    indices = np.array([0, 2, 0, 0, 3, 2])
    want = np.zeros((4, 2), dtype)
    np.add.at(want, indices, values)
    got = np.zeros((4, 2), dtype)
    xp_compat.scatter_add(DEVICE, got, indices, values)
    np.testing.assert_array_equal(got, want)
    assert set(fake_cupyx.scatter_dtypes) <= CUPY_ATOMIC_ADD


def test_device_matrix_inverse_asks_cupy_to_report_singular_matrices(fake_cupyx: Any) -> None:
    a = np.array([[2.0, 0.0], [0.0, 4.0]])
    np.testing.assert_allclose(_impl("MatrixInverse")(DEVICE, a, adjoint=False), np.linalg.inv(a))
    with pytest.raises(ValueError, match="Input is not invertible."):
        _impl("MatrixInverse")(DEVICE, np.ones((2, 2)), adjoint=False)
    assert fake_cupyx.errstates == [{"linalg": "raise"}] * 2


def _cupy_like_flip(a: Any, axis: Any = None) -> Any:
    if a.ndim < 1:
        raise np.exceptions.AxisError("Input must be >= 1-d")  # what cupy.flip does
    return np.flip(a, axis)


@pytest.mark.parametrize("shape, axes", [((), ()), ((3,), (0,)), ((2, 3, 4), (0, -1)), ((2, 3), ())])
def test_reverse_does_not_rely_on_flip_of_a_scalar(shape: tuple[int, ...], axes: tuple[int, ...]) -> None:
    x = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    got = _impl("ReverseV2")(_DeviceNumpy(flip=_cupy_like_flip), x, axis=axes)
    np.testing.assert_array_equal(got, np.flip(x, axes))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.int32])
def test_broadcast_reduced_mean_keeps_its_dtype(dtype: type) -> None:
    dy = np.array([3, 6], dtype=dtype)
    got = _impl("BroadcastReduced")(np, dy, np.zeros((2, 3), dtype), axes=(1,), scale=True)
    want = np.broadcast_to(dy.reshape(2, 1), (2, 3)) / np.asarray(3, dtype=dtype)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_sparse_xent_checks_labels_on_the_host_and_gives_nan_rows_on_a_device() -> None:
    logits = np.zeros((2, 3))
    labels = np.array([1, 5])
    with pytest.raises(ValueError, match="label value of 5"):
        _impl("SparseSoftmaxCrossEntropyWithLogits")(np, logits, labels)
    loss, backprop = _impl("SparseSoftmaxCrossEntropyWithLogits")(DEVICE, logits, labels)
    np.testing.assert_allclose(loss[0], np.log(3.0))
    assert np.isnan(loss[1]) and np.isnan(backprop[1]).all() and not np.isnan(backprop[0]).any()


@pytest.mark.parametrize("op_name", ["FloorDiv", "FloorMod"])
def test_integer_floor_division_checks_zero_divisors_on_the_host_only(op_name: str) -> None:
    x = np.array([7, -7, 5, 9], np.int32)
    y = np.array([2, 2, 0, -4], np.int32)
    with pytest.raises(ValueError, match="Integer division by zero"):
        _impl(op_name)(np, x, y)
    with np.errstate(divide="ignore"):
        got = _impl(op_name)(DEVICE, x, y)  # a device does not stop to look at y
    want = [3, -4, None, -3] if op_name == "FloorDiv" else [1, 1, None, -3]
    assert [int(v) for i, v in enumerate(got) if i != 2] == [w for w in want if w is not None]
