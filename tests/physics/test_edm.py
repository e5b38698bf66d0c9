"""Tests of physics/edm.py and the ``edm`` / ``edm-table`` CLI (PHYSICS.md §7; seed Sec. VI).

Every tolerance is justified next to it. The loop integral is computed to ~1e-11 relative (quad
epsrel=1e-11), so exact-identity checks use 1e-8 … 1e-9 absolute on I = O(5–30).
"""

from __future__ import annotations

import json
import math
import time

import mpmath as mp
import numpy as np
import pytest
from scipy import integrate

from physics import cli, edm
from physics.constants import (E_CHARGE, HBARC_GEV_CM, M_ELECTRON_GEV, M_MUON_GEV, M_NEUTRON_GEV,
                               edm_ecm_to_inv_gev, edm_inv_gev_to_ecm)
from physics.errors import InputError

SIXTEEN_PI2 = 16.0 * math.pi ** 2


# ---------------------------------------------------------------------------- analytic limits of I

@pytest.mark.parametrize("M, cutoff", [(0.1, 1000.0), (1e-3, 10.0), (3.0, 1e4), (0.5, 0.6)])
def test_massless_fermion_and_alp_is_log_plus_three_halves(M, cutoff):
    # m_f = m_a = 0: 2∫∫ ln(Λ²/((1−x−y)M²)) = ln(Λ²/M²) + 3/2 exactly: z = 1−x−y has density 2(1−z)
    # on the triangle, so 2∫∫ −ln z dx dy = ∫_0^1 2(1−z)(−ln z) dz = 2(1 − 1/4) = 3/2. The integrand has an integrable log singularity at x → 1.
    # 1e-8: quad reaches ~1e-11 relative on I ≤ 20; 1e-8 leaves three orders of margin.
    exact = math.log(cutoff ** 2 / M ** 2) + 1.5
    assert edm.loop_integral(0.0, 0.0, M, cutoff) == pytest.approx(exact, abs=1e-8)


@pytest.mark.parametrize("M, cutoff", [(0.1, 1000.0), (2.0, 1e4), (1e-3, 2e-3)])
def test_degenerate_massless_fermion_is_log_plus_one_half(M, cutoff):
    # m_a = m_γD = M, m_f = 0: Δ = (1−x)M² independent of y, I = 2∫(1−x) ln(Λ²/((1−x)M²)) dx
    # = ln(Λ²/M²) + 2·(1/4) = ln(Λ²/M²) + 1/2 exactly. (NB: not "+3/2": the leading-log formula of
    # PHYSICS.md §7 holds for m_a ≪ m_γD only.) Tolerance as above.
    exact = math.log(cutoff ** 2 / M ** 2) + 0.5
    assert edm.loop_integral(0.0, M, M, cutoff) == pytest.approx(exact, abs=1e-8)


@pytest.mark.parametrize("m_a", [0.0, 1e-6, 0.01, 0.05, 0.0999, 0.1 * (1 - 1e-9), 0.1 * (1 + 1e-9),
                                 0.2, 0.7])
def test_massless_fermion_closed_form(m_a):
    # m_f = 0, any m_a (derived with t = y+z, y = t u): I = ln Λ² + 3/2 − (A ln A − C ln C)/(A − C).
    # Compared with an independent mpmath evaluation of that closed form at 40 digits (no cancellation
    # issue there) and with the numerical loop integral. 1e-8 absolute: quad accuracy with margin; the
    # closed-form implementation itself must match mpmath to 1e-12 (pure double rounding).
    M, cutoff = 0.1, 1000.0
    mp.mp.dps = 40
    A, C = mp.mpf(m_a) ** 2, mp.mpf(M) ** 2
    q = mp.log(C) if A == 0 else (A * mp.log(A) - C * mp.log(C)) / (A - C)
    ref = float(mp.log(mp.mpf(cutoff) ** 2) + mp.mpf(3) / 2 - q)
    assert edm.loop_integral_massless_fermion(m_a, M, cutoff) == pytest.approx(ref, abs=1e-12)
    assert edm.loop_integral(0.0, m_a, M, cutoff) == pytest.approx(ref, abs=1e-8)


