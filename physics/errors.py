"""Input validation: every bad input raises :class:`InputError` naming the parameter and its allowed range.

The CLI turns an InputError into a one-line message and a non-zero exit; the dashboard shows it next to
the control. Nothing else in ``physics/`` should raise bare ValueErrors for user input.
"""

from __future__ import annotations

import math
from typing import Any


class InputError(ValueError):
    """A user-supplied value is outside its allowed range.

    Attributes
    ----------
    parameter: the name of the offending parameter (as the user knows it, e.g. ``m_a``).
    allowed: a human-readable description of the allowed range.
    value: the value received.
    """

    def __init__(self, parameter: str, allowed: str, value: Any = None, detail: str | None = None):
        self.parameter = parameter
        self.allowed = allowed
        self.value = value
        msg = f"invalid {parameter}={value!r}: allowed {allowed}"
        if detail:
            msg += f" ({detail})"
        super().__init__(msg)


def _as_float(name: str, value: Any, allowed: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InputError(name, allowed, value, "not a number") from None
    if not math.isfinite(x):
        raise InputError(name, allowed, value, "must be finite")
    return x


def finite(name: str, value: Any) -> float:
    """Return ``value`` as float, requiring it to be a finite number."""
    return _as_float(name, value, "a finite number")


def positive(name: str, value: Any, unit: str = "") -> float:
    """Require a finite number > 0."""
    allowed = f"> 0{(' ' + unit) if unit else ''}"
    x = _as_float(name, value, allowed)
    if x <= 0.0:
        raise InputError(name, allowed, value)
    return x


def non_negative(name: str, value: Any, unit: str = "") -> float:
    """Require a finite number >= 0."""
    allowed = f">= 0{(' ' + unit) if unit else ''}"
    x = _as_float(name, value, allowed)
    if x < 0.0:
        raise InputError(name, allowed, value)
    return x


def in_range(name: str, value: Any, lo: float, hi: float, unit: str = "",
             lo_open: bool = False, hi_open: bool = False) -> float:
    """Require lo <= value <= hi (or open ends as flagged)."""
    left = "(" if lo_open else "["
    right = ")" if hi_open else "]"
    allowed = f"in {left}{lo:g}, {hi:g}{right}{(' ' + unit) if unit else ''}"
    x = _as_float(name, value, allowed)
    if (x < lo or x > hi) or (lo_open and x == lo) or (hi_open and x == hi):
        raise InputError(name, allowed, value)
    return x


def one_of(name: str, value: Any, choices) -> Any:
    """Require ``value`` to be one of ``choices``."""
    choices = list(choices)
    if value not in choices:
        raise InputError(name, "one of " + ", ".join(map(str, choices)), value)
    return value
