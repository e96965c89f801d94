"""Generate the README's tables from the code, so they cannot go stale.

    python tools/api_table.py                        print the supported-ops table (Markdown)
    python tools/api_table.py --check README.md      exit 1 if the README's section differs (diff on stderr)
    python tools/api_table.py --write README.md      rewrite the README's section in place
    python tools/api_table.py --settings [...]       the same for the settings table

A section is the text between ``<!-- api-table:start -->`` and ``<!-- api-table:end -->``
(``settings-table`` with ``--settings``); both markers must be present, each on its own line.

The ops table has one row per registered OpDef: gradient ("yes"; "not differentiable" where the
op declares NO_GRADIENT as TF1 does; "none" where TF1 registers no gradient), GPU lowering
("host" keeps the op on the CPU), fused CUDA expression, and the public ``tf.*`` names whose code
builds the op (found by reading their bytecode, following private helpers two calls deep; a
function made only of other ``tf.*`` calls is not listed under the ops those calls build).
"""

from __future__ import annotations

import argparse
import difflib
import inspect
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from a checkout without installing
    sys.path.insert(0, str(ROOT))

import gpugraph as tf  # noqa: E402
from gpugraph.framework.tensor import Tensor  # noqa: E402
from gpugraph.ops.registry import NO_GRADIENT, REGISTRY, OpDef  # noqa: E402

# TF1 namespaces searched for builders besides the top level (tf.compat.v1 is the same objects).
NAMESPACES = ("nn", "train", "summary", "random", "initializers", "linalg", "math", "image", "losses")
HELPER_DEPTH = 2

# Tensor's operator methods, shown as the expression that calls them.
OPERATORS = {
    "add": "x + y", "sub": "x - y", "mul": "x * y", "truediv": "x / y", "floordiv": "x // y",
    "mod": "x % y", "pow": "x ** y", "matmul": "x @ y", "and": "x & y", "or": "x | y", "xor": "x ^ y",
    "lt": "x < y", "le": "x <= y", "gt": "x > y", "ge": "x >= y", "neg": "-x", "abs": "abs(x)",
    "invert": "~x", "getitem": "x[...]",
}

SECTIONS = {"api": "api-table", "settings": "settings-table"}


class SectionError(Exception):
    """The file lacks the section's markers (or has them out of order)."""


# ---------------------------------------------------------------- who builds which op


def _is_ours(obj: Any) -> bool:
    return str(getattr(obj, "__module__", "") or "").startswith("gpugraph")


def public_names() -> dict[int, tuple[Any, list[str]]]:
    """id(object) -> (object, its public tf.* names) for the functions and classes of the API."""
    found: dict[int, tuple[Any, list[str]]] = {}

    def scan(prefix: str, module: types.ModuleType, names: list[str]) -> None:
        for name in names:
            value = getattr(module, name, None)
            if name.startswith("_") or not (inspect.isfunction(value) or inspect.isclass(value)):
                continue
            if _is_ours(value):
                found.setdefault(id(value), (value, []))[1].append(prefix + name)

    scan("tf.", tf, sorted(dir(tf)))
    for ns in NAMESPACES:
        module = getattr(tf, ns, None)
        if isinstance(module, types.ModuleType):
            scan(f"tf.{ns}.", module, list(getattr(module, "__all__", sorted(dir(module)))))
    return found


