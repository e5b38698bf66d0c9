"""``xsec``: bremsstrahlung-like cross sections per atom (docs/physics.md#etl-matrix-element, #factorisation).

    python -m physics xsec --model dark-photon --mass 0.01 --beam-energy 100 --target Pb --x-min 0 \
        [--x-max 1] [--method etl|iww] [--rel-error 0.01] [--seed 1] [--form-factor elastic] --json
    python -m physics xsec --model dark-axion-portal --m-gd 0.05 --m-a 1e-6 --g 1e-3 --beam-energy 100 \
        --target Pb --x-min 0.5 --json

    python -m physics xsec --model dark-axion-portal --m-gd 0.05 --experiment na64e-2023 --x-min 0.6 --json

Muon beams: ``--lepton mu`` (or an experiment with ``lepton = "mu"``, e.g. ``--experiment na64mu-2022``) makes the
projectile a muon (docs/physics.md#muon-beams); the default is the experiment's lepton, else "e".

dark-photon: σ_V(e N → e N V), ε = 1, exact tree level (physics.xsec.etl, VEGAS; one point computed for the
window) or the IWW approximation (physics.xsec.iww: error 0, q null). dark-axion-portal: σ(e N → e N a γD) for the
given g [GeV⁻¹] from the factorisation (physics.xsec.factorisation) over the σ_V table of this beam and target
(physics.service.store), which covers the whole x range: the window [x_min, x_max] is applied to it, so any cut on a
shipped configuration (100 GeV Pb, 8 GeV Al) is answered from the shipped table without recomputation.
"""

from __future__ import annotations

import math

from physics import errors, limits
from physics.cli.options import add_common
from physics.xsec.methods import DEFAULT_METHOD, METHODS, Method
from physics.xsec.sigma_v import FORM_FACTORS, SigmaVConfig

MODELS = ("dark-photon", "dark-axion-portal")


def _config(args) -> SigmaVConfig:
    """The x window of the request: ``--experiment`` gives the beam, target and cut (each overridable),
    otherwise ``--beam-energy`` and ``--target`` are required; x in [0, 1] by default."""
    exp = None
    if getattr(args, "experiment", None):
        from physics.signal.experiments import get_experiment

        exp = get_experiment(args.experiment)
    beam = args.beam_energy if args.beam_energy is not None else (exp.beam_energy_gev if exp else None)
    target = args.target if args.target is not None else (exp.target if exp else None)
    if beam is None or target is None:
        raise errors.InputError("beam_energy" if beam is None else "target",
                                "--beam-energy and --target, or --experiment ID", None)
    e0 = limits.check("beam_energy", beam)
    x_min = limits.check("x_min", args.x_min if args.x_min is not None else (exp.x_min if exp else 0.0))
    x_max = limits.check("x_max", args.x_max if args.x_max is not None else (exp.x_max if exp else 1.0))
    errors.one_of("form_factor", args.form_factor, FORM_FACTORS)
    lepton = getattr(args, "lepton", None)
    lepton = limits.check_lepton(lepton if lepton is not None else (exp.lepton if exp else "e"))
    return SigmaVConfig(beam_energy_gev=e0, target=target, x_min=x_min, x_max=x_max,
                        form_factor=args.form_factor, lepton=lepton)


