"""Timing of the exact-tree-level σ_V engine (physics/xsec/etl.py).

``bench() -> dict``; run as ``python benchmarks/bench_etl.py`` (prints JSON) or ``python -m benchmarks etl``.
Reports:

* compute time per σ_V mass point at 1% and at 0.1% relative error (Pb 100 GeV x in [0, 1] and [0.5, 1];
  Al 8 GeV x in [0.7, 1]; 20 x bins), median over masses × seeds of the wall time and of the process CPU time
  (one core; on a shared machine the CPU time is the steadier figure), with the evaluations used;
* integrand throughput (VEGAS points/s; each point evaluates ¯|M|² in both channels);
* the wall time of a new 60-mass table (1 MeV–3 GeV, Pb 100 GeV, x in [0.5, 1]) at 1% on 2 worker
  processes, pool start-up included (concurrent.futures over sigma_v_point), for the "fork" and the
  "forkserver" start method (the latter preloading physics.xsec.etl, as physics.service.jobs does), repeated.

Targets: ≤ 15 ms median compute per 1% point on one core; the 60-mass table ≤ 2 s including pool start-up.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from physics.xsec.etl import _integrand_factory, sigma_v_point  # noqa: E402
from physics.xsec.sigma_v import SigmaVConfig  # noqa: E402

MASSES = (0.002, 0.01, 0.05, 0.115, 0.2, 1.0)
SEEDS = (101, 102, 103, 104, 105)
TABLE_REPEATS = 3


def _per_point(cfg: SigmaVConfig, rel_error: float, seeds=SEEDS) -> dict:
    times, cpu, nevals, rels = [], [], [], []
    for m in MASSES:
        for s in seeds:
            t0, c0 = time.perf_counter(), time.process_time()
            r = sigma_v_point(cfg, m, rel_error=rel_error, seed=s).sigma
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            nevals.append(r.neval)
            rels.append(r.rel_error)
    return {"masses_GeV": list(MASSES), "seeds": list(seeds), "n_points": len(times),
            "median_ms": round(1e3 * statistics.median(times), 2),
            "median_cpu_ms": round(1e3 * statistics.median(cpu), 2),
            "p90_ms": round(1e3 * float(np.percentile(times, 90)), 2), "max_ms": round(1e3 * max(times), 2),
            "median_neval": int(statistics.median(nevals)), "max_rel_error": round(max(rels), 5)}


def _throughput() -> dict:
    cfg = SigmaVConfig(100.0, "Pb", 0.0, 1.0)
    _, f, _ = _integrand_factory(cfg, 0.01)
    out = {}
    for n in (1000, 50_000):
        y = np.random.default_rng(1).random((n, 4))
        f(y)
        best = float("inf")
        for _ in range(5):
            t0 = time.perf_counter()
            f(y)
            best = min(best, time.perf_counter() - t0)
        out[f"batch_{n}"] = {"vegas_points_per_s": round(n / best), "matrix_elements_per_s": round(2 * n / best)}
    return out


def _point(args):
    cfg, m, seed = args
    return sigma_v_point(cfg, m, rel_error=0.01, seed=seed).sigma.ok


def _table_2_workers(method: str) -> dict:
    cfg = SigmaVConfig(100.0, "Pb", 0.5, 1.0)
    masses = np.geomspace(1e-3, 3.0, 60)
    walls, n_ok = [], []
    for _ in range(TABLE_REPEATS):
        ctx = mp.get_context(method)
        if method == "forkserver":
            ctx.set_forkserver_preload(["physics.xsec.sigma_v", "physics.xsec.etl"])
        t0 = time.perf_counter()
        with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as ex:
            ok = list(ex.map(_point, [(cfg, float(m), 1 + i) for i, m in enumerate(masses)]))
        walls.append(time.perf_counter() - t0)
        n_ok.append(int(sum(ok)))
    return {"start_method": method, "wall_s": [round(w, 3) for w in walls],
            "median_wall_s": round(statistics.median(walls), 3), "points_ok": n_ok,
            "config": "60 masses 1 MeV-3 GeV, Pb 100 GeV x in [0.5, 1], rel_error 0.01, 2 workers "
                      "(includes process start-up)"}


def bench() -> dict:
    sigma_v_point(SigmaVConfig(8.0, "Al", 0.7, 1.0), 0.01)  # warm imports / first-call overheads
    out = {"target_ms_per_point_1pct": 15.0, "target_table_60_2_workers_s": 2.0}
    for name, cfg in (("Pb100_x0.5-1", SigmaVConfig(100.0, "Pb", 0.5, 1.0)),
                      ("Pb100_x0-1", SigmaVConfig(100.0, "Pb", 0.0, 1.0)),
                      ("Al8_x0.7-1", SigmaVConfig(8.0, "Al", 0.7, 1.0))):
        out[f"per_point_1pct_{name}"] = _per_point(cfg, 0.01)
        out[f"per_point_0.1pct_{name}"] = _per_point(cfg, 0.001, seeds=SEEDS[:2])
    out["integrand"] = _throughput()
    out["table_60_masses_2_workers"] = [_table_2_workers(m) for m in ("fork", "forkserver")
                                        if m in mp.get_all_start_methods()]
    return out


if __name__ == "__main__":
    print(json.dumps(bench(), indent=2))
