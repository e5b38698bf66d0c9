"""Signal yields per channel and Br(γD → inv) (physics/signal/yields.py; docs/physics.md#yields-brem, #yields-meson,
#br-inv)."""

import math

import numpy as np
import pytest

from physics.model import mesons, widths
from physics.signal import yields
from physics.model.constants import ALPHA_EM
from physics.errors import InputError
from physics.signal.experiments import get_experiment
from physics.xsec.factorisation import sigma_portal_pb
from physics.xsec.iww import iww_table
from physics.signal.meson_yields import meson_yields_nv
from physics.xsec.sigma_v import SigmaVConfig


@pytest.fixture(scope="module")
def na64_table():
    return iww_table(SigmaVConfig.from_experiment(get_experiment("na64e-2023")))


def test_width_and_br_hand_values():
    # hand: m = 0.1, α_D = 0.1, m_χ = m/3: Γχχ = 0.1·0.1/3 · (1 + 2/9) · sqrt(1 − 4/9) = 3.0366e-3 GeV
    gc = widths.width_gd_to_chichi(0.1, 0.1, 0.1 / 3)
    assert gc == pytest.approx(0.1 * 0.1 / 3 * (11 / 9) * math.sqrt(5 / 9), rel=1e-14)
    assert gc == pytest.approx(3.0366e-3, rel=3e-5)  # 5 hand digits
    # Γ(γD → aγ)/g² = m³/(96π) for m_a → 0: 3.3157e-6 GeV³ at m = 0.1
    assert widths.width_gd_to_a_gamma_per_g2(0.1, 0.0) == pytest.approx(1e-3 / (96 * math.pi), rel=1e-14)
    # Br_inv = 1/2 exactly where Γ_aγ = Γχχ
    g_half = math.sqrt(gc / widths.width_gd_to_a_gamma_per_g2(0.1, 0.0))
    assert widths.br_gd_invisible(0.1, 0.0, g_half) == pytest.approx(0.5, rel=1e-12)
    # default m_χ = m_γD/3 and light g: Br_inv = 1 − Γ_aγ/Γχχ + ...
    g = 1e-3
    assert 1 - widths.br_gd_invisible(0.1, 1e-6, g) == pytest.approx(
        g * g * widths.width_gd_to_a_gamma_per_g2(0.1, 1e-6) / gc, rel=1e-6)


BR_INV_CASES = [
    (0.1, 1e-6, 1e-3, 0.1, None), (0.01, 0.005, 30.0, 0.1, None), (1.0, 0.0, 100.0, 1e-6, 0.2),
    (0.05, 0.0, 1.0, 0.1, 0.03),   # χχ̄ closed, aγ open → 0
    (0.05, 0.06, 1.0, 0.1, 0.03),  # both closed → 1 (stable γD, invisible)
]


def _br_inv_hand(m_gd, m_a, g, alpha_d, m_chi):
    """Br(γD → inv) written out with the math module (docs/physics.md#br-inv), one point at a time."""
    m_chi = m_gd / 3 if m_chi is None else m_chi
    r = (m_chi / m_gd) ** 2
    gc = alpha_d * m_gd / 3 * (1 + 2 * r) * math.sqrt(1 - 4 * r) if 4 * r < 1 else 0.0
    gv = g * g * m_gd ** 3 * (1 - (m_a / m_gd) ** 2) ** 3 / (96 * math.pi) if m_a < m_gd else 0.0
    return gc / (gc + gv) if gc + gv > 0 else 1.0


@pytest.mark.parametrize("m_gd,m_a,g,alpha_d,m_chi", BR_INV_CASES)
def test_br_invisible_matches_hand_formula(m_gd, m_a, g, alpha_d, m_chi):
    # the one (vectorised) definition, called with scalars, equals the formula to rounding
    assert widths.br_gd_invisible(m_gd, m_a, g, alpha_d, m_chi) == pytest.approx(
        _br_inv_hand(m_gd, m_a, g, alpha_d, m_chi), rel=1e-13, abs=1e-300)


