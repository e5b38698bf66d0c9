"""Input validation: every bad input raises :class:`InputError` naming the parameter and its allowed range.

The CLI turns an InputError into a one-line message and exit status 2; the dashboard shows it next to
the control. Nothing else in ``physics/`` should raise bare ValueErrors for user input. The allowed
ranges themselves live in one table, :mod:`physics.limits`.

An InputError is safe to show and to move between processes:

* its message is a single line of at most :data:`MAX_MESSAGE_CHARS` characters: echoed values are
  ``repr``'d, control characters (newlines, escape sequences, bidirectional overrides) are replaced by
  ``\\xNN``/``\\uNNNN`` escapes, and long parts are shortened with an ellipsis;
* it pickles and unpickles intact (``ProcessPoolExecutor`` workers, Dask), whatever the value it echoes:
  a value that is not plain data travels as its (shortened) repr.
"""

from __future__ import annotations

import math
import unicodedata
from typing import Any

#: Longest message of an InputError (the CLI prefixes "error: ", giving at most ~200 characters a line).
MAX_MESSAGE_CHARS = 192
#: Longest echo of a value, of a parameter name and of a detail inside a message.
MAX_VALUE_CHARS = 60
MAX_PARAMETER_CHARS = 48
MAX_DETAIL_CHARS = 70
ELLIPSIS = "…"


def one_line(text: Any, limit: int | None = None) -> str:
    """``str(text)`` on one line: control/format characters escaped, shortened to ``limit`` with an ellipsis."""
    s = str(text)
    out = []
    for ch in s:
        cat = unicodedata.category(ch)
        if cat[0] == "C" or cat in ("Zl", "Zp"):   # Cc, Cf (bidi overrides), Cs, Co, Cn; line/para separators
            o = ord(ch)
            out.append(f"\\x{o:02x}" if o < 0x100 else (f"\\u{o:04x}" if o < 0x10000 else f"\\U{o:08x}"))
        else:
            out.append(ch)
    s = "".join(out)
    if limit is not None and len(s) > limit:
        s = s[: max(0, limit - 1)] + ELLIPSIS
    return s


def short_repr(value: Any, limit: int = MAX_VALUE_CHARS) -> str:
    """A one-line repr of ``value`` of at most ``limit`` characters (never raises)."""
    try:
        if isinstance(value, str) and len(value) > 4 * limit:
            value = value[: 4 * limit]           # do not build a megabyte repr to cut it down
        text = repr(value)
    except Exception as exc:  # a hostile __repr__ must not hide the real error
        text = f"<{type(value).__name__} (repr failed: {type(exc).__name__})>"
    return one_line(" ".join(text.split()) if "\n" in text else text, limit)


def format_message(parameter: Any, allowed: Any, value: Any = None, detail: Any = None) -> str:
    """``invalid <parameter>=<repr(value)>: allowed <allowed> (<detail>)`` on one line, at most
    :data:`MAX_MESSAGE_CHARS` characters (the detail, then the allowed text, are shortened first)."""
    p = one_line(parameter, MAX_PARAMETER_CHARS)
    v = short_repr(value)
    a = one_line(allowed)
    d = one_line(detail, MAX_DETAIL_CHARS) if detail else ""
    head = f"invalid {p}={v}: allowed "
    room = MAX_MESSAGE_CHARS - len(head)
    if d and len(a) + len(d) + 3 > room:
        d = one_line(d, max(12, room - len(a) - 3)) if room - len(a) - 3 >= 12 else ""
    tail = f" ({d})" if d else ""
    a = one_line(a, max(8, room - len(tail)))
    return one_line(head + a + tail, MAX_MESSAGE_CHARS)


def _portable(value: Any) -> Any:
    """``value`` if it is plain data that pickles everywhere, else its short repr (for pickling)."""
    plain = (type(None), bool, int, float, complex, str, bytes)
    if isinstance(value, plain):
        return value if not isinstance(value, (str, bytes)) or len(value) <= 4 * MAX_VALUE_CHARS \
            else value[: 4 * MAX_VALUE_CHARS]
    if isinstance(value, (list, tuple)) and len(value) <= 16 and all(isinstance(v, plain) for v in value):
        return type(value)(_portable(v) for v in value)
    return short_repr(value)


def _rebuild(cls, parameter, allowed, value, detail, message):
    """Unpickle an InputError (or subclass) without calling a subclass's ``__init__``."""
    exc = cls.__new__(cls)
    Exception.__init__(exc, message)
    exc.parameter, exc.allowed, exc.value, exc.detail = parameter, allowed, value, detail
    return exc


class InputError(ValueError):
    """A user-supplied value is outside its allowed range.

    Attributes
    ----------
    parameter: the name of the offending parameter (as the user knows it, e.g. ``m_a``).
    allowed: a human-readable description of the allowed range.
    value: the value received.
    detail: optional short explanation.
    """

    def __init__(self, parameter: str, allowed: str, value: Any = None, detail: str | None = None):
        self.parameter = parameter
        self.allowed = allowed
        self.value = value
        self.detail = detail
        super().__init__(format_message(parameter, allowed, value, detail))

    def __reduce__(self):
        return (_rebuild, (type(self), one_line(self.parameter), one_line(self.allowed), _portable(self.value),
                           None if self.detail is None else one_line(self.detail), str(self)))


def _as_float(name: str, value: Any, allowed: str) -> float:
    # a bool is not a number here (True would silently become 1), nor is text: text is parsed at the edge
    # (physics.limits.parse), so a string reaching the physics is a bug of the caller, refused here.
    if isinstance(value, (bool, str, bytes)) or value is None:
        raise InputError(name, allowed, value, "not a number")
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
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
    try:
        ok = value in choices
    except Exception:  # e.g. an unhashable/array value compared with strings
        ok = False
    if not ok:
        raise InputError(name, "one of " + ", ".join(map(str, choices)), value)
    return value


__all__ = ["InputError", "finite", "positive", "non_negative", "in_range", "one_of", "one_line", "short_repr",
           "format_message", "MAX_MESSAGE_CHARS"]
