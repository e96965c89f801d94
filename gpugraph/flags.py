"""tf.app.flags / tf.flags: DEFINE_* and FLAGS, with absl's command-line syntax and errors.

``--name=value``, ``--name value``, ``--flag``/``--noflag`` for booleans, one or two dashes; flags and
positional arguments may be interleaved; ``--`` ends the flags. As in TF1, reading a flag before
anything parsed the command line parses ``sys.argv``, ignoring flags nobody defined.
"""

from __future__ import annotations

import enum
import sys
from typing import Any, Callable, Iterable

from gpugraph._flag_text import doc_to_help, flag_dict_to_args, get_help_width, text_wrap
from gpugraph._flag_types import (
    ArgumentSerializer, BaseListParser, BooleanFlag, BooleanParser, CsvListSerializer, EnumClassFlag,
    EnumClassListSerializer, EnumClassParser, EnumClassSerializer, EnumFlag, EnumParser, Flag, FloatParser,
    IntegerParser, ListParser, ListSerializer, MultiEnumClassFlag, MultiFlag, Parser, StringParser,
    WhitespaceSeparatedListParser,
)
from gpugraph._flag_types import CantOpenFlagFileError, DuplicateFlagError, Error, FlagNameConflictsWithMethodError
from gpugraph._flag_types import IllegalFlagValueError, UnparsedFlagAccessError, UnrecognizedFlagError, ValidationError
from gpugraph._flag_values import FlagHolder, FlagValues

ArgumentParser = Parser

__all__ = [
    "FLAGS", "FlagValues", "FlagHolder", "Flag", "BooleanFlag", "EnumFlag", "MultiFlag", "EnumClassFlag",
    "MultiEnumClassFlag", "ArgumentParser", "ArgumentSerializer", "BaseListParser", "BooleanParser",
    "CsvListSerializer", "EnumClassListSerializer", "EnumClassParser", "EnumClassSerializer", "EnumParser",
    "FloatParser", "IntegerParser", "ListParser", "ListSerializer", "WhitespaceSeparatedListParser",
    "Error", "IllegalFlagValueError", "UnrecognizedFlagError", "DuplicateFlagError", "UnparsedFlagAccessError",
    "ValidationError", "CantOpenFlagFileError", "FlagNameConflictsWithMethodError",
    "DEFINE", "DEFINE_flag", "DEFINE_multi", "DEFINE_string", "DEFINE_integer", "DEFINE_float", "DEFINE_boolean",
    "DEFINE_bool", "DEFINE_enum", "DEFINE_enum_class", "DEFINE_list", "DEFINE_spaceseplist", "DEFINE_multi_string",
    "DEFINE_multi_integer", "DEFINE_multi_float", "DEFINE_multi_enum", "DEFINE_multi_enum_class", "DEFINE_alias",
    "mark_flag_as_required", "mark_flags_as_required", "mark_flags_as_mutual_exclusive",
    "mark_bool_flags_as_mutual_exclusive", "register_validator", "validator", "register_multi_flags_validator",
    "multi_flags_validator", "set_default", "override_value", "declare_key_flag", "adopt_module_key_flags",
    "disclaim_key_flags", "flag_dict_to_args", "text_wrap", "doc_to_help", "get_help_width",
]

FLAGS = FlagValues()

def _caller_module(depth: int = 3) -> str:
    """The defining module's name for --help; the script's file name for flags defined in __main__."""
    frame = sys._getframe(depth)
    module = frame.f_globals.get("__name__", "")
    if module == "__main__":
        return sys.argv[0] if sys.argv and sys.argv[0] else "__main__"
    return module


def _values(flag_values: FlagValues | None) -> FlagValues:
    return flag_values if flag_values is not None else FLAGS


def _define(parser: Parser, name: str, default: Any, help: str | None, flag_values: FlagValues | None,
            multi: bool = False, short_name: str | None = None, serializer: ArgumentSerializer | None = None
            ) -> FlagHolder:
    flag = (MultiFlag if multi else Flag)(parser, serializer, name, default, help, short_name)
    return _register(flag, flag_values, _caller_module())


def _register(flag: Flag, flag_values: FlagValues | None, module: str) -> FlagHolder:
    values = _values(flag_values)
    values._define(flag, module)
    return FlagHolder(values, flag)


def DEFINE_string(name: str, default: str | None, help: str | None, flag_values: FlagValues | None = None,
                  **kwargs: Any) -> FlagHolder:
    return _define(StringParser(), name, default, help, flag_values, short_name=kwargs.get("short_name"))


def DEFINE_integer(name: str, default: int | None, help: str | None, lower_bound: int | None = None,
                   upper_bound: int | None = None, flag_values: FlagValues | None = None, **kwargs: Any) -> FlagHolder:
    return _define(IntegerParser(lower_bound, upper_bound), name, default, help, flag_values,
                   short_name=kwargs.get("short_name"))


