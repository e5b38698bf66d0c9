"""Vector-meson branching ratios via VMD (docs/physics.md#vmd; Gninenko et al., arXiv:2602.11405, Table 1)."""

import numpy as np
import pytest

from physics.model import mesons
from physics.errors import InputError

# PDG 2024 Γ(V → e+e-) [keV]
PDG_GEE_KEV = {"rho": 7.04, "phi": 1.27, "upsilon": 1.340}


def test_br_light_mass_hand_values():
    # docs/validation.md#vmd: for m_a, m_γD → 0, Br(J/ψ → aγD) ≈ 0.70 g², Br(Υ → aγD) ≈ 2.9 g² (two-digit
    # hand values; the code gives 0.697 and 2.935, docs/physics.md#vmd-table1)
    assert mesons.br_to_a_gd("jpsi", 0.0, 1e-9, 1.0) == pytest.approx(0.70, abs=0.005)
    assert mesons.br_to_a_gd("upsilon", 0.0, 1e-9, 1.0) == pytest.approx(2.9, abs=0.05)


def test_br_scales_as_g_squared_and_kallen():
    b1 = mesons.br_to_a_gd("phi", 1e-6, 0.1, 1e-3)
    assert mesons.br_to_a_gd("phi", 1e-6, 0.1, 2e-3) == pytest.approx(4 * b1, rel=1e-12)
    # λ^{3/2}(1, 0, r) = (1 − r)^3 for m_a = 0
    r = (0.5 / 1.019) ** 2
    full = mesons.br_to_a_gd("phi", 0.0, 1e-12, 1.0)
    assert mesons.br_to_a_gd("phi", 0.0, 0.5, 1.0) == pytest.approx(full * (1 - r) ** 3, rel=1e-9)


@pytest.mark.parametrize("key,tol", [("rho", 0.02), ("phi", 0.02),
                                     # Υ: g_V = 40.3 of [Gninenko2026, Table 1] gives 1.299 keV vs PDG
                                     # 1.340 keV, 3.1% low (the paper's g_V is rounded); we test the 3.5%
                                     # we can claim (docs/validation.md#vmd).
                                     ("upsilon", 0.035)])
def test_gv_reproduces_ee_width(key, tol):
    assert mesons.width_to_ee(key) * 1e6 == pytest.approx(PDG_GEE_KEV[key], rel=tol)


def test_closed_and_unknown():
    with pytest.raises(InputError, match="m_a \\+ m_gd"):
        mesons.check_open(mesons.get_meson("rho"), 0.5, 0.5)
    assert mesons.width_to_a_gd("rho", 0.5, 0.5, 1.0) == 0.0
    with pytest.raises(InputError, match="meson"):
        mesons.get_meson("kaon")
    assert mesons.get_meson("J/psi").key == "jpsi"


def test_vectorised_width_br_and_their_relation():
    m_gd = np.array([0.01, 0.5, 0.9])
    w = mesons.width_to_a_gd("rho", 1e-6, m_gd, 1e-3)
    assert w.shape == (3,) and w[0] > w[1] > 0 and w[2] == 0.0  # 0.9 GeV > M_ρ: closed
    br = mesons.br_to_a_gd("rho", 1e-6, m_gd, 1e-3)
    np.testing.assert_allclose(br, w / mesons.MESONS["rho"].width_gev, rtol=1e-15)
    assert type(mesons.width_to_a_gd("phi", 1e-6, 0.1, 1e-3)) is float
    with pytest.raises(InputError, match="g"):
        mesons.width_to_a_gd("phi", 1e-6, [0.1, 0.2], [1e-3, -1.0])


def test_coupling_at_br_inverts_br():
    m_gd = np.array([1e-3, 0.1, 0.5, 1.5])
    g = mesons.coupling_at_br("phi", 1.7e-4, 1e-6, m_gd)
    assert np.isnan(g[3])  # 1.5 GeV > M_φ: closed
    np.testing.assert_allclose(mesons.br_to_a_gd("phi", 1e-6, m_gd[:3], g[:3]), 1.7e-4, rtol=1e-14)
    # the hand value of docs/validation.md#babar-upsilon: ≈ 1.0e-2 GeV⁻¹ for Br(Υ → inv) < 3.0e-4, light masses
    assert mesons.coupling_at_br("upsilon", 3.0e-4, 1e-6, 1e-3) == pytest.approx(1.0e-2, rel=0.02)
    with pytest.raises(InputError, match="br"):
        mesons.coupling_at_br("phi", 0.0, 1e-6, 0.1)