def test_br_invisible_vectorised_equals_pointwise():
    # arrays broadcast: every entry equals the same call with scalars to rounding (m_χ given for each)
    m_gd = np.array([0.1, 0.01, 1.0, 0.05, 0.05])
    m_a = np.array([1e-6, 0.005, 0.0, 0.0, 0.06])
    g = np.array([1e-3, 30.0, 100.0, 1.0, 1.0])
    m_chi = np.array([0.1 / 3, 0.01 / 3, 0.2, 0.03, 0.03])
    got = widths.br_gd_invisible(m_gd, m_a, g, 0.1, m_chi)
    assert got.shape == (5,)
    for i in range(5):
        assert got[i] == pytest.approx(widths.br_gd_invisible(m_gd[i], m_a[i], g[i], 0.1, m_chi[i]), rel=1e-14,
                                       abs=1e-300)
        assert got[i] == pytest.approx(_br_inv_hand(m_gd[i], m_a[i], g[i], 0.1, m_chi[i]), rel=1e-13, abs=1e-300)


@pytest.mark.parametrize("meson", list(mesons.MESONS))
def test_meson_br_per_g2_matches_hand_formula(meson):
    # Br(V → a γD)/g² = α M³ λ^{3/2} / (24 g_V² Γ_V) (docs/physics.md#vmd), written out with the math module
    V = mesons.MESONS[meson]
    points = ((1e-3, 1e-6), (0.3, 0.1), (2.0, 0.5))
    for m_gd, m_a in points:
        x, y = (m_a / V.mass_gev) ** 2, (m_gd / V.mass_gev) ** 2
        lam = 1 + x * x + y * y - 2 * (x + y + x * y)
        ref = (ALPHA_EM * V.mass_gev ** 3 * lam ** 1.5 / (24 * V.g_v ** 2 * V.width_gev)
               if m_a + m_gd < V.mass_gev else 0.0)
        assert mesons.br_to_a_gd(meson, m_a, m_gd) == pytest.approx(ref, rel=1e-13, abs=0)
    # vectorised: the same numbers from one call (to rounding: numpy's array power may differ from the
    # scalar one in the last bit)
    arr = mesons.br_to_a_gd(meson, [p[1] for p in points], [p[0] for p in points])
    assert arr == pytest.approx([mesons.br_to_a_gd(meson, m_a, m_gd) for m_gd, m_a in points], rel=1e-14, abs=0)
    # docs/validation.md#vmd quotes Br(J/ψ → aγD) ≈ 0.70 g² for light masses (2 digits)
    if meson == "jpsi":
        assert mesons.br_to_a_gd("jpsi", 0.0, 1e-9) == pytest.approx(0.70, abs=0.005)


def test_luminosity_hand_value():
    exp = get_experiment("na64e-2023")
    # 9.37e11 × (11.35 × 6.02214e23 / 207.2) × 0.5612 cm = 1.7347e34 cm^-2 (hand, 5 digits)
    assert exp.luminosity_per_cm2 == pytest.approx(1.7347e34, rel=5e-5)


def test_brem_yield_is_seed_eq8(na64_table):
    exp = get_experiment("na64e-2023")
    m_gd = np.array([0.002, 0.01, 0.1, 1.0])
    g = 2e-3
    ev = yields.event_yields(exp, m_gd, g, table=na64_table)
    # the table covers the whole x range; the experiment's cut x ≥ 0.5 is applied to it
    sig, _ = sigma_portal_pb(na64_table, 1e-6, m_gd, g, x_min=0.5)
    br = np.array([widths.br_gd_invisible(m, 1e-6, g) for m in m_gd])
    # N = EOT n L_T σ Br with σ in pb → cm² (1e-36): identical arithmetic, rel 1e-12
    assert ev["brem"] == pytest.approx(exp.luminosity_per_cm2 * sig * 1e-36 * br, rel=1e-12)