def DEFINE_float(name: str, default: float | None, help: str | None, lower_bound: float | None = None,
                 upper_bound: float | None = None, flag_values: FlagValues | None = None, **kwargs: Any) -> FlagHolder:
    return _define(FloatParser(lower_bound, upper_bound), name, default, help, flag_values,
                   short_name=kwargs.get("short_name"))


def DEFINE_boolean(name: str, default: bool | str | None, help: str | None, flag_values: FlagValues | None = None,
                   **kwargs: Any) -> FlagHolder:
    return _define(BooleanParser(), name, default, help, flag_values, short_name=kwargs.get("short_name"))


DEFINE_bool = DEFINE_boolean


def DEFINE_enum(name: str, default: str | None, enum_values: Iterable[str], help: str | None,
                flag_values: FlagValues | None = None, **kwargs: Any) -> FlagHolder:
    return _define(EnumParser(list(enum_values)), name, default, help, flag_values,
                   short_name=kwargs.get("short_name"))


def DEFINE_list(name: str, default: Any, help: str | None, flag_values: FlagValues | None = None,
                **kwargs: Any) -> FlagHolder:
    return _define(ListParser(), name, default, help, flag_values, short_name=kwargs.get("short_name"))


def DEFINE_multi_string(name: str, default: Any, help: str | None, flag_values: FlagValues | None = None,
                        **kwargs: Any) -> FlagHolder:
    return _define(StringParser(), name, default, help, flag_values, multi=True)


def DEFINE_multi_integer(name: str, default: Any, help: str | None, lower_bound: int | None = None,
                         upper_bound: int | None = None, flag_values: FlagValues | None = None,
                         **kwargs: Any) -> FlagHolder:
    return _define(IntegerParser(lower_bound, upper_bound), name, default, help, flag_values, multi=True)


def DEFINE_multi_float(name: str, default: Any, help: str | None, lower_bound: float | None = None,
                       upper_bound: float | None = None, flag_values: FlagValues | None = None,
                       **kwargs: Any) -> FlagHolder:
    return _define(FloatParser(lower_bound, upper_bound), name, default, help, flag_values, multi=True)


def register_validator(flag_name: str, checker: Callable[[Any], bool], message: str = "Flag validation failed",
                       flag_values: FlagValues | None = None) -> None:
    """``checker(value)`` must return True for every value the flag takes, else IllegalFlagValueError."""
    (flag_values if flag_values is not None else FLAGS)._add_validator([flag_name], checker, message)


def validator(flag_name: str, message: str = "Flag validation failed", flag_values: FlagValues | None = None):
    def decorate(checker: Callable[[Any], bool]) -> Callable[[Any], bool]:
        register_validator(flag_name, checker, message, flag_values)
        return checker
    return decorate


def mark_flag_as_required(flag_name: str, flag_values: FlagValues | None = None) -> None:
    """Parsing fails unless the flag ends up with a value other than None."""
    register_validator(flag_name, lambda value: value is not None,
                       f"Flag --{flag_name} must have a value other than None.", flag_values)


def mark_flags_as_required(flag_names: Iterable[str], flag_values: FlagValues | None = None) -> None:
    for name in flag_names:
        mark_flag_as_required(name, flag_values)


def DEFINE_enum_class(name: str, default: Any, enum_class: type[enum.Enum], help: str | None,
                      flag_values: FlagValues | None = None, module_name: str | None = None,
                      case_sensitive: bool = False, **kwargs: Any) -> FlagHolder:
    """A flag whose value is a member of ``enum_class``, given by name (any case unless case_sensitive)."""
    flag = EnumClassFlag(name, default, help, enum_class, short_name=kwargs.get("short_name"),
                         case_sensitive=case_sensitive)
    return _register(flag, flag_values, module_name or _caller_module(2))


def DEFINE_multi_enum(name: str, default: Any, enum_values: Iterable[str], help: str | None,
                      flag_values: FlagValues | None = None, case_sensitive: bool = True,
                      **kwargs: Any) -> FlagHolder:
    return _define(EnumParser(list(enum_values)), name, default, help, flag_values, multi=True)


def DEFINE_multi_enum_class(name: str, default: Any, enum_class: type[enum.Enum], help: str | None,
                            flag_values: FlagValues | None = None, module_name: str | None = None,
                            case_sensitive: bool = False, **kwargs: Any) -> FlagHolder:
    flag = MultiEnumClassFlag(name, default, help, enum_class, case_sensitive=case_sensitive)
    return _register(flag, flag_values, module_name or _caller_module(2))


def DEFINE_spaceseplist(name: str, default: Any, help: str | None, comma_compat: bool = False,
                        flag_values: FlagValues | None = None, **kwargs: Any) -> FlagHolder:
    """A list given as one whitespace-separated argument (commas separate too with comma_compat)."""
    return _define(WhitespaceSeparatedListParser(comma_compat), name, default, help, flag_values,
                   serializer=ListSerializer(" "))


def DEFINE(parser: Parser, name: str, default: Any, help: str | None, flag_values: FlagValues | None = None,
           serializer: ArgumentSerializer | None = None, module_name: str | None = None,
           **kwargs: Any) -> FlagHolder:
    """A flag parsed by any ArgumentParser."""
    flag = Flag(parser, serializer, name, default, help, kwargs.get("short_name"))
    return _register(flag, flag_values, module_name or _caller_module(2))


