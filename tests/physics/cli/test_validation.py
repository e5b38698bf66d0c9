"""The validation layer: InputError (one line, picklable), the limits table, safe reading of user files,
lazy DAP_MATERIALS/DAP_EXPERIMENTS, and the numerics at the edges of the allowed ranges."""

from __future__ import annotations

import concurrent.futures as cf
import json
import math
import multiprocessing
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from physics import errors
from physics.signal import experiments
from physics.model import materials
from physics.errors import InputError

ROOT = Path(__file__).resolve().parents[3]
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


# ------------------------------------------------------------------------------------------ InputError
class _Unpicklable:
    def __reduce__(self):
        raise TypeError("cannot pickle this")

    def __repr__(self):
        return "<unpicklable\nobject>"


@pytest.mark.parametrize("value", [None, 1.5, "text", [1, 2], np.arange(3.0), {"a": 1}, _Unpicklable(),
                                   "x" * 10_000, (1, "a")])
def test_input_error_pickles_intact(value):
    exc = InputError("m_gd", "in [0.001, 10] GeV", value, "detail")
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is InputError
    assert (back.parameter, back.allowed, back.detail) == ("m_gd", "in [0.001, 10] GeV", "detail")
    assert str(back) == str(exc) and back.args == exc.args


class Special(InputError):
    """A subclass with its own constructor signature (unpickling must not call it)."""

    def __init__(self, what):
        super().__init__("thing", "something else", what)


def test_input_error_subclass_pickles():
    back = pickle.loads(pickle.dumps(Special(3)))
    assert type(back) is Special and back.value == 3 and str(back) == str(Special(3))


def _raise_input_error(value):
    raise InputError("eot", "in [1, 1e+22] electrons", value)


def test_input_error_crosses_a_process_pool():
    # a bad input inside a worker must come back as the same InputError, not break the pool
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(1, mp_context=ctx) as pool:
        fut = pool.submit(materials.get_material, "Unobtainium")
        with pytest.raises(InputError) as exc:
            fut.result(timeout=120)
        assert exc.value.parameter == "target" and "Pb" in exc.value.allowed
        # the pool still works afterwards
        assert pool.submit(materials.get_material, "Pb").result(timeout=60).Z == 82
        with pytest.raises(InputError, match="eot"):
            pool.submit(_raise_input_error, np.array([1e30])).result(timeout=60)


@pytest.mark.parametrize("parameter,allowed,value,detail", [
    ("m_gd", "in [0.001, 10] GeV", "a\nb\rc\x1b[31m\u202e", "line1\nline2"),
    ("p" * 500, "a" * 500, "v" * 100_000, "d" * 500),
    ("experiments.x.eot", "one of " + ", ".join(f"exp{i}" for i in range(300)), list(range(1000)), None),
    ("x", "y", np.ones((50, 50)), "multi\nline\ndetail"),
])
def test_input_error_message_is_one_short_line(parameter, allowed, value, detail):
    msg = str(InputError(parameter, allowed, value, detail))
    assert "\n" not in msg and "\r" not in msg and "\x1b" not in msg and "\u202e" not in msg
    assert len(msg) <= errors.MAX_MESSAGE_CHARS
    assert msg.startswith("invalid ")


# ------------------------------------------------------------------------------------------ limits table
def test_limits_table_is_complete_and_consistent():
    from physics import limits
    from physics.xsec import sigma_v
    from physics.service import store

    for row in limits.table():
        assert row["lo"] < row["hi"] and row["why"] and len(row["why"]) > 20, row
    # the same numbers as the layers that were there first
    assert (limits.limit("rel_error").lo, limits.limit("rel_error").hi) == store.REL_ERROR_RANGE
    assert limits.MAX_LIST_LENGTH == store.MAX_MASSES
    assert (limits.limit("m_gd").lo, limits.limit("m_gd").hi) == (sigma_v.M_TABLE_MIN_GEV,
                                                                   sigma_v.M_TABLE_CAP_GEV)
    assert limits.limit("mass").hi == sigma_v.M_TABLE_CAP_GEV
    # every built-in benchmark lies inside the limits
    for exp in experiments.BUILTIN_EXPERIMENTS.values():
        assert exp == exp.replace()


