"""Exact tree-level (ETL) σ_V: e N → e N V for a massive vector V coupled to the electron like a photon (ε = 1),
integrated over the full three-body phase space with VEGAS (PHYSICS.md §3). No Weizsäcker–Williams anywhere.

    σ_V = ∫ dΦ3 ¯|M|² / (4 M_N |p⃗|),   ¯|M|² = e⁶ G2(t) W / t²      (physics.matrix_element)

Phase space and variables: physics.kinematics. Two VEGAS channels share each unit-cube point (multichannel
sum, Kleiss & Pittau, Comput. Phys. Commun. 83 (1994) 141, with weights from the propagator peaks): the
"initial" channel measures the V direction from the beam (x in logit, ln t, ũ = 2p·k − M², azimuth of q⃗),
the "final" channel from the outgoing electron (light-front z, ln t, s1 = (p'+k)² − m², azimuth of κ⊥).
At |t| ≫ M² the two emission cones separate; one channel alone then meets a narrow ridge whose position moves
with t, which VEGAS cannot follow (rare weights 40× the mean, unreliable Q). Weights: d1 = s1 (1 − x),
d2 = ũ, w_initial = d1²/(d1² + d2²), w_final = d2²/(d1² + d2²). Result per atom in pb (GeV⁻² × constants.GEV_M2_IN_PB). Nucleus: spin 0, mass A·u; form factor
from physics.formfactor (``config.form_factor``: "elastic" or "elastic+inelastic"; the inelastic G2 is used
with the same, coherent, recoil kinematics, as in BESTo 2009 App. A).

VEGAS discipline (G. P. Lepage, vegas documentation, "Basic Integrals"): the map is first adapted
(``NITN_ADAPT`` iterations of ``NEVAL_ADAPT`` points, results discarded), then frozen (adapt=False) and the
integral measured in blocks of ``NITN`` iterations; the neval of the next block is chosen from the error
reached, until the requested relative error is reached or ``max_neval`` evaluations have been spent. All
measured iterations are combined (weighted by their neval, see ``_combine``): mean, error, χ²/dof and Q
are reported. Not reaching the precision gives ``converged=False`` with a message; Q < 0.1 makes
``MCResult.ok`` False. The integrand is array valued: [σ, σ in x bin 1, …, σ in x bin n] from the same
points; VEGAS adapts to the first component (the total).

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
from scipy import stats

from . import errors
from .constants import ALPHA_EM, GEV_M2_IN_PB, M_ELECTRON_GEV
from .formfactor import g2_total
from .kinematics import channel_final, channel_initial, make_setup
from .matrix_element import w_closed
from .mc import Q_MIN, MCResult
from .sigma_table import SigmaVConfig, SigmaVPoint, SigmaVTable, now_iso
from .targets import get_material

#: e⁶ = (4πα)³ (three electromagnetic vertices squared; ε = 1).
E6 = (4.0 * math.pi * ALPHA_EM) ** 3
#: VEGAS settings. Adaptation: NITN_ADAPT × NEVAL_ADAPT; measurement blocks of NITN iterations.
NITN_ADAPT = 6
NEVAL_ADAPT = 2000
NITN = 4
NEVAL_START = 5000
#: Further measurement blocks (each with doubled neval) allowed when Q < Q_MIN at the requested precision.
MAX_Q_RETRIES = 3
#: VEGAS map damping (vegas default 0.5) and maximum grid increments per axis (vegas maxinc_axis, default 1000).
ALPHA = 0.5
NINC = 400
METHOD = "etl"


def _integrand_factory(config: SigmaVConfig, mass_gev: float):
    """Build (setup, batch integrand) for one mass; integrand returns (n, 1 + n_x_bins) in pb."""
    mat = get_material(config.target)
    setup = make_setup(float(config.beam_energy_gev), M_ELECTRON_GEV, float(mass_gev), mat.nucleus_mass_gev,
                       float(config.x_min), float(config.x_max))
    edges = config.x_edges
    nb = len(edges) - 1
    m2, M2 = M_ELECTRON_GEV ** 2, float(mass_gev) ** 2
    Z, A, ff = mat.Z, mat.A, config.form_factor

    def f(y):
        out = np.zeros((len(y), 1 + nb))
        rows = np.arange(len(y))
        for chan, other in ((channel_initial, "s1"), (channel_final, "s2")):
            r = chan(setup, y)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                W = w_closed(r["s1"], r["s2"], r["t"], r["ak"], r["aq"], r["a2"], m2, M2)
                # multichannel weights: squared distances from the two propagator peaks in the transverse
                # plane, d1 = s1 x(1−x) ≈ |k⊥ − x q⊥|² + μ², d2 = ũ x ≈ |k⊥|² + μ² (μ² = M²(1−x) + m²x²);
                # each channel keeps the share of ¯|M|² near its own peak (w_initial + w_final = 1)
                d1 = r["s1"] * r["omx"]
                a, b = d1 * d1, r["s2"] * r["s2"]
                w_chan = (a if other == "s1" else b) / (a + b)
                val = (r["weight"] * w_chan * (E6 * GEV_M2_IN_PB) * g2_total(r["t"], Z, A, ff) * W
                       / (r["t"] * r["t"]))
            val = np.where(r["ok"] & np.isfinite(val), val, 0.0)
            out[:, 0] += val
            idx = np.clip(np.searchsorted(edges, r["x"], side="right") - 1, 0, nb - 1)
            out[rows, 1 + idx] += val
        return out

    return setup, vegas.lbatchintegrand(f)


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


def _check_mass(config: SigmaVConfig, mass_gev) -> float:
    M = errors.positive("mass", mass_gev, "GeV")
    e_max = float(config.beam_energy_gev) - M_ELECTRON_GEV
    if M >= e_max:
        raise errors.InputError("mass", f"in (0, {e_max:g}) GeV (below beam energy − m_e)", mass_gev)
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
    :class:`~physics.sigma_table.SigmaVPoint` whose ``sigma`` is an MCResult.
    """
    with _VEGAS_LOCK:
        return _sigma_v_point(config, mass_gev, rel_error, seed, max_neval)


