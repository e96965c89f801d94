"""absl's flag text helpers: help width, wrapping, docstring to help text, a dict back to flag arguments."""

from __future__ import annotations

import re
import shutil
import textwrap
from typing import Any, Iterable, Iterator

_DEFAULT_HELP_WIDTH = 80


def get_help_width() -> int:
    """The terminal's width in columns (80 when there is no terminal)."""
    return shutil.get_terminal_size(fallback=(_DEFAULT_HELP_WIDTH, 1)).columns


def text_wrap(text: str, length: int | None = None, indent: str = "", firstline_indent: str | None = None) -> str:
    """Wraps each paragraph (line) to ``length`` columns; blank lines stay, tabs become 4 spaces."""
    length = get_help_width() if length is None else length
    indent = indent or ""
    firstline_indent = indent if firstline_indent is None else firstline_indent
    if len(indent) >= length:
        raise ValueError("Length of indent exceeds length")
    if len(firstline_indent) >= length:
        raise ValueError("Length of first line indent exceeds length")
    wrapper = textwrap.TextWrapper(width=length, initial_indent=firstline_indent, subsequent_indent=indent)
    later = textwrap.TextWrapper(width=length, initial_indent=indent, subsequent_indent=indent)
    result: list[str] = []
    for paragraph in (p.strip() for p in text.expandtabs(4).splitlines()):
        result.extend(wrapper.wrap(paragraph) if paragraph else [""])
        wrapper = later
    return "\n".join(result)


def _trim_docstring(docstring: str) -> str:
    """PEP 257's indentation removal."""
    if not docstring:
        return ""
    lines = docstring.expandtabs().splitlines()
    indents = [len(line) - len(line.lstrip()) for line in lines[1:] if line.strip()]
    trimmed = [lines[0].strip()] + ([line[min(indents):].rstrip() for line in lines[1:]] if indents else [])
    while trimmed and not trimmed[-1]:
        trimmed.pop()
    while trimmed and not trimmed[0]:
        trimmed.pop(0)
    return "\n".join(trimmed)


def doc_to_help(doc: str) -> str:
    """A docstring as help text: dedented, and the lines of each paragraph joined."""
    doc = re.sub("^[ \t]+$", "", doc.strip(), flags=re.M)
    doc = _trim_docstring(doc)
    return re.sub(r"(?<=\S)\n(?=\S)", " ", doc, flags=re.M)


def flag_dict_to_args(flag_map: dict[str, Any], multi_flags: Iterable[str] | None = None) -> Iterator[str]:
    """``{"lr": 0.1, "fast": False, "tags": ["a", "b"]}`` -> "--lr=0.1", "--nofast", "--tags=a,b"
    (repeated "--tags=a", "--tags=b" for names in ``multi_flags``); None and True give "--name"."""
    multi = set(multi_flags or ())
    for key, value in flag_map.items():
        if value is None or value is True:
            yield f"--{key}"
        elif value is False:
            yield f"--no{key}"
        elif isinstance(value, (bytes, str)):
            yield f"--{key}={value}"
        else:
            try:
                items = list(value)
            except TypeError:
                yield f"--{key}={value}"
                continue
            if key in multi:
                yield from (f"--{key}={item}" for item in items)
            else:
                yield f"--{key}={','.join(str(item) for item in items)}"