@pytest.mark.parametrize("delta", [1e-4, 1e-8, 1e-12, 1e-15])
def test_near_degenerate_is_stable(delta):
    # m_a = M(1+δ): the inner y integral's (Δ1 ln Δ1 − Δ0 ln Δ0)/(Δ1 − Δ0) form would cancel
    # catastrophically. I is smooth in m_a with |∂I/∂ln m_a| ≤ 2 (Δ ∝ m_a² on at most the whole
    # triangle), so |I(δ) − I(0)| ≤ 2δ (+ 1e-10 for quad noise). The naive closed form fails this at δ ≲ 1e-12 (3e-4 off).
    M, cutoff = 0.1, 1000.0
    deg = edm.loop_integral(0.0, M, M, cutoff)
    assert abs(edm.loop_integral(0.0, M * (1 + delta), M, cutoff) - deg) <= 2 * delta + 1e-10
    assert abs(edm.loop_integral_massless_fermion(M * (1 + delta), M, cutoff) - deg) <= 2 * delta + 1e-10


def test_leading_log_for_light_fermion_and_alp():
    # Physical electron point m_f = m_e, m_a = 1e-6 GeV ≪ m_γD = 0.1 GeV: I ≈ ln(Λ²/m_γD²) + 3/2 with
    # corrections O((m_f² + m_a²)/m_γD² · ln) ≈ 2.6e-5 × 10 ~ 3e-4; 1e-3 is that bound with margin, and
    # the m_f = 0 closed form (same m_a) must be even closer (m_e²/m_γD² · ln ~ 3e-4 as well).
    M, cutoff = 0.1, 1000.0
    I = edm.loop_integral(M_ELECTRON_GEV, 1e-6, M, cutoff)
    assert I == pytest.approx(math.log(cutoff ** 2 / M ** 2) + 1.5, abs=1e-3)
    assert I == pytest.approx(edm.loop_integral_massless_fermion(1e-6, M, cutoff), abs=1e-3)
    assert I < math.log(cutoff ** 2 / M ** 2) + 1.5  # masses only ever increase Δ, so I decreases


@pytest.mark.parametrize("m_f, M, cutoff", [(0.3, 0.2, 5.0), (M_NEUTRON_GEV, 1e-3, 1000.0),
                                            (M_MUON_GEV, 0.1, 1e4), (M_ELECTRON_GEV, 3.0, 1e4)])
def test_degenerate_with_fermion_mass_vs_mpmath(m_f, M, cutoff):
    # m_a = m_γD = M: Δ = x² m_f² + (1−x)M² does not depend on y, so I = 2∫_0^1 (1−x) ln(Λ²/Δ) dx —
    # an independent 1-D integral, done with mpmath at 30 digits (split at the regime change x ≈ M/m_f).
    # This exercises the ε = 0 branch with m_f ≠ 0 and the neutron regime m_f ≫ m_γD.
    # 1e-9 absolute: quad's 1e-11 relative on I ≤ 25, with margin.
    mp.mp.dps = 30
    split = [0, min(0.5, M / m_f), 1]
    ref = 2 * mp.quad(lambda x: (1 - x) * mp.log(mp.mpf(cutoff) ** 2 / (x * x * m_f ** 2 + (1 - x) * M ** 2)),
                      split)
    assert edm.loop_integral(m_f, M, M, cutoff) == pytest.approx(float(ref), abs=1e-9)


@pytest.mark.parametrize("m_f, m_a, m_gd, cutoff", [(0.3, 0.05, 0.2, 2.0), (0.1, 0.4, 0.25, 1.0),
                                                    (M_NEUTRON_GEV, 1e-6, 1e-3, 1000.0)])
