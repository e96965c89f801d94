"""The ``checkpoint`` state file (TF1's CheckpointState in protobuf text form) and the path helpers
around it: latest_checkpoint, get_checkpoint_state, checkpoint_exists, remove_checkpoint."""

from __future__ import annotations

import contextlib
import os
import re
import warnings
from typing import Any, Sequence

from gpugraph.train import checkpoint_io

__all__ = ["CheckpointState", "NewCheckpointReader", "checkpoint_exists", "generate_checkpoint_state_proto",
           "get_checkpoint_mtimes", "get_checkpoint_state", "latest_checkpoint", "list_variables", "load_checkpoint",
           "load_variable", "meta_graph_filename", "remove_checkpoint", "update_checkpoint_state"]

DEFAULT_STATE_FILENAME = "checkpoint"


class CheckpointState:
    """``model_checkpoint_path`` (the newest) and ``all_model_checkpoint_paths`` (oldest first)."""

    def __init__(self, model_checkpoint_path: str = "", all_model_checkpoint_paths: Sequence[str] = (),
                 all_model_checkpoint_timestamps: Sequence[float] = (), last_preserved_timestamp: float = 0.0):
        self.model_checkpoint_path = model_checkpoint_path
        self.all_model_checkpoint_paths = list(all_model_checkpoint_paths)
        self.all_model_checkpoint_timestamps = list(all_model_checkpoint_timestamps)
        self.last_preserved_timestamp = float(last_preserved_timestamp)

    def to_text(self) -> str:
        lines = [f"model_checkpoint_path: {_quote(self.model_checkpoint_path)}"]
        lines += [f"all_model_checkpoint_paths: {_quote(p)}" for p in self.all_model_checkpoint_paths]
        lines += [f"all_model_checkpoint_timestamps: {float(t)!r}" for t in self.all_model_checkpoint_timestamps]
        if self.last_preserved_timestamp:
            lines.append(f"last_preserved_timestamp: {self.last_preserved_timestamp!r}")
        return "\n".join(lines) + "\n"

    __str__ = to_text

    def __repr__(self) -> str:
        return f"CheckpointState({self.model_checkpoint_path!r}, {self.all_model_checkpoint_paths!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CheckpointState) and self.to_text() == other.to_text()

    __hash__ = None  # type: ignore[assignment]


# --- protobuf text format, just what CheckpointState needs ---
_ESCAPES = {"\n": r"\n", "\r": r"\r", "\t": r"\t", '"': r"\"", "'": r"\'", "\\": "\\\\"}


def _quote(text: str) -> str:
    out = []
    for b in text.encode("utf-8"):
        c = chr(b)
        if c in _ESCAPES:
            out.append(_ESCAPES[c])
        elif 0x20 <= b < 0x7F:
            out.append(c)
        else:
            out.append(f"\\{b:03o}")  # as protobuf writes non-ASCII bytes
    return '"' + "".join(out) + '"'


_TOKEN = re.compile(r"""\s*(?:(\#[^\n]*)|([A-Za-z_][A-Za-z0-9_]*)|(:)|("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')|"""
                    r"""([-+]?(?:inf(?:inity)?|nan|[0-9.][0-9.eE+\-]*[fF]?)))""", re.IGNORECASE)
_UNESCAPE = {"n": 10, "r": 13, "t": 9, '"': 34, "'": 39, "\\": 92, "a": 7, "b": 8, "f": 12, "v": 11, "?": 63}
_STRING_FIELDS = {"model_checkpoint_path": False, "all_model_checkpoint_paths": True}
_FLOAT_FIELDS = {"all_model_checkpoint_timestamps": True, "last_preserved_timestamp": False}


class ParseError(ValueError):
    pass


def _unquote(token: str) -> str:
    body, out, i = token[1:-1], bytearray(), 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            if c < "\x80":
                out.append(ord(c))
            else:
                out += c.encode("utf-8")
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in _UNESCAPE:
            out.append(_UNESCAPE[nxt])
            i += 2
        elif nxt in "01234567":
            m = re.match(r"[0-7]{1,3}", body[i + 1:])
            assert m is not None
            out.append(int(m.group(), 8) & 0xFF)
            i += 1 + len(m.group())
        elif nxt in "xX" and re.match(r"[0-9a-fA-F]{1,2}", body[i + 2:]):
            m = re.match(r"[0-9a-fA-F]{1,2}", body[i + 2:])
            assert m is not None
            out.append(int(m.group(), 16))
            i += 2 + len(m.group())
        else:
            raise ParseError(f"invalid escape '\\{nxt}'")
    return out.decode("utf-8")


