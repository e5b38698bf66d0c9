"""Every command line in README.md runs (so the documentation cannot rot), and the Python API example prints
what the README says it prints.

Command lines are the README's indented code lines and its fenced code blocks. Each one is classified; a
line that fits no class fails the test, so a new command cannot be added unchecked:

* ``python -m physics …`` / ``.venv/bin/python -m physics …``: run (this interpreter, a directory outside the
  repository, one private ``DAP_CACHE_DIR`` for the whole README), must exit 0. Optional parts in ``[...]``
  are left out. Exception, :data:`PARSE_ONLY`: ``precompute`` computes a full ETL table (minutes), so its
  line is parsed and range-checked by the CLI's own parser and validator, not run.
* ``make <target> …``: ``make -n`` (dry run: the target exists and expands; optional ``[VAR=…]`` included).
  They start a server, the whole test suite, the benchmarks or a precomputation.
* ``python -m benchmarks [names]``: runs every benchmark (minutes); checked: each named benchmark exists.
* ``… panel serve app.py …`` (the hand-started server): started on a free port, must serve the dashboard page
  (/app with its title) within :data:`SERVER_TIMEOUT_S`, then stopped.
* the ``toml`` block: an experiment file, loaded by ``python -m physics experiments --file``.
* the ``python`` block of "Python API": run, its output compared with the ``text`` block after it.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
#: Subcommands whose README line is parsed and validated only (with the reason).
PARSE_ONLY = {"precompute": "computes a whole ETL σ_V table with VEGAS (minutes)"}
COMMAND_TIMEOUT_S = 180
SERVER_TIMEOUT_S = 90


# ------------------------------------------------------------------------------------------ extraction
def readme_blocks(text: str) -> tuple[list[str], list[tuple[str, str]]]:
    """(indented command lines with ``\\`` continuations joined, [(language, fenced block text)])."""
    lines, fenced = [], []
    in_fence, lang, buf = False, "", []
    pending = ""
    for raw in text.splitlines():
        if raw.startswith("```"):
            if in_fence:
                fenced.append((lang, "\n".join(buf)))
                in_fence, buf = False, []
            else:
                in_fence, lang = True, raw[3:].strip()
            continue
        if in_fence:
            buf.append(raw)
            continue
        if raw.startswith("    ") and raw.strip() and not raw.lstrip().startswith(("-", "*")):
            part = raw.strip()
            if part.endswith("\\"):
                pending += part[:-1].rstrip() + " "
                continue
            lines.append(pending + part)
            pending = ""
        elif pending:
            lines.append(pending.strip())
            pending = ""
    return lines, fenced


def _strip_comment(line: str) -> str:
    return re.sub(r"\s+#\s.*$", "", line).strip()


def _without_optional(line: str) -> str:
    """The minimal form: ``[...]`` groups (optional arguments of a synopsis) removed."""
    return " ".join(re.sub(r"\[[^\[\]]*\]", " ", line).split())


def _with_optional(line: str) -> str:
    """The maximal form: ``[...]`` brackets dropped, their content kept."""
    return " ".join(line.replace("[", " ").replace("]", " ").split())


def _with_alternatives(lines: list[str]) -> list[str]:
    """The lines plus the commands their comments offer as alternatives (``make bench   # or: python -m …``)."""
    out = []
    for ln in lines:
        out.append(ln)
        m = re.search(r"\s#\s*or:\s*(.+)$", ln)
        if m:
            out.append(m.group(1).strip())
    return out


_INDENTED, FENCED = readme_blocks(README.read_text(encoding="utf-8"))
LINES = _with_alternatives(_INDENTED)


def _classify(line: str) -> str:
    words = shlex.split(_strip_comment(line))
    if words[:1] == ["make"]:
        return "make"
    if words[:3] in (["python", "-m", "physics"], [".venv/bin/python", "-m", "physics"]):
        return "physics"
    if words[:3] in (["python", "-m", "benchmarks"], [".venv/bin/python", "-m", "benchmarks"]):
        return "benchmarks"
    if "panel" in words and "serve" in words:
        return "server"
    return "unknown"


def _ids(lines):
    return [re.sub(r"\s+", " ", ln)[:70] for ln in lines]


def test_readme_has_command_lines():
    kinds = {_classify(ln) for ln in LINES}
    assert {"make", "physics", "server"} <= kinds
    assert any(lang == "python" for lang, _ in FENCED)


@pytest.mark.parametrize("line", LINES, ids=_ids(LINES))
def test_every_indented_line_is_a_known_kind_of_command(line):
    assert _classify(line) != "unknown", f"README line not checked by tests/test_readme.py: {line!r}"


# ------------------------------------------------------------------------------------------- running
@pytest.fixture(scope="module")
def private_env(tmp_path_factory):
    """Environment of README commands: a private cache, no user experiment/material files, this venv first
    on PATH (so `python` and `panel` are this environment's)."""
    work = tmp_path_factory.mktemp("readme")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAP_")}
    env["DAP_CACHE_DIR"] = str(work / "cache")
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env, work


def _physics_argv(line: str) -> list[str]:
    words = shlex.split(_without_optional(_strip_comment(line)))
    return words[3:]


PHYSICS_LINES = [ln for ln in LINES if _classify(ln) == "physics"]


@pytest.mark.parametrize("line", PHYSICS_LINES, ids=_ids(PHYSICS_LINES))
def test_physics_command_line_runs(line, private_env):
    env, work = private_env
    argv = _physics_argv(line)
    if argv and argv[0] in PARSE_ONLY:
        from physics import cli

        args = cli.build_parser(argv[0]).parse_args(argv)   # usage errors exit (SystemExit) → test fails
        cli.validate_args(args)
        return
    t0 = time.monotonic()
    res = subprocess.run([sys.executable, "-m", "physics", *argv], capture_output=True, text=True, cwd=work,
                         env=env, timeout=COMMAND_TIMEOUT_S)
    assert res.returncode == 0, f"{line}\nexit {res.returncode}: {res.stderr[-2000:]}"
    assert res.stdout.strip(), line
    if "--json" in argv:
        json.loads(res.stdout)
    assert "Traceback" not in res.stderr
    assert time.monotonic() - t0 < COMMAND_TIMEOUT_S


MAKE_LINES = [ln for ln in LINES if _classify(ln) == "make"]


@pytest.mark.parametrize("line", MAKE_LINES, ids=_ids(MAKE_LINES))
def test_make_line_dry_runs(line):
    """`make -n`: the target exists and its recipe expands (these start servers, the suite or long runs)."""
    words = shlex.split(_with_optional(_strip_comment(line)))
    res = subprocess.run(["make", "-n", *words[1:]], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, f"{line}\n{res.stderr[-2000:]}"
    assert res.stdout.strip()


BENCH_LINES = [ln for ln in LINES if _classify(ln) == "benchmarks"]


@pytest.mark.parametrize("line", BENCH_LINES, ids=_ids(BENCH_LINES))
def test_benchmark_names_exist(line):
    """`python -m benchmarks [names]` runs every benchmark (minutes): each name given must be a benchmark."""
    words = shlex.split(_with_optional(_strip_comment(line)))
    names = words[3:]
    have = {p.stem[len("bench_"):] for p in (ROOT / "benchmarks").glob("bench_*.py")}
    assert set(names) <= have, sorted(set(names) - have)


SERVER_LINES = [ln for ln in LINES if _classify(ln) == "server"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("line", SERVER_LINES, ids=_ids(SERVER_LINES))
def test_hand_started_server_serves_the_dashboard(line, private_env):
    env, work = private_env
    port = _free_port()
    cmd = _strip_comment(line).replace("5006", str(port))
    proc = subprocess.Popen(["sh", "-c", cmd], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)   # own group: stopped as one
    try:
        deadline = time.monotonic() + SERVER_TIMEOUT_S
        page = None
        while page is None:
            assert proc.poll() is None, f"{line}\nexited {proc.returncode}"
            assert time.monotonic() < deadline, f"no page after {SERVER_TIMEOUT_S} s: {line}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/app", timeout=30) as r:  # noqa: S310
                    page = r.read().decode("utf-8", "replace")
            except OSError:
                time.sleep(0.5)
        assert "<title>Dark Axion Portal Explorer</title>" in page   # the dashboard, not the "unsafe" notice
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# ------------------------------------------------------------------------------------- fenced blocks
def test_toml_experiment_example_loads(private_env):
    env, work = private_env
    (block,) = [text for lang, text in FENCED if lang == "toml"]
    path = work / "readme-experiment.toml"
    path.write_text(block + "\n")
    res = subprocess.run([sys.executable, "-m", "physics", "experiments", "--file", str(path), "--json"],
                         capture_output=True, text=True, cwd=work, env=env, timeout=COMMAND_TIMEOUT_S)
    assert res.returncode == 0, res.stderr
    ids = set(re.findall(r"^\[experiments\.([^\]]+)\]", block, flags=re.M))
    assert ids and ids <= set(json.loads(res.stdout))


def test_python_api_example_prints_what_the_readme_says(private_env):
    env, work = private_env
    langs = [lang for lang, _ in FENCED]
    i = langs.index("python")
    assert langs[i + 1] == "text", "the python example must be followed by its output (```text block)"
    code, expected = FENCED[i][1], FENCED[i + 1][1]
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=work, env=env,
                         timeout=COMMAND_TIMEOUT_S)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip() == expected.strip(), f"README output block should read:\n{res.stdout}"