def test_brute_force_two_dimensional(m_f, m_a, m_gd, cutoff):
    # Brute force: scipy dblquad of the *original* 2-D integrand (no analytic y step). With all masses > 0
    # Δ > 0 on the closed triangle, so the integrand is smooth and dblquad with epsabs = epsrel = 1e-12
    # converges to ~1e-11 (its own error estimate is < 1e-10 at these points). The third point is the
    # hard neutron regime (x-structure at x ~ m_γD/m_n ~ 1e-3). Tolerance 1e-8: sum of both errors ×100.
    def integrand(y, x):
        return math.log(cutoff ** 2 / (x * x * m_f * m_f + y * m_a * m_a + (1 - x - y) * m_gd * m_gd))

    val, err = integrate.dblquad(integrand, 0.0, 1.0, 0.0, lambda x: 1.0 - x, epsabs=1e-12, epsrel=1e-12)
    assert err < 1e-9
    assert edm.loop_integral(m_f, m_a, m_gd, cutoff) == pytest.approx(2 * val, abs=1e-8)


def test_midpoint_grid_cross_check():
    # Second brute force, independent of scipy: midpoint rule on a 1200×1200 grid over the unit square,
    # keeping the cells whose midpoint lies in the triangle. Its error is dominated by the jagged
    # diagonal boundary, O(1/N) ≈ 1e-3 relative at N = 1200 (measured 1.0e-3, 2.1e-3 at N = 600); 3e-3 is
    # that with margin. Wrong normalisation (factor 2), a swapped Δ term or a sign error fails by ≫ 1%.
    m_f, m_a, m_gd, cutoff = 0.2, 0.07, 0.3, 1.5
    n = 1200
    c = (np.arange(n) + 0.5) / n
    x, y = np.meshgrid(c, c, indexing="ij")
    inside = x + y < 1.0
    delta = x ** 2 * m_f ** 2 + y * m_a ** 2 + (1 - x - y) * m_gd ** 2
    grid = 2.0 * np.sum(np.where(inside, np.log(cutoff ** 2 / np.where(inside, delta, 1.0)), 0.0)) / n ** 2
    assert edm.loop_integral(m_f, m_a, m_gd, cutoff) == pytest.approx(grid, rel=3e-3)


# ---------------------------------------------------------------------------------- Λ dependence

@pytest.mark.parametrize("fermion", ["e", "mu", "n"])
@pytest.mark.parametrize("scenario", ["light-alp", "degenerate"])
def test_logarithmic_cutoff_dependence(fermion, scenario):
    # I(Λ2) − I(Λ1) = 2 ln(Λ2/Λ1) exactly, because ∂ ln(Λ²/Δ)/∂ ln Λ = 2 and 2∫∫ dx dy = 1. The scalar
    # code integrates ln(Λ²/Δ) with Λ inside the integrand, so this is a genuine check. 1e-9: two quad
    # results with ~1e-11 relative accuracy on I ≤ 30.
    m_gd = 0.1
    cutoffs = [2.0, 1000.0, 10000.0, 1e6]
    rows = [edm.coupling_bound(fermion, m_gd, lam, scenario=scenario) for lam in cutoffs]
    for r1, r2 in zip(rows, rows[1:]):
        assert r2["loop_integral"] - r1["loop_integral"] == pytest.approx(
            2 * math.log(r2["cutoff_GeV"] / r1["cutoff_GeV"]), abs=1e-9)
    # bound × I = 16π² d_lim for every Λ (relative 1e-12: one multiplication and one division)
    products = [r["bound_GeV-1"] * r["loop_integral"] for r in rows]
    target = SIXTEEN_PI2 * edm.EDM_LIMITS[edm.get_fermion(fermion).key].value_gev_inv
    assert products == pytest.approx([target] * len(rows), rel=1e-12)


# ---------------------------------------------------------------------------------------- units

