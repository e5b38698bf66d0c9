"""Command-line interface frame: ``python -m physics <subcommand> [...] [--json]``.

Subcommands live in ``physics/commands/<name>.py``; each module defines ``register(subparsers)`` which
adds a parser whose ``func`` default is a handler ``handler(args) -> dict``. The frame prints the dict as
JSON with ``--json``, or as readable text otherwise (a handler may set ``text`` to a function
``dict -> str``). Bad input (:class:`physics.errors.InputError`) gives a one-line error on stderr and exit
status 2; no traceback reaches the user.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import pkgutil
import sys
from typing import Callable

from . import __version__, commands, errors


def float_list(text: str) -> list[float]:
    """Parse a comma-separated list of floats (``0.001,0.01``) or ``lo:hi:n`` for n log-spaced values."""
    text = text.strip()
    if text.count(":") == 2:
        lo, hi, n = text.split(":")
        lo_f, hi_f, n_i = float(lo), float(hi), int(n)
        if lo_f <= 0 or hi_f <= 0 or n_i < 1:
            raise argparse.ArgumentTypeError("lo:hi:n needs lo, hi > 0 and n >= 1")
        if n_i == 1:
            return [lo_f]
        r = (hi_f / lo_f) ** (1.0 / (n_i - 1))
        return [lo_f * r ** i for i in range(n_i)]
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of numbers: {text!r}") from None


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


def _default_text(result) -> str:
    if isinstance(result, dict):
        width = max((len(str(k)) for k in result), default=0)
        lines = []
        for k, v in result.items():
            if isinstance(v, (dict, list)):
                v = json.dumps(_jsonable(v), ensure_ascii=False)
            lines.append(f"{str(k).ljust(width)}  {v}")
        return "\n".join(lines)
    return str(result)


class OneLineErrorParser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors are one line on stderr (exit 2), like InputError."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog}: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(
        prog="python -m physics",
        description="Dark axion portal explorer: cross sections, yields, reach, constraints and EDM bounds "
                    "for (g/2) a F F̃_D at electron fixed-target experiments. Units: GeV, GeV^-1, pb.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="<command>")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{commands.__name__}.{info.name}")
        if hasattr(mod, "register"):
            mod.register(sub)
    return parser




def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    handler: Callable = args.func
    try:
        result = handler(args)
    except errors.InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    if result is None:
        return 0
    try:
        if getattr(args, "json", False):
            print(dumps(result))
        else:
            text_fn = getattr(args, "text", None) or _default_text
            print(text_fn(result))
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. piped into `head`: not an error of ours
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