def _sigma_v_point(config: SigmaVConfig, mass_gev: float, rel_error: float = 0.01, seed: int = 1,
                   max_neval: int = 2_000_000) -> SigmaVPoint:
    """σ_V [pb per atom] for x = E_V/E0 in [config.x_min, config.x_max], and dσ_V/dx [pb] in the
    config.x_edges bins (same VEGAS points), for a vector of mass ``mass_gev`` [GeV], ε = 1.

    ``rel_error``: requested relative 1σ error of σ_V; ``seed``: RNG seed (bit-reproducible);
    ``max_neval``: cap on integrand evaluations (adaptation included). Top-level and picklable (process
    pools, Dask). Returns a :class:`~physics.sigma_table.SigmaVPoint` whose ``sigma`` is an MCResult.
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
    settings = {"method": METHOD, "vegas": vegas.__version__, "nitn_adapt": NITN_ADAPT,
                "neval_adapt": NEVAL_ADAPT, "nitn": NITN, "alpha": ALPHA, "maxinc_axis": NINC,
                "rel_error": rel_error, "max_neval": max_neval, "nucleus_spin": 0,
                "form_factor": config.form_factor}
    setup, f = _integrand_factory(config, M)
    if setup is None:
        res = MCResult(0.0, 0.0, "pb", 0.0, 1.0, 0, seed, settings, True,
                       "x window kinematically closed for this mass: σ = 0")
        return SigmaVPoint(M, res, tuple([0.0] * nb), tuple([0.0] * nb))

    rng = np.random.Generator(np.random.PCG64(seed))
    integ = make_integrator(4, rng, alpha=ALPHA, maxinc_axis=NINC, correlate_integrals=False)
    f_total = vegas.lbatchintegrand(lambda y: np.ascontiguousarray(f(y)[:, 0]))
    warm = integ(f_total, nitn=NITN_ADAPT, neval=NEVAL_ADAPT)          # adapt the map, discard
    used = int(warm.sum_neval)
    itn_n, itn_mean, itn_var = [], [], []           # per measured iteration: neval, values, variances
    neval = NEVAL_START
    blocks = []
    blocks_since_reset = []
    extra_for_q = 0
    while True:
        neval = int(min(neval, max(1, (max_neval - used) // NITN)))
        r = integ(f, nitn=NITN, neval=neval, adapt=False)
        used += int(r.sum_neval)
        blocks.append(neval)
        blocks_since_reset.append(neval)
        for itn in r.itn_results:
            itn_n.append(float(neval))
            itn_mean.append(gvar.mean(itn))
            itn_var.append(gvar.var(itn))
        mean_v, var_v, chi2, dof = _combine(itn_n, itn_mean, itn_var)
        mean, sdev = float(mean_v[0]), math.sqrt(var_v[0])
        rel = abs(sdev / mean) if mean != 0 else math.inf
        q = float(stats.chi2.sf(chi2, dof)) if dof > 0 else 1.0
        budget_left = max_neval - used >= NITN * 200
        if rel <= rel_error:
            # Low Q: do what the vegas documentation advises, more evaluations per iteration. The map is
            # frozen, so a new block is independent of the old ones: the iterations measured so far are
            # set aside and a fresh block with doubled neval is measured (up to MAX_Q_RETRIES times; the
            # estimate then comes from the fresh block alone, unbiased since its neval does not depend on
            # its own values). Keeping the old iterations would keep the heavy-tailed small-neval ones
            # that made Q low. If Q stays below Q_MIN the point is flagged (MCResult.ok False). Under the
            # null (Gaussian iterations) Q is uniform, so a single test would flag 10% of good points.
            if q < Q_MIN and extra_for_q < MAX_Q_RETRIES and budget_left:
                extra_for_q += 1
                neval = 2 * max(blocks_since_reset)
                itn_n, itn_mean, itn_var = [], [], []
                blocks_since_reset = []
                continue
            break
        if not budget_left:
            break
        # errors fall like 1/sqrt(N): ask for what is missing with a 30% margin, at least doubling
        done = NITN * sum(blocks_since_reset)
        need = (done * ((rel / rel_error) ** 2 - 1.0) * 1.3) / NITN if math.isfinite(rel) else math.inf
        neval = int(max(2 * neval, min(need, 1e12)))
    converged = rel <= rel_error
    chi2_dof = chi2 / dof if dof > 0 else 0.0
    msg = ""
    if not converged:
        msg = (f"requested rel_error {rel_error:g} not reached: {rel:.3g} after {used} evaluations "
               f"(max_neval {max_neval})")
    elif q < Q_MIN:
        msg = f"VEGAS iterations inconsistent: Q = {q:.3g} < {Q_MIN:g} (chi2/dof {chi2_dof:.3g})"
    settings.update({"neval_blocks": blocks, "neval_total": used, "extra_blocks_for_low_q": extra_for_q})
    res = MCResult(mean, sdev, "pb", chi2_dof, q, used, seed, settings, converged, msg)
    dsdx = tuple(float(mean_v[1 + i] / widths[i]) for i in range(nb))
    dsdx_err = tuple(float(math.sqrt(var_v[1 + i]) / widths[i]) for i in range(nb))
    return SigmaVPoint(M, res, dsdx, dsdx_err)


def sigma_v(mass_gev, beam_energy_gev, target, x_min=0.0, x_max=1.0, rel_error=0.01, seed=1,
            form_factor="elastic") -> MCResult:
    """σ_V [pb per atom, ε = 1] for x in [x_min, x_max] (validated inputs; InputError otherwise)."""
    errors.positive("mass", mass_gev, "GeV")
    cfg = SigmaVConfig(beam_energy_gev=float(errors.positive("beam_energy", beam_energy_gev, "GeV")),
                       target=target, x_min=float(errors.finite("x_min", x_min)),
                       x_max=float(errors.finite("x_max", x_max)), form_factor=form_factor, n_x_bins=1)
    return sigma_v_point(cfg, mass_gev, rel_error=rel_error, seed=seed).sigma


def compute_table(config: SigmaVConfig, masses=None, rel_error: float = 0.01, seed: int = 1,
                  progress: Callable[[int, int], None] | None = None) -> SigmaVTable:
    """σ_V table for ``config`` on ``masses`` [GeV] (default ``config.default_mass_grid()``), serially.

    Masses are sorted ascending and point i uses seed ``seed + i`` (as physics.store does), so a table is reproducible and its points are
    statistically independent. ``progress(done, total)`` is called after each point.
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
            "settings": {"nitn_adapt": NITN_ADAPT, "neval_adapt": NEVAL_ADAPT, "nitn": NITN,
                         "alpha": ALPHA, "maxinc_axis": NINC},
            "nucleus_spin": 0, "matrix_element": "exact tree level, both diagrams (physics.matrix_element)"}
    return SigmaVTable(config=config, points=points, provenance=prov)


__all__ = ["sigma_v_point", "sigma_v", "compute_table", "make_integrator"]
