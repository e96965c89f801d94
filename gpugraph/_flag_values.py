"""FlagValues (the registry that parses the command line) and FlagHolder (what DEFINE_* return)."""

from __future__ import annotations

import sys
from typing import Any, Callable, Iterable

from gpugraph._flag_types import BooleanParser, DuplicateFlagError, Error, Flag, FlagNameConflictsWithMethodError
from gpugraph._flag_types import IllegalFlagValueError, UnparsedFlagAccessError, UnrecognizedFlagError

_HELP_FLAGS = ("help", "helpshort", "helpfull", "?")
_TRUE = ("true", "t", "1")
_FALSE = ("false", "f", "0")


class FlagValues:
    """The registry of defined flags; ``FLAGS.name`` reads a value, ``FLAGS(argv)`` parses."""

    def __init__(self) -> None:
        object.__setattr__(self, "_flags", {})
        object.__setattr__(self, "_modules", {})  # flag name -> the module that defined it (for --help)
        object.__setattr__(self, "_validators", [])
        object.__setattr__(self, "_parsed", False)

    # --- definition ---
    def _define(self, flag: Flag, module: str, name: str | None = None) -> Flag:
        name = name or flag.name
        if name in _METHOD_NAMES:
            raise FlagNameConflictsWithMethodError(
                f'Cannot define a flag named "{name}". It conflicts with a method on class "FlagValues". To allow '
                f"defining it, use allow_using_method_names and access the flag value with FLAGS['{name}'].value. "
                f"FLAGS.{name} returns the method, not the flag value.")
        if name in self._flags:
            first = self._modules[name]
            raise DuplicateFlagError(
                f"The flag '{name}' is defined twice. First from {first}, second from {module}. "
                f"Description from first occurrence: {self._flags[name].help}")
        self._flags[name] = flag
        self._modules[name] = module
        return flag

    # --- access ---
    def __getattr__(self, name: str) -> Any:
        flags = self._flags
        if name not in flags:
            raise AttributeError(name)
        if not self._parsed:
            # TF1's wrapper: the first read parses sys.argv, leaving unknown flags alone
            self(sys.argv, known_only=True)
        return flags[name].value

    def __setattr__(self, name: str, value: Any) -> None:
        flag = self._flags.get(name)
        if flag is None:
            raise AttributeError(f"Unknown flag '{name}': define it with DEFINE_* before setting it")
        flag.value = value
        flag.using_default_value = False  # a later set_default leaves it; absl does not count it as present
        self._check_validators([name])

    def __getitem__(self, name: str) -> Flag:
        return self._flags[name]

    def __contains__(self, name: object) -> bool:
        return name in self._flags

    def __iter__(self):
        return iter(self._flags)

    def __len__(self) -> int:
        return len(self._flags)

    def __dir__(self) -> list[str]:
        return sorted(self._flags)

    def is_parsed(self) -> bool:
        return self._parsed

    def mark_as_parsed(self) -> None:
        object.__setattr__(self, "_parsed", True)

    def unparse_flags(self) -> None:
        """Every flag back to its default, and unparsed."""
        for flag in self._flags.values():
            flag.unparse()
        object.__setattr__(self, "_parsed", False)

    def flag_values_dict(self) -> dict[str, Any]:
        return {name: flag.value for name, flag in self._flags.items()}

    def get_flag_value(self, name: str, default: Any) -> Any:
        flag = self._flags.get(name)
        return flag.value if flag is not None else default

    def set_default(self, name: str, value: Any) -> None:
        self._flags[name].set_default(value)

    # --- parsing ---
    def __call__(self, argv: Iterable[str], known_only: bool = False) -> list[str]:
        """Parses ``argv`` (program name first); returns the program name and the arguments left over."""
        if isinstance(argv, str) or not list(argv):
            raise TypeError("argv must be a non-empty list of str, program name first")
        argv = list(argv)
        unknown, positional = self._parse(argv[1:], known_only)
        object.__setattr__(self, "_parsed", True)
        self._check_validators(list(self._flags))
        return argv[:1] + unknown + positional

    def _parse(self, args: list[str], known_only: bool) -> tuple[list[str], list[str]]:
        unknown: list[str] = []
        positional: list[str] = []
        seen: set[str] = set()
        i = 0
        while i < len(args):
            arg = args[i]
            i += 1
            if arg == "--":
                positional.extend(["--"] + args[i:] if known_only else args[i:])
                break
            if not arg.startswith("-") or arg == "-":
                positional.append(arg)
                continue
            body = arg[2:] if arg.startswith("--") else arg[1:]
            name, has_value, value = body.partition("=")
            if name in _HELP_FLAGS:
                print(self.help_text(), file=sys.stdout)
                sys.exit(1)
            flag = self._flags.get(name)
            if flag is not None and isinstance(flag.parser, BooleanParser):
                if has_value:
                    flag_value = _boolean(name, value)
                else:
                    flag_value = True
                self._assign(flag, flag_value, seen, raw=None)
                continue
            if flag is None and name.startswith("no") and not has_value:
                negated = self._flags.get(name[2:])
                if negated is not None and isinstance(negated.parser, BooleanParser):
                    self._assign(negated, False, seen, raw=None)
                    continue
            if flag is None:
                if known_only:
                    unknown.append(arg)
                    continue
                raise UnrecognizedFlagError(f"Unknown command line flag '{name}'")
            if not has_value:
                if i >= len(args):
                    raise Error(f"Missing value for flag {arg}")
                value = args[i]
                i += 1
            self._assign(flag, value, seen, raw=value)
        return unknown, positional

    @staticmethod
    def _assign(flag: Flag, value: Any, seen: set[str], raw: str | None) -> None:
        if raw is not None:
            value = flag.parse_argument(raw, first=flag.name not in seen)
        flag.value = value
        flag.present += 1
        seen.add(flag.name)

    # --- validators ---
    def _add_validator(self, names: list[str], check: Callable[..., bool], message: str,
                       multi: bool = False) -> None:
        for name in names:
            if name not in self._flags:
                raise KeyError(f"Flag --{name} does not exist: define it before adding a validator")
        self._validators.append((tuple(names), check, message, multi))

    def _check_validators(self, changed: list[str]) -> None:
        if not self._parsed:
            return
        for names, check, message, multi in self._validators:
            if not set(names) & set(changed):
                continue
            args = {n: self._flags[n].value for n in names} if multi else self._flags[names[0]].value
            if not check(args):
                if multi:
                    shown = "flags " + ", ".join(f"{n}={self._flags[n].value}" for n in names)
                else:
                    shown = f"flag --{names[0]}={self._flags[names[0]].value}"
                raise IllegalFlagValueError(f"{shown}: {message}")

    # --- help ---
    def help_text(self) -> str:
        """The usage and each flag's help, grouped by defining module, as absl prints them."""
        program = sys.argv[0].rsplit("/", 1)[-1] if sys.argv and sys.argv[0] else "program"
        lines = ["", f"       USAGE: {program} [flags]", "flags:"]
        modules: dict[str, list[str]] = {}
        for name, module in self._modules.items():
            modules.setdefault(module, []).append(name)
        for module in sorted(modules):
            lines += ["", f"{module}:"]
            for name in sorted(modules[module]):
                lines += self._flags[name].help_lines()
        lines += ["", "Try --helpfull to get a list of all flags."]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.help_text()


