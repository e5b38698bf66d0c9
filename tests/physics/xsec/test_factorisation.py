"""physics.xsec.factorisation: the 1-D integral over the pair mass against adaptive quadrature and closed forms.

σ(eN → eN a γD) = (g²/96π²) ∫_{(m_a+m_γD)²}^{M_max²} ds λ^{3/2}(1, m_a²/s, m_γD²/s) σ_V(√s)   (docs/physics.md#factorisation)
"""

import math

import numpy as np
import pytest
from scipy import integrate

from physics.xsec.factorisation import dsigma_portal_dx_pb, sigma_portal_pb
from physics.xsec.mc import MCResult
from physics.model.widths import lambda32
from physics.xsec.sigma_v import SigmaVConfig, SigmaVPoint, SigmaVTable

M_LO, M_HI = 1e-3, 50.0


def _table(sigma_fn, n=160, shape=(0.6, 1.4)):
    """A table of an analytic σ_V(M) [pb] on a log grid; two x bins with fixed shares of σ."""
    cfg = SigmaVConfig(100.0, "Pb", 0.5, 1.0, n_x_bins=2)
    pts = []
    for m in np.geomspace(M_LO, M_HI, n):
        s = float(sigma_fn(m))
        ds = tuple(s * f / (0.25 * sum(shape)) for f in shape)      # bins of width 0.25 → Σ dsdx·0.25 = σ
        pts.append(SigmaVPoint(float(m), MCResult(s, 0.01 * s, "pb", 1.0, 0.5, 1000, 1), ds, tuple(0.01 * d for d in ds)))
    return SigmaVTable(cfg, pts)


def _smooth(m):
    return 1e12 * (0.01 / m) ** 2 / (1.0 + m / 0.3) ** 2 * (1.0 + 0.2 * math.sin(math.log(m)))


def _quad_reference(table, m_a, m_gd, g):
    """Same interpolated σ_V, integrated with scipy quad in ln M (ds = 2 M² d ln M), rel 1e-11."""
    m_th = m_a + m_gd

    def f(lm):
        m = math.exp(lm)
        return (g * g / (96 * math.pi ** 2) * 2 * m * m * float(lambda32(m, m_a, m_gd))
                * float(table.sigma_at(m, beyond_max_zero=True)))

    pts = [math.log(min(4 * m_th, M_HI))] if 4 * m_th < M_HI else None
    return integrate.quad(f, math.log(m_th), math.log(M_HI), points=pts, limit=500, epsrel=1e-11)[0]


@pytest.mark.parametrize("m_a,m_gd", [(1e-6, 0.05), (0.02, 0.03), (0.1, 0.1), (1e-6, 0.0011), (2.0, 5.0)])
def test_gauss_legendre_against_quad(m_a, m_gd):
    # the module's 2×96-node Gauss–Legendre in ln M must agree with adaptive quadrature to < 1e-4
    t = _table(_smooth)
    g = 1e-3
    sig, err = sigma_portal_pb(t, m_a, m_gd, g)
    ref = _quad_reference(t, m_a, m_gd, g)
    assert float(sig) == pytest.approx(ref, rel=1e-4)
    assert float(err) == pytest.approx(0.01 * float(sig), rel=1e-6)     # 1% per point, fully correlated
    # and the x-differential version integrates to the total (bins of width 0.25)
    edges, ds = dsigma_portal_dx_pb(t, m_a, m_gd, g)
    assert np.sum(ds) * 0.25 == pytest.approx(float(sig), rel=1e-9)


def test_zero_above_the_table_and_g_squared():
    t = _table(_smooth)
    assert float(sigma_portal_pb(t, 30.0, 25.0, 1e-3)[0]) == 0.0        # m_a + m_γD > M_max
    assert float(sigma_portal_pb(t, 0.0, M_HI * 1.0000001, 1e-3)[0]) == 0.0
    s1 = float(sigma_portal_pb(t, 1e-6, 0.05, 1e-3)[0])
    s2 = float(sigma_portal_pb(t, 1e-6, 0.05, 2e-3)[0])
    assert s2 / s1 == pytest.approx(4.0, rel=1e-12)


def test_constant_sigma_closed_form_massless_alp():
    # σ_V = σ0 (exactly interpolated), m_a = 0: λ^{3/2} = (1 − μ²/s)³ and
    # ∫ ds (1 − μ²/s)³ = [s − 3μ² ln s − 3μ⁴/s + μ⁶/(2s²)] between μ² and M_max² — to 1e-4, including
    # masses where the window closes (μ → M_max: σ ∝ (M_max² − μ²)⁴).
    s0 = 2.5e9
    t = _table(lambda m: s0, n=20)
    g = 1e-3
    for mu in (0.001, 0.05, 3.0, 40.0, 49.0):
        def F(s, mu=mu):
            return s - 3 * mu ** 2 * math.log(s) - 3 * mu ** 4 / s + mu ** 6 / (2 * s * s)
        exact = g * g / (96 * math.pi ** 2) * s0 * (F(M_HI ** 2) - F(mu ** 2))
        assert float(sigma_portal_pb(t, 0.0, mu, g)[0]) == pytest.approx(exact, rel=1e-4)


def test_lambda_three_halves_threshold_behaviour():
    # m_a = m_γD = μ with a constant σ_V: near the end of the window the integral is
    # ∫_{4μ²}^{M²} (1 − 4μ²/s)^{3/2} ds → (2/5) Δ^{5/2}/(4μ²)^{3/2}, Δ = M² − 4μ² → 0 (the λ^{3/2} threshold).
    # Compare the module with quad of the exact kernel (1e-4) and check the 5/2 power law between two Δ.
    s0 = 1.0e9
    t = _table(lambda m: s0, n=20)
    g = 1.0
    vals = []
    for frac in (1e-2, 1e-3):
        mu = 0.5 * M_HI * math.sqrt(1 - frac)
        exact = integrate.quad(lambda s: (1 - 4 * mu * mu / s) ** 1.5, 4 * mu * mu, M_HI ** 2, epsrel=1e-12)[0]
        exact *= g * g / (96 * math.pi ** 2) * s0
        got = float(sigma_portal_pb(t, mu, mu, g)[0])
        assert got == pytest.approx(exact, rel=1e-4)
        vals.append(got)
    # Δ ratio 10 → σ ratio ≈ 10^{5/2} (corrections O(Δ/M²) ~ 1%)
    assert vals[0] / vals[1] == pytest.approx(10 ** 2.5, rel=0.02)
