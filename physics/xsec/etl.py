"""Exact tree-level (ETL) σ_V: e N → e N V for a massive vector V coupled to the electron like a photon (ε = 1),
integrated over the full three-body phase space with VEGAS (docs/physics.md#etl-matrix-element,
#etl-phase-space, #etl-integration). No Weizsäcker–Williams anywhere.

The projectile is the configuration's beam lepton (``SigmaVConfig.lepton``: "e" or "mu"; docs/physics.md#muon-beams):
its mass m is the projectile mass of the kinematics and of the matrix element (both exact in m); "electron"
below stands for it. The atomic screening of the form factor keeps the electron mass (atomic electrons screen
the nucleus, whatever the beam). Electron configurations run exactly the code path they always did.

    σ_V = ∫ dΦ3 ¯|M|² / (4 M_N |p⃗|),   ¯|M|² = e⁶ G2(t) W / t²      (physics.xsec.matrix_element)

Phase space and variables: physics.xsec.kinematics. Two VEGAS channels share each unit-cube point (multichannel
sum, Kleiss & Pittau, Comput. Phys. Commun. 83 (1994) 141, with weights from the propagator peaks): the
"initial" channel measures the V direction from the beam (x in logit, ln t, ũ = 2p·k − M², azimuth of q⃗),
the "final" channel from the outgoing electron (light-front z, ln t, s1 = (p'+k)² − m², azimuth of κ⊥).
At |t| ≫ M² the two emission cones separate; one channel alone then meets a narrow ridge whose position moves
with t, which VEGAS cannot follow (rare weights 40× the mean, unreliable Q). Weights: d1 = s1 (1 − x),
d2 = ũ, w_initial = d1²/(d1² + d2²), w_final = d2²/(d1² + d2²) inside the z window of the final channel
(``kinematics.final_window``: fast, forward final electrons, which alone have the collinear s1 peak), and
w_initial = 1, w_final = 0 outside it. channel_initial covers the whole phase space, so the sum is exact
everywhere, including the slow, backward-moving final electrons near x → 1. Result per atom in pb
(GeV⁻² × constants.GEV_M2_IN_PB). Nucleus: spin 0, mass A·u; form factor from physics.model.form_factors
(``config.form_factor``: "elastic" or "elastic+inelastic"; the inelastic G2 is used with the same, coherent,
recoil kinematics, as in Bjorken et al. 2009, App. A [Bjorken2009]; docs/physics.md#form-factor-inelastic).

VEGAS discipline (G. P. Lepage, vegas documentation, "Basic Integrals"): the map is first adapted
(``NITN_ADAPT`` iterations, results discarded), then frozen and the integral measured iteration by iteration
(``_measure_iteration``: the points and weights of ``Integrator.random_batch``, vegas' own per-hypercube
estimate) until the requested relative error is reached (at least ``NITN_MIN`` iterations) or ``max_neval``
evaluations have been spent. All iterations have the same neval, set by the requested precision
(``neval_per_iteration``: 1000 at 1%, 10000 at 0.1%), so the cost follows the precision. Measured
iterations are combined (weighted by their neval, see ``_combine``): mean, error, χ²/dof and Q are reported.
Not reaching the precision gives ``converged=False`` with a message; Q < 0.1 (after up to
``MAX_Q_RETRIES`` fresh measurements with doubled neval) or non-finite integrand values in more than
``mc.NONFINITE_MAX_FRACTION`` of the evaluations make ``MCResult.ok`` False. Unbiased and with correct
errors at 1%: benchmarks/bench_pulls.py. The integrand is array valued: [σ, σ in x bin 1, …, σ in x bin n]
from the same points; VEGAS adapts to the first component (the total).

Reproducibility: each call builds its own ``numpy.random.Generator(PCG64(seed))`` and hands its ``random``
method to the Integrator as ``ran_array_generator`` (a per-integrator setting in vegas ≥ 6): no global RNG
state (numpy's or gvar's) is read or modified, results are bit-identical for a given seed and platform.
"""

