"""``meson-br``: Br(V → a γD) and Γ(V → a γD) for a vector meson (docs/physics.md#vmd)."""

from __future__ import annotations

from physics import limits
from physics.model import mesons
from physics.cli.options import add_common


def _run(args) -> dict:
    V = mesons.get_meson(args.meson)
    limits.check("m_a", args.m_a)
    limits.check("m_gd", args.m_gd)
    limits.check("g", args.g)
    mesons.check_open(V, args.m_a, args.m_gd)
    width = mesons.width_to_a_gd(V, args.m_a, args.m_gd, args.g)
    return {"branching_ratio": width / V.width_gev, "width_GeV": width, "meson": V.key,
            "m_V_GeV": V.mass_gev, "g_V": V.g_v, "total_width_GeV": V.width_gev,
            "m_a_GeV": args.m_a, "m_gd_GeV": args.m_gd, "g_GeV-1": args.g}


def register(sub) -> None:
    p = sub.add_parser("meson-br", help="branching ratio of a vector meson to a + dark photon",
                       description="Br(V → a γD) = α g² M_V³ λ^{3/2} / (24 g_V² Γ_V) (VMD; Gninenko et al., "
                                   "arXiv:2602.11405, Eqs. (13)–(16); docs/physics.md#vmd).")
    p.add_argument("--meson", required=True, help="rho, omega, phi, jpsi or upsilon")
    p.add_argument("--m-gd", type=float, required=True, help="dark-photon mass [GeV]")
    p.add_argument("--m-a", type=float, default=1e-6, help="ALP mass [GeV] (default 1e-6)")
    p.add_argument("--g", type=float, default=1e-3, help="g_aγγD [GeV^-1] (default 1e-3)")
    add_common(p)
    p.set_defaults(func=_run)
