"""The command-line frame, ``experiments`` and ``meson-br`` (issue: foundation)."""

import json
import subprocess
import sys

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