from __future__ import annotations

import math
import threading
from typing import Callable

import gvar
import numpy as np
import vegas

from physics import errors
from physics.model.constants import ALPHA_EM, GEV_M2_IN_PB
from physics.model.form_factors import g2_total
from physics.xsec.kinematics import FINAL_OMZ_MIN, Z_PAD, channel_final, channel_initial, final_window, make_setup
from physics.xsec.matrix_element import w_closed
from physics.xsec.methods import Method
from physics.xsec.mc import NONFINITE_MAX_FRACTION, Q_MIN, MCResult
from physics.xsec.sigma_v import SigmaVConfig, SigmaVPoint, SigmaVTable, now_iso
from physics.model.materials import get_material

#: e⁶ = (4πα)³ (three electromagnetic vertices squared; ε = 1).
E6 = (4.0 * math.pi * ALPHA_EM) ** 3
#: VEGAS schedule. Every iteration (adaptation and measurement) uses the same neval, so the adapted
#: stratification carries over: neval = clip(NEVAL_PER_REL2 / rel_error², NEVAL_MIN, NEVAL_MAX) (1000 at 1%,
#: 10000 at 0.1%). NITN_ADAPT iterations adapt the map (discarded); measured iterations follow one at a time
#: until the requested precision is reached (at least NITN_MIN of them, so that χ² has ≥ 2 dof).
NEVAL_MIN = 1000
NEVAL_MAX = 10000
NEVAL_PER_REL2 = 0.02
NITN_ADAPT = 5
NITN_MIN = 3
#: Fresh measurements (each with doubled neval per iteration) allowed when Q < Q_MIN at the requested precision.
MAX_Q_RETRIES = 3
#: VEGAS map damping (vegas default 0.5) and maximum grid increments per axis (vegas maxinc_axis, default 1000).
ALPHA = 0.5
NINC = 400
METHOD = Method.ETL.value


def _integrand_factory(config: SigmaVConfig, mass_gev: float):
    """Build (setup, f, counters) for one mass. ``f(y)`` maps unit-cube points y (n, 4) to (n, 1 + n_x_bins)
    values in pb: [σ, σ in x bin 1, …]; ``f(y, bins=False)`` to the total only, (n, 1).

    ``counters["nonfinite"]`` counts channel evaluations inside phase space whose value is not finite (they
    contribute 0; :func:`sigma_v_point` reports the count and flags the result if it is not negligible).
    """
    mat = get_material(config.target)
    m_lep = config.lepton_mass_gev                    # projectile: the beam lepton (m_e for "e")
    setup = make_setup(float(config.beam_energy_gev), m_lep, float(mass_gev), mat.nucleus_mass_gev,
                       float(config.x_min), float(config.x_max))
    edges = config.x_edges
    nb = len(edges) - 1
    m2, M2 = m_lep ** 2, float(mass_gev) ** 2
    Z, A, ff = mat.Z, mat.A, config.form_factor
    counters = {"nonfinite": 0}
    if setup is None:
        return None, None, counters
    z_lo, omz_lo = final_window(setup)

    def f(y, bins: bool = True):
        out = np.zeros((len(y), 1 + nb if bins else 1))
        rows = np.arange(len(y))
        for chan in (channel_initial, channel_final):
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                r = chan(setup, y)
                W = w_closed(r["s1"], r["s2"], r["t"], r["ak"], r["aq"], r["a2"], m2, M2)
                # multichannel weights: squared distances from the two propagator peaks in the transverse
                # plane, d1 = s1 x(1−x) ≈ |k⊥ − x q⊥|² + μ², d2 = ũ x ≈ |k⊥|² + μ² (μ² = M²(1−x) + m²x²);
                # each channel keeps the share of ¯|M|² near its own peak (w_initial + w_final = 1). Outside
                # the z window of channel_final, channel_initial keeps all of it (w_initial = 1).
                d1 = r["s1"] * r["omx"]
                a, b = d1 * d1, r["s2"] * r["s2"]
                if chan is channel_initial:
                    inside = (r["z"] >= z_lo) & (r["omz"] >= omz_lo)
                    w_chan = np.where(inside, a / np.where(inside, a + b, 1.0), 1.0)
                else:
                    w_chan = b / (a + b)
                val = (r["weight"] * w_chan * (E6 * GEV_M2_IN_PB) * g2_total(r["t"], Z, A, ff) * W
                       / (r["t"] * r["t"]))
            finite = np.isfinite(val)
            counters["nonfinite"] += int(np.count_nonzero(r["ok"] & ~finite))
            val = np.where(r["ok"] & finite, val, 0.0)
            out[:, 0] += val
            if bins:
                idx = np.clip(np.searchsorted(edges, r["x"], side="right") - 1, 0, nb - 1)
                out[rows, 1 + idx] += val
        return out

    return setup, f, counters


