"""The (m_γD, m_a) map — view data of the "Map" tab: the 90% CL reach g₉₀ (enabled channels combined) of one
experiment, or the best (lowest) g₉₀ of the selected experiments at every point, on an n × n log grid.

Every point factorises (physics.signal.reach): N(g) = K g² Br_inv(g) with a production coefficient K that
does not depend on α_D or m_χ. So the map is two memoised steps (``pn.cache``, shared by all sessions):

1. :func:`coefficient` — K over the whole grid from ONE vectorised physics call on broadcast arrays
   (``adapter.plane_coefficient``; ~0.15–0.2 s for 100 × 100 on this 2-core machine, the σ_V factorisation
   integral being nearly all of it), keyed by experiment, grid, enabled channels and σ_V table;
2. :func:`reach_map` — g₉₀ from K by physics' exact closed form (``adapter.plane_g90``; < 1 ms per 10⁴
   points), keyed additionally by α_D and the m_χ rule.

Moving α_D or r_χ therefore recomputes only step 2; an experiment's numbers (EOT, cut, background) or the
grid recompute step 1. No cell is masked for m_a ≥ m_γD: physics.model.widths defines Γ(γD → aγ) = 0 there
(Br_inv = 1), a valid region of the model.

Pure functions of their arguments; no Panel widgets here.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import panel as pn

from . import adapter, style
from .inputs import MAP_COMBINED, ViewInputs
from .viewdata import HASH_FUNCS, TableRef, m_chi_arg

#: the map's inputs that change the grid or the experiment (Inputs parameter → MapInputs field)
FIELDS = {"map_experiment": "experiment", "map_m_gd_min": "m_gd_min", "map_m_gd_max": "m_gd_max",
          "map_m_a_min": "m_a_min", "map_m_a_max": "m_a_max", "map_n": "n"}


@dataclasses.dataclass(frozen=True)
class MapInputs:
    """What the map shows: ``experiment`` (an experiment id or ``"combined"``), the m_γD and m_a axis ranges
    [GeV] and ``n`` grid points per axis (log-spaced)."""

    experiment: str = MAP_COMBINED
    m_gd_min: float = 1e-3
    m_gd_max: float = 5.0
    m_a_min: float = 1e-6
    m_a_max: float = 5.0
    n: int = 100

    @classmethod
    def of(cls, inputs) -> MapInputs:
        """The map inputs of a session's :class:`dashboard.inputs.Inputs`."""
        return cls(**{f: getattr(inputs, p) for p, f in FIELDS.items()})

    def problem(self) -> str:
        """Why the grid cannot be made ("" if it can)."""
        if not self.m_gd_min < self.m_gd_max:
            return f"map m_γD range: 'from' ({self.m_gd_min:.4g} GeV) must be below 'to' ({self.m_gd_max:.4g} GeV)"
        if not self.m_a_min < self.m_a_max:
            return f"map m_a range: 'from' ({self.m_a_min:.4g} GeV) must be below 'to' ({self.m_a_max:.4g} GeV)"
        return ""

    def grid(self) -> tuple[np.ndarray, np.ndarray]:
        """(m_γD (n,), m_a (n,)) [GeV], log-spaced; the default ranges if this one is invalid."""
        mi = self if not self.problem() else MapInputs(n=self.n)
        n = int(mi.n)
        return np.geomspace(mi.m_gd_min, mi.m_gd_max, n), np.geomspace(mi.m_a_min, mi.m_a_max, n)


def _cache(max_items: int):
    return pn.cache(max_items=max_items, policy="LRU", hash_funcs=HASH_FUNCS)


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False          # memoised and shared between sessions: never modified
    return a


@_cache(32)
def coefficient(exp, grid: tuple, channels: tuple, tref: TableRef) -> np.ndarray:
    """K [events/GeV⁻²] of the enabled channels on the grid ``(m_gd_min, m_gd_max, m_a_min, m_a_max, n)``,
    shape (n_m_a, n_m_gd)."""
    m_gd = np.geomspace(grid[0], grid[1], int(grid[4]))
    m_a = np.geomspace(grid[2], grid[3], int(grid[4]))
    return _frozen(adapter.plane_coefficient(exp, m_gd, m_a, tref.table, channels))


@_cache(64)
def reach_map(exp, grid: tuple, channels: tuple, alpha_d: float, chi: tuple, tref: TableRef) -> np.ndarray:
    """g₉₀ [GeV⁻¹] on the grid (NaN: no limit); ``chi`` = (m_χ mode, r_χ, m_χ [GeV]) as in ViewInputs."""
    K = coefficient(exp, grid, channels, tref)
    m_gd = np.geomspace(grid[0], grid[1], int(grid[4]))
    m_a = np.geomspace(grid[2], grid[3], int(grid[4]))
    vi_chi = _ChiRule(*chi)
    return _frozen(adapter.plane_g90(K, m_gd, m_a, alpha_d, m_chi_arg(vi_chi, m_gd), exp))


