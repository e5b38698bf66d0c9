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


# -- the frame: one line, exit 2 for bad input; a last-resort guard for bugs ---------------------------
def test_unexpected_exception_is_one_line_exit_1(capsys, monkeypatch):
    from physics.commands import meson_br

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
