"""Parameters that read as words: a word for every value (`SHELL`, `PORT`, `STATUS`) and limits in
words (`at least 1`, `1 to 64`), in help and in usage errors ("'x' is not a valid whole number"), never
`<int range>`, `x>=1` or "float"."""

from __future__ import annotations

from typing import Any


def readable(param: Any) -> None:
    """Give `param` (a Click parameter of a vbs command) its word and its limits in words."""
    import typer._click.types as click_types

    if param.param_type_name == "argument":
        if param.metavar is None:
            param.metavar = (param.name or "value").upper()
    elif param.param_type_name == "option" and not param.is_flag and not param.count and param.metavar is None:
        # A word, also for a choice (`--status STATUS`): `[a|b|...]` can be too long to read or to fit
        # beside the help on a terminal, so the help text names the choices.
        param.metavar = max(param.opts, key=len).lstrip("-").upper().replace("-", "_")
    if isinstance(param.type, click_types._NumberRangeBase) and not isinstance(param.type, _WordRange):
        param.type.__class__ = _WORD_RANGES[type(param.type)]
    elif type(param.type) in _WORD_NUMBERS:
        param.type = _WORD_NUMBERS[type(param.type)]()  # "'x' is not a valid number", not "... float"
    if isinstance(param.default, float) and param.default.is_integer():
        param.default = int(param.default)  # shown as 3600, not 3600.0; the type still converts it


class _WordRange:
    """Describes an IntRange or FloatRange as `at least 1`, `1 to 64`, `at most 10` (help text only)."""

    min: Any
    max: Any
    min_open: bool
    max_open: bool

    def _describe_range(self) -> str:
        def show(value: Any) -> str:
            return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)

        low = None if self.min is None else ("more than " if self.min_open else "") + show(self.min)
        high = None if self.max is None else ("less than " if self.max_open else "") + show(self.max)
        if low is not None and high is not None:
            return f"{low} to {high}" if not (self.min_open or self.max_open) else f"{low}, {high}"
        if low is not None:
            return low if self.min_open else f"at least {low}"
        return high if self.max_open else f"at most {high}"


def _word_ranges() -> dict[type, type]:
    import typer._click.types as click_types

    # `name` is what a bad value is said not to be: "'x' is not a valid whole number", not "int range".
    return {
        click_types.IntRange: type("IntRange", (_WordRange, click_types.IntRange), {"name": "whole number"}),
        click_types.FloatRange: type("FloatRange", (_WordRange, click_types.FloatRange), {"name": "number"}),
    }


def _word_numbers() -> dict[type, type]:
    import typer._click.types as click_types

    return {
        click_types.IntParamType: type("Int", (click_types.IntParamType,), {"name": "whole number"}),
        click_types.FloatParamType: type("Float", (click_types.FloatParamType,), {"name": "number"}),
    }


_WORD_RANGES = _word_ranges()
_WORD_NUMBERS = _word_numbers()
