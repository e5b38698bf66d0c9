"""``precompute``: generate the shipped σ_V(M) tables (ETL, VEGAS) for benchmark experiments.

    python -m physics precompute --experiment na64e-2023 [--rel-error 0.01] [--seed 1] [--n-masses N]
                                 [--workers 2] [--scheduler tcp://host:8786] [--out DIR] [--fresh]
                                 [--check-midpoints] [--json]

Writes ``<out>/<config-slug>.json`` (default ``precomputed/``) with ``SigmaVTable.save`` (atomic; JSON with a
provenance header). The file name is a sanitised slug (``physics.service.store.config_slug``) and the resolved path
must lie inside ``--out`` (a material named ``../../x`` cannot write elsewhere). A table covers the whole x range
of a beam and target (every cut is applied to it), so experiments that differ only in their cut — na64e-2023 and
na64e-projected — share one file: precomputing either makes the table of both (its provenance lists them), and
naming both computes it once. Points are computed in
parallel on a local process pool (``--workers``, default: all cores) or on a Dask cluster
(``--scheduler``); point i uses seed + i, so the file is the same however it is computed. Each finished
point is cached, so an interrupted run resumes where it stopped (``--fresh`` recomputes everything).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from physics import errors
from physics.service import store
from physics.cli.options import add_common
from physics.signal.experiments import all_experiments, get_experiment
from physics.xsec.methods import Method
from physics.xsec.sigma_v import SigmaVConfig


def experiments_sharing(config: SigmaVConfig) -> list[str]:
    """Ids of the registered experiments whose table this is (same beam, target, form factor and bins —
    tables cover the whole x range, so the experiments' cuts do not matter)."""
    key = config.key()
    n_x_bins = None if config.x_binning == "endpoint" else config.n_x_bins
    out = []
    for eid, exp in all_experiments().items():
        try:
            if SigmaVConfig.from_experiment(exp, config.form_factor, n_x_bins).key() == key:
                out.append(eid)
        except errors.InputError:
            continue
    return out


def _command_line(args, experiment: str) -> str:
    parts = ["python", "-m", "physics", "precompute", "--experiment", experiment,
             "--rel-error", f"{args.rel_error:g}", "--seed", str(args.seed)]
    if args.n_masses is not None:
        parts += ["--n-masses", str(args.n_masses)]
    if args.form_factor != "elastic":
        parts += ["--form-factor", args.form_factor]
    if args.n_x_bins is not None:
        parts += ["--n-x-bins", str(args.n_x_bins)]
    if args.fresh:
        parts += ["--fresh"]
    if args.check_midpoints:
        parts += ["--check-midpoints"]
    return shlex.join(parts)


#: Seed offset of the optional ETL midpoint check (independent of the table's seeds seed + i).
MIDPOINT_SEED_OFFSET = 100_000


#: Cuts x_min at which the midpoint check also compares σ_V(x ≥ x_min) (the benchmark cuts and two more).
MIDPOINT_CHECK_CUTS = (0.3, 0.5, 0.7, 0.9)
#: Cuts at which a table's provenance states the largest relative MC error bound of σ_V(x ≥ x_min).
PRECISION_REPORT_CUTS = (0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99)


def _midpoint_rows(table, mid_table, x_min=None):
    import numpy as np

    rows = []
    ref, _ = table.window_pb(x_min)
    smax = float(np.max(ref)) if len(ref) else 0.0
    mids, mid_err = mid_table.window_pb(x_min)
    for p, m_sig, m_err in zip(mid_table.points, mids, mid_err):
        if not p.sigma.ok or m_sig <= 0:
            continue
        interp = float(table.sigma_at(p.mass_gev, x_min=x_min))
        if not np.isfinite(interp) or interp <= 0:
            continue
        err = float(np.hypot(m_err, interp * float(table.rel_error_at(p.mass_gev, x_min=x_min))))
        rows.append((abs(interp / m_sig - 1.0), (interp - m_sig) / err if err > 0 else 0.0,
                     p.mass_gev, m_sig / smax))
    return rows


def _summary(rows) -> dict:
    import numpy as np

    if not rows:
        return {"n_midpoints": 0}
    rows.sort(reverse=True)
    pulls = np.array([r[1] for r in rows])
    return {"n_midpoints": len(rows), "max_rel_deviation": rows[0][0],
            "rms_pull": float(np.sqrt(np.mean(pulls ** 2))),
            "worst": [{"mass_gev": r[2], "rel_deviation": r[0], "pull": r[1], "sigma_over_max": r[3]}
                      for r in rows[:3]]}


def midpoint_check(table, mid_table) -> dict:
    """Interpolation of ``table`` against independently computed ETL points at its interval midpoints: σ_V over
    the table window, and (``cuts``) σ_V(x ≥ x_min) at :data:`MIDPOINT_CHECK_CUTS` (pulls with the conservative
    error bounds of cut cross sections, so an rms pull below 1 is expected there)."""
    out = {"method": "ETL points at the interval midpoints (seed offset %d) vs interpolation" % MIDPOINT_SEED_OFFSET,
           **_summary(_midpoint_rows(table, mid_table))}
    cuts = {}
    for c in MIDPOINT_CHECK_CUTS:
        if table.config.x_min < c < table.config.x_max:
            cuts[f"{c:g}"] = _summary(_midpoint_rows(table, mid_table, c))
    if cuts:
        out["cuts"] = cuts
    return out


def cut_precision(table) -> dict:
    """Largest relative MC error bound of σ_V(x ≥ x_min) over the table's masses (where it is > 0), per cut of
    :data:`PRECISION_REPORT_CUTS`, with the mass where it occurs."""
    import numpy as np

    out = {}
    for c in PRECISION_REPORT_CUTS:
        if not table.config.x_min <= c < table.config.x_max:
            continue
        sig, err = table.window_pb(c if c > table.config.x_min else None)
        ok = sig > 0
        if not ok.any():
            continue
        rel = np.where(ok, err / np.where(ok, sig, 1.0), 0.0)
        i = int(np.argmax(rel))
        out[f"{c:g}"] = {"max_rel_error": round(float(rel[i]), 5), "at_mass_gev": float(table.masses_gev[i])}
    return out


def precompute_config(config: SigmaVConfig, *, rel_error: float = 0.01, seed: int = 1, n_masses: int | None = None,
                      service=None, out_dir: str | Path | None = None, fresh: bool = False,
                      command: str = "", show_progress: bool = False, extra_provenance: dict | None = None,
                      check_midpoints: bool = False):
    """Compute and save the ETL table of ``config``; returns (path, table).

    check_midpoints: also compute ETL points at the n − 1 interval midpoints (seeds offset by
    MIDPOINT_SEED_OFFSET) and record how well the table interpolates them (provenance ``etl_midpoint_check``).
    """
    from physics.service.jobs import JobError, JobService

    if n_masses is not None:
        n_masses = int(errors.in_range("n_masses", n_masses, 2, store.MAX_MASSES))
    out = Path(out_dir) if out_dir is not None else store.precomputed_dir()
    path = output_path(out, config)  # checked before any work
    n = n_masses if n_masses is not None else store.choose_n_masses(config)
    masses = store.mass_grid(config, n)
    parts = store.half_grid_parts(config, n)
    prov = {
        "experiments": experiments_sharing(config),
        "command": command,
        "mass_grid": f"SigmaVConfig.default_mass_grid({n}): {masses[0]:g}–{masses[-1]:g} GeV"
                     + ("" if n_masses is not None else
                        f" (n chosen by the IWW half-grid test, physics.service.store.mass_grid, tol {store.GRID_TOL:g}: "
                        f"sigma_V, sigma_V above the cuts {', '.join(f'{c:g}' for c in store.GRID_CHECK_CUTS)} and "
                        "the open dsigma/dx bins)"),
        "interpolation_check": {"method": "half-grid test on the IWW table (physics.service.store.half_grid_parts)",
                                "max_rel_error": max(parts.values()),
                                "parts": parts,
                                "dsdx_note": "a dσ/dx bin [x_lo, x_hi] is checked at a midpoint only if the upper "
                                             f"grid mass of its interval is <= {store.DSDX_CHECK_THRESHOLD_FRACTION:g} "
                                             "x_lo E0 (bin open, V velocity >= 0.44): bins next to the threshold "
                                             "x = M/E0 open between grid masses; sigma_V and sigma_V above the cuts "
                                             "are checked at every midpoint"},
        **(extra_provenance or {}),
    }
    own = service is None
    service = service or JobService()
    bar = None
    try:
        t0 = time.perf_counter()
        h = service.submit(config, masses=masses, method=Method.ETL.value, rel_error=rel_error, seed=seed,
                           use_precomputed=False, use_cache=not fresh, provenance=prov)
        if show_progress:
            from tqdm import tqdm

            bar = tqdm(total=len(masses), desc=store.config_slug(config), unit="pt", file=sys.stderr)
            h.on_point(lambda _h, _p: bar.update(1))
        try:
            while not h.wait(0.2):
                pass
        except KeyboardInterrupt:
            h.cancel()
            raise
        try:
            table = h.result()
        except JobError as exc:
            raise SystemExit(f"error: σ_V computation failed: {exc}") from None
        table.provenance["wall_time_s"] = round(time.perf_counter() - t0, 3)
        table.provenance["cut_precision"] = cut_precision(table)
        if check_midpoints and table.all_ok:
            mids = config.default_mass_grid(2 * n - 1)[1::2]
            hm = service.submit(config, masses=mids, method=Method.ETL.value, rel_error=rel_error,
                                seed=seed + MIDPOINT_SEED_OFFSET, use_precomputed=False, use_cache=not fresh)
            try:
                mid_table = hm.result()
            except JobError as exc:
                raise SystemExit(f"error: σ_V midpoint computation failed: {exc}") from None
            table.provenance["etl_midpoint_check"] = midpoint_check(table, mid_table)
    finally:
        if bar is not None:
            bar.close()
        if own:
            service.shutdown()
    path = output_path(out, config)
    if not table.all_ok:
        bad = table.provenance.get("incomplete_points_gev", [])
        raise errors.InputError("rel_error", "a precision every point reaches (or a different mass grid)",
                                rel_error, f"{len(bad)} point(s) not ok, e.g. M = {bad[:3]} GeV: table not written")
    try:
        table.save(path)
    except OSError as exc:
        raise errors.InputError("out", "a writable directory", str(out), f"{type(exc).__name__}: {exc.strerror}") \
            from None
    return path, table


def check_out_dir(out: str | Path) -> Path:
    """``--out``: an existing directory, or a path whose nearest existing ancestor is a directory (created
    only when the table is saved). InputError otherwise; returns it."""
    out = Path(out)
    try:
        p = out
        while not (p.exists() or p.is_symlink()) and p != p.parent:
            p = p.parent
        if not p.is_dir():
            raise errors.InputError("out", "a directory (or a new one inside a directory)", str(out),
                                    f"{p} is not a directory")
    except OSError as exc:
        raise errors.InputError("out", "a directory", str(out), f"{type(exc).__name__}: {exc.strerror}") from None
    return out


def output_path(out: str | Path, config: SigmaVConfig) -> Path:
    """``<out>/<config slug>.json``, verified (symlinks resolved) to lie inside ``out``; InputError if not."""
    out = check_out_dir(out)
    path = out / f"{store.config_slug(config)}.json"
    try:
        base, target = out.resolve(), path.resolve()
    except (OSError, RuntimeError) as exc:
        raise errors.InputError("out", "a directory", str(out), f"{type(exc).__name__}: {exc}") from None
    if target.parent != base:
        raise errors.InputError("target", "a material whose table file lies inside --out", config.target,
                                f"would write {target}")
    return path


def _run(args) -> dict:
    ids = args.experiment or []
    if not ids:
        raise errors.InputError("experiment", "at least one --experiment (e.g. na64e-2023)", None)
    from physics.service.jobs import MAX_WORKERS, JobService

    # every option is checked before anything is read, computed or written
    errors.in_range("rel_error", args.rel_error, *store.REL_ERROR_RANGE)
    if args.n_masses is not None:
        errors.in_range("n_masses", args.n_masses, 2, store.MAX_MASSES)
    if args.workers is not None:
        errors.in_range("workers", args.workers, 1, MAX_WORKERS)
    errors.in_range("seed", args.seed, 0, 2 ** 31 - MIDPOINT_SEED_OFFSET - store.MAX_MASSES)
    if args.out is not None:
        check_out_dir(args.out)
    configs: dict[str, tuple[SigmaVConfig, str]] = {}
    for eid in ids:
        exp = get_experiment(eid)
        cfg = SigmaVConfig.from_experiment(exp, form_factor=args.form_factor, n_x_bins=args.n_x_bins)
        configs.setdefault(cfg.key(), (cfg, exp.id))
        output_path(args.out if args.out is not None else store.precomputed_dir(), cfg)  # before any work
    executor = args.scheduler if args.scheduler else "process"
    service = JobService(executor, max_workers=args.workers)
    results = []
    try:
        for cfg, eid in configs.values():
            path, table = precompute_config(
                cfg, rel_error=args.rel_error, seed=args.seed, n_masses=args.n_masses, service=service,
                out_dir=args.out, fresh=args.fresh, command=_command_line(args, eid),
                show_progress=not args.json, check_midpoints=args.check_midpoints)
            rel = [p.sigma.rel_error for p in table.points]
            results.append({
                "file": str(path), "experiments": table.provenance.get("experiments"),
                "n_masses": len(table.points), "rel_error_requested": args.rel_error,
                "max_point_rel_error": max(rel), "min_q": float(min(table.q)), "all_ok": table.all_ok,
                "points_computed": table.provenance.get("points_computed"),
                "points_from_cache": table.provenance.get("points_from_cache"),
                "wall_time_s": table.provenance.get("wall_time_s"), "executor": service.describe(),
                "etl_midpoint_check": table.provenance.get("etl_midpoint_check"),
            })
    finally:
        service.shutdown()
    return {"tables": results}


def _text(res: dict) -> str:
    lines = []
    for r in res["tables"]:
        lines.append(f"{r['file']}: {r['n_masses']} masses, max point error {100 * r['max_point_rel_error']:.2f}% "
                     f"(requested {100 * r['rel_error_requested']:g}%), min Q {r['min_q']:.2f}, "
                     f"{r['points_computed']} computed + {r['points_from_cache']} from cache in "
                     f"{r['wall_time_s']:.1f} s on {r['executor']}; experiments: {', '.join(r['experiments'])}")
        chk = r.get("etl_midpoint_check")
        if chk and chk.get("n_midpoints"):
            lines.append(f"  interpolation vs {chk['n_midpoints']} ETL midpoints: max deviation "
                         f"{100 * chk['max_rel_deviation']:.2f}%, rms pull {chk['rms_pull']:.2f}")
    return "\n".join(lines)


def register(sub) -> None:
    p = sub.add_parser("precompute", help="generate shipped σ_V(M) tables (ETL/VEGAS) for experiments",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--experiment", action="append", metavar="ID",
                   help="experiment id or TOML/JSON file (repeatable); experiments sharing a configuration "
                        "share one table")
    p.add_argument("--rel-error", type=float, default=0.01, help="relative MC precision per point (default 0.01)")
    p.add_argument("--seed", type=int, default=1, help="base seed; point i uses seed + i (default 1)")
    p.add_argument("--n-masses", type=int, default=None,
                   help="number of masses (default: smallest n >= 60 with < 1%% interpolation error)")
    p.add_argument("--workers", type=int, default=None, help="local worker processes (default: all cores)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="Dask scheduler address (tcp://host:8786) instead of the local pool")
    p.add_argument("--out", default=None, help="output directory (default: precomputed/)")
    p.add_argument("--fresh", action="store_true", help="recompute every point (ignore the cache)")
    p.add_argument("--check-midpoints", action="store_true",
                   help="also compute ETL points at the interval midpoints and record the interpolation error")
    p.add_argument("--form-factor", default="elastic", help="elastic (default) or elastic+inelastic")
    p.add_argument("--n-x-bins", type=int, default=None,
                   help="uniform bins of dσ/dx over 0 <= x <= 1 (default: the 'endpoint' bins, log-spaced in 1 - x "
                        "towards x = 1, which serve every cut)")
    add_common(p)
    p.set_defaults(func=_run, text=_text)