_GVAR_RNG_LOCK = threading.Lock()


def make_integrator(dim: int, rng: np.random.Generator, **settings) -> vegas.Integrator:
    """A vegas.Integrator on the unit cube whose random numbers all come from ``rng``.

    ``ran_array_generator`` covers the sampling; the constructor itself draws one probe point from gvar's
    module-level generator (vegas ``_set_map``: the point where the integrand's output shape is probed). To
    leave no global state modified, gvar.RNG is swapped for ``rng`` during construction and restored (under
    a lock, so concurrent threads cannot interleave the swap).
    """
    with _GVAR_RNG_LOCK:
        saved = gvar.RNG
        gvar.RNG = rng
        try:
            return vegas.Integrator(dim * [[0.0, 1.0]], ran_array_generator=rng.random, **settings)
        finally:
            gvar.RNG = saved


def _combine(n, means, variances):
    """Combine measured VEGAS iterations (frozen map, hence independent) weighted by their neval:
    mean = Σ n_i m_i / Σ n_i, var = Σ n_i² v_i / (Σ n_i)²; χ² of the σ component (index 0) about that mean
    with dof = (number of iterations − 1). Weighting by neval rather than by the estimated variances keeps
    the combination unbiased (variance weights correlate with the estimates) and makes Σ bins = σ exact.
    """
    n = np.asarray(n)[:, None]
    m = np.asarray(means)
    v = np.asarray(variances)
    w = n / n.sum()
    mean = (w * m).sum(axis=0)
    var = (w * w * v).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        chi2 = float(np.nansum((m[:, 0] - mean[0]) ** 2 / v[:, 0])) if len(m) > 1 else 0.0
    return mean, var, chi2, len(m) - 1


def _measure_iteration(integ: vegas.Integrator, f) -> tuple[int, np.ndarray, np.ndarray]:
    """One VEGAS iteration with the map and stratification frozen: (neval, mean, variance) of every component.

    Points and weights come from ``Integrator.random_batch(yield_hcube=True)``, and the estimate is the one
    vegas makes (vegas documentation, ``random_batch``): per hypercube h with n_h points, I_h = Σ w f and
    σ_h² = (n_h Σ (w f)² − (Σ w f)²)/(n_h − 1); I = Σ_h I_h, σ² = Σ_h σ_h². Unlike a vegas call with
    adapt=False it leaves the stratification untouched (iterations are independent) and builds no gvar
    objects (their cost dominated small iterations of the array-valued integrand).
    """
    n = 0
    mean = var = 0.0
    for x, wgt, hcube in integ.random_batch(yield_hcube=True):
        wf = f(x) * wgt[:, None]
        starts = np.flatnonzero(np.concatenate(([True], hcube[1:] != hcube[:-1])))
        cnt = np.diff(np.append(starts, len(hcube)))[:, None].astype(float)
        s1 = np.add.reduceat(wf, starts, axis=0)
        s2 = np.add.reduceat(wf * wf, starts, axis=0)
        mean = mean + s1.sum(axis=0)
        var = var + np.maximum((cnt * s2 - s1 * s1) / (cnt - 1.0), 0.0).sum(axis=0)
        n += len(x)
    return n, np.asarray(mean), np.asarray(var)


