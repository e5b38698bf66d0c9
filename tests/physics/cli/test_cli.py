"""The command-line frame, ``experiments`` and ``meson-br`` (issue: foundation)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from physics.cli import main


def run(args, capsys):
    rc = main(args)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_help_lists_subcommands():
    res = subprocess.run([sys.executable, "-m", "physics", "--help"], capture_output=True, text=True)
    assert res.returncode == 0
    for cmd in ("experiments", "meson-br"):
        assert cmd in res.stdout


def test_experiments_json(capsys):
    rc, out, _ = run(["experiments", "--json"], capsys)
    assert rc == 0
    data = json.loads(out)
    assert data["na64e-2023"]["eot"] == 9.37e11 and data["ldmx-phase2"]["target"] == "Al"


def test_meson_br_json(capsys):
    rc, out, _ = run(["meson-br", "--meson", "jpsi", "--m-gd", "0.1", "--m-a", "1e-6", "--g", "1e-3", "--json"],
                     capsys)
    assert rc == 0
    data = json.loads(out)
    # 0.70 g² × (1 − (0.1/3.097)²)^3 at g = 1e-3
    assert data["branching_ratio"] == pytest.approx(0.6975e-6 * (1 - (0.1 / 3.097) ** 2) ** 3, rel=2e-3)
    assert data["width_GeV"] == pytest.approx(data["branching_ratio"] * 0.093e-3, rel=1e-12)


@pytest.mark.parametrize("args,name", [
    (["--meson", "jpsi", "--m-gd", "-0.1"], "m_gd"),
    (["--meson", "jpsi", "--m-gd", "nan"], "m_gd"),
    (["--meson", "jpsi", "--m-gd", "0.1", "--m-a", "-1"], "m_a"),
    (["--meson", "jpsi", "--m-gd", "2", "--m-a", "1.5"], "m_a + m_gd"),
    (["--meson", "kaon", "--m-gd", "0.1"], "meson"),
])
def test_meson_br_bad_input(args, name, capsys):
    rc, out, err = run(["meson-br", *args, "--json"], capsys)
    assert rc == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and name in lines[0] and "allowed" in lines[0]


def test_unknown_experiment_subprocess():
    res = subprocess.run([sys.executable, "-m", "physics", "experiments", "--file", "/nonexistent.toml"],
                         capture_output=True, text=True)
    assert res.returncode == 2 and "experiment file" in res.stderr and "Traceback" not in res.stderr


# -- the frame: one line, exit 2 for bad input; a last-resort guard for bugs ---------------------------
def test_unexpected_exception_is_one_line_exit_1(capsys, monkeypatch):
    from physics.cli.commands import meson_br

    def broken(args):
        raise RuntimeError("boom\nsecond line " + "x" * 500)

    monkeypatch.setattr(meson_br, "_run", broken)
    monkeypatch.delenv("DAP_TRACEBACK", raising=False)
    rc, out, err = run(["meson-br", "--meson", "jpsi", "--m-gd", "0.1"], capsys)
    assert rc == 1 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and "internal error" in lines[0] and "please report" in lines[0]
    assert "RuntimeError" in lines[0] and len(lines[0]) <= 210
    monkeypatch.setenv("DAP_TRACEBACK", "1")
    with pytest.raises(RuntimeError):
        main(["meson-br", "--meson", "jpsi", "--m-gd", "0.1"])


@pytest.mark.parametrize("argv", [
    ["xsec", "--model", "dark-photon", "--method", "iww", "--mass", "1e-300", "--beam-energy", "100",
     "--target", "Pb"],
    ["xsec", "--model", "dark-photon", "--method", "iww", "--mass", "0.01", "--beam-energy", "1e30",
     "--target", "Pb"],
    ["edm", "--fermion", "e", "--cutoff", "1e155"],
    ["reach", "--experiment", "na64e-2023", "--m-gd", "0.1", "--method", "iww", "--background", "1e6"],
    ["meson-br", "--meson", "jpsi", "--m-gd", "0.1", "--g", "true"],
    ["xsec", "--model", "dark-photon", "--mass", "x" * 10_000, "--beam-energy", "100", "--target", "Pb"],
    ["sigma-table", "--beam-energy", "1e30", "--target", "Pb", "--source-only"],
    ["precompute", "--experiment", "na64e-2023", "--workers", "0"],
    ["--no-such-flag\n" + "y" * 1000],
])
def test_bad_input_exit_2_one_short_line(argv, capsys):
    rc, out, err = run(argv, capsys)
    assert rc == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and len(lines[0]) <= 210, err[:300]


def test_help_and_version_return_0(capsys):
    assert main(["--version"]) == 0
    assert main(["reach", "--help"]) == 0
    assert "--background" in capsys.readouterr().out


# -- start-up: lazy subcommands and a light import graph ------------------------------------------------
HEAVY = ("scipy", "vegas", "gvar", "diskcache", "panel", "bokeh", "holoviews", "dask", "distributed", "matplotlib")


#: Runs ``python -m physics`` as the interpreter does (runpy, run_name "__main__") and writes the names in
#: ``sys.modules`` at exit to the file given as first argument.
_PROBE = """
import atexit, json, runpy, sys
out = sys.argv[1]
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
sys.argv = ["physics", *sys.argv[2:]]
runpy.run_module("physics", run_name="__main__", alter_sys=True)
"""


def _imported(argv: list[str], tmp_path) -> set[str]:
    """Every module a whole ``python -m physics <argv>`` process has imported when it exits."""
    env = {**os.environ, "DAP_CACHE_DIR": str(tmp_path / "cache")}
    out = tmp_path / "modules.json"
    res = subprocess.run([sys.executable, "-c", _PROBE, str(out), *argv], capture_output=True, text=True,
                         cwd=tmp_path, env=env, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    names = set(json.loads(out.read_text()))
    assert "physics.cli" in names
    return names


def _roots(names: set[str]) -> set[str]:
    return {n.split(".")[0] for n in names}


@pytest.mark.parametrize("argv, allowed_heavy", [
    (["--help"], ()),
    (["--version"], ()),
    (["experiments", "--json"], ()),
    (["meson-br", "--meson", "phi", "--m-gd", "0.1", "--json"], ()),
    (["constraint", "babar-upsilon", "--m-gd", "0.1", "--json"], ()),
    (["edm", "--fermion", "e", "--json"], ()),
])
def test_light_commands_import_no_heavy_library(argv, allowed_heavy, tmp_path):
    """Subcommands import only what they use: no scipy/vegas/cache/panel for the listing and the closed-form
    commands (the start-up targets of ``python -m benchmarks cli``); the EDM loop integral is numpy-only."""
    roots = _roots(_imported(argv, tmp_path))
    assert not (set(HEAVY) - set(allowed_heavy)) & roots, sorted((set(HEAVY) - set(allowed_heavy)) & roots)


def test_help_imports_neither_numpy_nor_any_subcommand(tmp_path):
    names = _imported(["--help"], tmp_path)
    assert "numpy" not in _roots(names)
    assert not {n for n in names if n.startswith("physics.cli.commands.")}, "--help imported a subcommand module"


def test_only_the_chosen_subcommand_module_is_imported(tmp_path):
    names = _imported(["meson-br", "--meson", "phi", "--m-gd", "0.1"], tmp_path)
    assert {n for n in names if n.startswith("physics.cli.commands.")} == {"physics.cli.commands.meson_br"}


def test_reach_from_shipped_tables_needs_no_monte_carlo_engine(tmp_path):
    names = _imported(["reach", "--experiment", "na64e-2023", "--m-gd", "0.01,0.1", "--json"], tmp_path)
    assert not {"vegas", "gvar", "panel", "bokeh", "dask"} & _roots(names)


def test_import_physics_is_light():
    res = subprocess.run([sys.executable, "-c", "import sys, physics; print(sorted(sys.modules))"],
                         capture_output=True, text=True, timeout=60)
    mods = set(eval(res.stdout))  # a printed list of module names
    assert not {"numpy", *HEAVY} & _roots(mods)


def test_command_map_matches_the_modules():
    """physics.cli.commands.COMMANDS (used to build the parser lazily) names exactly the subcommands each module
    registers, with the same help line, so `--help` without imports says what the full parser says."""
    import argparse
    import importlib

    from physics.cli import commands

    by_module: dict[str, set[str]] = {}
    for name, (mod, _help) in commands.COMMANDS.items():
        by_module.setdefault(mod, set()).add(name)
    files = {p.stem for p in Path(commands.__file__).parent.glob("*.py") if not p.stem.startswith("_")}
    assert set(by_module) == files
    for mod, names in by_module.items():
        parser = argparse.ArgumentParser()
        sub = parser.add_subparsers()
        importlib.import_module(f"physics.cli.commands.{mod}").register(sub)
        assert set(sub.choices) == names, mod
        helps = {a.dest: a.help for a in sub._choices_actions}
        assert helps == {n: commands.COMMANDS[n][1] for n in names}, mod


def test_full_parser_and_lazy_parser_agree():
    from physics import cli
    from physics.cli import commands

    def listing(parser):
        return {(a.dest, a.help) for a in parser._subparsers._group_actions[0]._choices_actions}

    full = cli.build_parser()
    lazy = cli.build_parser(None)
    assert listing(full) == listing(lazy) and len(listing(full)) == len(commands.COMMANDS)
    for name in ("reach", "edm"):
        a = cli.build_parser(name)._subparsers._group_actions[0].choices[name]
        b = full._subparsers._group_actions[0].choices[name]
        assert a.format_help() == b.format_help()


def test_version_is_the_package_metadata(capsys):
    from importlib import metadata

    import physics

    version = metadata.version("dark-axion-portal-explorer")
    assert physics.__version__ == version
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"python -m physics {version}"
