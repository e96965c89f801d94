"""Flag records, value parsers and the flag errors, with absl's names and messages."""

from __future__ import annotations

import enum
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


class CantOpenFlagFileError(Error):
    """A --flagfile that cannot be read."""


class FlagNameConflictsWithMethodError(Error):
    """A flag named like a FlagValues method (FLAGS.name would give the method)."""


class Parser:
    """absl's ArgumentParser: ``parse(text)`` turns a command-line string (or a default) into a value."""

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


class BaseListParser(Parser):
    """Splits on ``token`` (None: any whitespace)."""

    flag_type = "list"

    def __init__(self, token: str | None = None, name: str | None = None):
        self._token = token
        self.syntax = f"a {name} separated list" if name else ""

    def parse(self, text: Any) -> Any:
        if isinstance(text, list):
            return text
        if not text:
            return []
        return [item.strip() for item in str(text).split(self._token)]


class ListParser(BaseListParser):
    def __init__(self) -> None:
        super().__init__(",", "comma")


class WhitespaceSeparatedListParser(BaseListParser):
    """Whitespace-separated words; with ``comma_compat`` commas separate too."""

    flag_type = "whitespace separated list"

    def __init__(self, comma_compat: bool = False):
        self._comma_compat = comma_compat
        super().__init__(None, "whitespace or comma" if comma_compat else "whitespace")

    def parse(self, text: Any) -> Any:
        if isinstance(text, list):
            return text
        if self._comma_compat:
            text = str(text).replace(",", " ")
        return str(text).split()


class EnumClassParser(Parser):
    """Names of an enum.Enum's members (lowercase ones too unless case_sensitive) -> the member."""

    flag_type = "enum class"

    def __init__(self, enum_class: type[enum.Enum], case_sensitive: bool = True):
        if not (isinstance(enum_class, type) and issubclass(enum_class, enum.Enum)):
            raise TypeError(f"{enum_class} is not a subclass of Enum.")
        if not enum_class.__members__:
            raise ValueError(f'enum_class cannot be empty, but "{enum_class}" is empty.')
        self.enum_class = enum_class
        self._case_sensitive = case_sensitive
        names = list(enum_class.__members__)
        self.member_names = names if case_sensitive else [n.lower() for n in names]

    def parse(self, text: Any) -> Any:
        if isinstance(text, self.enum_class):
            return text
        if not isinstance(text, str):
            raise ValueError(f"{text} is not an enum member or a name of a member in {self.enum_class}")
        key = text if self._case_sensitive else text.lower()
        if key not in self.member_names:
            raise ValueError(f"value should be one of <{'|'.join(self.member_names)}>")
        return list(self.enum_class)[self.member_names.index(key)]


class ArgumentSerializer:
    """A value back to its command-line text."""

    def serialize(self, value: Any) -> str:
        return str(value)


class ListSerializer(ArgumentSerializer):
    def __init__(self, list_sep: str):
        self.list_sep = list_sep

    def serialize(self, value: Any) -> str:
        return self.list_sep.join(str(x) for x in value)


class CsvListSerializer(ListSerializer):
    def __init__(self, list_sep: str = ","):
        super().__init__(list_sep)


class EnumClassSerializer(ArgumentSerializer):
    def __init__(self, lowercase: bool):
        self._lowercase = lowercase

    def serialize(self, value: Any) -> str:
        return value.name.lower() if self._lowercase else value.name


class EnumClassListSerializer(ListSerializer):
    def __init__(self, list_sep: str, **kwargs: Any):
        super().__init__(list_sep)
        self._element = EnumClassSerializer(**kwargs)

    def serialize(self, value: Any) -> str:
        items = value if isinstance(value, list) else [value]
        return self.list_sep.join(self._element.serialize(x) for x in items)


class Flag:
    """One flag: name, parser, default, current value, help; ``present`` counts command-line settings.

    The constructor is absl's, so ``DEFINE_flag(Flag(parser, serializer, name, default, help))`` works."""

    multi = False

    def __init__(self, parser: Parser, serializer: ArgumentSerializer | None, name: str, default: Any,
                 help_string: str | None, short_name: str | None = None, boolean: bool = False,
                 **kwargs: Any):
        self.parser = parser
        self.serializer = serializer or ArgumentSerializer()
        self.name = name
        self.help = help_string or "(no help available)"
        self.short_name = short_name
        self.boolean = boolean or isinstance(parser, BooleanParser)
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
        values = getattr(self.parser, "values", None) or getattr(self.parser, "member_names", None)
        choices = f"<{'|'.join(values)}>: " if values else ""
        help_text = self.help + (";\n    repeat this option to specify a list of values" if self.multi else "")
        lines = [f"  {prefix}{self.name}: {choices}{help_text}"]
        if self.default_as_str is not None:
            lines.append(f"    (default: {self.default_as_str})")
        if self.parser.syntax:
            lines.append(f"    ({self.parser.syntax})")
        return lines

    def __repr__(self) -> str:
        return f"<Flag --{self.name}={self.value!r}>"


class BooleanFlag(Flag):
    def __init__(self, name: str, default: Any, help: str | None, short_name: str | None = None, **kwargs: Any):
        super().__init__(BooleanParser(), None, name, default, help, short_name, boolean=True)


class EnumFlag(Flag):
    def __init__(self, name: str, default: Any, help: str | None, enum_values: list[str],
                 short_name: str | None = None, **kwargs: Any):
        super().__init__(EnumParser(list(enum_values)), None, name, default, help, short_name)


class MultiFlag(Flag):
    """A flag that may be repeated: its value is the list of the given values."""

    multi = True


class EnumClassFlag(Flag):
    def __init__(self, name: str, default: Any, help: str | None, enum_class: type[enum.Enum],
                 short_name: str | None = None, case_sensitive: bool = False, **kwargs: Any):
        parser = EnumClassParser(enum_class, case_sensitive)
        super().__init__(parser, EnumClassSerializer(not case_sensitive), name, default, help, short_name)


class MultiEnumClassFlag(MultiFlag):
    def __init__(self, name: str, default: Any, help_string: str | None, enum_class: type[enum.Enum],
                 case_sensitive: bool = False, **kwargs: Any):
        parser = EnumClassParser(enum_class, case_sensitive)
        super().__init__(parser, EnumClassListSerializer(",", lowercase=not case_sensitive), name, default,
                         help_string)


def _as_text(default: Any) -> str:
    if isinstance(default, enum.Enum):
        return default.name
    if isinstance(default, bool):
        return "true" if default else "false"
    if isinstance(default, (list, tuple)):
        return ",".join(str(v) for v in default) if default else "[]"
    return str(default)