def test_edm_unit_conversion_hand_value_and_round_trip():
    # Hand value: 1e-30 e·cm → d[GeV⁻¹] = 1e-30 cm × e / ħc, with e = sqrt(4π/137.036) = 0.3028221 and
    # ħc = 1.973270e-14 GeV cm: 0.3028221 / 1.973270e-14 = 1.534620e13 → 1.534620e-17 GeV⁻¹.
    # (The brief's "≈ 1.542e-17" is 0.5% off and is not reproduced by these inputs.)
    # Tolerance 1e-6 relative: the hand arithmetic is carried to 7 digits.
    assert edm_ecm_to_inv_gev(1e-30) == pytest.approx(1.534620e-17, rel=1e-6)
    assert E_CHARGE / HBARC_GEV_CM == pytest.approx(1.534620e13, rel=1e-6)
    for d in (4.1e-30, 1.8e-19, 1.8e-26, 1.0):
        # round trip: two floating-point operations each way → a few ulp
        assert edm_inv_gev_to_ecm(edm_ecm_to_inv_gev(d)) == pytest.approx(d, rel=1e-14)
    assert edm.EDM_LIMITS["e"].value_gev_inv == pytest.approx(4.1 * 1.534620e-17, rel=1e-6)


def test_limits_table_values_and_citations():
    # Exact input data of PHYSICS.md §7 (no tolerance needed: literals).
    e, mu, n = (edm.EDM_LIMITS[k] for k in ("e", "mu", "n"))
    assert (e.value_ecm, e.cl) == (4.1e-30, 0.90) and "Roussy" in e.citation
    assert (mu.value_ecm, mu.cl) == (1.8e-19, 0.95) and "Bennett" in mu.citation
    assert (n.value_ecm, n.cl) == (1.8e-26, 0.90) and "Abel" in n.citation


def test_edm_prediction_at_the_bound_saturates_the_limit():
    # d_f(g = bound) must equal the experimental limit: closes the loop formula ↔ bound ↔ units.
    # 1e-12 relative: identical I (cached) and a handful of float operations.
    for f in ("e", "mu", "n"):
        r = edm.coupling_bound(f, 0.1, 1000.0, scenario="light-alp")
        d = edm.edm_ecm(f, r["bound_GeV-1"], r["m_a_GeV"], 0.1, 1000.0)
        assert d == pytest.approx(edm.EDM_LIMITS[f].value_ecm, rel=1e-12)


def test_limit_override_scales_bound_linearly():
    # bound ∝ d_lim: tenfold limit → tenfold bound (relative 1e-12: same I, float arithmetic only).
    base = edm.coupling_bound("e", 0.1, 1000.0)
    over = edm.coupling_bound("e", 0.1, 1000.0, edm_limit_ecm=4.1e-29)
    assert over["bound_GeV-1"] == pytest.approx(10 * base["bound_GeV-1"], rel=1e-12)
    assert over["edm_limit_ecm"] == 4.1e-29 and math.isnan(over["cl"])
    assert "user override" == over["experiment"]


# ------------------------------------------------------------------------------ table and curve

def test_table_rows_and_consistency():
    rows = edm.edm_table()
    assert len(rows) == 3 * 2 * 2
    assert {(r["fermion"], r["scenario"], r["cutoff_GeV"]) for r in rows} == {
        (f, s, c) for f in ("e", "mu", "n") for s in ("light-alp", "degenerate") for c in (1000.0, 10000.0)}
    for r in rows:
        ref = edm.coupling_bound(r["fermion"], 0.1, r["cutoff_GeV"], scenario=r["scenario"],
                                 m_a=None if r["scenario"] == "degenerate" else 1e-6)
        assert r["bound_GeV-1"] == ref["bound_GeV-1"]  # identical computation
        expected_m_a = 0.1 if r["scenario"] == "degenerate" else 1e-6
        assert r["m_a_GeV"] == expected_m_a
    by = {(r["fermion"], r["scenario"], r["cutoff_GeV"]): r["bound_GeV-1"] for r in rows}
    for f in ("e", "mu", "n"):
        for s in ("light-alp", "degenerate"):
            assert by[(f, s, 10000.0)] < by[(f, s, 1000.0)]          # larger Λ → larger I → stronger
        assert by[(f, "degenerate", 1000.0)] > by[(f, "light-alp", 1000.0)]  # heavier ALP → smaller I
    # Electron, light ALP, Λ = 1 TeV: I = ln(1e8) + 3/2 − O(3e-4) → bound = 16π² · 4.1 · 1.534620e-17 / I.
    # 1e-4 relative covers the O(3e-4/20) correction in I.
    hand = SIXTEEN_PI2 * 4.1 * 1.534620e-17 / (math.log(1e8) + 1.5)
    assert by[("e", "light-alp", 1000.0)] == pytest.approx(hand, rel=1e-4)


