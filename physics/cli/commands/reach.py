"""``reach``: 90% CL limits g_90(m_γD) per channel (brem, vector mesons, total) for an experiment.

    python -m physics reach --experiment na64e-2023 --m-a 1e-6 --m-gd 0.001,0.01,0.1,1 [--method etl|iww]
        [--alpha-d 0.1] [--m-chi M] [--eot N] [--x-min X] [--x-max X] [--g 1e-3] [--statistics cls|neyman]
        [--background B] [--observed N] [--nuclear coherent|...] [--absorber W] [--radiator-x0 T] --json

``--x-min`` changes the experiment's missing-energy cut: the brem channel applies it to the experiment's σ_V
table (whole x range; shipped for the benchmark beams, so no recomputation), the meson channels to their
photon-energy window. Formulas: physics/signal/reach.py, physics/signal/yields.py, physics/signal/meson_yields.py
(docs/physics.md#yields-brem, #meson-production, #reach).
"""

from __future__ import annotations

import numpy as np

from physics import errors
from physics.cli.options import add_common, float_list
from physics.signal.experiments import get_experiment
from physics.signal.meson_yields import NUCLEAR_MODES, MesonModel, NuclearModel
from physics.xsec.methods import DEFAULT_METHOD, METHODS
from physics.signal.statistics import METHODS as STAT_METHODS
from physics.signal.yields import CHANNELS


def _scalar_or_array(values: list[float]):
    return values[0] if len(values) == 1 else np.array(values)


def _run(args) -> dict:
    from physics.service.provider import table_for_experiment
    from physics.signal.reach import reach  # the solver (and its scipy imports) only when the command runs
    from physics.signal.yields import validate_inputs

    exp = get_experiment(args.experiment)
    changes = {}
    if args.eot is not None:
        changes["eot"] = errors.positive("eot", args.eot, "electrons")
    if args.background is not None:
        changes["background"] = errors.non_negative("background", args.background, "events")
    if args.observed is not None:
        changes["observed"] = args.observed
    # the cut is applied to the experiment's whole-x-range σ_V table (and to the meson photon window): no
    # table is recomputed, the shipped ones serve every cut
    if args.x_min is not None:
        changes["x_min"] = args.x_min
    if args.x_max is not None:
        changes["x_max"] = args.x_max
    if changes:
        exp = exp.replace(**changes)
    if not args.m_gd:
        raise errors.InputError("m_gd", "a non-empty list of masses in [0.001, 10] GeV", args.m_gd)
    m_gd = np.array(args.m_gd, dtype=float)
    m_a = _scalar_or_array(args.m_a)
    model = MesonModel(nuclear=NuclearModel(mode=args.nuclear), absorber=args.absorber,
                       radiator_x0=args.radiator_x0)
    validate_inputs(m_gd, m_a, args.alpha_d, args.m_chi)  # bad input is reported before any table is fetched
    table = table_for_experiment(exp, args.method)
    return reach(exp, m_gd, m_a=m_a, alpha_d=args.alpha_d, m_chi=args.m_chi, table=table,
                 meson_model=model, g_ref=args.g, statistics=args.statistics).to_dict()


def _fmt(x) -> str:
    return "—" if x is None or not np.isfinite(x) else f"{x:.3g}"


def _text(result: dict) -> str:
    m = np.atleast_1d(result["m_gd_GeV"])
    g90 = result["g90_GeV-1"]
    lines = ["g_90 [GeV^-1] (90% CL; — = closed / no limit)",
             f"{'m_gD[GeV]':>10s} " + " ".join(f"{c:>9s}" for c in CHANNELS)]
    for i, mi in enumerate(m):
        lines.append(f"{mi:10.4g} " + " ".join(f"{_fmt(np.atleast_1d(g90[c])[i]):>9s}" for c in CHANNELS))
    lines.append("N_V: " + ", ".join(f"{k} {v:.3g}" for k, v in result["N_V"].items()))
    st = result["assumptions"]["statistics"]
    lines.append(f"N_90 = {st['N_90']:.4g} ({st['method']}, b = {st['background']:g}, n = {st['observed']}); "
                 f"sigma_V method: {result['assumptions']['method']}; "
                 f"cut x >= {result['assumptions']['experiment']['x_min']:g}")
    return "\n".join(lines)


def register(sub) -> None:
    p = sub.add_parser("reach", help="90%% CL reach g_90(m_gD) per channel for an experiment",
                       description="g_90 from N(g) = N_90 with N = brem (factorisation over the experiment's "
                                   "sigma_V table) + vector mesons (N_V Br(V -> a gD)), times Br(gD -> inv). "
                                   "Units: GeV, GeV^-1.")
    p.add_argument("--experiment", required=True, help="experiment id or path to a TOML/JSON experiment file")
    p.add_argument("--m-gd", type=float_list, default=float_list("0.001:10:50"),
                   help="dark-photon masses [GeV], '0.001,0.01' or 'lo:hi:n' (default 0.001:10:50)")
    p.add_argument("--m-a", type=float_list, default=[1e-6],
                   help="ALP mass [GeV] (default 1e-6); a list must match --m-gd")
    p.add_argument("--method", choices=METHODS, default=DEFAULT_METHOD, help="sigma_V table: etl (exact) or iww")
    p.add_argument("--alpha-d", type=float, default=0.1, help="dark coupling alpha_D (default 0.1)")
    p.add_argument("--m-chi", type=float, default=None, help="dark fermion mass [GeV] (default m_gD/3)")
    p.add_argument("--eot", type=float, default=None, help="override electrons on target")
    p.add_argument("--background", type=float, default=None, help="override expected background events")
    p.add_argument("--observed", type=int, default=None, help="override observed events")
    p.add_argument("--x-min", type=float, default=None,
                   help="override the missing-energy cut x_min = E_miss/E0 (applied to the shipped σ_V table, "
                        "no recomputation)")
    p.add_argument("--x-max", type=float, default=None, help="override the upper end x_max of the window")
    p.add_argument("--statistics", choices=STAT_METHODS, default="cls", help="Poisson limit (default cls)")
    p.add_argument("--g", type=float, default=1e-3, help="coupling for events_at_g [GeV^-1] (default 1e-3)")
    p.add_argument("--nuclear", choices=NUCLEAR_MODES, default="coherent",
                   help="meson photoproduction nuclear model (default coherent)")
    p.add_argument("--absorber", default=None, help="material where photons photoproduce mesons "
                                                    "(default: the experiment's target; W for ldmx-phase2)")
    p.add_argument("--radiator-x0", type=float, default=None,
                   help="depth [X0] over which hard photons are counted (default: the experiment's L_T)")
    add_common(p)
    p.set_defaults(func=_run, text=_text)
