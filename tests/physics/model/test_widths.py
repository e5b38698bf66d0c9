"""Widths and branching ratios of the dark axion portal (docs/physics.md#widths, #br-inv)."""

import math

import numpy as np
import pytest

from physics.model import widths
from physics.errors import InputError


def test_kallen_symmetric_and_known_values():
    assert widths.kallen(1.0, 0.0, 0.0) == 1.0
    assert widths.kallen(1.0, 0.25, 0.25) == pytest.approx(0.0, abs=1e-15)  # threshold M = m1 + m2
    x, y, z = 1.3, 0.2, 0.05
    assert widths.kallen(x, y, z) == pytest.approx(widths.kallen(z, x, y), rel=1e-14)


def test_gd_to_a_gamma_equals_vector_width_with_roles_swapped():
    # Γ(γD → aγ) is Γ(V(M=m_γD) → a + massless vector): λ^{3/2}(1, r, 0) = (1 − r)^3 exactly
    g, m_gd, m_a = 1e-3, 0.3, 0.1
    assert widths.width_gd_to_a_gamma(m_gd, m_a, g) == pytest.approx(
        widths.width_vector_to_a_gd(m_gd, m_a, 1e-12, g), rel=1e-9)
    # hand value: g² m³ (1 − 1/9)^3 / (96π)
    hand = 1e-6 * 0.027 * (8 / 9) ** 3 / (96 * math.pi)
    assert widths.width_gd_to_a_gamma(m_gd, m_a, g) == pytest.approx(hand, rel=1e-12)


def test_vector_width_threshold_and_vectorised():
    M = np.array([0.05, 0.1, 0.2, 1.0])
    w = widths.width_vector_to_a_gd(M, 0.04, 0.06, 1e-3)
    assert w[0] == 0.0 and w[1] == 0.0  # closed at and below m_a + m_γD
    assert np.all(w[2:] > 0)


def test_chichi_width_hand_value_and_threshold():
    # α_D m/3 (1 + 2r) sqrt(1 − 4r), r = (m_χ/m)^2 = 1/9
    val = widths.width_gd_to_chichi(0.3, 0.1, 0.1)
    assert val == pytest.approx(0.1 * 0.3 / 3 * (1 + 2 / 9) * math.sqrt(1 - 4 / 9), rel=1e-12)
    assert widths.width_gd_to_chichi(0.3, 0.1, 0.15) == 0.0


def test_br_invisible_default_and_limits():
    # default m_χ = m_γD/3, α_D = 0.1; with g tiny Br → 1
    assert widths.br_gd_invisible(0.1, 1e-6, 1e-8) == pytest.approx(1.0, abs=1e-12)
    # with huge g the visible channel dominates
    assert widths.br_gd_invisible(0.1, 1e-6, 1e3) < 0.01
    # both channels closed (m_χ too heavy, m_a ≥ m_γD) → stable, invisible
    assert widths.br_gd_invisible(0.1, 0.2, 1.0, m_chi=0.1) == 1.0


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_bad_masses_name_parameter(bad):
    with pytest.raises(InputError, match="m_a"):
        widths.width_gd_to_a_gamma(0.1, bad, 1e-3)
    with pytest.raises(InputError, match="m_gd"):
        widths.width_vector_to_a_gd(1.0, 0.0, bad, 1e-3)


def test_widths_are_vectorised_with_floats_for_scalars():
    # one definition serves arrays (broadcast) and scalars (a float)
    m_gd = np.array([0.01, 0.1, 0.3])
    m_a = np.array([[1e-6], [0.2]])                  # (2, 1) against (3,) → (2, 3)
    w = widths.width_gd_to_a_gamma(m_gd, m_a, 1e-3)
    assert w.shape == (2, 3)
    assert w[1, 0] == 0.0 and w[1, 1] == 0.0 and w[1, 2] > 0  # m_a = 0.2 GeV ≥ m_γD closes aγ
    assert type(widths.width_gd_to_a_gamma(0.3, 0.1, 1e-3)) is float
    assert type(widths.br_gd_invisible(0.1, 1e-6, 1e-3)) is float
    chi = widths.width_gd_to_chichi(m_gd, 0.1, m_gd / 3)
    assert chi.shape == (3,) and chi[1] == pytest.approx(widths.width_gd_to_chichi(0.1, 0.1, 0.1 / 3), rel=1e-14)
    # Γ(γD → aγ) is g² times the per-g² width, exactly
    per = widths.width_gd_to_a_gamma_per_g2(m_gd, 1e-6)
    assert np.array_equal(widths.width_gd_to_a_gamma(m_gd, 1e-6, 2e-3), per * 2e-3 ** 2)
    br = widths.br_gd_invisible(m_gd, 1e-6, np.array([1e-4, 1e-2, 10.0]))
    assert br.shape == (3,) and np.all((br > 0) & (br < 1))


@pytest.mark.parametrize("call,name", [
    (lambda: widths.width_gd_to_chichi(np.array([0.1, -0.2]), 0.1, 0.01), "m_gd"),
    (lambda: widths.width_gd_to_chichi(0.1, -0.1, 0.01), "alpha_D"),
    (lambda: widths.width_gd_to_a_gamma_per_g2(0.1, [0.0, float("nan")]), "m_a"),
    (lambda: widths.br_gd_invisible(0.1, 1e-6, [1e-3, float("inf")]), "g"),
    (lambda: widths.br_gd_invisible(0.1, 1e-6, 1e-3, m_chi=[-1.0]), "m_chi"),
    (lambda: widths.width_gd_to_a_gamma(0.1, 0.0, "1e-3"), "g"),
])
def test_bad_array_entries_name_parameter(call, name):
    with pytest.raises(InputError, match=name):
        call()
