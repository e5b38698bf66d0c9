"""Argument helpers shared by the CLI frame and every subcommand: list parsing, the common flags, JSON output.

Kept apart from the frame (:mod:`physics.cli`) so that the subcommand modules (:mod:`physics.cli.commands`)
import these helpers without importing the frame that imports them (no cycle).
"""

from __future__ import annotations

import argparse
import json
import math

from physics import errors


def float_list(text: str) -> list[float]:
    """Parse a comma-separated list of floats (``0.001,0.01``) or ``lo:hi:n`` for n log-spaced values.

    At most :data:`physics.limits.MAX_LIST_LENGTH` values (checked before anything is allocated); the values
    themselves are range-checked later (:func:`validate_args`)."""
    from physics import limits

    text = text.strip()
    n_max = limits.MAX_LIST_LENGTH
    if len(text) > n_max * (limits.MAX_NUMBER_TEXT_CHARS + 1):
        raise argparse.ArgumentTypeError(f"at most {n_max} comma-separated numbers")
    if text.count(":") == 2:
        lo, hi, n = text.split(":")
        try:
            lo_f, hi_f, n_i = float(lo), float(hi), int(n)
        except ValueError:
            raise argparse.ArgumentTypeError("lo:hi:n needs two numbers and an integer n") from None
        if not (math.isfinite(lo_f) and math.isfinite(hi_f)) or lo_f <= 0 or hi_f <= 0 or not 1 <= n_i <= n_max:
            raise argparse.ArgumentTypeError(f"lo:hi:n needs finite lo, hi > 0 and 1 <= n <= {n_max}")
        if n_i == 1:
            return [lo_f]
        r = (hi_f / lo_f) ** (1.0 / (n_i - 1))
        return [lo_f * r ** i for i in range(n_i)]
    items = [x for x in text.split(",") if x.strip()]
    if len(items) > n_max:
        raise argparse.ArgumentTypeError(f"at most {n_max} comma-separated numbers (got {len(items)})")
    try:
        return [float(x) for x in items]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a comma-separated list of numbers: {errors.short_repr(text)}") from None



def add_common(parser: argparse.ArgumentParser) -> None:
    """Add the flags every subcommand accepts."""
    parser.add_argument("--json", action="store_true", help="machine-readable JSON on stdout")


def _jsonable(obj):
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if hasattr(obj, "tolist"):
        return _jsonable(obj.tolist())
    if hasattr(obj, "to_dict"):
        return _jsonable(obj.to_dict())
    return obj


def dumps(obj) -> str:
    """JSON with NaN/inf mapped to null and numpy types converted."""
    return json.dumps(_jsonable(obj), indent=2, ensure_ascii=False)
