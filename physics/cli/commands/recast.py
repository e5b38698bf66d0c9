"""``recast``: the invisible dark-photon limit ε_90(m) of an experiment, next to the published limit where the
repository ships one (the published-anchor check of docs/validation.md#na64-recast).

    python -m physics recast --experiment na64e-2023 [--m-gd 0.001,0.01,0.1] [--method etl|iww]
        [--statistics cls|neyman] --json

The same machinery as the dark axion portal with an invisibly decaying dark photon A' of kinetic mixing ε
(docs/physics.md#dark-photon-recast): N(ε) = EOT · n · L_T · ε² · σ_V(m, the experiment's x window) with
Br(A' → inv) = 1 (:func:`physics.signal.yields.dark_photon_events`), and ε_90 = sqrt(N_90 / N(ε = 1)) with the
experiment's Poisson N_90 (docs/physics.md#statistics). Published limits: ``physics/data/
published_dark_photon_limits.json`` (today one NA64 2023 point at 10 MeV; none for the other experiments).
"""

from __future__ import annotations

import json
import math

from physics import errors
from physics.cli.options import add_common, float_list
from physics.xsec.methods import DEFAULT_METHOD, METHODS

#: Package data file holding the published ε_90 curves, by experiment id.
PUBLISHED_FILE = "published_dark_photon_limits.json"
DEFAULT_MASSES_GEV = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)


def published_curve(experiment_id: str) -> dict | None:
    """The shipped published ε_90 curve of an experiment (label, citation, m_GeV, eps90, precision) or None."""
    from importlib import resources

    data = json.loads(resources.files("physics.data").joinpath(PUBLISHED_FILE).read_text(encoding="utf-8"))
    return data["curves"].get(experiment_id)


def published_at(curve: dict, masses) -> list[float | None]:
    """The published ε_90 at ``masses`` [GeV]: on a published point (relative 1e-9), log-log interpolated
    between points, None outside the published range."""
    ms, es = curve["m_GeV"], curve["eps90"]
    out: list[float | None] = []
    for m in masses:
        val = None
        for i, mi in enumerate(ms):
            if math.isclose(m, mi, rel_tol=1e-9):
                val = es[i]
                break
            if i + 1 < len(ms) and mi < m < ms[i + 1]:
                t = math.log(m / mi) / math.log(ms[i + 1] / mi)
                val = math.exp((1 - t) * math.log(es[i]) + t * math.log(es[i + 1]))
                break
        out.append(val)
    return out


def _run(args) -> dict:
    import numpy as np

    from physics.signal.experiments import get_experiment
    from physics.signal.statistics import poisson_limit_report
    from physics.service.provider import table_for_experiment
    from physics.signal.yields import dark_photon_events, table_provenance, validate_m_gd

    exp = get_experiment(args.experiment)
    errors.one_of("method", args.method, METHODS)
    masses = validate_m_gd(args.m_gd)
    stats = poisson_limit_report(exp.observed, exp.background, 0.90, args.statistics)
    n90 = stats["N_90"]
    table = table_for_experiment(exp, args.method)
    n1 = np.atleast_1d(dark_photon_events(exp, masses, 1.0, table=table))
    with np.errstate(divide="ignore", invalid="ignore"):
        eps90 = np.where(n1 > 0, np.sqrt(n90 / np.where(n1 > 0, n1, 1.0)), np.nan)
    curve = published_curve(exp.id)
    published = ratio = None
    if curve is not None:
        pub = published_at(curve, [float(m) for m in masses])
        published = {**curve, "eps90_at_m": pub}
        ratio = [None if p is None or not np.isfinite(e) else float(e / p) for e, p in zip(eps90, pub)]
    return {
        "experiment": exp.id,
        "m_GeV": masses,
        "eps90": eps90,
        "events_at_eps_1": n1,
        "published": published,
        "ratio_to_published": ratio,
        "assumptions": {
            "experiment": exp.to_dict(),
            "statistics": stats,
            "method": args.method,
            "table": table_provenance(table),
            "formula": "N = EOT n L_T eps^2 sigma_V(m, x_min < x < x_max), Br(A'->inv) = 1; "
                       "eps_90 = sqrt(N_90 / N(eps = 1)) (docs/physics.md#dark-photon-recast)",
            "notes": "null: beyond the sigma_V table (no events). Our yield is idealised (no efficiency, "
                     "shower-depth or resolution effects), so it is expected to be stronger than a published "
                     "limit (docs/validation.md#na64-recast).",
        },
    }


def _fmt(x) -> str:
    return "—" if x is None or not math.isfinite(x) else f"{x:.3g}"


def _text(result: dict) -> str:
    a = result["assumptions"]
    st = a["statistics"]
    pub = result["published"]
    lines = [f"ε_90 of an invisibly decaying dark photon, {result['experiment']}: N_90 = {st['N_90']:.4g} "
             f"({st['method']}, b = {st['background']:g}, n = {st['observed']}); σ_V: {a['method']}",
             f"{'m[GeV]':>10s} {'eps_90':>10s} {'published':>10s} {'ratio':>7s}"]
    for i, m in enumerate(result["m_GeV"]):
        p = pub["eps90_at_m"][i] if pub else None
        r = result["ratio_to_published"][i] if pub else None
        lines.append(f"{m:10.4g} {_fmt(result['eps90'][i]):>10s} {_fmt(p):>10s} {_fmt(r):>7s}")
    if pub:
        lines.append(f"published: {pub['label']}: {pub['citation']} ({pub['precision']})")
    else:
        lines.append("published: no published curve of this experiment is shipped")
    return "\n".join(lines)


def register(sub) -> None:
    p = sub.add_parser("recast", help="invisible dark-photon limit ε_90(m) of an experiment next to the published one",
                       description="ε_90(m) of an invisibly decaying dark photon (kinetic mixing ε) with the same "
                                   "σ_V table and statistics as the dark axion portal, next to the experiment's "
                                   "published limit where one is shipped (docs/validation.md#na64-recast). "
                                   "Masses in GeV.")
    p.add_argument("--experiment", required=True, help="experiment id or path to a TOML/JSON experiment file")
    p.add_argument("--m-gd", type=float_list, default=list(DEFAULT_MASSES_GEV),
                   help="dark-photon masses m_A' [GeV], '0.001,0.01' or 'lo:hi:n' "
                        f"(default {','.join(f'{m:g}' for m in DEFAULT_MASSES_GEV)})")
    p.add_argument("--method", default=DEFAULT_METHOD, help="sigma_V table: etl (exact, default) or iww")
    p.add_argument("--statistics", default="cls", help="Poisson limit: cls (default) or neyman")
    add_common(p)
    p.set_defaults(func=_run, text=_text)