def parse_state(text: str) -> CheckpointState:
    """Parse the text form; ``ParseError`` (a ValueError) when it is not a CheckpointState."""
    tokens: list[tuple[int, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ParseError(f"unexpected text at offset {pos}: {text[pos:pos + 20]!r}")
        pos = m.end()
        if m.group(1) is None:
            kind = next(i for i in range(2, 6) if m.group(i) is not None)
            tokens.append((kind, m.group(kind)))
    state = CheckpointState()
    seen: set[str] = set()
    for i in range(0, len(tokens), 3):
        group = tokens[i:i + 3]
        if len(group) != 3 or group[0][0] != 2 or group[1][0] != 3:
            raise ParseError(f"expected 'field: value', got {[t for _, t in group]}")
        field, (kind, value) = group[0][1], group[2]
        if field in _STRING_FIELDS and kind == 4:
            parsed: Any = _unquote(value)
            repeated = _STRING_FIELDS[field]
        elif field in _FLOAT_FIELDS and kind == 5:
            parsed = float(value.rstrip("fF"))
            repeated = _FLOAT_FIELDS[field]
        else:
            raise ParseError(f"unknown field or bad value: {field}: {value}")
        if repeated:
            getattr(state, field).append(parsed)
        elif field in seen:
            raise ParseError(f"non-repeated field '{field}' appears twice")
        else:
            setattr(state, field, parsed)
        seen.add(field)
    return state


# --- the state file ---
def _state_path(checkpoint_dir: str, latest_filename: str | None) -> str:
    return os.path.join(checkpoint_dir, latest_filename or DEFAULT_STATE_FILENAME)


def _relative(path: str, start: str) -> str:
    return os.path.relpath(path, start or ".")


def generate_checkpoint_state_proto(save_dir: str, model_checkpoint_path: str,
                                    all_model_checkpoint_paths: Sequence[str] | None = None,
                                    all_model_checkpoint_timestamps: Sequence[float] | None = None,
                                    last_preserved_timestamp: float | None = None) -> CheckpointState:
    """TF1's rule: the newest path ends the list; paths in a relative ``save_dir`` become relative to it."""
    paths = list(all_model_checkpoint_paths or [])
    if not paths or paths[-1] != model_checkpoint_path:
        paths.append(model_checkpoint_path)
    if all_model_checkpoint_timestamps is not None and len(all_model_checkpoint_timestamps) != len(paths):
        raise ValueError(f"Checkpoint timestamps, if provided, must match checkpoint paths (got paths "
                         f"{paths} and timestamps {list(all_model_checkpoint_timestamps)})")
    if not os.path.isabs(save_dir):
        if not os.path.isabs(model_checkpoint_path):
            model_checkpoint_path = _relative(model_checkpoint_path, save_dir)
        paths = [p if os.path.isabs(p) else _relative(p, save_dir) for p in paths]
    return CheckpointState(model_checkpoint_path, paths, all_model_checkpoint_timestamps or (),
                           last_preserved_timestamp or 0.0)


def update_checkpoint_state(save_dir: str, model_checkpoint_path: str,
                            all_model_checkpoint_paths: Sequence[str] | None = None,
                            latest_filename: str | None = None,
                            all_model_checkpoint_timestamps: Sequence[float] | None = None,
                            last_preserved_timestamp: float | None = None,
                            save_relative_paths: bool = False) -> None:
    """Replace the state file atomically (the last step of a save)."""
    paths = list(all_model_checkpoint_paths or [])
    if save_relative_paths:
        model_checkpoint_path = (_relative(model_checkpoint_path, save_dir)
                                 if os.path.isabs(model_checkpoint_path) else model_checkpoint_path)
        paths = [_relative(p, save_dir) if os.path.isabs(p) else p for p in paths]
    state = generate_checkpoint_state_proto(save_dir, model_checkpoint_path, paths,
                                            all_model_checkpoint_timestamps, last_preserved_timestamp)
    path = _state_path(save_dir, latest_filename)
    if state.model_checkpoint_path == path or os.path.abspath(state.model_checkpoint_path) == \
            os.path.abspath(path):
        raise RuntimeError(f"Save path '{model_checkpoint_path}' conflicts with path used for checkpoint "
                           f"state. Please use a different save path.")
    checkpoint_io.atomic_write(path, state.to_text().encode("utf-8"))


def get_checkpoint_state(checkpoint_dir: str, latest_filename: str | None = None) -> CheckpointState | None:
    """The parsed state file with paths joined to ``checkpoint_dir``; None when there is none."""
    path = _state_path(checkpoint_dir, latest_filename)
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8")
        state = parse_state(text)
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ParseError) as e:
        warnings.warn(f"{path}: {type(e).__name__}: {e}; checkpoint ignored", stacklevel=2)
        return None
    if not state.model_checkpoint_path:
        raise ValueError(f"Invalid checkpoint state loaded from {checkpoint_dir}")
    if not os.path.isabs(state.model_checkpoint_path):
        state.model_checkpoint_path = os.path.join(checkpoint_dir, state.model_checkpoint_path)
    state.all_model_checkpoint_paths = [p if os.path.isabs(p) else os.path.join(checkpoint_dir, p)
                                        for p in state.all_model_checkpoint_paths]
    return state


def latest_checkpoint(checkpoint_dir: str, latest_filename: str | None = None) -> str | None:
    """The newest complete checkpoint named by the state file, or None."""
    state = get_checkpoint_state(checkpoint_dir, latest_filename)
    if state and state.model_checkpoint_path:
        if checkpoint_exists(state.model_checkpoint_path):
            return state.model_checkpoint_path
        warnings.warn(f"Couldn't match files for checkpoint {state.model_checkpoint_path}", stacklevel=2)
    return None


def checkpoint_exists(checkpoint_prefix: str) -> bool:
    return checkpoint_io.exists(checkpoint_prefix)


def get_checkpoint_mtimes(checkpoint_prefixes: Sequence[str]) -> list[float]:
    """Modification times of the checkpoints that exist (missing ones are left out, as TF1 does)."""
    out = []
    for prefix in checkpoint_prefixes:
        with contextlib.suppress(OSError):
            out.append(os.path.getmtime(checkpoint_io.data_path(prefix)))
    return out


def meta_graph_filename(checkpoint_filename: str, meta_graph_suffix: str = "meta") -> str:
    base = re.sub(r"-[\d\?]+-of-\d+$", "", checkpoint_io.prefix_of(checkpoint_filename))
    return f"{base}.{meta_graph_suffix}"


def remove_checkpoint(checkpoint_prefix: str, checkpoint_format_version: Any = None,
                      meta_graph_suffix: str = "meta") -> None:
    """Delete a checkpoint's data and meta graph files (those that exist)."""
    for path in (checkpoint_io.data_path(checkpoint_prefix), meta_graph_filename(checkpoint_prefix,
                                                                                meta_graph_suffix)):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)