def neval_per_iteration(rel_error: float) -> int:
    """Integrand evaluations per VEGAS iteration for a requested relative error (see NEVAL_PER_REL2)."""
    return int(min(NEVAL_MAX, max(NEVAL_MIN, round(NEVAL_PER_REL2 / rel_error ** 2, -2))))


def _check_mass(config: SigmaVConfig, mass_gev) -> float:
    M = errors.positive("mass", mass_gev, "GeV")
    e_max = float(config.beam_energy_gev) - config.lepton_mass_gev
    if M >= e_max:
        why = "below beam energy − m_e" if config.lepton == "e" else \
            f"below beam energy − m_{config.lepton}: kinematic threshold E0 > m_lepton + M"
        raise errors.InputError("mass", f"in (0, {e_max:g}) GeV ({why})", mass_gev)
    return M


#: vegas' compiled integrator is not safe to run from several threads of one process at once (a threaded
#: Dask worker segfaulted in ``Integrator.__call__``): points in one process are computed one at a time;
#: parallelism comes from processes (local pool, Dask worker processes). Results do not depend on it.
_VEGAS_LOCK = threading.Lock()


def sigma_v_point(config: SigmaVConfig, mass_gev: float, rel_error: float = 0.01, seed: int = 1,
                  max_neval: int = 2_000_000) -> SigmaVPoint:
    """σ_V [pb per atom] for x = E_V/E0 in [config.x_min, config.x_max], and dσ_V/dx [pb] in the
    config.x_edges bins (same VEGAS points), for a vector of mass ``mass_gev`` [GeV], ε = 1.

    ``rel_error``: requested relative 1σ error of σ_V; ``seed``: RNG seed (bit-reproducible);
    ``max_neval``: cap on integrand evaluations (adaptation included). Top-level and picklable (process
    pools, Dask). Thread-safe (serialised per process, see ``_VEGAS_LOCK``). Returns a
    :class:`~physics.xsec.sigma_v.SigmaVPoint` whose ``sigma`` is an MCResult.
    """
    with _VEGAS_LOCK:
        return _sigma_v_point(config, mass_gev, rel_error, seed, max_neval)


