"""Poisson 90% CL upper limits (physics/signal/statistics.py; docs/physics.md#statistics, docs/validation.md#reach)."""

import math

import pytest
from scipy.stats import poisson

from physics.signal import statistics as st
from physics.errors import InputError


@pytest.mark.parametrize("n,expected", [(0, 2.3026), (1, 3.8897), (2, 5.3223)])
@pytest.mark.parametrize("method", ["cls", "neyman"])
def test_known_values_zero_background(n, expected, method):
    # PDG Statistics review table of Poisson upper limits (90% CL, b = 0), quoted to 5 digits: rel 5e-5
    assert st.poisson_upper_limit(n, 0.0, 0.9, method) == pytest.approx(expected, rel=5e-5)


def test_zero_zero_is_ln10_and_constant():
    # exact: P(0 | s) = e^{-s} = 0.1 ⇒ s = ln 10
    assert st.poisson_upper_limit() == pytest.approx(math.log(10.0), rel=1e-12)
    assert st.n90_zero_background() == pytest.approx(math.log(10.0), rel=1e-12)


@pytest.mark.parametrize("n,b", [(0, 0.7), (3, 1.2), (5, 6.0), (10, 2.5)])
def test_neyman_definition(n, b):
    s = st.neyman_upper_limit_unclipped(n, b)
    # defining equation P(k <= n | s + b) = 0.10, solved through the χ² identity: rel 1e-9 (double precision)
    assert poisson.cdf(n, s + b) == pytest.approx(0.10, rel=1e-9)


@pytest.mark.parametrize("n,b", [(0, 0.7), (1, 0.5), (3, 1.2), (5, 6.0)])
def test_cls_definition_and_conservative(n, b):
    s = st.poisson_upper_limit(n, b, method="cls")
    cls = poisson.cdf(n, s + b) / poisson.cdf(n, b)
    assert cls == pytest.approx(0.10, rel=1e-9)  # brentq to 1e-12
    # CLs is never stronger than the Neyman limit (it divides by CL_b <= 1)
    assert s >= st.neyman_upper_limit_unclipped(n, b) - 1e-12


def test_cls_n0_independent_of_background():
    # for n = 0, CLs = e^{-(s+b)}/e^{-b} = e^{-s}: exactly ln 10 for every b
    for b in (0.1, 1.0, 7.0):
        assert st.poisson_upper_limit(0, b, method="cls") == pytest.approx(math.log(10.0), rel=1e-9)


def test_neyman_clipped_when_background_exceeds_observation():
    assert st.neyman_upper_limit_unclipped(0, 5.0) < 0
    assert st.poisson_upper_limit(0, 5.0, method="neyman") == 0.0
    rep = st.poisson_limit_report(0, 5.0, method="neyman")
    assert rep["N_90"] == 0.0 and "clipped" in rep["warning"]


def test_report_contents():
    rep = st.poisson_limit_report(1, 0.5)
    assert rep["method"] == "cls" and rep["background"] == 0.5 and rep["observed"] == 1
    assert rep["N_90"] == st.poisson_upper_limit(1, 0.5)


@pytest.mark.parametrize("kwargs,name", [
    ({"n_obs": -1}, "observed"), ({"n_obs": 1.5}, "observed"), ({"n_obs": "x"}, "observed"),
    ({"background": -1.0}, "background"), ({"background": float("nan")}, "background"),
    ({"cl": 1.0}, "cl"), ({"method": "fc"}, "statistics"),
])
def test_bad_input(kwargs, name):
    with pytest.raises(InputError) as exc:
        st.poisson_upper_limit(**kwargs)
    assert exc.value.parameter == name


# -- large backgrounds: CLs must not divide by an underflowed P(n <= n_obs | b) ------------------------
@pytest.mark.parametrize("n,b", [(0, 800.0), (5, 800.0), (3, 2000.0), (0, 1e4), (40, 1e4), (10_000, 1e4),
                                 (2, 745.0), (0, 500.0)])
def test_cls_definition_at_large_background_vs_mpmath(n, b):
    import mpmath as mp

    mp.mp.dps = 40
    s = st.poisson_upper_limit(n, b, method="cls")
    assert math.isfinite(s) and s > 0
    # CLs(s) = Q(n+1, s+b)/Q(n+1, b) = 0.1 with the regularised upper incomplete gamma, at 40 digits;
    # the root is found to ~1e-12 absolute in s, i.e. ~1e-12·|dlnCLs/ds| ≲ 1e-11 relative in CLs
    cls = mp.gammainc(n + 1, s + b, mp.inf, regularized=True) / mp.gammainc(n + 1, b, mp.inf, regularized=True)
    assert float(cls) == pytest.approx(0.10, rel=1e-8)
    if n == 0:
        assert s == pytest.approx(math.log(10.0), rel=1e-12)   # e^{-s} exactly, for every b


def test_log_poisson_cdf_matches_scipy_where_both_work():
    # −μ + ln Σ μ^k/k! cancels two numbers of size μ: the absolute accuracy is a few ulp of μ (1e-14 μ)
    for n, mu in ((0, 0.0), (0, 3.0), (7, 2.5), (100, 90.0), (10_000, 9_000.0), (5, 600.0)):
        assert st.log_poisson_cdf(n, mu) == pytest.approx(math.log(poisson.cdf(n, mu)) if mu else 0.0,
                                                          rel=1e-12, abs=1e-14 * max(mu, 1.0))


@pytest.mark.parametrize("kwargs", [{"background": 1.5e4}, {"n_obs": 10_001}, {"n_obs": True},
                                    {"background": "800"}, {"n_obs": 1e300}])
def test_statistics_range_is_bounded(kwargs):
    # beyond the validated range (b, n <= 1e4) the inputs are refused, not computed
    with pytest.raises(InputError):
        st.poisson_upper_limit(**kwargs)
