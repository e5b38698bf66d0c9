"""Vector-meson branching ratios via VMD (docs/physics.md#vmd; Gninenko et al., arXiv:2602.11405, Table 1)."""

import pytest

from physics import mesons
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
