"""``experiments``: list the experiment registry (built-in benchmarks plus user files)."""

from __future__ import annotations

from physics.signal import experiments as exps
from physics.cli.options import add_common


def _run(args) -> dict:
    if args.file:
        exps.load_experiments(args.file)
    return {key: e.to_dict() for key, e in exps.all_experiments().items()}


def _text(result: dict) -> str:
    rows = [f"{'id':18s} {'beam':>4s} {'E0[GeV]':>8s} {'target':>6s} {'L_T[X0]':>7s} {'x_min':>5s} {'EOT/MOT':>9s} "
            f"{'bkg':>4s} {'obs':>3s} status"]
    for key, e in result.items():
        beam = {"e": "e-", "mu": "mu"}.get(e.get("lepton", "e"), e.get("lepton", "e"))
        rows.append(f"{key:18s} {beam:>4s} {e['beam_energy_gev']:8g} {e['target']:>6s} {e['thickness_x0']:7g} "
                    f"{e['x_min']:5g} {e['eot']:9.3g} {e['background']:4g} {e['observed']:3d} {e['status']}")
    return "\n".join(rows)


def register(sub) -> None:
    p = sub.add_parser("experiments", help="list the experiment registry",
                       description="List the benchmark experiments (docs/physics.md#experiments) and "
                                   "user-defined ones.")
    p.add_argument("--file", help="also load user experiments from this TOML/JSON file")
    add_common(p)
    p.set_defaults(func=_run, text=_text)