# --- reading checkpoints by directory or prefix ---
def _checkpoint_filename(ckpt_dir_or_file: Any) -> str:
    path = os.fspath(ckpt_dir_or_file)
    if os.path.isdir(path):
        found = latest_checkpoint(path)
        if found is None:
            raise ValueError(f"Couldn't find 'checkpoint' file or checkpoints in given directory {path}")
        return found
    return path


def load_checkpoint(ckpt_dir_or_file: Any) -> checkpoint_io.CheckpointReader:
    """A reader for the checkpoint (or the newest one in a directory), verified on opening."""
    return checkpoint_io.CheckpointReader(_checkpoint_filename(ckpt_dir_or_file))


def NewCheckpointReader(filepattern: Any) -> checkpoint_io.CheckpointReader:  # noqa: N802 - TF1's name
    return checkpoint_io.CheckpointReader(os.fspath(filepattern))


def list_variables(ckpt_dir_or_file: Any) -> list[tuple[str, list[int]]]:
    """``[(name, shape), ...]`` of the tensors in a checkpoint, sorted by name."""
    shapes = load_checkpoint(ckpt_dir_or_file).get_variable_to_shape_map()
    return [(name, shapes[name]) for name in sorted(shapes)]


def load_variable(ckpt_dir_or_file: Any, name: str) -> Any:
    """The value of one tensor of a checkpoint (a trailing ':0' is ignored)."""
    if name.endswith(":0"):
        name = name[:-2]
    return load_checkpoint(ckpt_dir_or_file).get_tensor(name)
