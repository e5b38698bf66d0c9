"""σ_V(M) tables: configuration, points, interpolation in M and in the missing-energy cut, JSON storage
(docs/physics.md#sigma-tables).

σ_V(M; E0, target, lepton) is the cross section of ℓ N → ℓ N V for a massive vector V of mass M coupled to the
beam lepton ℓ (electron, or muon: ``SigmaVConfig.lepton``, docs/physics.md#muon-beams) like a photon (ε = 1), per
atom, in pb. A table holds, per mass, σ_V over its x window (x = E_V/E0) and
dσ_V/dx in bins of x, all from the same VEGAS points. One table per beam, target and form factor serves every
missing-energy cut and every (m_a, m_γD, g) of the dark axion portal (``physics.xsec.factorisation``).

x bins (``SigmaVConfig.x_binning``):

- ``"endpoint"`` (the tables of experiments, :meth:`SigmaVConfig.whole_range`): the whole kinematic range
  0 ≤ x ≤ 1 − m_ℓ/E0 (m_ℓ the beam lepton's mass) in :data:`X_STEP` = 0.025 wide bins up to :data:`X_LOG_FROM` = 0.9, then
  :data:`X_LOG_PER_DECADE` = 10 bins per decade of 1 − x down to 1 − x = :data:`X_OMX_MIN` = 1e-4, then one bin
  to the end point 1 − m_ℓ/E0 (67 bins for electrons at 8 and 100 GeV; for muons the log bins stop where
  1 − x reaches m_μ/E0: 58 bins at 160 GeV, 48 at 15 GeV). Why: below 0.9 dσ/dx varies on scales Δx ≳ 0.1
  (except in the bin that holds the threshold x = M/E0), so 0.025 bins leave a linear interpolation of the
  cumulative cross section inside a bin ~1e-4 off; towards the end point a heavy vector's spectrum rises like
  1/(1 − x) down to 1 − x ~ m_e²/M², i.e. it is flat per unit ln(1 − x), which log bins resolve evenly; 1e-4 is
  how far the engine's end-point spectrum is tested (tests/physics/xsec/test_endpoint.py).
- ``"uniform"``: ``n_x_bins`` equal bins of [x_min, x_max] (single points in a window, older tables).

A cut is applied by summing bins (:meth:`SigmaVTable.sigma_at` with ``x_min``/``x_max``): the cumulative
cross section C(x) = σ_V(x' ≥ x) is known at the bin edges; inside the bin that holds the cut it is
interpolated with a monotone cubic (PCHIP) in v = x below 0.9 and v = 0.9 + 0.1 ln[0.1/(1 − x)] above (v and
dv/dx continuous: a flat spectrum below and a 1/(1 − x) one above are both smooth in v). Plain linear
interpolation of C inside a bin was tried first: up to 0.65% off for light vectors whose spectrum is flat in
x next to the end point, and 0.2% off for M ≈ 2–3 MeV whose spectrum rises by ~20% across a 0.025 bin near
x = 0.9. Interpolation error in x: :data:`X_INTERPOLATION_ERROR` (tested against exact IWW spectra and
direct ETL points, tests/physics/xsec/test_xcut.py).

MC errors of a cut cross section (:func:`window_sums`): the bins come from one VEGAS run, each point falling
in exactly one bin, so two bins' estimates are anti-correlated (per hypercube their covariance is
−I_i I_j / n ≤ 0 for a non-negative integrand). Hence √(Σ var(bins inside)) is an upper bound of the error of
their sum; so is σ_err(total) + √(Σ var(bins outside)) (triangle inequality, the total being measured with
its own, correct, stratified error). The smaller of the two is used: a conservative bound (about twice the
true error when many bins are summed, because VEGAS' stratification cancels most of the bin-to-bin
variance); how tables meet a requested precision with it: ``physics.xsec.table_points``.

Storage: JSON (never pickle) with a provenance header (configuration, x edges, physics/schema versions,
generator and vegas versions, VEGAS settings, seeds, per-point error and Q, date); dσ/dx and its errors are
stored to :data:`STORED_DIGITS` significant digits. A table whose physics or schema version differs from the
running code is *stale* and refused (:class:`StaleTableError`).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import functools
import hashlib
import json
import math
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from physics import __version__, errors, limits
from physics.model.constants import LEPTON_MASSES_GEV, M_ELECTRON_GEV
from physics.xsec.mc import MCResult
from physics.model.materials import get_material
from physics.version import PHYSICS_VERSION, SCHEMA_VERSION

FORM_FACTORS = ("elastic", "elastic+inelastic")
X_BINNINGS = ("uniform", "endpoint")
#: Lowest tabulated vector mass [GeV] (docs/physics.md#sigma-tables: reach from 1 MeV).
M_TABLE_MIN_GEV = 1.0e-3
#: Highest mass ever tabulated [GeV]: the paper's plane ends at 10 GeV.
M_TABLE_CAP_GEV = 10.0
#: "endpoint" x binning: bin width below X_LOG_FROM; bins per decade of 1 − x above it, down to 1 − x = X_OMX_MIN.
X_STEP = 0.025
X_LOG_FROM = 0.9
X_LOG_PER_DECADE = 10
X_OMX_MIN = 1.0e-4
#: Stated interpolation error in x of a cut cross section σ_V(x ≥ x_min) of an "endpoint" table (relative):
#: the largest deviation from the exact IWW spectrum over both shipped configurations (100 GeV Pb, 8 GeV Al),
#: 40 masses and 350 cuts in (0, 0.999) is 0.25% (at M ≈ 1.6 MeV, x_min ≈ 0.91, and at a cut on the
#: threshold x = M/E0); tests/physics/xsec/test_xcut.py keeps it below this value.
X_INTERPOLATION_ERROR = 3.0e-3
#: Significant digits of the stored dσ/dx values and errors (their MC errors are ≳ 1e-3 relative).
STORED_DIGITS = 7


class StaleTableError(RuntimeError):
    """A stored table was produced by another physics/schema version or a different configuration."""


def endpoint_edges(beam_energy_gev: float, x_min: float = 0.0, x_max: float = 1.0,
                   lepton_mass_gev: float = M_ELECTRON_GEV) -> np.ndarray:
    """Edges of the "endpoint" x binning (module docstring) on [x_min, min(x_max, 1 − m_ℓ/E0)], m_ℓ =
    ``lepton_mass_gev`` [GeV] (the beam lepton; electron by default).

    The standard edges inside the window are kept, except those closer to a window end than a quarter of
    their bin (no slivers); the window ends are edges. Raises InputError if the window is kinematically
    empty (x_min ≥ 1 − m_ℓ/E0)."""
    return np.array(_endpoint_edges(float(beam_energy_gev), float(x_min), float(x_max), float(lepton_mass_gev)))


@functools.lru_cache(maxsize=64)
def _endpoint_edges(e0: float, lo: float, x_max: float, m_lepton: float = M_ELECTRON_GEV) -> tuple:
    omx_end = m_lepton / e0
    hi = min(x_max, 1.0 - omx_end)
    if not hi > lo:
        name = "m_e" if m_lepton == M_ELECTRON_GEV else "m_lepton"
        raise errors.InputError("x_min", f"< 1 − {name}/E0 = {1.0 - omx_end:.6g} (kinematic end point)", lo)
    n_uni = int(round(X_LOG_FROM / X_STEP))
    uni = np.arange(n_uni + 1) / round(1.0 / X_STEP)            # k/40: 0.5, 0.7, … exactly as typed
    k = np.arange(1, 1 + int(round(X_LOG_PER_DECADE * math.log10((1.0 - X_LOG_FROM) / X_OMX_MIN))))
    omx = (1.0 - X_LOG_FROM) * 10.0 ** (-k / X_LOG_PER_DECADE)
    std = np.concatenate([uni, 1.0 - omx])
    # local bin width of each standard edge (the smaller of its two neighbouring bins)
    gaps = np.diff(std)
    width = np.minimum(np.concatenate([[gaps[0]], gaps]), np.concatenate([gaps, [gaps[-1]]]))
    keep = (std > lo + 0.25 * width) & (std < hi - 0.25 * width)
    return tuple(float(v) for v in np.concatenate([[lo], std[keep], [hi]]))


@dataclass(frozen=True)
class SigmaVConfig:
    """What a σ_V table depends on. Hashable; ``key()`` is a canonical content hash (with versions).

    beam_energy_gev: E0 [GeV]; target: material name (physics.model.materials); x_min/x_max: window of x = E_V/E0;
    form_factor: "elastic" (default, docs/physics.md#form-factors) or "elastic+inelastic"; x_binning:
    "uniform" (``n_x_bins`` equal bins of the window) or "endpoint" (fine bins, log-spaced in 1 − x towards
    the end point; ``n_x_bins`` is then the number of those bins, set automatically); lepton: the beam
    lepton, "e" (default) or "mu" (:data:`physics.limits.LEPTONS`; docs/physics.md#muon-beams) — its mass is
    the projectile mass of the engines and sets the end point 1 − m_ℓ/E0. The tables of experiments are
    whole-range "endpoint" tables (:meth:`whole_range`): they do not depend on the cut. An electron
    configuration's canonical form, key and dict carry no ``lepton`` entry (they are those of the code before
    muon beams existed, so shipped tables and cached points stay valid); a muon one has ``"lepton": "mu"``.
    """

    beam_energy_gev: float
    target: str
    x_min: float = 0.0
    x_max: float = 1.0
    form_factor: str = "elastic"
    n_x_bins: int = 20
    x_binning: str = "uniform"
    lepton: str = "e"

    def __post_init__(self):
        self.validate()
        if self.x_binning == "endpoint":
            object.__setattr__(self, "n_x_bins", len(self.x_edges) - 1)

    def validate(self) -> None:
        limits.check("beam_energy", self.beam_energy_gev, "beam_energy_gev")
        if self.beam_energy_gev <= 2 * M_TABLE_MIN_GEV:
            raise errors.InputError("beam_energy_gev", f"> {2 * M_TABLE_MIN_GEV:g} GeV",
                                    self.beam_energy_gev)
        limits.check_lepton(self.lepton)
        if self.beam_energy_gev <= self.lepton_mass_gev + M_TABLE_MIN_GEV:
            raise errors.InputError("beam_energy_gev", f"> m_lepton + {M_TABLE_MIN_GEV:g} GeV = "
                                    f"{self.lepton_mass_gev + M_TABLE_MIN_GEV:g} GeV (kinematic threshold)",
                                    self.beam_energy_gev)
        get_material(self.target)
        errors.in_range("x_min", self.x_min, 0.0, 1.0, hi_open=True)
        errors.in_range("x_max", self.x_max, 0.0, 1.0, lo_open=True)
        if self.x_max <= self.x_min:
            raise errors.InputError("x_max", f"in (x_min={self.x_min:g}, 1]", self.x_max)
        errors.one_of("form_factor", self.form_factor, FORM_FACTORS)
        errors.one_of("x_binning", self.x_binning, X_BINNINGS)
        if self.x_binning == "uniform":
            errors.in_range("n_x_bins", self.n_x_bins, 1, 200)
        else:
            endpoint_edges(self.beam_energy_gev, self.x_min, self.x_max, self.lepton_mass_gev)

    @property
    def lepton_mass_gev(self) -> float:
        """Mass of the beam lepton [GeV] (projectile of ℓ N → ℓ N V)."""
        return LEPTON_MASSES_GEV[self.lepton]

    @classmethod
    def whole_range(cls, beam_energy_gev: float, target: str, form_factor: str = "elastic",
                    lepton: str = "e") -> "SigmaVConfig":
        """The table of a beam (energy, lepton) and target over the whole x range, "endpoint" bins: serves
        every cut."""
        return cls(beam_energy_gev=float(beam_energy_gev), target=target, x_min=0.0, x_max=1.0,
                   form_factor=form_factor, x_binning="endpoint", lepton=lepton)

    @classmethod
    def from_experiment(cls, exp, form_factor: str = "elastic", n_x_bins: int | None = None) -> "SigmaVConfig":
        """The table an experiment needs: its beam (energy and lepton, ``exp.lepton``, "e" if the object has
        none) and target over the whole x range — not its cut, which is applied to the table
        (``SigmaVTable.sigma_at(..., x_min=exp.x_min)``). ``n_x_bins``: None for the "endpoint" bins
        (default), or a number of uniform bins of [0, 1]."""
        lepton = getattr(exp, "lepton", "e")
        if n_x_bins is None:
            return cls.whole_range(exp.beam_energy_gev, exp.target, form_factor, lepton)
        return cls(beam_energy_gev=float(exp.beam_energy_gev), target=exp.target, x_min=0.0, x_max=1.0,
                   form_factor=form_factor, n_x_bins=int(n_x_bins), x_binning="uniform", lepton=lepton)

    def canonical(self) -> dict:
        """Canonical JSON-able form: material spelled out so a changed material definition changes the key;
        the x edges spelled out so a changed binning does too."""
        mat = get_material(self.target)
        out = {
            "beam_energy_gev": float(repr_float(self.beam_energy_gev)),
            "target": mat.to_dict(),
            "x_min": float(repr_float(self.x_min)),
            "x_max": float(repr_float(self.x_max)),
            "form_factor": self.form_factor,
            "n_x_bins": int(self.n_x_bins),
            "x_binning": self.x_binning,
        }
        if self.x_binning != "uniform":
            out["x_edges"] = [float(repr_float(e)) for e in self.x_edges]
        if self.lepton != "e":          # electron keys unchanged (shipped tables, cache, golden outputs)
            out["lepton"] = self.lepton
        return out

    def key(self, extra: dict | None = None) -> str:
        """sha256 of canonical config + physics/schema versions (+ ``extra``, e.g. precision)."""
        payload = {"config": self.canonical(), "physics_version": PHYSICS_VERSION,
                   "schema_version": SCHEMA_VERSION, **(extra or {})}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    @property
    def x_edges(self) -> np.ndarray:
        """Bin edges in x (ascending; n_x_bins + 1 of them)."""
        if self.x_binning == "endpoint":
            return endpoint_edges(self.beam_energy_gev, self.x_min, self.x_max, self.lepton_mass_gev)
        return np.linspace(self.x_min, self.x_max, self.n_x_bins + 1)

    @property
    def covers_whole_range(self) -> bool:
        """True if the window is the whole kinematic range (every cut can be applied)."""
        return self.x_min == 0.0 and self.x_max == 1.0

    @property
    def kinematic_mass_limit_gev(self) -> float:
        """Largest V mass that can be produced with E_V ≤ x_max E0 [GeV]: min(x_max E0, √S − M_N − m_ℓ) with
        S = M_N² + 2 M_N E0 + m_ℓ² (nuclear recoil included; M_N ≈ A u; m_ℓ the beam lepton's mass)."""
        e0 = self.beam_energy_gev
        ml = self.lepton_mass_gev
        mn = get_material(self.target).nucleus_mass_gev
        sqrt_s = math.sqrt(mn * mn + 2.0 * mn * e0 + ml ** 2)
        return min(self.x_max * e0, sqrt_s - mn - ml)

    @property
    def max_mass_gev(self) -> float:
        """Largest vector mass the table covers [GeV]: 0.9 of :attr:`kinematic_mass_limit_gev` (keeps VEGAS
        away from the vanishing phase space at the end point), capped at :data:`M_TABLE_CAP_GEV`."""
        return min(M_TABLE_CAP_GEV, 0.9 * self.kinematic_mass_limit_gev)

    def default_mass_grid(self, n: int = 60) -> np.ndarray:
        """n masses from 1 MeV to :attr:`max_mass_gev` [GeV], uniform in u = ln[M / (1 − M/M_end)] with
        M_end = x_max E0: log-spaced where M ≪ E0, and denser towards the kinematic end point where σ_V
        falls steeply (keeps the log-log interpolation error < 1%, tests/physics/xsec/test_sigma_v.py)."""
        m_end = self.kinematic_mass_limit_gev

        def u(m):
            return math.log(m) - math.log1p(-m / m_end)

        us = np.linspace(u(M_TABLE_MIN_GEV), u(self.max_mass_gev), int(n))
        grid = np.exp(us) / (1.0 + np.exp(us) / m_end)
        grid[0], grid[-1] = M_TABLE_MIN_GEV, self.max_mass_gev
        return grid

    def to_dict(self) -> dict:
        """The fields as a dict; ``lepton`` only when it is not "e" (electron dicts as before muon beams)."""
        d = dataclasses.asdict(self)
        if d["lepton"] == "e":
            del d["lepton"]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "SigmaVConfig":
        keys = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in keys})


