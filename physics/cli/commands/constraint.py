"""``constraint``: other bounds on (m_γD, g): BaBar Υ(1S) → inv, BESIII ω/φ → inv, SN1987A band.

    python -m physics constraint babar-upsilon --m-gd 0.1 --m-a 1e-6 --json
    python -m physics constraint sn1987a [--m-gd 0.01,0.1] --json

Formulas and sources: physics/signal/constraints.py (docs/physics.md#constraints).
"""

from __future__ import annotations

import numpy as np

from physics.cli.options import add_common, float_list
from physics.signal.constraints import CONSTRAINTS, constraint


def _run(args) -> dict:
    m_gd = None
    if args.m_gd is not None:
        m_gd = args.m_gd[0] if len(args.m_gd) == 1 else np.array(args.m_gd)
    return constraint(args.name, m_gd, args.m_a)


def register(sub) -> None:
    p = sub.add_parser("constraint", help="other constraints on g_aγγD vs m_gD (BaBar, BESIII, SN1987A)",
                       description="babar-upsilon, besiii-omega, besiii-phi: g_max from invisible-decay limits "
                                   "via VMD (needs --m-gd); sn1987a: the digitised excluded band (edges "
                                   "interpolated at --m-gd if given). Units: GeV, GeV^-1.")
    p.add_argument("name", choices=CONSTRAINTS, help="which constraint")
    p.add_argument("--m-gd", type=float_list, default=None, help="dark-photon mass(es) [GeV]")
    p.add_argument("--m-a", type=float, default=1e-6, help="ALP mass [GeV] (default 1e-6)")
    add_common(p)
    p.set_defaults(func=_run)
