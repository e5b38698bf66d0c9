"""Poisson upper limits on a signal mean (docs/physics.md#statistics; checks in docs/validation.md#reach).

Both prescriptions are written out in docs/physics.md#statistics-neyman and #statistics-cls.

A counting experiment observes ``n_obs`` events with an expected background ``b`` (known exactly). The
upper limit ``s_up`` at confidence level CL on the signal mean ``s`` is computed with one of two documented
prescriptions:

``"neyman"`` — classical Neyman construction with the ordering "fewer events is more extreme"
    (e.g. PDG Review "Statistics", section on Poisson upper limits; Feldman & Cousins, PRD 57 (1998) 3873, Sec. II.B):

        P(n ≤ n_obs | s_up + b) = 1 − CL   ⇔   s_up + b = ½ χ²_{2(n_obs+1)}(CL)      (exact identity)

    When b > n_obs this can become very small or negative (the data fluctuate below the background);
    the value is *clipped at 0* and a warning flag is reported by :func:`poisson_limit_report`. A limit
    of 0 means "every signal excluded" — the known pathology of this construction.

``"cls"`` (default) — modified frequentist CLs (Junk, NIM A 434 (1999) 435; Read, J. Phys. G 28 (2002)
    2693), as used by NA64 for its published limits:

        CLs(s) = P(n ≤ n_obs | s + b) / P(n ≤ n_obs | b) = 1 − CL

    always positive, never stronger than the zero-background limit for n_obs = 0; equal to Neyman for b = 0.

Checks: b = 0, n = 0 → 2.3026 (= ln 10); n = 1 → 3.8897; n = 2 → 5.3223 (PDG Review "Statistics", table of Poisson upper limits).
Feldman–Cousins is not implemented.

Numerics of CLs at large background: P(n ≤ n_obs | b) underflows (e^{-b} < 1e-308 for b > 745 at n_obs = 0),
so when it falls below 1e-250 the ratio is formed in log space from the finite sum
ln P(k ≤ n | μ) = −μ + ln Σ_{k=0}^{n} μ^k/k! (``scipy.special.logsumexp``), which never underflows.
Inputs are bounded by :mod:`physics.limits` (background ≤ 1e4, observed ≤ 1e4 events), the range in which
both prescriptions are checked against their defining equations (tests/physics/signal/test_statistics.py).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from physics import errors, limits
from physics.model.constants import N90_ZERO_BACKGROUND

METHODS = ("cls", "neyman")
#: Default confidence level (docs/physics.md#statistics).
CL_DEFAULT = 0.90


#: Below this P(n ≤ n_obs | b) the CLs ratio is formed in log space (see the module docstring).
_P_B_LOG_SPACE = 1e-250


def _chi2_ppf(p: float, dof: int) -> float:
    """χ² quantile 2·P⁻¹(dof/2, p) with P the regularised lower incomplete gamma (what scipy.stats.chi2.ppf
    evaluates, without importing scipy.stats: ~0.5 s of CLI start-up)."""
    return 2.0 * float(special.gammaincinv(0.5 * dof, p))


def _validate(n_obs, background, cl, method):
    n = limits.check("observed", n_obs)
    b = limits.check("background", background)
    cl = errors.in_range("cl", cl, 0.0, 1.0, lo_open=True, hi_open=True)
    errors.one_of("statistics", method, METHODS)
    return n, b, cl


def log_poisson_cdf(n: int, mu: float) -> float:
    """ln P(k ≤ n | μ) = −μ + ln Σ_{k=0}^{n} μ^k/k! for a Poisson mean μ ≥ 0 (no underflow at large μ)."""
    if mu == 0.0:
        return 0.0
    k = np.arange(int(n) + 1, dtype=float)
    return float(-mu + special.logsumexp(k * math.log(mu) - special.gammaln(k + 1.0)))


def neyman_upper_limit_unclipped(n_obs: int = 0, background: float = 0.0, cl: float = CL_DEFAULT) -> float:
    """Classical Neyman upper limit s_up = ½ χ²_{2(n+1)}(CL) − b, *not* clipped (may be ≤ 0 for b > n).

    Source: the identity Σ_{k≤n} Pois(k|μ) = 1 − F_{χ²}(2μ; 2(n+1)) (PDG Review "Statistics", Poisson upper limits).
    """
    n, b, cl = _validate(n_obs, background, cl, "neyman")
    return 0.5 * _chi2_ppf(cl, 2 * (n + 1)) - b


def poisson_upper_limit(n_obs: int = 0, background: float = 0.0, cl: float = CL_DEFAULT,
                        method: str = "cls") -> float:
    """Upper limit on the Poisson signal mean [events] at confidence level ``cl``.

    n_obs: observed events (integer ≥ 0); background: expected background b ≥ 0 [events];
    method: "cls" (default) or "neyman" (clipped at 0). See the module docstring for the formulas.
    """
    n, b, cl = _validate(n_obs, background, cl, method)
    if method == "neyman" or b == 0.0:
        # for b = 0 CLs and Neyman coincide: P(n ≤ n_obs | 0) = 1
        return max(0.0, 0.5 * _chi2_ppf(cl, 2 * (n + 1)) - b)
    alpha = 1.0 - cl
    p_b = float(special.pdtr(n, b))
    if p_b >= _P_B_LOG_SPACE:
        def f(s):
            # CLs(s) − α, using the regularised upper incomplete gamma Q(n+1, μ) = P(k ≤ n | μ)
            return float(special.gammaincc(n + 1, s + b)) / p_b - alpha
    else:
        log_p_b, log_alpha = log_poisson_cdf(n, b), math.log(alpha)

        def f(s):
            # ln CLs(s) − ln α (same root, same sign)
            return log_poisson_cdf(n, s + b) - log_p_b - log_alpha

    hi = 0.5 * _chi2_ppf(cl, 2 * (n + 1)) + 10.0
    while f(hi) > 0:
        hi *= 2.0
    from scipy import optimize  # only here: importing it costs ~0.3 s

    return float(optimize.brentq(f, 0.0, hi, xtol=1e-12, rtol=1e-12))


def poisson_limit_report(n_obs: int = 0, background: float = 0.0, cl: float = CL_DEFAULT,
                         method: str = "cls") -> dict:
    """The limit with everything it depends on (for the ``assumptions`` block of a result)."""
    n, b, cl = _validate(n_obs, background, cl, method)
    s_up = poisson_upper_limit(n, b, cl, method)
    rep = {"N_90" if abs(cl - 0.9) < 1e-12 else "N_up": s_up, "cl": cl, "background": b, "observed": n,
           "method": method,
           "formula": ("CLs: P(n<=n_obs|s+b)/P(n<=n_obs|b) = 1-CL (Junk 1999; Read 2002)" if method == "cls"
                       else "Neyman: P(n<=n_obs|s+b) = 1-CL, clipped at 0 (PDG Statistics review)")}
    if method == "neyman" and neyman_upper_limit_unclipped(n, b, cl) <= 0.0:
        rep["warning"] = "Neyman limit <= 0 (background exceeds observation); clipped to 0"
    return rep


def n90_zero_background() -> float:
    """2.3026 = ln 10: the 90% CL limit for b = 0, n = 0 (docs/physics.md#statistics)."""
    return N90_ZERO_BACKGROUND


__all__ = ["poisson_upper_limit", "poisson_limit_report", "neyman_upper_limit_unclipped", "log_poisson_cdf",
           "METHODS", "CL_DEFAULT", "n90_zero_background"]