def repr_float(x: float) -> str:
    """Shortest round-trip representation, so 100 and 100.0 hash alike."""
    return repr(float(x))


def round_sig(x: float, digits: int = STORED_DIGITS) -> float:
    """``x`` rounded to ``digits`` significant digits (storage of numbers with ≳ 1e-4 relative errors)."""
    return float(f"{float(x):.{int(digits)}g}")


@dataclass(frozen=True)
class SigmaVPoint:
    """One computed mass point: σ_V [pb] as an MCResult, and dσ_V/dx [pb] per x bin with 1σ errors."""

    mass_gev: float
    sigma: MCResult
    dsdx_pb: tuple = ()
    dsdx_err_pb: tuple = ()

    def to_dict(self) -> dict:
        return {"mass_gev": self.mass_gev, "sigma": self.sigma.to_dict(),
                "dsdx_pb": list(map(float, self.dsdx_pb)), "dsdx_err_pb": list(map(float, self.dsdx_err_pb))}

    @classmethod
    def from_dict(cls, d: dict) -> "SigmaVPoint":
        return cls(mass_gev=float(d["mass_gev"]), sigma=MCResult.from_dict(d["sigma"]),
                   dsdx_pb=tuple(d.get("dsdx_pb", ())), dsdx_err_pb=tuple(d.get("dsdx_err_pb", ())))