@dataclasses.dataclass(frozen=True)
class _ChiRule:
    """The m_χ rule fields of ViewInputs (what :func:`dashboard.viewdata.m_chi_arg` reads)."""

    m_chi_mode: str
    m_chi_ratio: float
    m_chi: float


def _chi_text(vi: ViewInputs) -> str:
    return f"m_χ = {vi.m_chi_ratio:.3g} m_γD" if vi.m_chi_mode == "ratio" else f"m_χ = {vi.m_chi:.3g} GeV"


def map_view(mi: MapInputs, vi: ViewInputs, exps: tuple, trefs: dict) -> dict:
    """The map's data: ``m_gd`` (n,), ``m_a`` (n,) [GeV]; ``g90`` (n_m_a, n_m_gd) [GeV⁻¹] of the chosen
    experiment or the best of ``exps`` (NaN: no limit); ``best`` (same shape): id of the experiment setting the
    plotted limit ("" where none); ``experiments`` (ids used), ``title``, ``message`` (why part or all is
    missing), ``partial``, the physics inputs (``alpha_d``, ``m_chi``, ``channels``, ``method``)."""
    m_gd, m_a = mi.grid()
    shape = (m_a.size, m_gd.size)
    grid = (float(m_gd[0]), float(m_gd[-1]), float(m_a[0]), float(m_a[-1]), int(mi.n))
    chi = (vi.m_chi_mode, float(vi.m_chi_ratio), float(vi.m_chi))
    channels = tuple(c for c in adapter.CHANNELS if c in vi.channels)
    messages = [mi.problem()] if mi.problem() else []
    if mi.experiment == MAP_COMBINED:
        chosen = list(exps)
        name = "best of " + ", ".join(style.short_name(e.name) for e in chosen) if chosen else "no experiment"
    else:
        chosen = [e for e in exps if e.id == mi.experiment]
        name = chosen[0].name if chosen else mi.experiment
        if not chosen:
            messages.append(f"select {mi.experiment} under Experiments to map it")
    g90 = np.full(shape, np.nan)
    best = np.full(shape, "", dtype=object)
    used, partial = [], False
    if not channels:
        messages.append("no channel enabled")
    elif not mi.problem():
        for exp in chosen:
            tref = trefs.get(exp.id)
            if tref is None:
                messages.append(f"{style.short_name(exp.name)}: σ_V table not ready yet")
                continue
            g = reach_map(exp, grid, channels, float(vi.alpha_d), chi, tref)
            better = np.isfinite(g) & ~(g >= g90)          # NaN in g90 counts as "no limit yet"
            g90 = np.where(better, g, g90)
            best[better] = exp.id
            used.append(exp.id)
            partial |= tref.partial
    title = (f"g₉₀ over (m_γD, m_a): {style.short_name(name)} — α_D = {vi.alpha_d:.3g}, {_chi_text(vi)}"
             + (" (computing…)" if partial else ""))
    return {"m_gd": m_gd, "m_a": m_a, "g90": g90, "best": best, "experiments": used, "title": title,
            "message": "; ".join(messages), "partial": partial, "alpha_d": float(vi.alpha_d),
            "m_chi": _chi_text(vi), "channels": list(channels), "method": vi.method, "map": dataclasses.asdict(mi)}


def header_lines(data: dict) -> list[str]:
    """Extra CSV header lines of the map (grid, experiments, physics inputs)."""
    mi = data["map"]
    return [f"map grid: {mi['n']} x {mi['n']} log-spaced points, m_gd in [{mi['m_gd_min']:.6g}, {mi['m_gd_max']:.6g}] "
            f"GeV, m_a in [{mi['m_a_min']:.6g}, {mi['m_a_max']:.6g}] GeV",
            f"map experiment: {mi['experiment']} (used: {', '.join(data['experiments']) or 'none'}); combined = the "
            "lowest g90 of the selected experiments at each point",
            f"map physics: alpha_D = {data['alpha_d']:.6g}; {data['m_chi']}; channels {', '.join(data['channels'])} "
            "(g90 of the summed yield, exact closed form of physics.signal.reach)"]


def finite_fraction(data: dict) -> float:
    """Share of grid points with a finite limit (benchmarks, tests)."""
    g = np.asarray(data["g90"], dtype=float)
    return float(np.isfinite(g).mean()) if g.size else math.nan
