"""``edm`` and ``edm-table``: EDM bounds on |g_aγγD g̃_af g_γDf| (docs/physics.md#edm; Gninenko et al.,
arXiv:2602.11405, Sec. VI and Table 2).

    python -m physics edm --fermion e --m-gd 0.1 --m-a 0.05 [--cutoff 1000] --json   # the masses as given
    python -m physics edm --fermion e --m-gd 0.1 --scenario degenerate --json        # m_a = m_gd
"""

from __future__ import annotations

from physics import edm, errors, limits
from physics.api import edm_bound
from physics.cli.options import add_common, float_list


def _run_edm(args) -> dict:
    """Explicit masses are used as given (general loop integral); ``--scenario`` is a shortcut fixing m_a,
    and an ``--m-a`` that contradicts it is a one-line error (:func:`physics.api.edm_bound`)."""
    return edm_bound(args.fermion, m_gd=args.m_gd, m_a=args.m_a, cutoff=args.cutoff, scenario=args.scenario,
                     edm_limit_ecm=args.edm_limit)


def _parse_limits(text: str | None) -> dict:
    """``e=4.1e-30,n=1.8e-26`` → {"e": 4.1e-30, "n": 1.8e-26} (fermion → EDM limit in e·cm)."""
    out: dict = {}
    if not text:
        return out
    items = text.split(",")
    if len(items) > 16:
        raise errors.InputError("edm_limits", "at most one fermion=value pair per fermion (e, mu, n)",
                                f"{len(items)} items")
    for item in items:
        if not item.strip():
            continue
        if "=" not in item:
            raise errors.InputError("edm_limits", "comma-separated fermion=value pairs, e.g. e=4.1e-30",
                                    item)
        key, value = item.split("=", 1)
        f = edm.get_fermion(key.strip())
        out[f.key] = limits.parse("edm_limit", value.strip(), f"edm_limit[{f.key}]")
    return out


def _split(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _run_table(args) -> dict:
    fermions = [edm.get_fermion(f).key for f in _split(args.fermions)]
    scenarios = [errors.one_of("scenario", s, ("light-alp", "degenerate")) for s in _split(args.scenarios)]
    if not fermions:
        raise errors.InputError("fermions", "a comma-separated list of e, mu, n", args.fermions)
    if not scenarios:
        raise errors.InputError("scenarios", "a comma-separated list of light-alp, degenerate",
                                args.scenarios)
    limits = _parse_limits(args.edm_limits)
    rows = edm.edm_table(cutoffs=args.cutoffs, m_gd_ref=args.m_gd, m_a_light=args.m_a,
                         fermions=fermions, scenarios=scenarios, edm_limits=limits)
    return {"rows": rows, "m_gd_GeV": args.m_gd, "m_a_light_GeV": args.m_a,
            "cutoffs_GeV": list(args.cutoffs),
            "limits": {f: edm.get_edm_limit(f, limits.get(f)).to_dict() for f in fermions},
            "quantity": "upper bound on |g_aγγD g̃_af g_γDf| [GeV^-1] (docs/physics.md#edm-bound)"}


def _table_text(result: dict) -> str:
    head = (f"Bounds on |g_aγγD g̃_af g_γDf| [GeV^-1] at m_γD = {result['m_gd_GeV']:g} GeV "
            f"(light-alp: m_a = {result['m_a_light_GeV']:g} GeV; degenerate: m_a = m_γD)")
    cols = f"{'fermion':8s} {'scenario':11s} {'Λ [GeV]':>10s} {'I':>9s} {'|d|<[e cm]':>11s} {'CL':>5s} " \
           f"{'bound [GeV^-1]':>15s}"
    lines = [head, cols, "-" * len(cols)]
    for r in result["rows"]:
        cl = "-" if r["cl"] != r["cl"] else f"{100 * r['cl']:.0f}%"
        lines.append(f"{r['fermion']:8s} {r['scenario']:11s} {r['cutoff_GeV']:10.4g} "
                     f"{r['loop_integral']:9.4f} {r['edm_limit_ecm']:11.3g} {cl:>5s} "
                     f"{r['bound_GeV-1']:15.4e}")
    lines.append("")
    for f, lim in result["limits"].items():
        lines.append(f"{f}: {lim['experiment']}: {lim['citation']}")
    return "\n".join(lines)


def register(sub) -> None:
    p = sub.add_parser(
        "edm", help="EDM bound on the coupling product g_aγγD·g̃_af·g_γDf",
        description="|g_aγγD g̃_af g_γDf| < 16π² d_lim / I, I = 2∫∫ ln(Λ²/Δ) (docs/physics.md#edm-bound; "
                    "Gninenko et al., arXiv:2602.11405, Sec. VI). Computed with the masses given; --scenario "
                    "is a shortcut that fixes m_a. Masses and cut-off in GeV, bound in GeV^-1.")
    p.add_argument("--fermion", required=True, help="e, mu or n (electron, muon, neutron)")
    p.add_argument("--m-gd", type=float, default=edm.DEFAULT_M_GD_REF_GEV,
                   help=f"dark-photon mass [GeV] (default {edm.DEFAULT_M_GD_REF_GEV:g})")
    p.add_argument("--m-a", type=float, default=None,
                   help=f"ALP mass [GeV], used as given (default {edm.DEFAULT_M_A_LIGHT_GEV:g}, the light-alp "
                        "scenario); with --scenario it must agree with the scenario")
    p.add_argument("--cutoff", type=float, default=1000.0, help="UV cut-off Λ [GeV] (default 1000)")
    p.add_argument("--scenario", default=None,
                   help=f"shortcut fixing m_a: light-alp (m_a = {edm.DEFAULT_M_A_LIGHT_GEV:g} GeV < m_gd), "
                        "degenerate (m_a = m_gd) or general (--m-a as given); default: the masses given")
    p.add_argument("--edm-limit", type=float, default=None,
                   help="override the experimental |d_f| limit [e cm]")
    add_common(p)
    p.set_defaults(func=_run_edm)

    t = sub.add_parser(
        "edm-table", help="Table 2: EDM bounds for e, mu, n in both scenarios",
        description="Table 2 of Gninenko et al. (arXiv:2602.11405), docs/physics.md#edm-scenarios: bounds on "
                    "|g_aγγD g̃_af g_γDf| [GeV^-1] for the electron, muon and "
                    "neutron EDM limits, scenarios light-alp (m_a ≪ m_γD) and degenerate (m_a = m_γD), "
                    "at a reference dark-photon mass and a list of cut-offs.")
    t.add_argument("--cutoffs", type=float_list, default=list(edm.DEFAULT_CUTOFFS_GEV),
                   help="comma-separated cut-offs Λ [GeV] (default 1000,10000)")
    t.add_argument("--m-gd", type=float, default=edm.DEFAULT_M_GD_REF_GEV,
                   help=f"reference dark-photon mass [GeV] (default {edm.DEFAULT_M_GD_REF_GEV:g})")
    t.add_argument("--m-a", type=float, default=edm.DEFAULT_M_A_LIGHT_GEV,
                   help=f"ALP mass of the light-alp scenario [GeV] (default {edm.DEFAULT_M_A_LIGHT_GEV:g})")
    t.add_argument("--fermions", default="e,mu,n", help="comma-separated subset of e,mu,n")
    t.add_argument("--scenarios", default="light-alp,degenerate",
                   help="comma-separated subset of light-alp,degenerate")
    t.add_argument("--edm-limits", default=None,
                   help="override limits [e cm], e.g. e=4.1e-30,n=1.8e-26")
    add_common(t)
    t.set_defaults(func=_run_table, text=_table_text)
