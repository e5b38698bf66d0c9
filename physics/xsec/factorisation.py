"""Dark axion portal cross section from a σ_V(M) table by factorisation (docs/physics.md#factorisation,
derived).

    dσ(eN → eN a γD)/dx = (g² / 96π²) ∫_{(m_a+m_γD)²}^{s_max} ds λ^{3/2}(1, m_a²/s, m_γD²/s) dσ_V(√s)/dx

(exact at tree level for emission from the lepton line — electron or muon alike: the beam lepton enters only
through the σ_V table, ``SigmaVConfig.lepton``, docs/physics.md#muon-beams — the a γD pair is integrated over its own phase
space at fixed invariant mass s, the γ* propagator and the pair's phase space give √s Γ(γ*(√s) → a γD)/(π s²),
with Γ of docs/physics.md#width-vector). σ_V is the ε = 1 vector cross section (``physics.xsec.sigma_v``). g in
GeV⁻¹, cross sections in pb per atom. x = E_V/E0 is the energy fraction of the pair (the missing energy), so a
missing-energy window x_min ≤ x ≤ x_max is the same window on σ_V(√s): ``x_min``/``x_max`` are applied to the
table (``SigmaVTable.sigma_at(..., x_min=...)``, bins summed, no recomputation).

Numerics: substitution s = M², ds = 2M² d(ln M); Gauss–Legendre in ln M on two segments, [M_th, 4 M_th]
(where λ^{3/2} rises from 0 like (M − M_th)^{3/2}) and [4 M_th, M_max], 96 nodes each: converged to < 1e-4
relative against adaptive quadrature (tests/physics/xsec/test_factorisation.py). Above the table's last mass σ_V
is taken as 0 (the grid ends where σ_V is negligible or kinematics closes).

The MC error is propagated fully correlated (σ_err = ∫ weight · σ_V · relerr(M)), a conservative bound; with a
cut, relerr is the conservative bound of σ_V above the cut (``sigma_v.window_sums``).
"""

from __future__ import annotations

import math

import numpy as np

from physics import errors
from physics.model.widths import lambda32
from physics.xsec.sigma_v import SigmaVTable

_N_NODES = 96
_GL_X, _GL_W = np.polynomial.legendre.leggauss(_N_NODES)


def _nodes(m_th: np.ndarray, m_hi: float):
    """Return (M nodes, weights for ∫ d ln M) with shape (n_points, 2*_N_NODES)."""
    m_th = np.atleast_1d(np.asarray(m_th, dtype=float))
    a = np.log(m_th)
    b = np.log(np.minimum(4.0 * m_th, m_hi))
    c = np.full_like(a, math.log(m_hi))
    segs = []
    for lo, hi in ((a, b), (b, c)):
        half = 0.5 * (hi - lo)[:, None]
        mid = 0.5 * (hi + lo)[:, None]
        segs.append((np.exp(mid + half * _GL_X[None, :]), half * _GL_W[None, :]))
    m = np.concatenate([s[0] for s in segs], axis=1)
    w = np.concatenate([s[1] for s in segs], axis=1)
    return m, np.clip(w, 0.0, None)


def _check(table: SigmaVTable, m_a, m_gd, g):
    m_a = np.asarray(m_a, dtype=float)
    m_gd = np.asarray(m_gd, dtype=float)
    if np.any(~np.isfinite(m_a)) or np.any(m_a < 0):
        raise errors.InputError("m_a", ">= 0 GeV (finite)", m_a.tolist())
    if np.any(~np.isfinite(m_gd)) or np.any(m_gd <= 0):
        raise errors.InputError("m_gd", "> 0 GeV (finite)", m_gd.tolist())
    g = errors.non_negative("g", g, "GeV^-1")
    m_min = table.masses_gev[0]
    m_th = m_a + m_gd
    if np.any(m_th < m_min * (1 - 1e-9)):
        raise errors.InputError("m_a + m_gd", f">= {m_min:g} GeV (lowest tabulated σ_V mass)",
                                np.min(m_th).item())
    return m_a, m_gd, g


def _weights(table: SigmaVTable, m_a, m_gd, g):
    m_a, m_gd, g = _check(table, m_a, m_gd, g)
    shape = np.broadcast(m_a, m_gd).shape
    m_a_f, m_gd_f = np.broadcast_to(m_a, shape).ravel(), np.broadcast_to(m_gd, shape).ravel()
    m_hi = float(table.masses_gev[-1])
    m_th = m_a_f + m_gd_f
    closed = m_th >= m_hi
    m_nodes, w = _nodes(np.where(closed, 0.5 * m_hi, m_th), m_hi)
    lam = lambda32(m_nodes, m_a_f[:, None], m_gd_f[:, None])
    kern = g * g / (96.0 * math.pi ** 2) * 2.0 * m_nodes ** 2 * lam * w
    kern[closed] = 0.0
    return shape, m_nodes, kern


def sigma_portal_pb(table: SigmaVTable, m_a, m_gd, g, x_min: float | None = None,
                    x_max: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """σ(eN → eN a γD) [pb per atom] for x in [x_min, x_max] (default: the table's window), and its propagated
    MC error [pb].

    Vectorised over m_a, m_gd (broadcast). Zero where m_a + m_γD is above the table's mass range.
    """
    shape, m_nodes, kern = _weights(table, m_a, m_gd, g)
    sv = table.sigma_at(m_nodes, beyond_max_zero=True, x_min=x_min, x_max=x_max)
    rel = np.nan_to_num(table.rel_error_at(m_nodes, x_min=x_min, x_max=x_max))
    sv = np.nan_to_num(sv)
    sig = np.sum(kern * sv, axis=1)
    err = np.sum(kern * sv * rel, axis=1)
    return sig.reshape(shape), err.reshape(shape)


def dsigma_portal_dx_pb(table: SigmaVTable, m_a: float, m_gd: float, g: float):
    """dσ(eN → eN a γD)/dx [pb] in the table's x bins (the whole x range for an experiment's table, whatever
    its cut): returns (x_edges, dσ/dx per bin)."""
    _, m_nodes, kern = _weights(table, m_a, m_gd, g)
    ds = np.nan_to_num(table.dsdx_at(m_nodes[0], beyond_max_zero=True))  # (nodes, bins)
    return table.config.x_edges, kern[0] @ ds