def _boolean(name: str, value: str) -> bool:
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise IllegalFlagValueError(f"flag --{name}={value}: ('Non-boolean argument to boolean flag', '{value}')")

_METHOD_NAMES = frozenset(n for n in dir(FlagValues) if not n.startswith("_"))


class FlagHolder:
    """What DEFINE_* return: ``.value`` reads the flag once the command line was parsed."""

    def __init__(self, flag_values: FlagValues, flag: Flag):
        self._flagvalues = flag_values
        self._name = flag.name

    @property
    def name(self) -> str:
        return self._name

    @property
    def value(self) -> Any:
        if not self._flagvalues.is_parsed():  # unlike FLAGS.name, a holder does not parse sys.argv
            raise UnparsedFlagAccessError(f"Trying to access flag --{self._name} before flags were parsed.")
        return getattr(self._flagvalues, self._name)

    @property
    def default(self) -> Any:
        return self._flagvalues[self._name].default

    @property
    def present(self) -> bool:
        return bool(self._flagvalues[self._name].present)

    def serialize(self) -> str:
        flag = self._flagvalues[self._name]
        return "" if flag.value is None else f"--{self._name}={flag.serializer.serialize(flag.value)}"

    def __repr__(self) -> str:
        return f"FlagHolder(name={self._name!r})"
