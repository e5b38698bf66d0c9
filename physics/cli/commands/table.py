"""``sigma-table``: the σ_V(M) table of an experiment or a custom setup (and where it comes from);
``cache``: inspect, verify (``--check``, with diskcache's own consistency check), repair (``--fix``) or
clear the persistent σ_V cache. ``cache --check`` exits with status 1 when it finds a problem (the report is
printed first; one summary line on stderr), 2 when ``DAP_CACHE_DIR`` is not a usable directory."""

from __future__ import annotations

import sys
import warnings

from physics import errors, limits
from physics.service import store
from physics.cli.options import add_common, dumps, float_list
from physics.signal.experiments import get_experiment
from physics.xsec.methods import DEFAULT_METHOD
from physics.xsec.sigma_v import SigmaVConfig
from physics.service import provider


def _line(text, limit: int) -> str:
    """``text`` on one line, at most ``limit`` characters."""
    s = " ".join(str(text).split())
    return s if len(s) <= limit else s[:limit - 1] + "…"


def config_from_args(args) -> SigmaVConfig:
    """The table: the beam and target of ``--experiment`` (or ``--beam-energy``/``--target``) over the whole x
    range — every cut is applied to it (:func:`window_from_args`)."""
    n_x_bins = getattr(args, "n_x_bins", None)
    lepton = getattr(args, "lepton", None)
    if lepton is not None:
        limits.check_lepton(lepton)
    if args.experiment:
        exp = get_experiment(args.experiment)
        if lepton is not None and lepton != exp.lepton:
            exp = exp.replace(lepton=lepton)
        return SigmaVConfig.from_experiment(exp, form_factor=args.form_factor, n_x_bins=n_x_bins)
    if args.beam_energy is None or args.target is None:
        raise errors.InputError("experiment", "--experiment ID, or --beam-energy and --target", None)
    window_from_args(args)              # a bad window is an error before any work
    lepton = lepton or "e"
    if n_x_bins is None:
        return SigmaVConfig.whole_range(args.beam_energy, args.target, args.form_factor, lepton)
    return SigmaVConfig(beam_energy_gev=args.beam_energy, target=args.target, x_min=0.0, x_max=1.0,
                        form_factor=args.form_factor, n_x_bins=n_x_bins, lepton=lepton)


def window_from_args(args) -> tuple[float, float]:
    """(x_min, x_max): ``--x-min``/``--x-max`` if given, else the experiment's cut (``--experiment``), else
    [0, 1]. InputError if x_max <= x_min."""
    exp = get_experiment(args.experiment) if args.experiment else None
    x_min = args.x_min if args.x_min is not None else (exp.x_min if exp is not None else 0.0)
    x_max = args.x_max if args.x_max is not None else (exp.x_max if exp is not None else 1.0)
    if not x_max > x_min:
        raise errors.InputError("x_max", f"in (x_min={x_min:g}, 1]", x_max)
    return float(x_min), float(x_max)


def _run_table(args) -> dict:
    config = config_from_args(args)
    x_min, x_max = window_from_args(args)
    source = store.table_source(config, args.method, rel_error=args.rel_error, seed=args.seed,
                                masses=args.masses)
    out = {"config": config.to_dict(), "key": config.key(), "method": args.method, "source": source,
           "x_min": x_min, "x_max": x_max}
    if args.source_only:
        return out
    progress = None
    bar = None
    if source == "compute" and not args.json:
        from tqdm import tqdm

        bar = tqdm(desc="σ_V points", unit="pt", file=sys.stderr)

        def progress(done, total):
            bar.total = total
            bar.n = done
            bar.refresh()
    if args.scheduler and source == "compute":
        from physics.service.jobs import JobError, JobService

        with JobService(args.scheduler) as svc:
            h = svc.submit(config, masses=args.masses, method=args.method, rel_error=args.rel_error,
                           seed=args.seed)
            try:
                table = h.result()
            except JobError as exc:
                raise SystemExit(f"error: σ_V computation failed: {_line(exc, 300)}") from None
    else:
        try:
            table = provider.get_sigma_table(config, method=args.method, rel_error=args.rel_error, seed=args.seed,
                                          masses=args.masses, progress=progress)
        finally:
            if bar is not None:
                bar.close()
    sig, err = table.window_pb(x_min, x_max)
    out.update({
        "n_masses": len(table.points), "all_ok": table.all_ok,
        "mass_GeV": table.masses_gev, "sigma_pb": sig, "error_pb": err, "q": table.q,
        "sigma_total_pb": table.sigma_pb, "error_total_pb": table.error_pb, "x_edges": table.x_edges,
        "error_note": ("sigma_pb/error_pb: sigma_V(x_min <= x <= x_max) from the whole-x-range table (bins summed; "
                       "error_pb a conservative bound); sigma_total_pb: the whole x range"),
        "provenance": table.provenance,
    })
    return out


