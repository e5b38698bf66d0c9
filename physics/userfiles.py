"""Reading user TOML/JSON files (experiments, materials) safely: every problem is one InputError.

:func:`read_mapping` refuses, each with a one-line :class:`physics.errors.InputError`: a path that is not a
regular file (missing, a directory, a device), an unreadable file (permissions), a file larger than
:data:`physics.limits.MAX_FILE_BYTES`, text that is not UTF-8, invalid TOML/JSON, JSON ``NaN``/``Infinity``
literals, nesting deeper than :data:`physics.limits.MAX_NESTING_DEPTH` (TOML: arrays, inline tables and
dotted keys, scanned lexically before parsing; JSON: the parser's RecursionError; both: the parsed data,
iteratively) and a top level that is not a table/object.
:func:`check_keys` refuses unknown keys and names the allowed ones. Values are checked by the callers
against :mod:`physics.limits` (strictly: a number in quotes is text, not a number).

Format: ``.toml`` files are TOML, anything else JSON.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tomllib
from pathlib import Path
from typing import Any, Callable

from physics import limits
from physics.errors import InputError


_TOML_SPECIAL = re.compile(r"[#\"']")
_TOML_TOKEN = re.compile(r"[A-Za-z0-9_-]+|\.|[ \t]+|[\[{]|[\]}]|[^A-Za-z0-9_.\[\]{} \t-]+")


def _toml_skeleton(text: str) -> str:
    """``text`` with comments removed and every string replaced by ``s`` (linear time, no parsing)."""
    out, i, n = [], 0, len(text)
    while i < n:
        m = _TOML_SPECIAL.search(text, i)
        if m is None:
            out.append(text[i:])
            break
        j = m.start()
        out.append(text[i:j])
        c = text[j]
        if c == "#":
            k = text.find("\n", j)
            i = n if k < 0 else k
            continue
        if text.startswith(c * 3, j):                     # multi-line string
            k = j + 3
            while True:
                k = text.find(c * 3, k)
                if k < 0:
                    k = n
                    break
                if c == '"' and _escaped(text, k):
                    k += 1
                    continue
                k += 3
                while k < n and text[k] == c:             # up to two quotes may close the content
                    k += 1
                break
        else:                                             # one-line string
            k = j + 1
            while k < n and text[k] != c and text[k] != "\n":
                k += 2 if (c == '"' and text[k] == "\\") else 1
            k += 1
        out.append("s")
        i = k
    return "".join(out)


def _escaped(text: str, k: int) -> bool:
    """True if text[k] is preceded by an odd number of backslashes."""
    b = 0
    while k - b - 1 >= 0 and text[k - b - 1] == "\\":
        b += 1
    return b % 2 == 1


def toml_structure_ok(text: str, max_depth: int = limits.MAX_NESTING_DEPTH) -> bool:
    """False if TOML ``text`` nests arrays/inline tables or dotted keys deeper than ``max_depth``.

    Checked lexically *before* parsing: tomllib recurses on nesting and keeps every prefix of a dotted key,
    so 10⁵ dotted parts (200 kB of text) take tens of GB; this scan is linear in the text."""
    depth, parts, dot = 0, 0, False
    for tok in _TOML_TOKEN.finditer(_toml_skeleton(text)):
        t = tok.group()
        c = t[0]
        if c in "[{":
            depth += len(t)
            if depth > max_depth:
                return False
            parts, dot = 0, False
        elif c in "]}":
            depth -= len(t)
            parts, dot = 0, False
        elif c == ".":
            dot = parts > 0
        elif c in " \t":
            continue
        elif c.isalnum() or c in "_-":
            parts = parts + 1 if dot else 1
            dot = False
            if parts > max_depth:
                return False
        else:
            parts, dot = 0, False
    return True


def _json_constant(name: str):
    raise ValueError(f"{name} is not allowed (numbers must be finite)")


def nesting_depth(data: Any, stop: int = limits.MAX_NESTING_DEPTH + 1) -> int:
    """Depth of nested dicts/lists (a scalar is 0, ``{}`` is 1), found iteratively; stops counting at ``stop``."""
    deepest = 0
    stack = [(data, 1)]
    while stack:
        obj, depth = stack.pop()
        if isinstance(obj, dict):
            children = obj.values()
        elif isinstance(obj, list):
            children = obj
        else:
            continue
        deepest = max(deepest, depth)
        if deepest >= stop:
            return deepest
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return deepest


def read_mapping(path: str | os.PathLike, what: str) -> dict:
    """The top-level table of the TOML/JSON file ``path`` (``what`` names it in errors, e.g. "experiment file")."""
    shown = os.fspath(path) if isinstance(path, (str, os.PathLike)) else path
    allowed = "a readable TOML/JSON file"
    if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
        raise InputError(what, allowed, shown, "not a path")
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise InputError(what, "an existing TOML/JSON file", shown, "no such file") from None
    except (OSError, ValueError) as exc:          # permission denied on a parent, name too long, NUL byte
        raise InputError(what, allowed, shown, type(exc).__name__) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(what, allowed, shown, "a directory, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(what, allowed, shown, "not a regular file")
    if st.st_size > limits.MAX_FILE_BYTES:
        raise InputError(what, f"a file of at most {limits.MAX_FILE_BYTES} bytes", shown, f"{st.st_size} bytes")
    try:
        with open(p, "rb") as fh:
            raw = fh.read(limits.MAX_FILE_BYTES + 1)
    except PermissionError:
        raise InputError(what, allowed, shown, "permission denied") from None
    except OSError as exc:
        raise InputError(what, allowed, shown, f"{type(exc).__name__}: {exc.strerror or exc}") from None
    if len(raw) > limits.MAX_FILE_BYTES:             # grew while we looked
        raise InputError(what, f"a file of at most {limits.MAX_FILE_BYTES} bytes", shown, "too large")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(what, "UTF-8 text", shown, f"invalid byte at position {exc.start}") from None
    is_toml = p.suffix.lower() == ".toml"
    fmt = "TOML" if is_toml else "JSON"
    if is_toml and not toml_structure_ok(text):
        raise InputError(what, f"nesting depth at most {limits.MAX_NESTING_DEPTH}", shown,
                         "nested too deeply (arrays, tables or dotted keys)")
    try:
        if is_toml:
            data = tomllib.loads(text)
        else:
            data = json.loads(text, parse_constant=_json_constant)
    except RecursionError:
        raise InputError(what, f"nesting depth at most {limits.MAX_NESTING_DEPTH}", shown,
                         "nested too deeply") from None
    except (ValueError, tomllib.TOMLDecodeError) as exc:  # JSONDecodeError, UnicodeError are ValueErrors
        raise InputError(what, f"valid {fmt}", shown, str(exc)) from None
    if not isinstance(data, dict):
        raise InputError(what, f"a {fmt} file whose top level is a table/object", shown,
                         f"top level is {type(data).__name__}")
    if nesting_depth(data) > limits.MAX_NESTING_DEPTH:
        raise InputError(what, f"nesting depth at most {limits.MAX_NESTING_DEPTH}", shown, "nested too deeply")
    return data


def check_keys(where: str, mapping: dict, allowed: set | list | tuple, required=()) -> None:
    """Refuse keys of ``mapping`` not in ``allowed`` (naming the allowed ones) and missing ``required`` keys."""
    names = sorted(allowed)
    unknown = [k for k in mapping if k not in allowed]
    if unknown:
        raise InputError(where, "keys " + ", ".join(names), sorted(map(str, unknown))[:5], "unknown key")
    missing = [k for k in required if k not in mapping]
    if missing:
        raise InputError(where, "keys " + ", ".join(names), sorted(mapping)[:5], "missing " + ", ".join(missing))


def table_of(where: str, value: Any, max_entries: int = limits.MAX_FILE_ENTRIES) -> dict:
    """``value`` if it is a table (dict) of at most ``max_entries`` entries."""
    if not isinstance(value, dict):
        raise InputError(where, "a table (TOML [section] / JSON object)", value, f"a {type(value).__name__}")
    if len(value) > max_entries:
        raise InputError(where, f"at most {max_entries} entries", f"{len(value)} entries")
    return value


def load_env_file(variable: str, state: dict, lock, load: Callable[[str, str], object]) -> None:
    """Load the user file named by the environment variable ``variable`` (e.g. ``$DAP_EXPERIMENTS``) once per
    file version (path, size, mtime): ``load(path, what)`` reads and registers it under ``lock``. A broken
    file raises the same one-line InputError (its parameter prefixed by ``variable``) on every call until the
    file changes. ``state`` ({"key", "error"}) remembers the last version seen and its error."""
    env = os.environ.get(variable)
    if not env:
        return
    try:
        st = Path(env).stat()
        key = (env, st.st_size, st.st_mtime_ns)
    except (OSError, ValueError):
        key = (env, None, None)
    with lock:
        if state["key"] == key:
            if state["error"] is not None:
                e = state["error"]
                raise InputError(e.parameter, e.allowed, e.value, e.detail)
            return
        try:
            load(env, f"{variable} file")
        except InputError as exc:
            if not str(exc.parameter).startswith(variable):  # say where the bad entry comes from
                exc = InputError(f"{variable} {exc.parameter}", exc.allowed, exc.value, exc.detail)
            state.update(key=key, error=exc)
            raise exc from None
        state.update(key=key, error=None)


__all__ = ["read_mapping", "check_keys", "table_of", "nesting_depth", "load_env_file"]
