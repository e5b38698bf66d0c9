"""Command-line interface frame: ``python -m physics <subcommand> [...] [--json]``.

Subcommands live in ``physics/cli/commands/<name>.py``; each module defines ``register(subparsers)`` which
adds a parser whose ``func`` default is a handler ``handler(args) -> dict``. Start-up is lazy: the static
map :data:`physics.cli.commands.COMMANDS` lets :func:`build_parser` import only the chosen subcommand's module
(the others appear in ``--help`` by name and help line only), and the modules import their heavy libraries
(scipy, vegas, the cache) inside the handlers that need them. The frame prints the dict as
JSON with ``--json``, or as readable text otherwise (a handler may set ``text`` to a function
``dict -> str``). Bad input (:class:`physics.errors.InputError`) gives a one-line error on stderr and exit
status 2; no traceback reaches the user.

Validation happens in layers that all use the one table :mod:`physics.limits`: argparse converts types
(one-line usage errors, exit 2); :func:`validate_args` then checks every numeric option by its name
(:data:`OPTION_LIMITS`: ``--beam-energy``, ``--m-gd``, ``--cutoff``, ``--background``, … of *every*
subcommand) and the length/characters of every text option, before any handler runs; the handlers and the
physics check what depends on several values (kinematics, files). Anything else that escapes a handler is
a bug: :func:`main` reports it as one line "internal error … (please report)" with exit status 1
(set ``DAP_TRACEBACK=1`` to see the traceback instead).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from typing import Callable

from physics import errors
from physics.cli import commands
from physics.cli.options import _jsonable, dumps


#: Numeric CLI options (argparse ``dest``) → the :data:`physics.limits.LIMITS` entry (and the parameter name
#: used in messages). Applies to every subcommand that has such an option.
OPTION_LIMITS: dict[str, tuple[str, str]] = {
    "beam_energy": ("beam_energy", "beam_energy"),
    "mass": ("mass", "mass"),
    "masses": ("mass", "masses"),
    "m_gd": ("m_gd", "m_gd"),
    "m_a": ("m_a", "m_a"),
    "m_chi": ("m_chi", "m_chi"),
    "g": ("g", "g"),
    "alpha_d": ("alpha_D", "alpha_D"),
    "x_min": ("x_min", "x_min"),
    "x_max": ("x_max", "x_max"),
    "eot": ("eot", "eot"),
    "background": ("background", "background"),
    "observed": ("observed", "observed"),
    "radiator_x0": ("thickness_x0", "radiator_x0"),
    "cutoff": ("cutoff", "cutoff"),
    "cutoffs": ("cutoff", "cutoff"),
    "edm_limit": ("edm_limit", "edm_limit"),
    "rel_error": ("rel_error", "rel_error"),
    "seed": ("seed", "seed"),
    "n_x_bins": ("n_x_bins", "n_x_bins"),
    "n_masses": ("n_masses", "n_masses"),
    "workers": ("workers", "workers"),
}
#: Longest text option (a path: PATH_MAX on Linux).
MAX_OPTION_CHARS = 4096


def validate_args(args: argparse.Namespace) -> None:
    """Range-check every numeric option of ``args`` against :data:`OPTION_LIMITS` and every text option's
    length and characters (InputError → exit 2). Options left at None are not checked."""
    from physics import limits

    for dest, value in sorted(vars(args).items()):
        if value is None or dest in ("func", "text", "command") or isinstance(value, bool):
            continue
        if dest in OPTION_LIMITS:
            key, name = OPTION_LIMITS[dest]
            if isinstance(value, (list, tuple)):
                limits.check_many(key, value, name)
            else:
                limits.check(key, value, name)
        elif isinstance(value, str):
            limits.check_text(dest, value, MAX_OPTION_CHARS)
        elif isinstance(value, (list, tuple)):
            if len(value) > limits.MAX_LIST_LENGTH:
                raise errors.InputError(dest, f"at most {limits.MAX_LIST_LENGTH} values", f"{len(value)} values")
            for v in value:
                if isinstance(v, str):
                    limits.check_text(dest, v, MAX_OPTION_CHARS)


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
        line = errors.one_line(f"error: {self.prog}: {message}", errors.MAX_MESSAGE_CHARS) + " (see --help)"
        self.exit(2, line + "\n")


class _VersionAction(argparse.Action):
    """``--version``: the installed distribution's version (package metadata), looked up only when asked."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from physics import __version__

        parser._print_message(f"{parser.prog} {__version__}\n", sys.stdout)
        parser.exit()


#: ``build_parser(command=ALL)``: every subcommand's full parser (imports every command module).
ALL = "<all>"


def chosen_command(argv: list[str]) -> str | None:
    """The subcommand named on the command line (the first argument that is not an option: the top-level
    parser has only flags), or None (no subcommand, or not a known one: argparse reports it)."""
    for arg in argv:
        if arg.startswith("-"):
            if arg == "--":
                return None
            continue
        return arg if arg in commands.COMMANDS else None
    return None


def build_parser(command: str | None = ALL) -> argparse.ArgumentParser:
    """The CLI parser. ``command``: a subcommand name → only its module is imported and registered in full,
    every other subcommand is a placeholder (name and help line, from :data:`physics.cli.commands.COMMANDS`);
    None → placeholders only (enough for the top-level ``--help``); :data:`ALL` (default) → every
    subcommand in full (introspection and tests)."""
    parser = OneLineErrorParser(
        prog="python -m physics",
        description="Dark axion portal explorer: cross sections, yields, reach, constraints and EDM bounds "
                    "for (g/2) a F F̃_D at electron fixed-target experiments. Units: GeV, GeV^-1, pb.",
    )
    parser.add_argument("--version", action=_VersionAction, help="show the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="<command>")
    if command == ALL:
        modules = sorted({mod for mod, _ in commands.COMMANDS.values()})
    else:
        modules = [commands.COMMANDS[command][0]] if command in commands.COMMANDS else []
    for name in modules:
        importlib.import_module(f"{commands.__name__}.{name}").register(sub)
    for name, (_mod, help_line) in sorted(commands.COMMANDS.items()):
        if name not in sub.choices:
            sub.add_parser(name, help=help_line, add_help=False)
    return parser


def _print_error(text: str) -> None:
    try:
        print(errors.one_line(text, errors.MAX_MESSAGE_CHARS + 8), file=sys.stderr)
        sys.stderr.flush()
    except (OSError, ValueError):  # stderr closed: nothing more we can do
        pass


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 2 bad input/usage, 1 internal error, 130 interrupted)."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        _print_error("error: interrupted")
        return 130
    except errors.InputError as exc:  # e.g. raised while building the parser
        _print_error(f"error: {exc}")
        return 2
    except Exception as exc:  # last resort: a bug, never a traceback for the user
        if os.environ.get("DAP_TRACEBACK"):
            raise
        what = errors.one_line(f"{type(exc).__name__}: {exc}", 100)
        _print_error(f"error: internal error: {what} (please report; DAP_TRACEBACK=1 shows the traceback)")
        return 1


def _main(argv: list[str] | None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    parser = build_parser(chosen_command(argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors (already printed, one line)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    handler: Callable = args.func
    try:
        validate_args(args)
        result = handler(args)
    except errors.InputError as exc:
        _print_error(f"error: {exc}")
        return 2
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
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
