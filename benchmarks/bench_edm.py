"""Timing of the EDM module (physics/edm.py): the bound curves of Gninenko et al., arXiv:2602.11405, Fig. 6
(docs/physics.md#edm-scenarios) and the scalar loop integral.

``bench() -> dict`` returns milliseconds; run as ``python benchmarks/bench_edm.py`` (prints JSON) or via
``python -m benchmarks edm``. Benchmark target: edm_bound_curve for 100 masses < 50 ms
per fermion.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from benchmarks._timing import best_ms  # noqa: E402

from physics import edm  # noqa: E402


def _ms(fn, repeat: int = 5) -> float:
    """Best-of-``repeat`` wall time of ``fn()`` in ms."""
    return best_ms(fn, repeat)


def bench() -> dict:
    grid = np.geomspace(1e-3, 10.0, 100)
    edm.edm_bound_curve("e", 1000.0, m_gd_grid=grid[:3])  # warm imports
    out: dict = {"n_masses": len(grid), "target_ms_per_fermion": 50.0}
    for scenario in ("light-alp", "degenerate"):
        for f in ("e", "mu", "n"):
            def cold(f=f, scenario=scenario):
                edm._curve_k.cache_clear()
                edm.edm_bound_curve(f, 1000.0, scenario, m_gd_grid=grid)
            out[f"curve_cold_ms[{f},{scenario}]"] = round(_ms(cold), 2)
        # with the Λ-independent part cached, a cut-off change in the dashboard costs only this:
        edm.edm_bound_curve("e", 1000.0, scenario, m_gd_grid=grid)
        out[f"curve_cached_new_cutoff_ms[e,{scenario}]"] = round(
            _ms(lambda s=scenario: edm.edm_bound_curve("e", 3000.0, s, m_gd_grid=grid)), 3)

    def scalar():
        edm._loop_integral_cached.cache_clear()
        for m in grid[::10]:
            edm.loop_integral(edm.M_NEUTRON_GEV, 1e-6, float(m), 1000.0)
    out["loop_integral_scalar_ms_per_call"] = round(_ms(scalar) / len(grid[::10]), 3)

    def table():
        edm._loop_integral_cached.cache_clear()
        edm.edm_table()
    out["edm_table_ms"] = round(_ms(table), 2)
    return out


if __name__ == "__main__":
    print(json.dumps(bench(), indent=2))