def test_check_is_strict_and_parse_reads_text():
    from physics import limits

    assert limits.check("eot", 1e12) == 1e12 and limits.check("observed", 2.0) == 2
    assert isinstance(limits.check("observed", np.int64(3)), int)
    for bad in ("1e12", True, None, [1e12], math.nan, math.inf, 10 ** 400, 1e40, 0.5):
        with pytest.raises(InputError) as exc:
            limits.check("eot", bad)
        assert exc.value.parameter == "eot"
    assert limits.parse("eot", " 1e12 ") == 1e12 and limits.parse("observed", "7") == 7
    for bad in ("0x10", "1_000", "nan", "inf", "١٢", "1e12 electrons", "", "1" * 100, "2.5"):
        with pytest.raises(InputError):
            limits.parse("observed" if bad == "2.5" else "eot", bad)
    with pytest.raises(InputError, match="observed"):
        limits.check("observed", 1.5)
    assert limits.check("mass", 10.0 * (1 + 1e-13)) > 10.0       # grid rounding tolerated
    np.testing.assert_array_equal(limits.parse_many("m_gd", "0.01, 0.1,1"), [0.01, 0.1, 1.0])
    with pytest.raises(InputError):
        limits.check_many("m_gd", [0.1] * 1001)
    with pytest.raises(InputError):
        limits.check_many("m_gd", [])


def test_text_and_name_checks():
    from physics import limits

    assert limits.check_text("label", "<b>W 20</b>") == "<b>W 20</b>"   # markup is text; escaped when shown
    for bad in ("a\nb", "\x1b[2J", "x" * 81, "a\u202eb", 5):
        with pytest.raises(InputError):
            limits.check_text("label", bad)
    assert limits.check_name("id", "na64e-2023") == "na64e-2023"
    for bad in ("../x", "a/b", "", ".hidden", "a b", "a..b", "x" * 41, "é"):
        with pytest.raises(InputError):
            limits.check_name("id", bad)


# ----------------------------------------------------------------------------------------- user files
def _read(path):
    from physics import userfiles

    return userfiles.read_mapping(path, "experiment file")


@pytest.mark.parametrize("name,content,detail", [
    ("top.json", b"[1, 2]", "top level"),
    ("top.json", b'"text"', "top level"),
    ("nan.json", b'{"a": NaN}', "NaN"),
    ("inf.json", b'{"a": -Infinity}', "Infinity"),
    ("deep.json", b"[" * 100_000 + b"]" * 100_000, "nested"),
    ("deep.json", b'{"a":' * 30 + b"1" + b"}" * 30, "nested"),
    ("deep.toml", b"a = " + b"[" * 100_000 + b"]" * 100_000, "nested"),
    ("deep.toml", b"a" + b".a" * 100_000 + b" = 1", "nested"),       # 10^5 dotted parts: tomllib needs ~40 GB
    ("deep.toml", b"[" + b"a." * 100_000 + b"a]", "nested"),
    ("bad.json", b'{"a": "\xff"}', "invalid byte"),
    ("bad.toml", b"a = 1\nb = ", "TOML"),
    ("big.json", b"{}" + b" " * 1_000_001, "bytes"),
])
def test_read_mapping_refuses(tmp_path, name, content, detail):
    p = tmp_path / name
    p.write_bytes(content)
    t0 = time.perf_counter()
    with pytest.raises(InputError) as exc:
        _read(p)
    assert time.perf_counter() - t0 < 5.0
    assert detail.lower() in str(exc.value).lower() and "\n" not in str(exc.value)


