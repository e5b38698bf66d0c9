"""Presets — the one job of this module: the inputs that reproduce the figures and the table of the paper
(S. N. Gninenko et al., *Constraints on dark axion portal: missing energy and fermion EDMs*,
arXiv:2602.11405), as data: preset name → input values, view, caption and citation.

A preset is applied *through the inputs* (:func:`apply`), so the URL, the widgets and every view follow it
like any other change; :func:`active` tells whether the current inputs are exactly those of a preset (then
the figure's caption, the exported figure and the CSV header cite the paper). Inputs a preset does not name
are set to their defaults, so a preset always reproduces the same figure; how figures look (presentation
mode, export size, font scale) is kept. Values the paper does not state legibly in the copy available to
the developers are this tool's choices and are named as such in the caption.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import MappingProxyType

from .inputs import DEFAULT_EXPERIMENTS, Inputs

PAPER = "S. N. Gninenko et al., arXiv:2602.11405"

#: The paper's "non-negligible background" projection of NA64e (Sec. V.3): the planned statistics of the
#: na64e-projected benchmark with one expected and one observed background event (the paper's number is not
#: legible in the available copy; Sec. IV.1 expects the background "at a level ≲ 1 event").
NA64E_PROJECTED_B1 = {"label": "NA64e projected, b = 1, n_obs = 1", "beam_energy_gev": 100.0, "target": "Pb",
                      "thickness_x0": 1.0, "x_min": 0.5, "eot": 5e12, "background": 1.0, "observed": 1}


@dataclass(frozen=True)
class Preset:
    """One paper figure/table: ``values`` (Inputs parameter → value; the others take their defaults), the
    ``view`` it is shown in, the button ``label``, ``source`` (figure/table of the paper), ``caption``."""

    name: str
    label: str
    source: str
    view: str
    caption: str
    values: dict = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "values", MappingProxyType(dict(self.values)))

    @property
    def citation(self) -> str:
        return f"Reproduces {self.source} of {PAPER}"


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("fig3", "Fig. 3 — yields", "Fig. 3", "yields",
           "**Paper Fig. 3** (arXiv:2602.11405): expected a γD events vs m_γD at NA64e (5×10¹² EOT, the "
           "planned statistics) and LDMX Phase II (10¹⁶ EOT), bremsstrahlung-like emission vs the vector-meson "
           "channels, m_a ≪ m_γD. The coupling g_aγγD = 10⁻³ GeV⁻¹ is this tool's choice (events scale as g²).",
           {"experiments": ["na64e-projected", "ldmx-phase2"], "m_gd_min": 1e-3, "m_gd_max": 10.0, "g": 1e-3,
            "alp_mode": "light"}),
    Preset("fig4", "Fig. 4 — reach", "Fig. 4", "exclusion",
           "**Paper Fig. 4** (arXiv:2602.11405): 90% CL reach on g_aγγD for m_a ≪ m_γD — NA64e's 2016–2022 "
           "data (9.37×10¹¹ EOT) shaded as excluded, projections as lines: NA64e 5×10¹² EOT background-free "
           "and with a background (b = 1, n_obs = 1: this tool's choice), LDMX Phase II; BaBar Υ(1S) → invisible "
           "and SN1987A shaded. The BaBar monophoton recast of the paper is not available to the tool "
           "(docs/physics.md#constraints-not-provided).",
           {"experiments": ["na64e-2023", "na64e-projected", "ldmx-phase2", "custom-1"],
            "custom": [NA64E_PROJECTED_B1], "m_gd_min": 1e-3, "m_gd_max": 10.0, "alp_mode": "light",
            "show_channel_curves": False, "overlays": ["babar", "sn1987a"]}),
    Preset("fig6", "Fig. 6 — EDM bounds", "Fig. 6", "edm",
           "**Paper Fig. 6** (arXiv:2602.11405): one-loop EDM bounds on |g_aγγD g̃_af g_γDf| for the electron, "
           "muon and neutron at both benchmark cut-offs Λ = 1 TeV (thick) and 10 TeV (thin); solid m_a ≪ m_γD, "
           "dashed m_a = m_γD.",
           {"m_gd_min": 1e-3, "m_gd_max": 10.0, "cutoff": 1000.0, "edm_both_cutoffs": True}),
    Preset("table2", "Table 2 — EDM table", "Table 2", "edm",
           "**Paper Table 2** (arXiv:2602.11405): EDM bounds on the coupling products at m_γD = 0.1 GeV for "
           "Λ = 1 and 10 TeV, both mass scenarios — the table below the figure (curves: Λ = 1 TeV).",
           {"m_gd": 0.1, "m_gd_min": 1e-3, "m_gd_max": 10.0, "cutoff": 1000.0}),
)}


def _default(name: str):
    if name == "experiments":
        return list(DEFAULT_EXPERIMENTS)
    d = Inputs.param[name].default
    return list(d) if isinstance(d, list) else (dict(d) if isinstance(d, dict) else d)


def target_values(name: str) -> dict:
    """Every input a preset fixes: the defaults of :attr:`Inputs.PHYSICS` overridden by the preset's values,
    and its view."""
    p = PRESETS[name]
    out = {k: _default(k) for k in Inputs.PHYSICS}
    out.update({k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in p.values.items()})
    out["view"] = p.view
    return out


def apply(inputs: Inputs, name: str) -> None:
    """Set the inputs to preset ``name`` (one batch of changes after the custom experiments, which the
    experiment list refers to); the shown view's user axis ranges are cleared. ValueError if a value is
    refused (never for the shipped presets: tests/dashboard/test_presets.py)."""
    vals = target_values(name)
    custom = vals.pop("custom")
    ranges = {k: v for k, v in (inputs.axis_ranges or {}).items() if k != vals["view"]}
    inputs.custom = custom
    inputs.param.update(**vals, axis_ranges=ranges)
    inputs.refused = {}


def _same(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=0.0)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return set(a) == set(b) and all(_same(a[k], b[k]) for k in a)
    return a == b


#: Inputs that do not change a figure whose preset does not name them: the current point (marker; the reach
#: and EDM curves do not depend on it) and the uncertainty bands (drawn around the paper's curves).
FREE = ("m_gd", "g", "bands")


def active(inputs: Inputs) -> Preset | None:
    """The preset whose every value (:func:`target_values`; the :data:`FREE` ones only if the preset names them)
    the inputs hold now, else None."""
    for name, p in PRESETS.items():
        if all(_same(getattr(inputs, k), v) for k, v in target_values(name).items()
               if k not in FREE or k in p.values):
            return p
    return None


def caption_data(inputs: Inputs, view: str) -> dict | None:
    """{name, caption, citation} of the active preset if it is shown in ``view`` (for the view data), else None."""
    p = active(inputs)
    if p is None or p.view != view:
        return None
    return {"name": p.name, "caption": p.caption, "citation": p.citation}


__all__ = ["PAPER", "Preset", "PRESETS", "target_values", "apply", "active", "caption_data"]