def _run(args) -> dict:
    errors.one_of("model", args.model, MODELS)
    errors.one_of("method", args.method, METHODS)
    rel_error = limits.check("rel_error", args.rel_error)
    seed = limits.check("seed", args.seed)
    cfg = _config(args)
    e0 = cfg.beam_energy_gev
    echo = {"model": args.model, "beam_energy_GeV": e0, "target": cfg.target, "x_min": cfg.x_min,
            "x_max": cfg.x_max, "form_factor": cfg.form_factor, "per": "atom"}
    if getattr(args, "experiment", None):
        echo["experiment"] = args.experiment
    if cfg.lepton != "e":               # electron output exactly as before muon beams
        echo["lepton"] = cfg.lepton
    m_lep = cfg.lepton_mass_gev
    if args.model == "dark-photon":
        if args.mass is None:
            raise errors.InputError("mass", f"a vector mass in (0, {e0 - m_lep:g}) GeV", None)
        mass = limits.check("mass_iww" if args.method == Method.IWW else "mass", args.mass, "mass")
        if mass >= e0 - m_lep:
            why = "below beam energy" if cfg.lepton == "e" else \
                f"kinematic threshold E0 > m_{cfg.lepton} + M"
            raise errors.InputError("mass", f"in (0, {e0 - m_lep:g}) GeV ({why})", mass)
        echo.update({"mass_GeV": mass, "epsilon": 1.0})
        if args.method == Method.IWW:
            from physics.xsec.iww import sigma_v_iww_pb

            sig = sigma_v_iww_pb(mass, e0, cfg.target, cfg.x_min, cfg.x_max, cfg.form_factor, cfg.lepton)
            return {"sigma_pb": sig, "error_pb": 0.0, "method": Method.IWW.value, "q": None, "chi2_dof": None,
                    "seed": None, "neval": 0, "rel_error": 0.0, "ok": True,
                    "settings": {"approximation": "improved Weizsäcker–Williams (BESTo 2009 A14–A17)"}, **echo}
        from physics.xsec.etl import sigma_v_point

        r = sigma_v_point(cfg, mass, rel_error=rel_error, seed=seed).sigma
        return {"sigma_pb": r.mean, "error_pb": r.error, "method": Method.ETL.value, "q": r.q, "chi2_dof": r.chi2_dof,
                "seed": seed, "neval": r.neval, "rel_error": r.rel_error, "ok": r.ok, "settings": r.settings,
                "message": r.message, **echo}

    # dark axion portal through the factorisation
    if args.m_gd is None:
        raise errors.InputError("m_gd", "a dark-photon mass > 0 GeV", None)
    m_gd = limits.check("m_gd", args.m_gd)
    m_a = limits.check("m_a", args.m_a)
    g = limits.check("g", args.g)
    if m_a + m_gd >= cfg.max_mass_gev:
        raise errors.InputError("m_a + m_gd", f"< {cfg.max_mass_gev:g} GeV (table range of this beam)",
                                m_a + m_gd)
    from physics.xsec.factorisation import sigma_portal_pb
    from physics.service.provider import get_sigma_table

    # the table of this beam and target covers the whole x range: the window is applied to it (shipped
    # tables serve every cut without a new computation)
    table_cfg = SigmaVConfig.whole_range(cfg.beam_energy_gev, cfg.target, cfg.form_factor, cfg.lepton)
    table = get_sigma_table(table_cfg, method=args.method, rel_error=rel_error, seed=seed)
    sig, err = sigma_portal_pb(table, m_a, m_gd, g, x_min=cfg.x_min, x_max=cfg.x_max)
    sig, err = float(sig), float(err)
    pts = table.points
    q_min = min((p.sigma.q for p in pts), default=None) if args.method == Method.ETL else None
    ok = bool(table.all_ok) if args.method == Method.ETL else True
    echo.update({"m_a_GeV": m_a, "m_gd_GeV": m_gd, "g_GeV-1": g})
    return {"sigma_pb": sig, "error_pb": err, "method": args.method, "q": q_min, "chi2_dof": None,
            "seed": seed if args.method == Method.ETL else None,
            "neval": int(sum(p.sigma.neval for p in pts)),
            "rel_error": (err / sig) if sig > 0 else (0.0 if err == 0 else math.inf), "ok": ok,
            "settings": {"factorisation": "docs/physics.md#factorisation: (g²/96π²) ∫ds λ^{3/2} dσ_V/dx",
                         "table_points": len(pts), "table_rel_error": rel_error,
                         "x_window": "applied to the whole-x-range sigma_V table (bins summed; error_pb a "
                                     "conservative bound)",
                         "table_mass_range_GeV": [float(table.masses_gev[0]), float(table.masses_gev[-1])],
                         "q": "smallest Q of the table points", "provenance": table.provenance},
            **echo}


def register(sub) -> None:
    p = sub.add_parser("xsec", help="cross section per atom (dark photon ε = 1, or dark axion portal)",
                       description="σ(e N → e N V) for ε = 1 (etl: exact tree level with VEGAS; iww: "
                                   "approximation), or σ(e N → e N a γD) from the factorisation.")
    p.add_argument("--model", required=True, help="dark-photon or dark-axion-portal")
    p.add_argument("--mass", type=float, help="vector (dark-photon) mass [GeV] (model dark-photon)")
    p.add_argument("--m-gd", type=float, help="dark-photon mass [GeV] (model dark-axion-portal)")
    p.add_argument("--m-a", type=float, default=1e-6, help="ALP mass [GeV] (default 1e-6)")
    p.add_argument("--g", type=float, default=1e-3, help="g_aγγD [GeV^-1] (default 1e-3)")
    p.add_argument("--experiment", default=None,
                   help="take beam energy, target and cut from this experiment (id or TOML/JSON file)")
    p.add_argument("--beam-energy", type=float, default=None,
                   help="beam energy E0 [GeV] (required without --experiment)")
    p.add_argument("--target", default=None,
                   help="target material (Pb, W, Al, Fe, Cu or user-defined; required without --experiment)")
    p.add_argument("--x-min", type=float, default=None,
                   help="minimal energy fraction x = E/E0 (default: the experiment's cut, or 0); for the "
                        "dark axion portal it is applied to the σ_V table (shipped tables: no recomputation)")
    p.add_argument("--x-max", type=float, default=None,
                   help="maximal energy fraction (default: the experiment's, or 1)")
    p.add_argument("--method", default=DEFAULT_METHOD, help="etl (default) or iww")
    p.add_argument("--rel-error", type=float, default=0.01, help="requested relative MC error (etl)")
    p.add_argument("--seed", type=int, default=1, help="random seed (etl; table point i uses seed + i)")
    p.add_argument("--form-factor", default="elastic", help="elastic (default) or elastic+inelastic")
    p.add_argument("--lepton", default=None,
                   help="beam lepton: e or mu (default: the experiment's, or e; docs/physics.md#muon-beams)")
    add_common(p)
    p.set_defaults(func=_run)