@pytest.mark.parametrize("fermion", ["e", "mu", "n"])
@pytest.mark.parametrize("scenario", ["light-alp", "degenerate"])
def test_curve_matches_scalar_bound(fermion, scenario):
    # The vectorised curve (quad_vec, Λ factored out) must agree with the scalar quad path point by point.
    # 1e-9 relative: both integrate to ~1e-11; agreement is measured at ≤ 5e-12.
    grid = np.geomspace(1e-3, 10.0, 25)
    cutoff = 1000.0
    m, b = edm.edm_bound_curve(fermion, cutoff, scenario, m_gd_grid=grid)
    assert np.array_equal(m, grid)
    for mi, bi in zip(m, b):
        ref = edm.coupling_bound(fermion, mi, cutoff, scenario=scenario,
                                 m_a=None if scenario == "degenerate" else 1e-6)["bound_GeV-1"]
        assert bi == pytest.approx(ref, rel=1e-9)


def test_curve_nan_beyond_cutoff_and_outside_scenario():
    grid = np.geomspace(1e-3, 10.0, 40)
    m, b = edm.edm_bound_curve("e", 2.0, "degenerate", m_gd_grid=grid)
    assert np.all(np.isnan(b[m >= 2.0])) and np.all(np.isfinite(b[m < 2.0]))
    # the neutron mass itself must stay below Λ: Λ = 0.9 GeV < m_n → no valid point at all
    _, bn = edm.edm_bound_curve("n", 0.9, "light-alp", m_gd_grid=grid)
    assert np.all(np.isnan(bn))
    # light-alp with m_a = 0.05 GeV: points with m_γD ≤ m_a are outside the scenario
    m, b = edm.edm_bound_curve("mu", 1000.0, "light-alp", m_gd_grid=grid, m_a=0.05)
    assert np.all(np.isnan(b[m <= 0.05])) and np.all(np.isfinite(b[m > 0.05]))


def test_curve_is_fast():
    # Target < 50 ms per fermion for 100 masses (measured ~20–25 ms cold). The assertion is loose
    # (0.5 s for all three, cold cache) so a loaded CI machine does not flake, yet a per-point scalar
    # loop or an accidental O(N²) still fails it. Precise numbers: benchmarks/bench_edm.py.
    edm._curve_k.cache_clear()
    t0 = time.perf_counter()
    for f in ("e", "mu", "n"):
        edm.edm_bound_curve(f, 1000.0, "light-alp", m_gd_grid=np.geomspace(1e-3, 10, 100))
    assert time.perf_counter() - t0 < 0.5


# ----------------------------------------------------------------------------------- bad inputs

@pytest.mark.parametrize("args, parameter", [
    ((-0.1, 0.0, 0.1, 10.0), "m_f"),
    ((0.0, -1e-6, 0.1, 10.0), "m_a"),
    ((0.0, 0.0, -0.1, 10.0), "m_gd"),
    ((0.0, float("nan"), 0.1, 10.0), "m_a"),
    ((0.0, 0.0, float("nan"), 10.0), "m_gd"),
    ((0.0, 0.0, 0.1, float("nan")), "cutoff"),
    ((0.0, 0.0, 0.1, 0.1), "cutoff"),        # Λ = heaviest mass: EFT invalid
    ((0.5, 0.0, 0.1, 0.4), "cutoff"),        # Λ below the fermion mass
    ((0.0, 2.0, 0.1, 1.0), "cutoff"),        # Λ below the ALP mass
    ((0.0, 0.0, 0.0, 1.0), "m_f, m_a, m_gd"),  # IR divergent
])
def test_loop_integral_bad_inputs(args, parameter):
    with pytest.raises(InputError) as exc:
        edm.loop_integral(*args)
    assert exc.value.parameter == parameter
    assert exc.value.allowed  # names the allowed range