def DEFINE_multi(parser: Parser, serializer: ArgumentSerializer | None, name: str, default: Any,
                 help: str | None, flag_values: FlagValues | None = None, module_name: str | None = None,
                 **kwargs: Any) -> FlagHolder:
    flag = MultiFlag(parser, serializer, name, default, help, kwargs.get("short_name"))
    return _register(flag, flag_values, module_name or _caller_module(2))


def DEFINE_flag(flag: Flag, flag_values: FlagValues | None = None, module_name: str | None = None,
                **kwargs: Any) -> FlagHolder:
    """Registers a Flag object made by hand."""
    return _register(flag, flag_values, module_name or _caller_module(2))


def DEFINE_alias(name: str, original_name: str, flag_values: FlagValues | None = None,
                 module_name: str | None = None) -> FlagHolder:
    """``--name`` sets (and FLAGS.name reads) the flag ``original_name``."""
    values = _values(flag_values)
    if original_name not in values:
        raise UnrecognizedFlagError(f"Unknown command line flag '{original_name}'")
    values._define(values[original_name], module_name or _caller_module(2), name=name)
    return FlagHolder(values, values[original_name])


def register_multi_flags_validator(flag_names: Iterable[str], multi_flags_checker: Callable[[dict[str, Any]], bool],
                                   message: str = "Flags validation failed",
                                   flag_values: FlagValues | None = None) -> None:
    """``checker({name: value})`` must return True whenever one of the flags changes."""
    _values(flag_values)._add_validator([_name_of(n) for n in flag_names], multi_flags_checker, message,
                                        multi=True)


def multi_flags_validator(flag_names: Iterable[str], message: str = "Flag validation failed",
                          flag_values: FlagValues | None = None):
    def decorate(checker: Callable[[dict[str, Any]], bool]) -> Callable[[dict[str, Any]], bool]:
        register_multi_flags_validator(flag_names, checker, message, flag_values)
        return checker
    return decorate


def _name_of(flag: Any) -> str:
    return flag.name if isinstance(flag, FlagHolder) else flag


def mark_flags_as_mutual_exclusive(flag_names: Iterable[Any], required: bool = False,
                                   flag_values: FlagValues | None = None) -> None:
    """At most one (exactly one if ``required``) of the flags may have a value other than None."""
    names = [_name_of(n) for n in flag_names]
    quantifier = "Exactly" if required else "At most"
    message = f"{quantifier} one of ({', '.join(names)}) must have a value other than None."

    def check(values: dict[str, Any]) -> bool:
        count = sum(value is not None for value in values.values())
        return count == 1 if required else count <= 1
    register_multi_flags_validator(names, check, message, flag_values)


def mark_bool_flags_as_mutual_exclusive(flag_names: Iterable[Any], required: bool = False,
                                        flag_values: FlagValues | None = None) -> None:
    """At most one (exactly one if ``required``) of the boolean flags may be True."""
    names = [_name_of(n) for n in flag_names]
    values = _values(flag_values)
    for name in names:
        if name in values and not values[name].boolean:
            raise ValidationError(f"Flag --{name} is not Boolean, which is required for flags used in "
                             "mark_bool_flags_as_mutual_exclusive.")
    quantifier = "Exactly" if required else "At most"
    message = f"{quantifier} one of ({', '.join(names)}) must be True."

    def check(flags: dict[str, Any]) -> bool:
        count = sum(bool(value) for value in flags.values())
        return count == 1 if required else count <= 1
    register_multi_flags_validator(names, check, message, flag_values)


def set_default(flag_holder: FlagHolder, value: Any) -> None:
    """A new default: it becomes the value unless the flag was set."""
    flag_holder._flagvalues.set_default(flag_holder.name, value)


def override_value(flag_holder: FlagHolder, value: Any) -> None:
    """Sets the value (one the flag's parser accepts unchanged) as ``FLAGS.name = value`` does; validators run."""
    values = flag_holder._flagvalues
    parsed = values[flag_holder.name]._parse_value(value)
    if parsed != value:
        raise IllegalFlagValueError(f"flag {flag_holder.name}: parsed value {parsed!r} not equal to original "
                                    f"{value!r}")
    setattr(values, flag_holder.name, value)


def declare_key_flag(flag_name: Any, flag_values: FlagValues | None = None) -> None:
    """Accepted: key flags only group the --helpshort listing."""
    name = _name_of(flag_name)
    if name not in _values(flag_values) and name not in ("flagfile", "undefok"):
        raise ValueError(f"Flag --{name} is undefined. To set a flag as a key flag first define it in Python.")


def adopt_module_key_flags(module: Any, flag_values: FlagValues | None = None) -> None:
    """Accepted: key flags only group the --helpshort listing."""


def disclaim_key_flags() -> None:
    """Accepted: key flags only group the --helpshort listing."""
