"""Timing of the reach (physics/signal/reach.py): a full curve, 200 masses, all channels, from a given σ_V table.

``bench() -> dict`` returns milliseconds; run as ``python benchmarks/bench_reach.py`` (prints JSON) or via
``python -m benchmarks reach``. Benchmark target: ≤ 50 ms per full curve. The σ_V table is built once
outside the timing (IWW, the same table layout as ETL); the meson N_V model is timed cold and warm.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from benchmarks._timing import best_ms  # noqa: E402

from physics.signal import meson_yields  # noqa: E402
from physics.signal.experiments import get_experiment  # noqa: E402
from physics.xsec.iww import iww_table  # noqa: E402
from physics.signal.reach import reach  # noqa: E402
from physics.xsec.sigma_v import SigmaVConfig  # noqa: E402

TARGET_MS = 50.0


def _ms(fn, repeat: int = 7) -> float:
    """Best-of-``repeat`` wall time of ``fn()`` in ms."""
    return best_ms(fn, repeat)


def bench() -> dict:
    grid = np.geomspace(1e-3, 10.0, 200)
    out = {"n_masses": int(grid.size), "target_ms": TARGET_MS}
    for exp_id in ("na64e-2023", "ldmx-phase2"):
        exp = get_experiment(exp_id)
        table = iww_table(SigmaVConfig.from_experiment(exp))
        reach(exp, grid[:3], table=table)  # warm: interpolator build, imports

        def cold():
            meson_yields._CACHE.clear()
            reach(exp, grid, table=table)

        out[exp_id] = {
            "reach_200_ms": round(_ms(lambda: reach(exp, grid, table=table)), 3),
            "reach_200_cold_meson_model_ms": round(_ms(cold), 3),
            "reach_200_m_a_ratio_ms": round(_ms(lambda: reach(exp, grid, m_a=0.3 * grid, table=table)), 3),
        }
    worst = max(v["reach_200_cold_meson_model_ms"] for k, v in out.items() if isinstance(v, dict))
    out["worst_ms"] = worst
    out["pass"] = bool(worst <= TARGET_MS)
    return out


if __name__ == "__main__":
    print(json.dumps(bench(), indent=2))