def _text_table(r: dict) -> str:
    lines = [f"source: {r['source']}   method: {r['method']}   key: {r['key'][:16]}…   "
             f"σ_V for {r['x_min']:g} <= x <= {r['x_max']:g}"]
    if "mass_GeV" in r:
        lines.append(f"{'M [GeV]':>12s} {'σ_V [pb]':>12s} {'rel.err':>8s} {'Q':>5s}")
        for m, s, e, q in zip(r["mass_GeV"], r["sigma_pb"], r["error_pb"], r["q"]):
            lines.append(f"{m:12.5g} {s:12.5g} {(e / s if s else float('nan')):8.2%} {q:5.2f}")
    return "\n".join(lines)


def _run_cache(args) -> dict | None:
    from physics.service.cache import CacheCorruptionWarning, get_cache

    with warnings.catch_warnings():
        # a cache moved aside at open is reported below (c.recovered), not as a Python warning
        warnings.simplefilter("ignore", CacheCorruptionWarning)
        c = get_cache()  # InputError (exit 2) if DAP_CACHE_DIR is not a usable directory
        out: dict = {"directory": str(c.directory)}
        if c.recovered:
            out["recovered"] = c.recovered
        problems: list[str] = []
        try:
            out["entries"] = len(c)
        except Exception as exc:
            problems.append(f"database unreadable: {type(exc).__name__}: {exc}")
        if args.check or args.fix:
            problems.extend(p for p in c.check(fix=args.fix) if p not in problems)
            out["problems"] = problems
        if args.clear:
            try:
                out["cleared"] = c.clear()
            except Exception as exc:
                problems.append(f"clear failed: {type(exc).__name__}: {exc}")
                out["problems"] = problems
    if not problems:
        return out
    out["problems"] = problems
    print(dumps(out) if args.json else _text_cache(out))
    sys.stdout.flush()
    what = "fixed what it could of" if args.fix else "found"
    print(f"error: σ_V cache check {what} {len(problems)} problem(s) in {c.directory}", file=sys.stderr)
    raise SystemExit(1)


def _text_cache(r: dict) -> str:
    lines = [f"directory: {r['directory']}"]
    if "entries" in r:
        lines.append(f"entries: {r['entries']}")
    if "recovered" in r:
        lines.append(f"recovered: {r['recovered']}")
    if "problems" in r:
        lines.append(f"problems: {len(r['problems'])}")
        lines += [f"  {_line(p, 400)}" for p in r["problems"]]
    if "cleared" in r:
        lines.append(f"cleared: {r['cleared']}")
    return "\n".join(lines)


def register(sub) -> None:
    p = sub.add_parser("sigma-table", help="σ_V(M) table of an experiment/setup and its source",
                       description="Get (precomputed → cache → compute) the σ_V(M) table of an experiment "
                                   "or a custom setup; --source-only just says where it would come from.")
    p.add_argument("--experiment", help="experiment id or TOML/JSON file")
    p.add_argument("--beam-energy", type=float, help="E0 [GeV] (custom setup)")
    p.add_argument("--target", help="target material (custom setup)")
    p.add_argument("--x-min", type=float, default=None,
                   help="cut x_min = E_miss/E0 applied to the table (default: the experiment's, or 0)")
    p.add_argument("--x-max", type=float, default=None, help="upper x (default: the experiment's, or 1)")
    p.add_argument("--form-factor", default="elastic")
    p.add_argument("--lepton", default=None,
                   help="beam lepton: e or mu (default: the experiment's, or e; docs/physics.md#muon-beams)")
    p.add_argument("--n-x-bins", type=int, default=None,
                   help="uniform dσ/dx bins over 0 <= x <= 1 (default: the 'endpoint' bins, which serve every cut)")
    p.add_argument("--method", default=DEFAULT_METHOD, help="etl (exact, VEGAS; default) or iww (approximation)")
    p.add_argument("--rel-error", type=float, default=0.01, help="relative MC precision per point")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--masses", type=float_list, default=None, help="masses [GeV]: a,b,c or lo:hi:n")
    p.add_argument("--scheduler", default=None, help="Dask scheduler address for a new computation")
    p.add_argument("--source-only", action="store_true", help="only report precomputed/cache/compute")
    add_common(p)
    p.set_defaults(func=_run_table, text=_text_table)

    c = sub.add_parser("cache", help="inspect, verify or clear the persistent σ_V cache",
                       description="The σ_V cache lives in $DAP_CACHE_DIR or the user cache directory.")
    c.add_argument("--check", action="store_true",
                   help="verify the database (diskcache's consistency check) and every entry's checksum; "
                        "exit status 1 if a problem is found")
    c.add_argument("--fix", action="store_true",
                   help="check, and repair what can be repaired (rows whose file is missing or outside the "
                        "cache, stray files)")
    c.add_argument("--clear", action="store_true", help="delete every entry")
    add_common(c)
    c.set_defaults(func=_run_cache, text=_text_cache)
