"""Validation — the one job of this module: checks across fields, as pure functions of the inputs.

Single-field ranges are the parameters' bounds (:mod:`dashboard.inputs`, from :data:`physics.limits.LIMITS`):
a value outside them is never set, its message is in the inputs' ``refused``. What is left here needs more
than one field or the physics: the mass axis order, the kinematic reach of the selected experiments, the
EDM cut-off above every loop mass, each experiment's numbers as physics accepts them (the 90% CL limit of
its background/observed must be computable, N_V overrides), the custom-experiment form (duplicates, cap).

:func:`check` returns {control key: message}; control keys are field names (``g``), ``exp.<id>.<field>``
and ``custom.<field>``. :func:`notes` returns informational messages (nothing is wrong, but a control
currently has no effect). No Panel here.
"""

from __future__ import annotations

import math

import numpy as np

from physics.errors import InputError

from . import adapter
from .inputs import MAX_CUSTOM, NV_PARAMS, STAT_FIELDS, CustomExperimentForm, Inputs, m_a_of, same_setup


def _fmt(x) -> str:
    try:
        return f"{float(x):.4g}"
    except (TypeError, ValueError):
        return repr(x)


def settings_field(parameter: str) -> str:
    """ExperimentSettings field behind an InputError of physics (Experiment, meson yields, statistics)."""
    p = str(parameter)
    if p in STAT_FIELDS:
        return p
    if p == "x_max":                 # the window [x_min, x_max] is set by the cut control
        return "x_min"
    if p.startswith("meson_yields.") and p.split(".", 1)[1] in NV_PARAMS:
        return NV_PARAMS[p.split(".", 1)[1]]
    return "eot"


def custom_field(parameter: str) -> str:
    """Custom-form field behind an InputError of physics."""
    p = str(parameter)
    for f in CustomExperimentForm.FIELDS:
        if p == f or p.endswith(f):
            return f
    if p in ("target", "material"):
        return "target"
    if p in ("beam_energy", "mass"):
        return "beam_energy_gev"
    if p == "x_max":
        return "x_min"
    return "label"


def check(inp: Inputs) -> dict[str, str]:
    """Every message of the session's inputs: refused values and cross-field checks (control key → text)."""
    e: dict[str, str] = {k: v for k, v in inp.all_refused().items() if not k.startswith("custom.")}
    if "m_gd_min" not in e and "m_gd_max" not in e and not (inp.m_gd_max > inp.m_gd_min * 1.01):
        e["m_gd_max"] = f"m_γD max must exceed m_γD min = {_fmt(inp.m_gd_min)} GeV"
    # the map's grid: each axis from < to (the map keeps its last valid state meanwhile)
    for lo, hi, what in (("map_m_gd_min", "map_m_gd_max", "map m_γD"), ("map_m_a_min", "map_m_a_max", "map m_a")):
        a, b = getattr(inp, lo), getattr(inp, hi)
        if lo not in e and hi not in e and not (b > a * 1.01):
            e[hi] = f"{what} to must exceed {what} from = {_fmt(a)} GeV"

    # each experiment's numbers as physics accepts them
    for exp_id, s in inp.settings.items():
        if any(k.startswith(f"exp.{exp_id}.") for k in e):
            continue
        try:
            s.experiment()
        except InputError as exc:
            e[f"exp.{exp_id}.{settings_field(exc.parameter)}"] = f"{inp.experiment_name(exp_id)}: {exc}"

    # kinematics of the current point
    def a_of(m):
        return m_a_of(inp.alp_mode, inp.m_a, inp.m_a_ratio, m)

    if not any(k in e for k in ("m_gd", "m_a", "m_a_ratio", "m_gd_min", "m_gd_max")):
        m_a_pt = float(a_of(inp.m_gd))
        exps = inp.selected_experiments()
        if exps:
            kin = max(adapter.kinematic_limit_gev(x) for x in exps)
            if m_a_pt + inp.m_gd >= kin:
                key = "m_a" if inp.alp_mode == "fixed" and m_a_pt >= inp.m_gd else "m_gd"
                e[key] = (f"m_a + m_γD = {_fmt(m_a_pt + inp.m_gd)} GeV is beyond the kinematic reach of the "
                          f"selected experiments (< {_fmt(kin)} GeV)")
            lo_a = float(np.min(a_of(np.array([inp.m_gd_min]))))
            if inp.alp_mode == "fixed" and lo_a + inp.m_gd_min >= kin and "m_a" not in e:
                e["m_a"] = (f"m_a = {_fmt(inp.m_a)} GeV closes every channel of the selected experiments "
                            f"(m_a + m_γD < {_fmt(kin)} GeV needed)")
        if inp.alp_mode == "fixed" and inp.m_a + adapter.TABLE_MIN_MASS_GEV > adapter.TABLE_CAP_GEV and "m_a" not in e:
            e["m_a"] = f"m_a = {_fmt(inp.m_a)} GeV: allowed < {adapter.TABLE_CAP_GEV:g} GeV"

    # EDM cut-off above every mass in the loop (of the masses that are valid)
    if "cutoff" not in e:
        cands = [adapter.M_NEUTRON_GEV]
        if "m_gd_max" not in e:
            cands.append(float(inp.m_gd_max))
            if not any(k in e for k in ("m_a", "m_a_ratio")):
                cands.append(float(np.max(a_of(np.array([inp.m_gd_max])))))
        if "m_gd" not in e:
            cands.append(float(inp.m_gd))
        heaviest = max(c for c in cands if math.isfinite(c))
        if not inp.cutoff > heaviest:
            e["cutoff"] = (f"Λ = {_fmt(inp.cutoff)} GeV must exceed every mass in the loop "
                           f"(here up to {_fmt(heaviest)} GeV: m_γD, m_a, m_n)")
    return e


def check_custom(form: CustomExperimentForm, existing: list) -> dict[str, str]:
    """Messages of the custom-experiment form against the session's custom specs ``existing`` (cap,
    duplicates, physics' own checks of the new experiment)."""
    e = {f"custom.{k}": v for k, v in form.refused.items()}
    if e:
        return e
    spec = form.spec()
    if len(existing) >= MAX_CUSTOM:
        return {"custom.label": f"at most {MAX_CUSTOM} custom experiments per session"}
    for i, old in enumerate(existing):
        if isinstance(old, dict) and same_setup(spec, old):
            return {"custom.label": f"this experiment is already in the list (custom experiment {i + 1}); change "
                                    "a number or the name to add another"}
    try:
        CustomExperimentForm.build(spec, f"custom-{len(existing) + 1}")
    except InputError as exc:
        return {f"custom.{custom_field(exc.parameter)}": str(exc)}
    return {}


def notes(inp: Inputs) -> dict[str, str]:
    """Informational messages (control key → text) for controls that currently change nothing."""
    out = {}
    for exp_id, s in inp.settings.items():
        try:
            exp = s.experiment()
        except InputError:
            continue
        if int(exp.observed) == 0 and adapter.limit_ignores_background(exp):
            out[f"exp.{exp_id}.background"] = (f"no effect: with 0 observed events the 90% CL (CLs) limit does not "
                                               f"depend on the background (N₉₀ = {adapter.n_upper(exp):.3g} "
                                               "events)")
    return out


def blocking(errors: dict) -> dict:
    """Errors that stop the views from updating (those of the custom-experiment form do not)."""
    return {k: v for k, v in errors.items() if not k.startswith("custom.")}