# ------------------------------------------------------------------------------------ cuts: summing bins
def x_variable(config: SigmaVConfig, x) -> np.ndarray:
    """The variable v(x) in which the cumulative cross section is interpolated: x for the uniform bins;
    for the "endpoint" binning x below X_LOG_FROM and X_LOG_FROM + (1 − X_LOG_FROM) ln[(1 − X_LOG_FROM)/(1 − x)]
    above (continuous with a continuous derivative at X_LOG_FROM; the log bins are then 0.023 wide in v)."""
    x = np.asarray(x, dtype=float)
    if config.x_binning != "endpoint":
        return x
    omx0 = 1.0 - X_LOG_FROM
    with np.errstate(divide="ignore", invalid="ignore"):
        lg = X_LOG_FROM + omx0 * np.log(omx0 / (1.0 - x))
    return np.where(x <= X_LOG_FROM, x, lg)


def _window_ends(config: SigmaVConfig, x_min, x_max) -> tuple[float, float]:
    e = config.x_edges
    a = float(config.x_min if x_min is None else x_min)
    b = float(config.x_max if x_max is None else x_max)
    if not (math.isfinite(a) and math.isfinite(b)):
        raise errors.InputError("x_min" if not math.isfinite(a) else "x_max", "a finite number in [0, 1]",
                                a if not math.isfinite(a) else b)
    if a < e[0] - 1e-12:
        raise errors.InputError("x_min", f">= {e[0]:g} (the σ_V table covers x from {e[0]:g})", a)
    if b > config.x_max + 1e-12:
        raise errors.InputError("x_max", f"<= {config.x_max:g} (the σ_V table's x range)", b)
    if not b > a:
        raise errors.InputError("x_max", f"> x_min = {a:g}", b)
    return min(max(a, e[0]), e[-1]), min(max(b, e[0]), e[-1])