def _code_objects(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def _references(fn: Callable[..., Any]) -> list[Any]:
    """Objects fn's code names: its globals, attributes of modules it names (``math_ops.ADD``),
    and its closure cells."""
    glob = fn.__globals__
    names = {n for code in _code_objects(fn.__code__) for n in code.co_names}
    modules = [glob[n] for n in names
               if isinstance(glob.get(n), types.ModuleType) and glob[n].__name__.startswith("gpugraph")]
    refs: list[Any] = []
    for name in sorted(names):  # a name may be both a global and an attribute: take both
        if name in glob:
            refs.append(glob[name])
        refs.extend(getattr(m, name) for m in modules if hasattr(m, name))
    for cell in fn.__closure__ or ():
        try:
            refs.append(cell.cell_contents)
        except ValueError:  # an empty cell
            pass
    return refs


def ops_built_by(fn: Callable[..., Any], public: set[int], depth: int = HELPER_DEPTH,
                 seen: set[int] | None = None) -> set[str]:
    """Op types fn builds itself or through private helpers up to ``depth`` calls deep."""
    seen = set() if seen is None else seen
    if id(fn) in seen:
        return set()
    seen.add(id(fn))
    ops: set[str] = set()
    for ref in _references(fn):
        if isinstance(ref, OpDef):
            ops.add(ref.name)
        elif depth > 0 and inspect.isfunction(ref) and _is_ours(ref) and id(ref) not in public:
            ops |= ops_built_by(ref, public, depth - 1, seen)
    return ops


def _methods(cls: type) -> Iterator[Callable[..., Any]]:
    for klass in cls.__mro__:
        if not _is_ours(klass):
            continue
        for value in vars(klass).values():
            value = value.fget if isinstance(value, property) else getattr(value, "__func__", value)
            if inspect.isfunction(value):
                yield value


def builders() -> dict[str, set[str]]:
    """Op type -> the public names (and Tensor operators) that build it."""
    names = public_names()
    public = set(names)
    built: dict[int, set[str]] = {}
    for key, (obj, _) in names.items():
        # Tensor's methods are its operators, listed below as expressions.
        fns = [] if obj is Tensor else list(_methods(obj)) if inspect.isclass(obj) else [obj]
        built[key] = set().union(*(ops_built_by(fn, public) for fn in fns))
    table: dict[str, set[str]] = {}
    for key, (_, obj_names) in names.items():
        for op in built[key]:
            table.setdefault(op, set()).update(obj_names)
    # An operator delegates to an OpDef or to a tf.* function: it builds what that function builds.
    for dunder, expression in OPERATORS.items():
        for attr in (f"__{dunder}__", f"__r{dunder}__"):
            fn = vars(Tensor).get(attr)
            if not inspect.isfunction(fn):
                continue
            ops = ops_built_by(fn, public)
            for ref in _references(fn):
                ops |= built.get(id(ref), set())
            for op in ops:
                table.setdefault(op, set()).add(expression)
    return table


# ---------------------------------------------------------------- the tables


def gradient_kind(opdef: OpDef) -> str:
    if opdef.grad is None:
        return "none"
    return "not differentiable" if opdef.grad is NO_GRADIENT else "yes"


def _cell(text: str) -> str:
    return f"`{text}`".replace("|", "\\|")  # GFM: a pipe splits cells even inside code spans


def api_table_markdown() -> str:
    ops = sorted(REGISTRY.values(), key=lambda o: o.name)
    built = builders()
    with_grad = sum(gradient_kind(o) == "yes" for o in ops)
    on_gpu = sum(bool(getattr(o, "gpu", True)) for o in ops)
    fused = sum(bool(o.cuda) for o in ops)
    lines = [
        f"{len(ops)} op types are registered: {with_grad} with a gradient, {on_gpu} with a GPU lowering "
        f"(the others run on the host), {fused} fusible into one CUDA elementwise kernel.",
        "",
        "<details><summary>Every registered op, and the <code>tf.*</code> calls that build it</summary>",
        "",
        "| Op | Gradient | GPU | Fused CUDA | Built by |",
        "|---|---|---|---|---|",
    ]
    for o in ops:
        by = ", ".join(_cell(n) for n in sorted(built.get(o.name, ()))) or "(internal)"
        gpu = "yes" if getattr(o, "gpu", True) else "host"
        lines.append(f"| `{o.name}` | {gradient_kind(o)} | {gpu} | {'yes' if o.cuda else 'no'} | {by} |")
    lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


def settings_table_markdown() -> str:
    try:
        from gpugraph.config_files import settings_table_markdown as make
    except ImportError as e:
        raise SectionError(f"no settings table to generate: {e}") from None
    return make().strip("\n") + "\n"


GENERATORS: dict[str, Callable[[], str]] = {"api": api_table_markdown, "settings": settings_table_markdown}


# ---------------------------------------------------------------- README sections


def _bounds(text: str, marker: str) -> tuple[int, int]:
    """Offsets of the section body: just after the start marker's line, and the end marker's line start."""
    start_tag, end_tag = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    start, end = text.find(start_tag), text.find(end_tag)
    if start < 0 or end < 0 or end < start:
        raise SectionError(f"markers {start_tag} and {end_tag} not found (in this order)")
    body_start = text.find("\n", start)
    body_end = text.rfind("\n", 0, end) + 1
    if body_start < 0 or body_start >= end or body_end <= body_start:
        raise SectionError(f"{start_tag} and {end_tag} must each be on a line of their own")
    return body_start + 1, body_end


def read_section(text: str, marker: str) -> str:
    lo, hi = _bounds(text, marker)
    return text[lo:hi]


def replace_section(text: str, marker: str, body: str) -> str:
    lo, hi = _bounds(text, marker)
    return text[:lo] + "\n" + body.strip("\n") + "\n\n" + text[hi:]


def _normal(body: str) -> list[str]:
    return [line.rstrip() for line in body.strip("\n").splitlines()]


def section_diff(text: str, marker: str, body: str) -> list[str]:
    """Unified diff from the file's section to ``body``; empty when they agree (blank edges ignored)."""
    return list(difflib.unified_diff(_normal(read_section(text, marker)), _normal(body),
                                     "README (current)", "generated", lineterm=""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", action="store_true", help="the settings table instead of the ops table")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--check", metavar="FILE", type=Path, help="exit 1 if FILE's section is stale")
    action.add_argument("--write", metavar="FILE", type=Path, help="rewrite FILE's section")
    args = parser.parse_args(argv)
    kind = "settings" if args.settings else "api"
    marker = SECTIONS[kind]
    path: Path | None = args.check or args.write
    try:
        body = GENERATORS[kind]()
        if args.check is None and args.write is None:
            sys.stdout.write(body)
            return 0
        assert path is not None
        text = path.read_text(encoding="utf-8")
        if args.write is not None:
            new = replace_section(text, marker, body)
            if new != text:
                path.write_text(new, encoding="utf-8")
            return 0
        diff = section_diff(text, marker, body)
    except (SectionError, OSError) as e:
        print(f"api_table: {path or kind}: {e}", file=sys.stderr)
        return 2
    if diff:
        print("\n".join(diff), file=sys.stderr)
        print(f"api_table: the {marker} section of {path} is stale; run "
              f"python tools/api_table.py{' --settings' if args.settings else ''} --write {path}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
