"""Pull study of the ETL σ_V engine (physics/xsec/etl.py): is a 1% point unbiased, and is its error right?

``bench() -> dict``; run as ``python -m benchmarks pulls`` (or ``python benchmarks/bench_pulls.py``). For each
mass (Pb, 100 GeV, x ∈ [0.5, 1]; the hard point M = 0.115 GeV, a light and a heavy mass) N_SEEDS points at
rel_error 1% (seeds 1 … N_SEEDS) are compared with a reference made of N_REF independent points at 0.1%
(seeds 10⁶ + i), combined with their errors:

    pull_i = (σ_i − σ_ref) / sqrt(err_i² + err_ref²)

Unbiased with correct errors: pull mean 0 (reported with its error std/√N), pull std 1. The same is reported
for the end-point bin of dσ/dx (x ∈ [0.975, 1]) and for the fraction of points flagged (``MCResult.ok``
False; each would be recomputed or refused by the table builders). Environment: DAP_PULL_SEEDS overrides
N_SEEDS (≥ 150 for the study; a few for a smoke run).
"""

from __future__ import annotations

import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from physics.xsec.etl import sigma_v_point  # noqa: E402
from physics.xsec.sigma_v import SigmaVConfig  # noqa: E402

CONFIG = SigmaVConfig(100.0, "Pb", 0.5, 1.0, n_x_bins=20)
MASSES_GEV = (0.005, 0.115, 1.0)
N_SEEDS = 1000
N_REF = 16
REL_ERROR = 0.01
REF_REL_ERROR = 0.001
REF_SEED0 = 1_000_000


def _combine(values, errors):
    w = 1.0 / np.asarray(errors) ** 2
    return float(np.sum(w * values) / np.sum(w)), float(1.0 / math.sqrt(np.sum(w)))


def _summary(pulls, ref_err, point_errs) -> dict:
    """Pull mean, its statistical error std/√N and, since every pull shares the reference, the error including
    the reference's own (ref_err / median point error, in pull units), std and its error, largest |pull|."""
    p = np.asarray(pulls)
    stat = float(p.std(ddof=1) / math.sqrt(len(p)))
    ref_term = float(ref_err / np.median(point_errs))
    return {"n": int(len(p)), "mean": round(float(p.mean()), 4), "mean_err": round(stat, 4),
            "mean_err_incl_reference": round(math.hypot(stat, ref_term), 4),
            "std": round(float(p.std(ddof=1)), 4),
            "std_err": round(float(p.std(ddof=1) / math.sqrt(2 * (len(p) - 1))), 4),
            "max_abs": round(float(np.abs(p).max()), 2)}


def study(mass_gev: float, n_seeds: int, config: SigmaVConfig = CONFIG) -> dict:
    refs = [sigma_v_point(config, mass_gev, rel_error=REF_REL_ERROR, seed=REF_SEED0 + i) for i in range(N_REF)]
    ref, ref_err = _combine([r.sigma.mean for r in refs], [r.sigma.error for r in refs])
    last = len(config.x_edges) - 2
    ref_bin, ref_bin_err = _combine([r.dsdx_pb[last] for r in refs], [r.dsdx_err_pb[last] for r in refs])
    pulls, pulls_bin, rel_dev, times, nevals, n_bad, q_retries = [], [], [], [], [], 0, 0
    errs, errs_bin = [], []
    for seed in range(1, n_seeds + 1):
        t0 = time.perf_counter()
        pt = sigma_v_point(config, mass_gev, rel_error=REL_ERROR, seed=seed)
        times.append(time.perf_counter() - t0)
        r = pt.sigma
        nevals.append(r.neval)
        n_bad += not r.ok
        q_retries += r.settings["extra_blocks_for_low_q"] > 0
        pulls.append((r.mean - ref) / math.hypot(r.error, ref_err))
        rel_dev.append(r.mean / ref - 1.0)
        errs.append(r.error)
        errs_bin.append(pt.dsdx_err_pb[last])
        pulls_bin.append((pt.dsdx_pb[last] - ref_bin) / math.hypot(pt.dsdx_err_pb[last], ref_bin_err))
    return {
        "mass_GeV": mass_gev,
        "reference": {"sigma_pb": ref, "rel_error": ref_err / ref, "n_points": N_REF, "rel_error_each": REF_REL_ERROR,
                      "seeds": [REF_SEED0 + i for i in range(N_REF)], "q": [round(r.sigma.q, 3) for r in refs]},
        "pull_sigma": _summary(pulls, ref_err, errs),
        "pull_last_bin": _summary(pulls_bin, ref_bin_err, errs_bin),
        "mean_rel_deviation": round(float(np.mean(rel_dev)), 6),
        "fraction_not_ok": n_bad / n_seeds,
        "fraction_with_q_retry": q_retries / n_seeds,
        "median_ms": round(1e3 * statistics.median(times), 2),
        "median_neval": int(statistics.median(nevals)),
    }


def bench() -> dict:
    n = int(os.environ.get("DAP_PULL_SEEDS", N_SEEDS))
    sigma_v_point(CONFIG, 0.01, rel_error=REL_ERROR)  # warm imports / first-call overheads
    return {"config": "Pb 100 GeV x in [0.5, 1], 20 x bins", "rel_error": REL_ERROR, "seeds": f"1..{n}",
            "studies": [study(m, n) for m in MASSES_GEV]}


if __name__ == "__main__":
    print(json.dumps(bench(), indent=2))
