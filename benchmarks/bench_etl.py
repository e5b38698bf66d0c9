"""Timing of the exact-tree-level σ_V engine (physics/etl.py).

``bench() -> dict``; run as ``python benchmarks/bench_etl.py`` (prints JSON) or ``python -m benchmarks etl``.
Reports: seconds per σ_V mass point at 1% (Pb 100 GeV x in [0, 1] and [0.5, 1]; Al 8 GeV x in [0.7, 1]),
integrand throughput (VEGAS points/s; each point evaluates ¯|M|² in both channels), and the wall time of a
60-mass table 1 MeV–3 GeV on 2 worker processes (concurrent.futures over sigma_v_point). Target: ≤ 1 s per
point at 1%.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from physics.etl import _integrand_factory, sigma_v_point  # noqa: E402
from physics.sigma_table import SigmaVConfig  # noqa: E402

MASSES = (0.002, 0.01, 0.05, 0.2, 1.0)


def _per_point(cfg: SigmaVConfig) -> dict:
    times, nevals, rels = [], [], []
    for i, m in enumerate(MASSES):
        t0 = time.perf_counter()
        r = sigma_v_point(cfg, m, rel_error=0.01, seed=100 + i).sigma
        times.append(time.perf_counter() - t0)
        nevals.append(r.neval)
        rels.append(r.rel_error)
    return {"masses_GeV": list(MASSES), "seconds": [round(t, 4) for t in times],
            "median_s": round(statistics.median(times), 4), "max_s": round(max(times), 4),
            "neval": nevals, "rel_error": [round(r, 5) for r in rels]}


def _throughput() -> dict:
    cfg = SigmaVConfig(100.0, "Pb", 0.0, 1.0)
    _, f = _integrand_factory(cfg, 0.01)
    y = np.random.default_rng(1).random((50_000, 4))
    f(y[:1000])
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        f(y)
        best = min(best, time.perf_counter() - t0)
    return {"vegas_points_per_s": round(len(y) / best), "matrix_elements_per_s": round(2 * len(y) / best),
            "batch": len(y)}


def _point(args):
    cfg, m, seed = args
    return sigma_v_point(cfg, m, rel_error=0.01, seed=seed).sigma.ok


def _table_2_workers() -> dict:
    cfg = SigmaVConfig(100.0, "Pb", 0.5, 1.0)
    masses = np.geomspace(1e-3, 3.0, 60)
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=2) as ex:
        ok = list(ex.map(_point, [(cfg, float(m), 1 + i) for i, m in enumerate(masses)]))
    wall = time.perf_counter() - t0
    return {"n_masses": 60, "workers": 2, "wall_s": round(wall, 3), "points_ok": int(sum(ok)),
            "config": "Pb 100 GeV x in [0.5, 1], rel_error 0.01 (includes process start-up)"}


def bench() -> dict:
    sigma_v_point(SigmaVConfig(8.0, "Al", 0.7, 1.0), 0.01)  # warm imports / first-call overheads
    return {
        "target_s_per_point": 1.0,
        "per_point_Pb100_x0-1": _per_point(SigmaVConfig(100.0, "Pb", 0.0, 1.0)),
        "per_point_Pb100_x0.5-1": _per_point(SigmaVConfig(100.0, "Pb", 0.5, 1.0)),
        "per_point_Al8_x0.7-1": _per_point(SigmaVConfig(8.0, "Al", 0.7, 1.0)),
        "integrand": _throughput(),
        "table_60_masses_2_workers": _table_2_workers(),
    }


if __name__ == "__main__":
    print(json.dumps(bench(), indent=2))
