"""Flag records, value parsers and the flag errors, with absl's names and messages."""

from __future__ import annotations

from typing import Any


class Error(Exception):
    """Base of the flag errors."""


class IllegalFlagValueError(Error):
    """A flag's value cannot be parsed, or fails a check (bounds, enum values, a validator)."""


class UnrecognizedFlagError(Error):
    """A command-line flag that nobody defined."""


class DuplicateFlagError(Error):
    """The same flag name defined twice."""


class UnparsedFlagAccessError(Error):
    """Kept for code that catches it; a read before parsing parses sys.argv instead."""


class ValidationError(Error):
    """A validator rejected a value."""


class Parser:
    flag_type = "string"
    syntax = ""  # the help line's "(an integer)" and such

    def parse(self, text: Any) -> Any:
        return text


class StringParser(Parser):
    def parse(self, text: Any) -> Any:
        return text


class BooleanParser(Parser):
    flag_type = "bool"

    def parse(self, text: Any) -> Any:
        if isinstance(text, bool):
            return text
        if isinstance(text, str):
            if text.lower() in ("true", "t", "1"):
                return True
            if text.lower() in ("false", "f", "0"):
                return False
        if isinstance(text, int) and text in (0, 1):
            return bool(text)
        raise ValueError(f"('Non-boolean argument to boolean flag', {text!r})")


def _bounds_text(kind: str, lower: Any, upper: Any) -> str:
    if lower is not None and upper is not None:
        return f"{kind} in the range [{lower}, {upper}]"
    if lower == 0:
        return f"a non-negative {kind.split()[-1]}"
    if lower == 1 and kind == "an integer":
        return "a positive integer"
    if upper == 0:
        return f"a non-positive {kind.split()[-1]}"
    if lower is not None:
        return f"{kind} >= {lower}"
    if upper is not None:
        return f"{kind} <= {upper}"
    return kind


class _NumberParser(Parser):
    kind = "a number"

    def __init__(self, lower: Any = None, upper: Any = None):
        self.lower, self.upper = lower, upper
        self.syntax = _bounds_text(self.kind, lower, upper)

    def convert(self, text: Any) -> Any:
        raise NotImplementedError

    def parse(self, text: Any) -> Any:
        value = self.convert(text)
        if (self.lower is not None and value < self.lower) or (self.upper is not None and value > self.upper):
            raise ValueError(f"{value} is not {self.syntax}")
        return value


class IntegerParser(_NumberParser):
    flag_type = "int"
    kind = "an integer"

    def convert(self, text: Any) -> int:
        if isinstance(text, bool):
            raise ValueError(f"Expect argument to be a string or int, found {type(text)}")
        if isinstance(text, int):
            return text
        if isinstance(text, str):
            base = 16 if text.lower().lstrip("+-").startswith("0x") else 10
            return int(text, base)
        raise ValueError(f"Expect argument to be a string or int, found {type(text)}")


class FloatParser(_NumberParser):
    flag_type = "float"
    kind = "a number"

    def convert(self, text: Any) -> float:
        if isinstance(text, bool):
            raise ValueError(f"Expect argument to be a string, int, or float, found {type(text)}")
        if isinstance(text, (int, float, str)):
            return float(text)
        raise ValueError(f"Expect argument to be a string, int, or float, found {type(text)}")


class EnumParser(Parser):
    flag_type = "string enum"

    def __init__(self, values: list[str]):
        if not values:
            raise ValueError(f"enum_values cannot be empty, found {values!r}")
        self.values = values

    def parse(self, text: Any) -> Any:
        if text not in self.values:
            raise ValueError(f"value should be one of <{'|'.join(self.values)}>")
        return text


class ListParser(Parser):
    flag_type = "list"
    syntax = "a comma separated list"

    def parse(self, text: Any) -> Any:
        if isinstance(text, list):
            return text
        if not text:
            return []
        return [item.strip() for item in str(text).split(",")]


class Flag:
    """One flag: name, parser, default, current value, help; ``present`` counts command-line settings."""

    def __init__(self, parser: Parser, name: str, default: Any, help: str, multi: bool = False,
                 short_name: str | None = None):
        self.parser = parser
        self.name = name
        self.help = help
        self.multi = multi
        self.short_name = short_name
        self.present = 0
        self.using_default_value = True
        self.set_default(default)

    @property
    def flag_type(self) -> str:
        return ("multi " if self.multi else "") + self.parser.flag_type

    def _parse_value(self, raw: Any) -> Any:
        try:
            return self.parser.parse(raw)
        except (ValueError, TypeError) as e:
            raise IllegalFlagValueError(f"flag --{self.name}={raw}: {e}") from None

    def parse_argument(self, raw: str, first: bool) -> Any:
        """The value after one command-line occurrence; a multi flag's first occurrence replaces the default."""
        value = self._parse_value(raw)
        if not self.multi:
            return value
        return [value] if first else list(self.value or []) + [value]

    def set_default(self, default: Any) -> None:
        if default is None:
            value = None
        elif self.multi:
            items = default if isinstance(default, (list, tuple)) else [default]
            value = [self._parse_value(item) for item in items]
        else:
            value = self._parse_value(default)
        self.default = value
        self.default_as_str = None if default is None else repr(_as_text(default))
        if self.using_default_value:
            self.value = value

    def unparse(self) -> None:
        self.value = self.default
        self.present = 0
        self.using_default_value = True

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "present" and value:
            object.__setattr__(self, "using_default_value", False)
        object.__setattr__(self, name, value)

    def help_lines(self) -> list[str]:
        """absl's help entry: ``--[no]name: help``, the default, and the syntax."""
        prefix = "--[no]" if isinstance(self.parser, BooleanParser) else "--"
        enum = f"<{'|'.join(self.parser.values)}>: " if isinstance(self.parser, EnumParser) else ""
        help_text = self.help + (";\n    repeat this option to specify a list of values" if self.multi else "")
        lines = [f"  {prefix}{self.name}: {enum}{help_text}"]
        if self.default_as_str is not None:
            lines.append(f"    (default: {self.default_as_str})")
        if self.parser.syntax:
            lines.append(f"    ({self.parser.syntax})")
        return lines

    def __repr__(self) -> str:
        return f"<Flag --{self.name}={self.value!r}>"


def _as_text(default: Any) -> str:
    if isinstance(default, bool):
        return "true" if default else "false"
    if isinstance(default, (list, tuple)):
        return ",".join(str(v) for v in default) if default else "[]"
    return str(default)