def window_sums(config: SigmaVConfig, dsdx_pb, dsdx_err_pb, total_pb, total_err_pb, x_min: float | None = None,
                x_max: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """σ_V(x_min ≤ x ≤ x_max) [pb] from the x bins of points, and a conservative bound of its MC error [pb].

    dsdx_pb, dsdx_err_pb: (n_points, n_bins) [pb per unit x]; total_pb, total_err_pb: (n_points,) σ_V over the
    whole table window and its error. The cumulative cross section C(x) = σ_V(x' ≥ x), known exactly (up to
    MC) at the bin edges, is interpolated at the window ends with a monotone cubic (PCHIP) in
    :func:`x_variable` — it follows the spectrum's slope across neighbouring bins, and it stays inside the
    bin's own range, so a cut inside a bin takes a fraction φ ∈ [0, 1] of that bin. Stated accuracy:
    :data:`X_INTERPOLATION_ERROR`. Error bound (module docstring): min(√Σ φ² var_j, err_total +
    √Σ (1 − φ)² var_j) with var_j the bin variances. A window covering every bin returns the totals.
    """
    from scipy.interpolate import PchipInterpolator

    a, b_ = _window_ends(config, x_min, x_max)
    total = np.atleast_1d(np.asarray(total_pb, dtype=float))
    total_err = np.atleast_1d(np.asarray(total_err_pb, dtype=float))
    e = config.x_edges
    if a <= e[0] and b_ >= e[-1]:
        return total.copy(), total_err.copy()
    w = np.diff(e)
    bins = np.atleast_2d(np.asarray(dsdx_pb, dtype=float)) * w
    var = (np.atleast_2d(np.asarray(dsdx_err_pb, dtype=float)) * w) ** 2
    # C at the edges: C(e_k) = Σ_{j ≥ k} bins_j, C(e_last) = 0
    cum = np.concatenate([np.cumsum(bins[:, ::-1], axis=1)[:, ::-1], np.zeros((len(bins), 1))], axis=1)
    interp = PchipInterpolator(x_variable(config, e), cum, axis=1, extrapolate=False)
    c_a = cum[:, 0] if a <= e[0] else interp(x_variable(config, a))
    c_b = np.zeros(len(bins)) if b_ >= e[-1] else interp(x_variable(config, b_))
    c_a, c_b = np.maximum(c_a, c_b), np.clip(c_b, 0.0, None)
    # fraction of each bin inside: the part of its range [C(hi), C(lo)] that lies in [C(b), C(a)]
    lo_c, hi_c = cum[:, :-1], cum[:, 1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = (np.minimum(c_a[:, None], lo_c) - np.maximum(c_b[:, None], hi_c)) / (lo_c - hi_c)
    phi = np.clip(np.nan_to_num(phi, nan=0.0, posinf=0.0, neginf=0.0), 0.0, 1.0)
    sig = c_a - c_b
    inside = np.sqrt(np.sum(var * phi * phi, axis=1))
    outside = total_err + np.sqrt(np.sum(var * (1.0 - phi) ** 2, axis=1))
    return sig, np.minimum(inside, outside)


class _Interp:
    """PCHIP interpolators in ln M of ln σ and of the relative error, over the points with σ > 0."""

    def __init__(self, masses, sigma, rel_err, ds=None):
        from scipy.interpolate import PchipInterpolator

        good = sigma > 0
        self.n_good = int(good.sum())
        self.sig = self.rel = self.dsdx = None
        if self.n_good >= 2:
            lm = np.log(masses[good])
            self.sig = PchipInterpolator(lm, np.log(sigma[good]), extrapolate=False)
            self.rel = PchipInterpolator(lm, rel_err[good], extrapolate=False)
            if ds is not None and ds.ndim == 2 and ds.shape[1] > 0:
                self.dsdx = PchipInterpolator(lm, np.log(np.clip(ds[good], 1e-300, None)), axis=0,
                                              extrapolate=False)


#: Windows (cuts) whose interpolators a table keeps (least recently used are dropped).
WINDOW_MEMO = 32


@dataclass
class SigmaVTable:
    """σ_V(M) for one configuration on a mass grid, with per-point MC errors and interpolation.

    Interpolation: monotone cubic (PCHIP) in (ln M, ln σ); outside [M_min, M_max] the table answers NaN
    below M_min (not covered) and 0 above M_max only if the caller asks with ``beyond_max_zero`` (the
    factorisation does: σ_V there is negligible by construction of the grid). A cut (``x_min``/``x_max``)
    is applied to every grid point by summing x bins (:func:`window_sums`), then interpolated in M the same
    way; masses with M ≥ x_max E0 give 0 (E_V ≥ M).
    """

    config: SigmaVConfig
    points: list[SigmaVPoint]
    provenance: dict = field(default_factory=dict)

    def __post_init__(self):
        self.points = sorted(self.points, key=lambda p: p.mass_gev)
        self._interp = None
        self._windows: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    # -- arrays ---------------------------------------------------------------------------------
    @property
    def masses_gev(self) -> np.ndarray:
        return np.array([p.mass_gev for p in self.points])

    @property
    def sigma_pb(self) -> np.ndarray:
        return np.array([p.sigma.mean for p in self.points])

    @property
    def error_pb(self) -> np.ndarray:
        return np.array([p.sigma.error for p in self.points])

    @property
    def q(self) -> np.ndarray:
        return np.array([p.sigma.q for p in self.points])

    @property
    def dsdx_pb(self) -> np.ndarray:
        return np.array([p.dsdx_pb for p in self.points], dtype=float)

    @property
    def dsdx_err_pb(self) -> np.ndarray:
        return np.array([p.dsdx_err_pb for p in self.points], dtype=float)

    @property
    def x_edges(self) -> np.ndarray:
        """Edges of the x bins of dσ/dx."""
        return self.config.x_edges

    @property
    def all_ok(self) -> bool:
        return all(p.sigma.ok for p in self.points)

    # -- cuts at the grid masses ----------------------------------------------------------------
    def _window_key(self, x_min, x_max) -> tuple | None:
        """None for the table's own window, else the normalised (x_min, x_max) of a cut."""
        a = self.config.x_min if x_min is None else float(x_min)
        b = self.config.x_max if x_max is None else float(x_max)
        for name, v in (("x_min", a), ("x_max", b)):
            if not math.isfinite(v):
                raise errors.InputError(name, "a finite number in [0, 1]", v)
        _window_ends(self.config, a, b)           # InputError if the window is not inside the table's range
        if a <= self.config.x_min and b >= self.config.x_max:
            return None
        return (round(a, 12), round(b, 12))

    def window_pb(self, x_min: float | None = None, x_max: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(σ_V(x_min ≤ x ≤ x_max) [pb], conservative MC error bound [pb]) at every grid mass."""
        if self._window_key(x_min, x_max) is None:
            return self.sigma_pb, self.error_pb
        if not self.points or len(self.points[0].dsdx_pb) != self.config.n_x_bins:
            raise errors.InputError("table", "a table with dσ/dx bins (needed to apply a cut)", "none stored")
        sig, err = window_sums(self.config, self.dsdx_pb, self.dsdx_err_pb, self.sigma_pb, self.error_pb,
                               x_min, x_max)
        b = self.config.x_max if x_max is None else float(x_max)
        closed = self.masses_gev >= b * self.config.beam_energy_gev
        return np.where(closed, 0.0, sig), np.where(closed, 0.0, err)

    # -- interpolation --------------------------------------------------------------------------
    def _build(self):
        m, s = self.masses_gev, self.sigma_pb
        if int((s > 0).sum()) < 2:
            raise errors.InputError("table", "at least two points with σ > 0", int((s > 0).sum()))
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(s > 0, self.error_pb / np.where(s > 0, s, 1.0), 0.0)
        self._interp = _Interp(m, s, rel, self.dsdx_pb)

    def _get(self, x_min, x_max) -> tuple[_Interp, float]:
        """(interpolators, upper x of the window) for a window (memoised)."""
        key = self._window_key(x_min, x_max)
        if key is None:
            if self._interp is None:
                self._build()
            return self._interp, self.config.x_max
        with self._lock:
            hit = self._windows.get(key)
            if hit is not None:
                self._windows.move_to_end(key)
                return hit, key[1]
        sig, err = self.window_pb(*key)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(sig > 0, err / np.where(sig > 0, sig, 1.0), 0.0)
        it = _Interp(self.masses_gev, sig, rel)
        with self._lock:
            self._windows[key] = it
            while len(self._windows) > WINDOW_MEMO:
                self._windows.popitem(last=False)
        return it, key[1]

    def sigma_at(self, mass_gev, beyond_max_zero: bool = False, *, x_min: float | None = None,
                 x_max: float | None = None) -> np.ndarray:
        """Interpolated σ_V(M) [pb] for x in [x_min, x_max] (default: the table's own window); NaN below the
        grid, NaN (or 0 with ``beyond_max_zero``) above it; 0 where M ≥ x_max E0."""
        it, b = self._get(x_min, x_max)
        m = np.asarray(mass_gev, dtype=float)
        if it.sig is None:         # no mass has σ > 0 inside this window
            out = np.where(m >= self.masses_gev[0] * (1 - 1e-12), 0.0, np.nan)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                out = np.exp(it.sig(np.log(m)))
            out = np.where(m >= b * self.config.beam_energy_gev, 0.0, out)
        if beyond_max_zero:
            out = np.where(m > self.masses_gev[-1], 0.0, out)
        return out

    def rel_error_at(self, mass_gev, *, x_min: float | None = None, x_max: float | None = None) -> np.ndarray:
        """Interpolated relative MC error of σ_V(M) for x in [x_min, x_max] (a conservative bound for a cut,
        see :func:`window_sums`)."""
        it, _ = self._get(x_min, x_max)
        m = np.asarray(mass_gev, dtype=float)
        if it.rel is None:
            return np.zeros_like(m)
        with np.errstate(divide="ignore", invalid="ignore"):
            return it.rel(np.log(m))

    def sigma_err_at(self, mass_gev, *, x_min: float | None = None, x_max: float | None = None) -> np.ndarray:
        """Interpolated MC error [pb] of :meth:`sigma_at` (a conservative bound for a cut)."""
        return np.nan_to_num(self.sigma_at(mass_gev, x_min=x_min, x_max=x_max)) * np.nan_to_num(
            self.rel_error_at(mass_gev, x_min=x_min, x_max=x_max))

    def dsdx_at(self, mass_gev, beyond_max_zero: bool = False) -> np.ndarray:
        """Interpolated dσ_V/dx [pb] per x bin (:attr:`x_edges`), shape (..., n_x_bins)."""
        it, _ = self._get(None, None)
        if it.dsdx is None:
            raise errors.InputError("table", "a table with dσ/dx bins", "none stored")
        m = np.asarray(mass_gev, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.exp(it.dsdx(np.log(m)))
            out = np.where(out < 1e-250, 0.0, out)
        if beyond_max_zero:
            out = np.where((m > self.masses_gev[-1])[..., None], 0.0, out)
        return out

    # -- storage --------------------------------------------------------------------------------
    def to_dict(self, rounded: bool = False) -> dict:
        """JSON-able form; ``rounded``: dσ/dx values and errors to :data:`STORED_DIGITS` significant digits (the
        shipped files, :meth:`save`); the cache keeps every digit."""
        points = []
        for p in self.points:
            d = p.to_dict()
            if rounded:
                d["dsdx_pb"] = [round_sig(v) for v in d["dsdx_pb"]]
                d["dsdx_err_pb"] = [round_sig(v) for v in d["dsdx_err_pb"]]
            points.append(d)
        return {
            "provenance": {
                "what": ("sigma_V(M): e N -> e N V, V coupled like a photon (eps = 1), per atom, "
                         "x = E_V/E0 in [x_min, x_max] (sigma), dsigma_V/dx in the bins x_edges")
                if self.config.lepton == "e" else
                        (f"sigma_V(M): l N -> l N V with l = {self.config.lepton} (the beam lepton), V coupled "
                         "like a photon (eps = 1), per atom, x = E_V/E0 in [x_min, x_max] (sigma), "
                         "dsigma_V/dx in the bins x_edges"),
                "units": {"mass": "GeV", "sigma": "pb per atom", "dsdx": "pb per unit x, per x bin"},
                "physics_version": PHYSICS_VERSION,
                "schema_version": SCHEMA_VERSION,
                "generator": f"dark-axion-portal-explorer {__version__}",
                **({"stored_digits": {"dsdx_pb": STORED_DIGITS, "dsdx_err_pb": STORED_DIGITS, "sigma": "all"}}
                   if rounded else {}),
                **self.provenance,
            },
            "config": self.config.to_dict(),
            "config_canonical": self.config.canonical(),
            "key": self.config.key(),
            "x_edges": self.config.x_edges.tolist(),
            "points": points,
        }

    def save(self, path: str | os.PathLike) -> None:
        """Write atomically (temp file + os.replace) so a crash never leaves a partial file; dσ/dx stored to
        :data:`STORED_DIGITS` significant digits."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(self.to_dict(rounded=True), indent=1, allow_nan=False))
        os.replace(tmp, path)

    @classmethod
    def from_dict(cls, d: dict, check_version: bool = True) -> "SigmaVTable":
        prov = dict(d.get("provenance", {}))
        if check_version:
            pv, sv = prov.get("physics_version"), prov.get("schema_version")
            if pv != PHYSICS_VERSION or sv != SCHEMA_VERSION:
                raise StaleTableError(
                    f"table made with physics {pv!r}/schema {sv!r}, code is physics {PHYSICS_VERSION!r}/"
                    f"schema {SCHEMA_VERSION!r}: regenerate it")
        config = SigmaVConfig.from_dict(d["config"])
        if check_version and d.get("key") not in (None, config.key()):
            raise StaleTableError("table key does not match its configuration (material definition changed?)")
        if check_version and "x_edges" in d and not np.allclose(d["x_edges"], config.x_edges, rtol=0,
                                                                atol=1e-15):
            raise StaleTableError("table x_edges do not match its configuration")
        for k in ("what", "units", "physics_version", "schema_version", "generator", "stored_digits"):
            prov.pop(k, None)
        return cls(config=config, points=[SigmaVPoint.from_dict(p) for p in d["points"]], provenance=prov)

    @classmethod
    def load(cls, path: str | os.PathLike, check_version: bool = True) -> "SigmaVTable":
        return cls.from_dict(json.loads(Path(path).read_text()), check_version=check_version)


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def log_mass_grid(lo: float, hi: float, n: int) -> np.ndarray:
    """n log-spaced masses [GeV] (validated)."""
    lo = errors.positive("m_min", lo, "GeV")
    hi = errors.positive("m_max", hi, "GeV")
    if hi <= lo:
        raise errors.InputError("m_max", f"> m_min = {lo:g} GeV", hi)
    return np.geomspace(lo, hi, int(n))


__all__ = ["SigmaVConfig", "SigmaVPoint", "SigmaVTable", "StaleTableError", "FORM_FACTORS", "X_BINNINGS",
           "endpoint_edges", "x_variable", "window_sums", "X_INTERPOLATION_ERROR", "math"]