def test_cutoff_error_names_allowed_range():
    with pytest.raises(InputError, match=r"cutoff.*> max\(m_f, m_a, m_gd\) = 0.939"):
        edm.coupling_bound("n", 0.1, 0.5)


@pytest.mark.parametrize("name, key", [("e", "e"), ("electron", "e"), ("Electron", "e"), ("mu", "mu"),
                                       ("muon", "mu"), ("n", "n"), ("neutron", "n")])
def test_fermion_aliases(name, key):
    assert edm.get_fermion(name).key == key


@pytest.mark.parametrize("bad", ["tau", "proton", "", None, 3])
def test_unknown_fermion(bad):
    with pytest.raises(InputError) as exc:
        edm.coupling_bound(bad, 0.1, 1000.0)
    assert exc.value.parameter == "fermion" and "e, mu, n" in exc.value.allowed


@pytest.mark.parametrize("kwargs, parameter", [
    (dict(scenario="heavy"), "scenario"),
    (dict(scenario="light-alp", m_a=0.2), "m_a"),      # not m_a < m_γD
    (dict(scenario="degenerate", m_a=0.05), "m_a"),    # contradicts m_a = m_γD
    (dict(scenario="general", m_a=-1.0), "m_a"),
    (dict(edm_limit_ecm=0.0), "edm_limit"),
    (dict(edm_limit_ecm=float("nan")), "edm_limit"),
])
def test_bound_bad_inputs(kwargs, parameter):
    with pytest.raises(InputError) as exc:
        edm.coupling_bound("e", 0.1, 1000.0, **kwargs)
    assert exc.value.parameter == parameter


def test_bound_needs_positive_m_gd():
    with pytest.raises(InputError) as exc:
        edm.coupling_bound("e", 0.0, 1000.0)
    assert exc.value.parameter == "m_gd"


def test_curve_bad_inputs():
    with pytest.raises(InputError) as exc:
        edm.edm_bound_curve("e", 1000.0, m_gd_grid=[0.1, -0.2])
    assert exc.value.parameter == "m_gd_grid"
    with pytest.raises(InputError) as exc:
        edm.edm_bound_curve("e", -5.0)
    assert exc.value.parameter == "cutoff"
    with pytest.raises(InputError) as exc:
        edm.edm_bound_curve("x", 1000.0)
    assert exc.value.parameter == "fermion"


# ------------------------------------------------------------------------------------------- CLI

def _run(capsys, argv):
    code = cli.main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_edm_json(capsys):
    code, out, err = _run(capsys, ["edm", "--fermion", "e", "--m-gd", "0.1", "--m-a", "1e-6",
                                   "--cutoff", "1000", "--json"])
    assert code == 0 and err == ""
    data = json.loads(out)
    ref = edm.coupling_bound("e", 0.1, 1000.0, m_a=1e-6, scenario="light-alp")
    assert data["bound_GeV-1"] == pytest.approx(ref["bound_GeV-1"], rel=1e-15)
    assert data["loop_integral"] == pytest.approx(ref["loop_integral"], rel=1e-15)
    assert data["edm_limit_ecm"] == 4.1e-30 and data["cl"] == 0.9
    assert "Roussy" in data["citation"]
    assert (data["fermion"], data["m_a_GeV"], data["m_gd_GeV"], data["cutoff_GeV"]) == ("e", 1e-6, 0.1, 1000.0)


def test_cli_edm_degenerate_and_override(capsys):
    code, out, _ = _run(capsys, ["edm", "--fermion", "muon", "--m-gd", "0.3", "--scenario", "degenerate",
                                 "--edm-limit", "1e-20", "--json"])
    assert code == 0
    data = json.loads(out)
    assert data["m_a_GeV"] == 0.3 and data["scenario"] == "degenerate"
    assert data["edm_limit_ecm"] == 1e-20 and data["cl"] is None  # NaN → null in JSON
    ref = edm.coupling_bound("mu", 0.3, 1000.0, scenario="degenerate", edm_limit_ecm=1e-20)
    assert data["bound_GeV-1"] == pytest.approx(ref["bound_GeV-1"], rel=1e-15)


