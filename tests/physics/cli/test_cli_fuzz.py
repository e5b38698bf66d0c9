"""Fuzz test of the CLI's promise: bad input → exit status 2, exactly one line on stderr, no traceback,
nothing on stdout, and neither the σ_V cache nor the in-process registries change.

Cases are table-driven and generated (a seeded ``random.Random``, so the set is reproducible): every
numeric option of every subcommand (listed from ``physics/cli/commands`` through the parser) gets non-numbers,
non-finite values and values outside :data:`physics.limits.LIMITS` — the table the CLI is supposed to use
— and experiment/material files in both formats (TOML and JSON) get wrong types, numbers as text,
booleans, NaN/Infinity, huge and negative values, unknown/missing keys, wrong top-level types, deep
nesting, a file over the size limit, bad UTF-8, a directory, a device and an unreadable file. Broken
``DAP_MATERIALS``/``DAP_EXPERIMENTS`` files are used through commands that need them.

Almost all cases run in-process through ``physics.cli.main`` (seconds); a sample runs as real
``python -m physics`` subprocesses.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import io
import json
import math
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from physics import cli
from physics.cli import options
from physics.signal import experiments
from physics.model import materials

ROOT = Path(__file__).resolve().parents[3]

#: A valid, fast invocation of every subcommand; a case appends/replaces one thing to make it bad.
BASE = {
    "constraint": ["constraint", "babar-upsilon", "--m-gd", "0.1"],
    "edm": ["edm", "--fermion", "e"],
    "edm-table": ["edm-table", "--cutoffs", "1000"],
    "experiments": ["experiments"],
    "meson-br": ["meson-br", "--meson", "jpsi", "--m-gd", "0.1"],
    "precompute": ["precompute", "--experiment", "na64e-2023", "--n-masses", "2", "--rel-error", "0.5",
                   "--workers", "1", "--out", "{dir}/precomputed-out"],
    "reach": ["reach", "--experiment", "na64e-2023", "--m-gd", "0.1", "--method", "iww"],
    "recast": ["recast", "--experiment", "na64e-2023", "--m-gd", "0.1", "--method", "iww"],
    "sigma-table": ["sigma-table", "--beam-energy", "100", "--target", "Pb", "--method", "iww", "--source-only"],
    "cache": ["cache"],
    "xsec": ["xsec", "--model", "dark-photon", "--mass", "0.01", "--beam-energy", "100", "--target", "Pb",
             "--method", "iww"],
}


@dataclasses.dataclass
class Case:
    id: str
    argv: list
    env: dict = dataclasses.field(default_factory=dict)
    files: dict = dataclasses.field(default_factory=dict)   # name -> bytes | "DIR" | ("MODE", bytes, mode)
    patch: str | None = None                                # "permission": reading any user file fails

    @property
    def command(self) -> str:
        return next((a for a in self.argv if a in BASE), "(none)")


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def _fmt(x: float) -> str:
    return repr(float(x)) if not isinstance(x, str) else x


# ----------------------------------------------------------------------------------------- option cases
#: Numeric options (argparse dest) → the LIMITS entry that bounds them (the CLI's own map must agree).
OPTION_KEYS = {
    "beam_energy": "beam_energy", "mass": "mass", "masses": "mass", "m_gd": "m_gd", "m_a": "m_a",
    "m_chi": "m_chi", "g": "g", "alpha_d": "alpha_D", "x_min": "x_min", "x_max": "x_max", "eot": "eot",
    "background": "background", "observed": "observed", "radiator_x0": "thickness_x0", "cutoff": "cutoff",
    "cutoffs": "cutoff", "edm_limit": "edm_limit", "rel_error": "rel_error", "seed": "seed",
    "n_x_bins": "n_x_bins", "n_masses": "n_masses", "workers": "workers",
}


def _option_values(key: str, rng: random.Random) -> list[str]:
    """Bad values for an option checked against LIMITS[key]: non-numbers, non-finite, outside the range."""
    from physics.limits import LIMITS

    lim = LIMITS[key]
    vals = ["nan", "inf", "-inf", "1e400", "abc", "0x10", "1,,2e", "--"]
    vals.append(_fmt(lim.hi * 1.5 + 1.0))
    vals.append(_fmt(lim.hi * 10 ** rng.uniform(1, 300)))
    if lim.lo > 0:
        vals.append(_fmt(lim.lo * 10 ** -rng.uniform(1, 300)))
        vals.append("0")
    elif lim.lo_open:
        vals.append("0")
    vals.append(_fmt(-10 ** rng.uniform(-300, 300)))
    if lim.integer:
        vals.append("1.5")
    return vals


def option_cases(rng: random.Random) -> list[Case]:
    cases = []
    for name, sp in sorted(_subcommands().items()):
        for act in sp._actions:
            if act.dest not in OPTION_KEYS or not act.option_strings:
                continue
            key = OPTION_KEYS[act.dest]
            opt = act.option_strings[-1]
            for v in _option_values(key, rng):
                cases.append(Case(f"{name}:{opt}={v[:24]}", BASE[name] + [f"{opt}={v}"]))
    return cases


# ------------------------------------------------------------------------------------- table-driven cases
LONG = "x" * 5000
TABLE = {
    "constraint": [["--m-gd", "9.5"], ["--m-gd=0.001:10:5000"], ["--m-gd=1:2:0"], ["--m-gd", ""],
                   ["--m-gd=" + ",".join(["0.1"] * 1001)], ["--m-a=1,2"]],
    "edm": [["--fermion", "tau"], ["--fermion", LONG], ["--scenario", "both"], ["--m-a", "0.5", "--scenario", "light-alp"],
            ["--fermion", "n", "--cutoff", "0.5"], ["--scenario", "degenerate", "--m-a", "0.05"],
            ["--fermion", "e\x1b[31m"]],
    "edm-table": [["--fermions", "e,tau"], ["--scenarios", "general"], ["--fermions", ""], ["--scenarios", ","],
                  ["--edm-limits", "e=abc"], ["--edm-limits", "e=1e400"], ["--edm-limits", "x=1e-30"],
                  ["--edm-limits", "e"], ["--edm-limits", ",".join(["e=1e-30"] * 20)], ["--edm-limits", "e=-3"],
                  ["--cutoffs=0.05"], ["--cutoffs=1e3:1e30:10"]],
    "experiments": [["--file", "/nonexistent.toml"], ["--file", "{dir}"], ["--file", "/dev/null"],
                    ["--file", LONG], ["--file", "bad\nname.toml"]],
    "meson-br": [["--meson", "kaon"], ["--m-gd", "2", "--m-a", "1.5"], ["--meson", ""]],
    "precompute": [["--experiment", "nope"], ["--form-factor", "bogus"], ["--experiment", "{dir}"]],
    "reach": [["--experiment", "nope"], ["--experiment", ""], ["--experiment", LONG], ["--absorber", "Kr"],
              ["--nuclear", "bogus"], ["--statistics", "fc"], ["--m-gd=0.1,0.2", "--m-a=1e-6,1e-6,1e-6"],
              ["--m-gd="], ["--m-gd=0.001:10:100000"], ["--m-gd=" + ",".join(["0.1"] * 1001)],
              ["--observed", "1e3"], ["--experiment", "{dir}"]],
    "recast": [["--experiment", "nope"], ["--method", "bogus"], ["--statistics", "fc"], ["--m-gd="],
               ["--m-gd=20"], ["--experiment", "{dir}"]],
    "sigma-table": [["--target", "Xx"], ["--x-min", "0.6", "--x-max", "0.5"], ["--masses", "9.5", "--beam-energy", "8"],
                    ["--method", "bogus"], ["--form-factor", "bogus"], ["--experiment", "nope"],
                    ["--target", "../../etc/passwd"], ["--lepton", "tau"], ["--lepton", LONG]],
    "cache": [["--bogus"], ["extra"], ["--check=1"]],
    "xsec": [["--model", "bogus"], ["--method", "bogus"], ["--target", "Xx"], ["--target", "a" * 300],
             ["--mass", "200"], ["--x-min", "0.6", "--x-max", "0.5"], ["--form-factor", "bogus"],
             ["--model", "dark-axion-portal", "--m-gd", "7.5", "--beam-energy", "8"], ["--model", "dark-axion-portal"],
             ["--beam-energy", "1", "--mass", "0.9999"], ["--mass", "1e-4"], ["--lepton", "tau"], ["--lepton", ""],
             ["--lepton", "MU"], ["--lepton", "mu", "--beam-energy", "1", "--mass", "0.95"]],
}
GLOBAL = [["--bogus"], ["no-such-command"], ["reach"], ["xsec"], ["meson-br", "--m-gd", "0.1"],
          ["edm"], [LONG]]


def table_cases() -> list[Case]:
    cases = [Case(f"{c}:{' '.join(a)[:40]}", BASE[c] + a) for c, args in sorted(TABLE.items()) for a in args]
    cases += [Case(f"global:{' '.join(a)[:30]}", a) for a in GLOBAL]
    # a broken DAP_CACHE_DIR (a regular file, a path below a file) for commands that open the cache
    for c in ("cache", "sigma-table"):
        for sub in ("", "/below"):
            cases.append(Case(f"{c}:DAP_CACHE_DIR=file{sub}", BASE[c], env={"DAP_CACHE_DIR": "{dir}/plain" + sub},
                              files={"plain": b"not a cache\n"}))
    return cases


# ------------------------------------------------------------------------------------------- file cases
def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v == math.inf else "-inf" if v == -math.inf else repr(v))
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(v)


def to_toml(data: dict) -> str:
    """Minimal TOML writer: top-level tables of tables ([a.b] sections), inline values below."""
    lines = []
    for top, table in data.items():
        if not isinstance(table, dict):
            lines.append(f"{json.dumps(top)} = {toml_value(table)}")
            continue
        for key, entry in table.items():
            if not isinstance(entry, dict):
                lines.append(f"{json.dumps(top)}.{json.dumps(key)} = {toml_value(entry)}")
                continue
            lines.append(f"[{json.dumps(top)}.{json.dumps(key)}]")
            lines += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in entry.items()]
    return "\n".join(lines) + "\n"


def encode(data, fmt: str) -> bytes:
    if fmt == "toml":
        return to_toml(data).encode()
    return json.dumps(data, allow_nan=True).encode()


GOOD_EXP = {"beam_energy_gev": 50.0, "target": "W", "thickness_x0": 1.0, "x_min": 0.5, "eot": 1e12,
            "background": 0.0, "observed": 0, "status": "projection"}
GOOD_MAT = {"Z": 50, "A": 118.71, "density_g_cm3": 7.31, "X0_cm": 1.206}

# field → bad values (wrong types, text numbers, booleans, non-finite, out of range)
EXP_BAD = {
    "beam_energy_gev": ["50", True, math.nan, math.inf, 1e30, -50.0, 0.5, [50.0], {"v": 50.0}, 10 ** 400],
    "thickness_x0": ["1.0", False, math.nan, -1.0, 0.0, 1e6],
    "x_min": ["0.5", True, -0.1, 1.0, math.nan],
    "x_max": [0.4, 1.5, "1", math.inf],
    "eot": ["1e12", True, 0.0, -5.0, math.inf, 1e40, 10 ** 400],
    "background": ["0", -1.0, math.nan, 1e9, True],
    "observed": [1.5, -1, "0", True, 10 ** 9, math.nan],
    "status": ["maybe", 1, True],
    "target": [1, "Xx", "../../x", "", ["W"]],
    "name": ["a\u0007b", "n" * 500, 5],
    "reference": ["r" * 5000, ["x"]],
    "lepton": ["tau", "", 1, True, ["mu"], "MU"],
    "assumptions": ["a\u0007b", "r" * 5000, 5],
    "meson_yields": [{"kaon": 1.0}, {"rho": -1.0}, {"rho": "1e6"}, "rho", {"rho": True}, {"rho": math.nan},
                     {"rho": {"deep": 1.0}}],
}
MAT_BAD = {
    "Z": [50.5, "50", True, 0, 200, math.nan],
    "A": [-1.0, "118.7", 1e9, math.inf, False],
    "density_g_cm3": [0.0, 1e9, math.nan, "7.3"],
    "X0_cm": [0.0, -1.0, "1.2", 1e30],
}


def _exp_file(name: str, exp=None, mats=None, extra_top=None) -> dict:
    data = {}
    if mats is not None:
        data["materials"] = mats
    data["experiments"] = {name: exp if exp is not None else dict(GOOD_EXP)}
    if extra_top:
        data.update(extra_top)
    return data


def file_cases(rng: random.Random) -> list[Case]:
    cases: list[Case] = []
    n = 0

    def add(label, content, fmt, how="experiment", exp_id="fz"):
        nonlocal n
        n += 1
        fname = f"f{n:04d}.{fmt}"
        path = "{dir}/" + fname
        if how == "experiment":       # the file given on the command line
            for cmd, argv in (("reach", ["reach", "--experiment", path, "--m-gd", "0.1", "--method", "iww"]),
                              ("experiments", ["experiments", "--file", path])):
                cases.append(Case(f"file-{fmt}:{cmd}:{label}", argv, files={fname: content}))
        elif how == "env-experiments":  # DAP_EXPERIMENTS, used by listing and by a non-built-in id
            cases.append(Case(f"env-exp-{fmt}:experiments:{label}", ["experiments"],
                              env={"DAP_EXPERIMENTS": path}, files={fname: content}))
            cases.append(Case(f"env-exp-{fmt}:reach:{label}", ["reach", "--experiment", exp_id, "--m-gd", "0.1",
                                                                 "--method", "iww"],
                              env={"DAP_EXPERIMENTS": path}, files={fname: content}))
        elif how == "env-materials":    # DAP_MATERIALS, used by a non-built-in target
            cases.append(Case(f"env-mat-{fmt}:xsec:{label}", BASE["xsec"] + ["--target", "Zz"],
                              env={"DAP_MATERIALS": path}, files={fname: content}))
        elif how == "precompute":
            cases.append(Case(f"file-{fmt}:precompute:{label}", BASE["precompute"] + ["--experiment", path],
                              files={fname: content}))
        elif how == "sigma-table":
            cases.append(Case(f"file-{fmt}:sigma-table:{label}",
                              ["sigma-table", "--experiment", path, "--method", "iww", "--source-only"],
                              files={fname: content}))
        else:
            raise ValueError(how)

    for fmt in ("toml", "json"):
        # experiment fields
        for field, bads in EXP_BAD.items():
            for bad in bads:
                exp = {**GOOD_EXP, field: bad}
                add(f"{field}={str(bad)[:16]}", encode(_exp_file("fz", exp), fmt), fmt)
        # keys and structure
        add("unknown-key", encode(_exp_file("fz", {**GOOD_EXP, "eot_typo": 1e12}), fmt), fmt)
        add("missing-eot", encode(_exp_file("fz", {k: v for k, v in GOOD_EXP.items() if k != "eot"}), fmt), fmt)
        add("id-mismatch", encode(_exp_file("fz", {**GOOD_EXP, "id": "other"}), fmt), fmt)
        for bad_id in ("../x", "a b", "i" * 200, "na64e-2023", "x/y"):
            add(f"id={bad_id[:12]}", encode(_exp_file(bad_id, dict(GOOD_EXP)), fmt), fmt)
        add("unknown-top", encode(_exp_file("fz", extra_top={"experiment": {"x": {"a": 1}}}), fmt), fmt)
        add("experiments=1", encode({"experiments": 1}, fmt), fmt)
        add("experiments.fz=1", encode({"experiments": {"fz": 1}}, fmt), fmt)
        add("materials=1", encode({"materials": 1, "experiments": {"fz": GOOD_EXP}}, fmt), fmt)
        add("too-many", encode({"experiments": {f"e{i}": GOOD_EXP for i in range(101)}}, fmt), fmt)
        if fmt == "json":
            for top in ([1, 2], 3, "text", None, True):
                add(f"top={str(top)[:8]}", json.dumps(top).encode(), fmt)
            add("NaN-literal", b'{"experiments": {"fz": {"beam_energy_gev": NaN}}}', fmt)
            add("Infinity-literal", b'{"experiments": {"fz": {"eot": Infinity}}}', fmt)
            add("1e999", b'{"experiments": {"fz": {"beam_energy_gev": 50, "target": "W", "thickness_x0": 1, '
                         b'"x_min": 0.5, "eot": 1e999}}}', fmt)
            add("deep-arrays", b'{"experiments": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", fmt)
            add("deep-objects", b'{"a":' * 100_000 + b"1" + b"}" * 100_000, fmt)
            add("empty", b"", fmt)
            add("bom", b"\xef\xbb\xbf" + encode(_exp_file("fz"), fmt), fmt)
            add("invalid", b'{"experiments": {"fz": {', fmt)
        else:
            add("deep-arrays", b"a = " + b"[" * 100_000 + b"]" * 100_000 + b"\n", fmt)
            add("deep-inline", b"a = " + b"{b = " * 50_000 + b"1" + b"}" * 50_000 + b"\n", fmt)
            add("deep-dotted", b"a" + b".a" * 100_000 + b" = 1\n", fmt)
            add("deep-sections", b"[" + b"a." * 100_000 + b"a]\n", fmt)
            add("invalid", b"[experiments.fz\n", fmt)
            add("top-array-of-tables", b"[[experiments]]\nbeam_energy_gev = 50\n", fmt)
        add("bad-utf8", b'{"experiments": {"f\xff\xfe": 1}}' if fmt == "json" else b'[experiments."\xff"]\n', fmt)
        add("huge", encode(_exp_file("fz"), fmt) + (b" " * 1_100_000 if fmt == "json" else b"#" * 1_100_000), fmt)
        # materials inside an experiment file: bad material → nothing registered
        for field, bads in MAT_BAD.items():
            for bad in bads:
                mats = {"Zz": {**GOOD_MAT, field: bad}}
                add(f"material.{field}={str(bad)[:12]}", encode(_exp_file("fz", {**GOOD_EXP, "target": "Zz"},
                                                                          mats), fmt), fmt)
        add("material-redefines-Pb", encode(_exp_file("fz", dict(GOOD_EXP), {"Pb": GOOD_MAT}), fmt), fmt)
        add("material-name", encode(_exp_file("fz", dict(GOOD_EXP), {"../../x": GOOD_MAT}), fmt), fmt)
        add("material-unknown-key", encode(_exp_file("fz", dict(GOOD_EXP), {"Zz": {**GOOD_MAT, "rho": 1}}), fmt),
            fmt)
        add("material-missing-key", encode(_exp_file("fz", dict(GOOD_EXP), {"Zz": {"Z": 50}}), fmt), fmt)
        add("valid-material-bad-experiment", encode(_exp_file("fz", {**GOOD_EXP, "target": "Zz", "eot": "1"},
                                                              {"Zz": GOOD_MAT}), fmt), fmt)
        # DAP_MATERIALS files
        for field, bads in MAT_BAD.items():
            bad = rng.choice(bads)
            add(f"{field}={str(bad)[:12]}", encode({"materials": {"Zz": {**GOOD_MAT, field: bad}}}, fmt), fmt,
                how="env-materials")
        add("materials=[]", encode({"materials": [1]}, fmt) if fmt == "json" else b"materials = [1]\n", fmt,
            how="env-materials")
        add("unknown-top", encode({"materials": {"Zz": GOOD_MAT}, "extra": {"x": {"a": 1}}}, fmt), fmt,
            how="env-materials")
        add("invalid", b"{" if fmt == "json" else b"[materials\n", fmt, how="env-materials")
        # DAP_EXPERIMENTS files
        add("eot-text", encode(_exp_file("fz", {**GOOD_EXP, "eot": "1e12"}), fmt), fmt, how="env-experiments")
        add("invalid", b"{" if fmt == "json" else b"[experiments\n", fmt, how="env-experiments")
        # other commands taking an experiment file
        for how in ("precompute", "sigma-table"):
            add("eot-text", encode(_exp_file("fz", {**GOOD_EXP, "eot": "1e12"}), fmt), fmt, how=how)
            add("beam=1e30", encode(_exp_file("fz", {**GOOD_EXP, "beam_energy_gev": 1e30}), fmt), fmt, how=how)

    # special files: a directory, an unreadable file, a device
    cases.append(Case("file:directory", ["experiments", "--file", "{dir}/adir.toml"], files={"adir.toml": "DIR"}))
    cases.append(Case("file:directory-env", ["experiments"], env={"DAP_EXPERIMENTS": "{dir}/adir2.json"},
                      files={"adir2.json": "DIR"}))
    cases.append(Case("file:device", ["reach", "--experiment", "/dev/zero", "--m-gd", "0.1", "--method", "iww"]))
    unreadable = encode(_exp_file("fz"), "toml")
    cases.append(Case("file:unreadable", ["experiments", "--file", "{dir}/locked.toml"],
                      files={"locked.toml": ("MODE", unreadable, 0o000)}, patch="permission"))
    cases.append(Case("file:unreadable-env-materials", BASE["xsec"] + ["--target", "Zz"],
                      env={"DAP_MATERIALS": "{dir}/locked.json"},
                      files={"locked.json": ("MODE", encode({"materials": {"Zz": GOOD_MAT}}, "json"), 0o000)},
                      patch="permission"))
    return cases


def build_cases() -> list[Case]:
    rng = random.Random(20241201)
    return option_cases(rng) + table_cases() + file_cases(rng)



CASES = build_cases()


# ---------------------------------------------------------------------------------------------- harness
def _materialise(case: Case, d: Path) -> tuple[list, dict]:
    for name, content in case.files.items():
        p = d / name
        if content == "DIR":
            p.mkdir(exist_ok=True)
        elif isinstance(content, tuple):
            p.write_bytes(content[1])
            p.chmod(content[2])
        else:
            p.write_bytes(content)
    fill = (lambda s: s.replace("{dir}", str(d)))
    return [fill(a) for a in case.argv], {k: fill(v) for k, v in case.env.items()}


def _snapshot(root: Path) -> dict:
    if not root.exists():
        return {}
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file():
            out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
        else:
            out[str(p.relative_to(root))] = "dir"
    return out


def _registries() -> tuple:
    return (sorted(materials._user_materials), sorted(experiments._user_experiments))


def run_in_process(argv: list, env: dict, monkeypatch, patch: str | None = None) -> tuple[int, str, str]:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    if patch == "permission":
        from physics import userfiles

        def denied(*a, **k):
            raise PermissionError(13, "Permission denied")
        monkeypatch.setattr(userfiles, "open", denied, raising=False)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = cli.main(argv)
        except SystemExit as exc:  # a handler's SystemExit("message") behaves like the interpreter's
            rc = exc.code if isinstance(exc.code, int) else 1
            if isinstance(exc.code, str):
                print(exc.code, file=sys.stderr)
    return rc, out.getvalue(), err.getvalue()


def assert_one_line_exit_2(rc, out, err, label):
    assert "Traceback" not in err, f"{label}: traceback\n{err[-2000:]}"
    lines = err.splitlines()
    assert rc == 2, f"{label}: exit {rc}, stderr {err[-500:]!r}"
    assert out == "", f"{label}: stdout {out[:300]!r}"
    assert len(lines) == 1 and err.endswith("\n"), f"{label}: {len(lines)} stderr lines: {err[:500]!r}"
    assert lines[0].startswith("error:") and len(lines[0]) <= 210, f"{label}: {lines[0]!r}"


@pytest.fixture(scope="module")
def fuzz_cache(tmp_path_factory):
    """A σ_V cache with some content (a valid command ran once), shared by every case."""
    d = tmp_path_factory.mktemp("fuzz-cache")
    mp = pytest.MonkeyPatch()
    mp.setenv("DAP_CACHE_DIR", str(d))
    mp.delenv("DAP_MATERIALS", raising=False)
    mp.delenv("DAP_EXPERIMENTS", raising=False)
    try:
        rc, out, err = run_in_process(["xsec", "--model", "dark-axion-portal", "--m-gd", "0.05", "--beam-energy",
                                       "100", "--target", "Pb", "--x-min", "0.5", "--method", "iww", "--json"], {}, mp)
        assert rc == 0, err
    finally:
        mp.undo()
    assert any(p.suffix == ".val" for p in d.rglob("*")), "the fixture should leave a cache entry"
    return d


def test_case_count_and_coverage():
    # ≥ 200 generated bad inputs, every subcommand exercised, both file formats
    assert len(CASES) >= 200
    per = {c: sum(1 for k in CASES if k.command == c) for c in BASE}
    assert set(_subcommands()) == set(BASE), "a subcommand was added: give it a BASE invocation"
    assert all(n >= 3 for n in per.values()), per
    assert sum(1 for c in CASES if "-toml:" in c.id) >= 50 and sum(1 for c in CASES if "-json:" in c.id) >= 50
    assert len({c.id for c in CASES}) > 0.95 * len(CASES)


def test_every_numeric_option_is_bounded():
    # every option of every subcommand that takes a number is in the CLI's limits map (and ours)
    numeric = {a.dest for sp in _subcommands().values() for a in sp._actions
               if a.type in (float, int, options.float_list)}
    assert numeric <= set(OPTION_KEYS), numeric - set(OPTION_KEYS)
    assert {d: k for d, (k, _) in cli.OPTION_LIMITS.items()} == OPTION_KEYS


@pytest.mark.parametrize("command", sorted(set(BASE) - {"precompute"}))
def test_base_invocations_are_valid(command, fuzz_cache, monkeypatch, tmp_path):
    # the control: without the mutation each base command succeeds, so the cases test their one change
    monkeypatch.setenv("DAP_CACHE_DIR", str(fuzz_cache))
    argv, _ = _materialise(Case("base", BASE[command]), tmp_path)
    rc, out, err = run_in_process(argv + ["--json"], {}, monkeypatch)
    assert rc == 0, err
    json.loads(out)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_bad_input_in_process(case, fuzz_cache, monkeypatch, tmp_path):
    monkeypatch.setenv("DAP_CACHE_DIR", str(fuzz_cache))
    monkeypatch.delenv("DAP_MATERIALS", raising=False)
    monkeypatch.delenv("DAP_EXPERIMENTS", raising=False)
    monkeypatch.delenv("DAP_TRACEBACK", raising=False)
    argv, env = _materialise(case, tmp_path)
    before, regs = _snapshot(fuzz_cache), _registries()
    saved = (dict(materials._user_materials), dict(experiments._user_experiments))
    try:
        rc, out, err = run_in_process(argv, env, monkeypatch, case.patch)
        after = _registries()
    finally:
        for p in tmp_path.iterdir():
            if not p.is_dir():
                p.chmod(0o600)
        # never let one failing case leak a registration into the next ones
        for reg, old in zip((materials._user_materials, experiments._user_experiments), saved):
            reg.clear()
            reg.update(old)
    assert_one_line_exit_2(rc, out, err, case.id)
    assert _snapshot(fuzz_cache) == before, f"{case.id}: the cache changed"
    assert after == regs, f"{case.id}: a bad file registered materials/experiments"
    assert not (tmp_path / "precomputed-out").exists(), f"{case.id}: precompute wrote a table"


# a sample as real subprocesses: the entry point, the interpreter's own error printing, a fresh process
SUBPROCESS_SAMPLE = [c for c in CASES if not c.patch][:: max(1, len(CASES) // 10)][:10]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in SUBPROCESS_SAMPLE])
def test_bad_input_subprocess(case, fuzz_cache, tmp_path):
    argv, env = _materialise(case, tmp_path)
    before = _snapshot(fuzz_cache)
    full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DAP_CACHE_DIR": str(fuzz_cache), **env}
    res = subprocess.run([sys.executable, "-m", "physics", *argv], capture_output=True, text=True, cwd=ROOT,
                         env=full_env, timeout=120)
    assert_one_line_exit_2(res.returncode, res.stdout, res.stderr, case.id)
    assert _snapshot(fuzz_cache) == before, f"{case.id}: the cache changed"


def test_subprocess_sample_is_diverse():
    assert len(SUBPROCESS_SAMPLE) >= 8
    assert len({c.command for c in SUBPROCESS_SAMPLE}) >= 4