def test_yields_follow_the_cut_without_a_new_table(na64_table):
    """Moving x_min changes brem (σ above the new cut, same table) and the mesons (photon window), nothing else."""
    exp = get_experiment("na64e-2023")
    m_gd = np.array([0.01, 0.1, 1.0])
    g = 2e-3
    base = yields.event_yields(exp, m_gd, g, table=na64_table)
    tighter = exp.replace(x_min=0.8)
    ev = yields.event_yields(tighter, m_gd, g, table=na64_table)
    sig, _ = sigma_portal_pb(na64_table, 1e-6, m_gd, g, x_min=0.8)
    br = np.array([widths.br_gd_invisible(m, 1e-6, g) for m in m_gd])
    assert ev["brem"] == pytest.approx(tighter.luminosity_per_cm2 * sig * 1e-36 * br, rel=1e-12)
    assert np.all(ev["brem"] < base["brem"])
    # mesons: N_V counts photons above the cut (E_miss = k), so it falls with the cut too
    assert ev["rho"][0] < base["rho"][0] and ev["phi"][1] < base["phi"][1]
    nv = meson_yields_nv(tighter)
    assert ev["rho"][0] == pytest.approx(nv["rho"] * mesons.br_to_a_gd("rho", 1e-6, 0.01, g)
                                         * widths.br_gd_invisible(0.01, 1e-6, g), rel=1e-12)
    # a looser cut than the table's lowest x needs no other table either: the table starts at x = 0
    loose = yields.event_yields(exp.replace(x_min=0.1), m_gd, g, table=na64_table)
    assert np.all(loose["brem"] > base["brem"])


def test_meson_yields_and_sums(na64_table):
    exp = get_experiment("na64e-2023")
    m_gd = np.array([0.01, 0.5, 0.9, 5.0])
    g = 1e-2
    ev = yields.event_yields(exp, m_gd, g, table=na64_table)
    nv = meson_yields_nv(exp)
    for i, m in enumerate(m_gd):
        br_inv = widths.br_gd_invisible(m, 1e-6, g)
        for k in mesons.MESONS:
            expect = nv[k] * mesons.br_to_a_gd(k, 1e-6, m, g) * br_inv
            assert ev[k][i] == pytest.approx(expect, rel=1e-12, abs=1e-300)
    assert ev["rho"][2] == 0.0 and ev["omega"][2] == 0.0 and ev["phi"][2] > 0  # 0.9 GeV: only φ of the light
    np.testing.assert_allclose(ev["mesons"], sum(ev[k] for k in mesons.MESONS), rtol=1e-14)
    np.testing.assert_allclose(ev["total"], ev["brem"] + ev["mesons"], rtol=1e-14)


def test_yield_not_exactly_g_squared(na64_table):
    exp = get_experiment("na64e-2023")
    # light g: Br_inv ≈ 1, N ∝ g² to 1e-9; huge g: Γ_aγ dominates and N saturates below 4× per doubling
    lo = yields.event_yields(exp, 0.1, [1e-4, 2e-4], table=na64_table)["total"]
    assert lo[1] / lo[0] == pytest.approx(4.0, rel=1e-9)
    hi = yields.event_yields(exp, 0.1, [50.0, 100.0], table=na64_table)["total"]
    assert hi[1] / hi[0] < 3.0


def test_dark_photon_recast_yield(na64_table):
    exp = get_experiment("na64e-2023")
    n = yields.dark_photon_events(exp, 0.01, 1e-5, table=na64_table)
    assert n == pytest.approx(exp.luminosity_per_cm2 * 1e-10 * na64_table.sigma_at(0.01, x_min=0.5) * 1e-36,
                              rel=1e-12)
    assert na64_table.sigma_at(0.01, x_min=0.5) < na64_table.sigma_at(0.01)


def test_table_mismatch_and_bad_inputs(na64_table):
    with pytest.raises(InputError) as exc:
        yields.event_yields("ldmx-phase2", 0.1, 1e-3, table=na64_table)
    assert exc.value.parameter == "table"
    for kwargs, name in (({"m_gd": -0.1}, "m_gd"), ({"m_gd": float("nan")}, "m_gd"), ({"m_gd": 20.0}, "m_gd"),
                         ({"m_a": -1.0}, "m_a"), ({"g": -1.0}, "g"), ({"alpha_d": -0.1}, "alpha_D"),
                         ({"m_chi": -1.0}, "m_chi"), ({"table": None}, "table"),
                         ({"m_a": [1e-6, 2e-6, 3e-6]}, "m_a")):
        args = {"experiment": "na64e-2023", "m_gd": [0.01, 0.1], "g": 1e-3, "table": na64_table, **kwargs}
        with pytest.raises(InputError) as exc:
            yields.event_yields(**args)
        assert exc.value.parameter == name, kwargs