def _sigma_v_point(config: SigmaVConfig, mass_gev: float, rel_error: float = 0.01, seed: int = 1,
                   max_neval: int = 2_000_000) -> SigmaVPoint:
    """σ_V [pb per atom] for x = E_V/E0 in [config.x_min, config.x_max], and dσ_V/dx [pb] in the
    config.x_edges bins (same VEGAS points), for a vector of mass ``mass_gev`` [GeV], ε = 1.

    ``rel_error``: requested relative 1σ error of σ_V; ``seed``: RNG seed (bit-reproducible);
    ``max_neval``: cap on integrand evaluations (adaptation included). Top-level and picklable (process
    pools, Dask). Returns a :class:`~physics.xsec.sigma_v.SigmaVPoint` whose ``sigma`` is an MCResult.
    """
    if not isinstance(config, SigmaVConfig):
        raise errors.InputError("config", "a SigmaVConfig", type(config).__name__)
    M = _check_mass(config, mass_gev)
    rel_error = errors.positive("rel_error", rel_error)
    seed = int(seed)
    if seed < 0:
        raise errors.InputError("seed", ">= 0", seed)
    max_neval = int(errors.positive("max_neval", max_neval))
    nb = int(config.n_x_bins)
    widths = np.diff(config.x_edges)
    neval = min(neval_per_iteration(rel_error), max(NEVAL_MIN // 10, max_neval // (NITN_ADAPT + NITN_MIN)))
    settings = {"method": METHOD, "vegas": vegas.__version__, "nitn_adapt": NITN_ADAPT, "neval_adapt": neval,
                "neval_itn": neval, "nitn_min": NITN_MIN, "alpha": ALPHA, "maxinc_axis": NINC,
                "rel_error": rel_error, "max_neval": max_neval, "nucleus_spin": 0,
                "form_factor": config.form_factor,
                "final_window": {"omz_min_me_over_e0": FINAL_OMZ_MIN, "z_pad": Z_PAD},
                "measurement": "random_batch, frozen map and stratification"}
    if config.lepton != "e":            # electron settings as before (golden outputs, cached points)
        settings["lepton"] = config.lepton
    setup, f, counters = _integrand_factory(config, M)
    if setup is None:
        res = MCResult(0.0, 0.0, "pb", 0.0, 1.0, 0, seed, settings, True,
                       "x window kinematically closed for this mass: σ = 0")
        return SigmaVPoint(M, res, tuple([0.0] * nb), tuple([0.0] * nb))

    rng = np.random.Generator(np.random.PCG64(seed))
    integ = make_integrator(4, rng, alpha=ALPHA, maxinc_axis=NINC, correlate_integrals=False)
    f_total = vegas.lbatchintegrand(lambda y: f(y, bins=False)[:, 0])
    warm = integ(f_total, nitn=NITN_ADAPT, neval=neval)          # adapt the map, discard
    used = int(warm.sum_neval)
    itn_n, itn_mean, itn_var = [], [], []           # per measured iteration: neval, values, variances
    nitn_per_block = []                             # measured iterations per neval (a Q retry starts a block)
    extra_for_q = 0
    mean_v = var_v = np.zeros(1 + nb)
    mean = sdev = 0.0
    rel, chi2, dof, q = math.inf, 0.0, 0, 1.0
    while True:
        if max_neval - used < integ.neval:
            break                                   # budget exhausted
        n, m_i, v_i = _measure_iteration(integ, f)
        used += n
        itn_n.append(float(n))
        itn_mean.append(m_i)
        itn_var.append(v_i)
        if len(itn_n) < NITN_MIN:
            continue
        mean_v, var_v, chi2, dof = _combine(itn_n, itn_mean, itn_var)
        mean, sdev = float(mean_v[0]), math.sqrt(var_v[0])
        rel = abs(sdev / mean) if mean != 0 else math.inf
        q = float(gvar.gammaQ(dof / 2, chi2 / 2, rtol=1e-15)) if dof > 0 else 1.0  # χ² survival fn (as vegas's Q)
        if rel > rel_error:
            continue                                # one more iteration
        # Low Q: do what the vegas documentation advises, more evaluations per iteration. The map is frozen,
        # so a new measurement is independent of the old one: the iterations measured so far are set aside
        # and fresh ones with doubled neval are measured (up to MAX_Q_RETRIES times; the estimate then comes
        # from the fresh ones alone, unbiased since their neval does not depend on their own values). If Q
        # stays below Q_MIN the point is flagged (MCResult.ok False). Under the null (Gaussian iterations) Q
        # is uniform, so a single test would flag 10% of good points.
        if q < Q_MIN and extra_for_q < MAX_Q_RETRIES and max_neval - used >= 2 * NITN_MIN * integ.neval:
            extra_for_q += 1
            nitn_per_block.append((int(integ.neval), len(itn_n)))
            integ.set(neval=2 * integ.neval)
            itn_n, itn_mean, itn_var = [], [], []
            rel = math.inf
            continue
        break
    nitn_per_block.append((int(integ.neval), len(itn_n)))
    if len(itn_n) and len(itn_n) < NITN_MIN:        # budget ran out early: report what was measured
        mean_v, var_v, chi2, dof = _combine(itn_n, itn_mean, itn_var)
        mean, sdev = float(mean_v[0]), math.sqrt(var_v[0])
        rel = abs(sdev / mean) if mean != 0 else math.inf
        q = float(gvar.gammaQ(dof / 2, chi2 / 2, rtol=1e-15)) if dof > 0 else 1.0  # χ² survival fn (as vegas's Q)
    converged = rel <= rel_error
    chi2_dof = chi2 / dof if dof > 0 else 0.0
    n_nonfinite = int(counters["nonfinite"])
    msg = ""
    if not converged:
        msg = (f"requested rel_error {rel_error:g} not reached: {rel:.3g} after {used} evaluations "
               f"(max_neval {max_neval})")
    elif q < Q_MIN:
        msg = f"VEGAS iterations inconsistent: Q = {q:.3g} < {Q_MIN:g} (chi2/dof {chi2_dof:.3g})"
    if n_nonfinite > NONFINITE_MAX_FRACTION * used:
        msg = "; ".join(m for m in (msg, f"{n_nonfinite} non-finite integrand values (set to 0) in {used} "
                                         f"evaluations (> {NONFINITE_MAX_FRACTION:g})") if m)
    settings.update({"neval_blocks": [list(b) for b in nitn_per_block], "neval_total": used,
                     "extra_blocks_for_low_q": extra_for_q, "nonfinite_evaluations": n_nonfinite})
    res = MCResult(mean, sdev, "pb", chi2_dof, q, used, seed, settings, converged, msg, n_nonfinite)
    dsdx = tuple(float(mean_v[1 + i] / widths[i]) for i in range(nb))
    dsdx_err = tuple(float(math.sqrt(var_v[1 + i]) / widths[i]) for i in range(nb))
    return SigmaVPoint(M, res, dsdx, dsdx_err)


def sigma_v(mass_gev, beam_energy_gev, target, x_min=0.0, x_max=1.0, rel_error=0.01, seed=1,
            form_factor="elastic", lepton="e") -> MCResult:
    """σ_V [pb per atom, ε = 1] for x in [x_min, x_max] and beam lepton ``lepton`` ("e" or "mu") (validated
    inputs; InputError otherwise)."""
    errors.positive("mass", mass_gev, "GeV")
    cfg = SigmaVConfig(beam_energy_gev=float(errors.positive("beam_energy", beam_energy_gev, "GeV")),
                       target=target, x_min=float(errors.finite("x_min", x_min)),
                       x_max=float(errors.finite("x_max", x_max)), form_factor=form_factor, n_x_bins=1,
                       lepton=lepton)
    return sigma_v_point(cfg, mass_gev, rel_error=rel_error, seed=seed).sigma


def compute_table(config: SigmaVConfig, masses=None, rel_error: float = 0.01, seed: int = 1,
                  progress: Callable[[int, int], None] | None = None) -> SigmaVTable:
    """σ_V table for ``config`` on ``masses`` [GeV] (default ``config.default_mass_grid()``), serially.

    Masses are sorted ascending and point i uses seed ``seed + i`` (as physics.service.store does), so a table is
    reproducible and its points are statistically independent. ``progress(done, total)`` is called after each
    point.
    """
    masses = config.default_mass_grid() if masses is None else np.atleast_1d(np.asarray(masses, float))
    masses = np.sort(masses)
    points = []
    for i, M in enumerate(masses):
        points.append(sigma_v_point(config, float(M), rel_error=rel_error, seed=seed + i))
        if progress is not None:
            progress(i + 1, len(masses))
    prov = {"method": METHOD, "vegas_version": vegas.__version__, "date": now_iso(), "rel_error": rel_error,
            "seeds": [seed + i for i in range(len(masses))], "seed_rule": "point i uses seed + i",
            "settings": {"nitn_adapt": NITN_ADAPT, "neval_itn": neval_per_iteration(rel_error),
                         "nitn_min": NITN_MIN, "alpha": ALPHA, "maxinc_axis": NINC,
                         "measurement": "random_batch, frozen map and stratification"},
            "nucleus_spin": 0, "matrix_element": "exact tree level, both diagrams (physics.xsec.matrix_element)"}
    return SigmaVTable(config=config, points=points, provenance=prov)


__all__ = ["sigma_v_point", "sigma_v", "compute_table", "make_integrator"]