def test_read_mapping_refuses_special_paths(tmp_path, monkeypatch):
    with pytest.raises(InputError, match="directory"):
        _read(tmp_path)
    with pytest.raises(InputError, match="regular file"):
        _read("/dev/null")
    with pytest.raises(InputError, match="no such file"):
        _read(tmp_path / "missing.toml")
    with pytest.raises(InputError):
        _read(tmp_path / ("x" * 5000))           # name too long
    f = tmp_path / "ok.toml"
    f.write_text("a = 1\n")
    from physics import userfiles

    def denied(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(userfiles, "open", denied, raising=False)
    with pytest.raises(InputError, match="permission denied"):
        _read(f)


@pytest.mark.skipif(IS_ROOT, reason="root reads files whatever their mode")
def test_unreadable_file_mode(tmp_path):
    f = tmp_path / "locked.toml"
    f.write_text('[experiments.x]\nbeam_energy_gev = 50\n')
    f.chmod(0)
    try:
        with pytest.raises(InputError, match="permission"):
            experiments.load_experiments(f)
    finally:
        f.chmod(0o600)


def test_toml_structure_scan_keeps_valid_files(tmp_path):
    from physics.userfiles import toml_structure_ok

    text = ('[experiments."my.w.x.y.z.a.b.c.d.e.f.g.h.i.j.k.l.m"]  # dotted.names.in.strings.do.not.count\n'
            'name = "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s"\nreference = """x.y\n\\""" still.a.string"""\n'
            "x_min = 0.5\narr = [[1.5, 2.5], [3.5]]\ninline = {a.b.c = 1}\n")
    assert toml_structure_ok(text)
    import tomllib

    tomllib.loads(text)
    assert not toml_structure_ok("a = " + "[" * 17 + "]" * 17)
    assert not toml_structure_ok("a" + ".b" * 16 + " = 1")


GOOD = {"beam_energy_gev": 50, "target": "W", "thickness_x0": 1.0, "x_min": 0.5, "eot": 1e12}


@pytest.mark.parametrize("fmt", ["toml", "json"])
@pytest.mark.parametrize("field,value,param", [
    ("eot", "1e12", "eot"), ("eot", True, "eot"), ("beam_energy_gev", 1e30, "beam_energy_gev"),
    ("observed", 1.5, "observed"), ("background", 1e9, "background"), ("thickness_x0", 100.0, "thickness_x0"),
    ("eot_typo", 1.0, "experiments.fz"), ("name", "two\nlines", "name"), ("target", 5, "target"),
])
def test_experiment_file_fields(tmp_path, fmt, field, value, param):
    spec = {**GOOD, field: value}
    f = tmp_path / f"e.{fmt}"
    if fmt == "json":
        f.write_text(json.dumps({"experiments": {"fz": spec}}))
    else:
        def tv(v):
            return "true" if v is True else json.dumps(v)
        f.write_text("[experiments.fz]\n" + "".join(f"{k} = {tv(v)}\n" for k, v in spec.items()))
    with pytest.raises(InputError) as exc:
        experiments.load_experiments(f)
    assert param in exc.value.parameter
    assert "fz" not in experiments._user_experiments


def test_file_is_all_or_nothing(tmp_path):
    f = tmp_path / "mixed.toml"
    f.write_text('[materials.Qq]\nZ = 50\nA = 118.71\ndensity_g_cm3 = 7.31\nX0_cm = 1.206\n'
                 '[experiments.good-one]\nbeam_energy_gev = 50\ntarget = "Qq"\nthickness_x0 = 1\nx_min = 0.5\n'
                 'eot = 1e12\n[experiments.bad-one]\nbeam_energy_gev = 50\ntarget = "Qq"\nthickness_x0 = 1\n'
                 'x_min = 0.5\neot = "1e12"\n')
    with pytest.raises(InputError, match="experiments.bad-one.eot"):
        experiments.load_experiments(f)
    assert "Qq" not in materials._user_materials and "good-one" not in experiments._user_experiments
    with pytest.raises(InputError):
        materials.get_material("Qq")


def test_builtins_cannot_be_redefined(tmp_path):
    f = tmp_path / "m.json"
    f.write_text(json.dumps({"materials": {"pb": {"Z": 82, "A": 1.0, "density_g_cm3": 1.0, "X0_cm": 1.0}}}))
    with pytest.raises(InputError, match="built in"):
        materials.load_materials(f)
    assert materials.get_material("Pb").A == 207.2
    g = tmp_path / "e.json"
    g.write_text(json.dumps({"experiments": {"na64e-2023": {**GOOD, "eot": 1.0}}}))
    with pytest.raises(InputError, match="built in"):
        experiments.load_experiments(g)
    assert experiments.get_experiment("na64e-2023").eot == 9.37e11


# ------------------------------------------------------------------------------- lazy environment files
def _cli(args, env_extra, tmp_path):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DAP_CACHE_DIR": str(tmp_path / "cache"), **env_extra}
    return subprocess.run([sys.executable, "-m", "physics", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=120)


def _cli_in_process(args, capsys):
    from physics.cli import main

    rc = main(args)
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.mark.parametrize("content", [b"[materials\n", b"\xff\xfe", b"materials = 5\n"])
def test_broken_dap_materials_only_matters_when_used(tmp_path, content, monkeypatch, capsys):
    bad = tmp_path / "mats.toml"
    bad.write_bytes(content)
    env = {"DAP_MATERIALS": str(bad)}
    # a fresh process: the file used to be read while the command modules were imported
    res = _cli(["--help"], env, tmp_path)
    assert res.returncode == 0 and "Traceback" not in res.stderr and "reach" in res.stdout
    monkeypatch.setenv("DAP_MATERIALS", str(bad))
    monkeypatch.setenv("DAP_CACHE_DIR", str(tmp_path / "cache"))
    for args in (["edm", "--fermion", "e", "--json"],
                 ["xsec", "--model", "dark-photon", "--mass", "0.01", "--beam-energy", "100", "--target", "Pb",
                  "--method", "iww", "--json"],
                 ["reach", "--experiment", "na64e-2023", "--m-gd", "0.1", "--method", "iww", "--json"]):
        rc, out, err = _cli_in_process(args, capsys)
        assert rc == 0 and err == "", (args, err)
    rc, out, err = _cli_in_process(["xsec", "--model", "dark-photon", "--mass", "0.01", "--beam-energy", "100",
                                    "--target", "Sn", "--method", "iww"], capsys)
    assert rc == 2 and out == "" and err.count("\n") == 1 and "DAP_MATERIALS" in err


def test_broken_dap_experiments_only_matters_when_used(tmp_path, monkeypatch, capsys):
    bad = tmp_path / "exps.json"
    bad.write_text('{"experiments": {"mine": {"eot": "1e12"}}}')
    env = {"DAP_EXPERIMENTS": str(bad)}
    assert _cli(["--help"], env, tmp_path).returncode == 0
    monkeypatch.setenv("DAP_EXPERIMENTS", str(bad))
    monkeypatch.setenv("DAP_CACHE_DIR", str(tmp_path / "cache"))
    rc, _, err = _cli_in_process(["reach", "--experiment", "na64e-2023", "--m-gd", "0.1", "--method", "iww"], capsys)
    assert rc == 0, err
    for args in (["experiments"], ["reach", "--experiment", "mine", "--m-gd", "0.1", "--method", "iww"]):
        rc, out, err = _cli_in_process(args, capsys)
        assert rc == 2 and out == "" and err.count("\n") == 1 and "DAP_EXPERIMENTS" in err, err


def test_dap_materials_loaded_lazily_in_process(tmp_path, monkeypatch):
    good = tmp_path / "mats.json"
    good.write_text(json.dumps({"materials": {"Lazy1": {"Z": 50, "A": 118.71, "density_g_cm3": 7.31,
                                                         "X0_cm": 1.206}}}))
    monkeypatch.setenv("DAP_MATERIALS", str(good))
    assert materials.get_material("Lazy1").Z == 50
    good.write_text("{broken")
    os.utime(good, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
    with pytest.raises(InputError, match="DAP_MATERIALS"):
        materials.all_materials()
    assert materials.get_material("W").Z == 74          # built-ins never need the file


# ----------------------------------------------------------------------------- numerics at the edges
@pytest.mark.parametrize("e0", [1.0, 1000.0])
def test_etl_converges_at_both_ends_of_the_beam_range(e0):
    from physics.xsec import etl, iww
    from physics import limits
    from physics.xsec.sigma_v import SigmaVConfig

    assert e0 in (limits.limit("beam_energy").lo, limits.limit("beam_energy").hi)
    r = etl.sigma_v_point(SigmaVConfig(e0, "Pb", 0.0, 1.0, n_x_bins=1), 0.01, rel_error=0.02, seed=1).sigma
    assert r.ok and math.isfinite(r.mean) and r.mean > 0
    ratio = r.mean / iww.sigma_v_iww_pb(0.01, e0, "Pb")
    # IWW is within ~10% at 10 MeV for E0 >> M (1000 GeV); at 1 GeV the WW approximation is poorer
    assert (0.9 < ratio < 1.1) if e0 == 1000.0 else (0.3 < ratio < 1.5)


def test_photon_spectrum_quadrature_at_thickest_target():
    from physics import limits
    from physics.signal import meson_yields as my

    T = limits.limit("thickness_x0").hi
    coarse = my.photon_count(0.5, 1.0, T)
    fine = my.photon_count(0.5, 1.0, T, n_t=96)
    assert coarse == pytest.approx(fine, rel=1e-5)


def test_iww_mass_below_1_mev_refused_on_the_cli(capsys):
    from physics.cli import main

    rc = main(["xsec", "--model", "dark-photon", "--mass", "1e-4", "--beam-energy", "100", "--target", "Pb",
               "--method", "iww"])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: invalid mass=") and err.count("\n") == 1