def test_cli_edm_table_json_and_text(capsys):
    code, out, _ = _run(capsys, ["edm-table", "--cutoffs", "1000,10000", "--json"])
    assert code == 0
    data = json.loads(out)
    assert len(data["rows"]) == 12
    assert data["rows"] == json.loads(cli.dumps(edm.edm_table((1000.0, 10000.0))))
    code, out, _ = _run(capsys, ["edm-table"])
    assert code == 0
    lines = out.splitlines()
    table = [ln for ln in lines if ln.startswith(("e ", "mu ", "n "))]
    assert len(table) == 12
    assert len({len(ln) for ln in table}) == 1  # aligned columns


@pytest.mark.parametrize("argv, parameter", [
    (["edm", "--fermion", "tau"], "fermion"),
    (["edm", "--fermion", "e", "--m-gd", "-0.1"], "m_gd"),
    (["edm", "--fermion", "e", "--m-a", "nan"], "m_a"),
    (["edm", "--fermion", "n", "--cutoff", "0.5"], "cutoff"),
    (["edm", "--fermion", "e", "--m-a", "0.5"], "m_a"),
    (["edm", "--fermion", "e", "--scenario", "both"], "scenario"),
    (["edm", "--fermion", "e", "--edm-limit", "-1"], "edm_limit"),
    (["edm-table", "--cutoffs", "0.05"], "cutoff"),
    (["edm-table", "--fermions", "e,tau"], "fermion"),
    (["edm-table", "--edm-limits", "e=-3"], "edm_limit[e]"),
])
def test_cli_bad_input_exit_2_one_line(capsys, argv, parameter):
    code, out, err = _run(capsys, argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"error: invalid {parameter}=")


# ------------------------------------------------------------------------------ cut-off range limits
def test_cutoff_up_to_the_planck_mass_is_finite_and_logarithmic():
    from physics import limits

    lam_max = limits.limit("cutoff").hi
    for fermion in ("e", "mu", "n"):
        lo = edm.coupling_bound(fermion, 1e-3, 1000.0, scenario="light-alp")
        hi = edm.coupling_bound(fermion, 1e-3, lam_max, scenario="light-alp")
        assert math.isfinite(hi["bound_GeV-1"]) and hi["bound_GeV-1"] > 0
        # ∂I/∂ln Λ = 2 exactly (module docstring), over 16 decades
        assert hi["loop_integral"] - lo["loop_integral"] == pytest.approx(2 * math.log(lam_max / 1000.0),
                                                                           abs=1e-8)
    _, curve = edm.edm_bound_curve("e", lam_max, "light-alp")
    assert np.all(np.isfinite(curve))


@pytest.mark.parametrize("cutoff", [1e155, 1e20, 1e308, float("inf")])
def test_cutoff_beyond_range_is_refused(cutoff, capsys):
    with pytest.raises(InputError) as exc:
        edm.coupling_bound("e", 0.1, cutoff)
    assert exc.value.parameter == "cutoff"
    code, out, err = _run(capsys, ["edm", "--fermion", "e", "--cutoff", repr(cutoff)])
    assert code == 2 and out == "" and err.count("\n") == 1 and err.startswith("error: invalid cutoff=")


def test_loop_masses_too_small_for_double_precision_are_refused():
    # (m/Λ)² would underflow: I would lose its ln(Λ²/m²) and the bound would divide by zero
    with pytest.raises(InputError) as exc:
        edm.loop_integral(0.0, 0.0, 1e-300, 1.0)
    assert exc.value.parameter == "cutoff"
    assert edm.loop_integral(0.0, 0.0, 1e-90, 1.0) == pytest.approx(2 * math.log(1e90) + 1.5, rel=1e-9)
