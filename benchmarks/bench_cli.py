"""Start-up time of the command line: whole processes ``python -m physics …`` (wall time, median of N runs).

``bench() -> dict``; run as ``python -m benchmarks cli`` or ``python benchmarks/bench_cli.py [N]`` (prints
JSON). Every command runs in a fresh interpreter (``sys.executable``) from a temporary directory with a private,
empty ``DAP_CACHE_DIR``, so nothing is served from a persistent cache; the σ_V tables come from the shipped
``precomputed/`` (``$DAP_PRECOMPUTED_DIR`` if set). Targets (an idle machine; the result records the load
average, since other processes inflate every figure):

* ``--help`` and ``experiments``: ≤ 0.3 s;
* ``edm``, ``meson-br``, ``constraint``: ≤ 0.5 s;
* ``reach`` of a shipped experiment from its shipped table: ≤ 0.8 s;
* one ETL point at 0.1% (``xsec --model dark-photon``): ≤ 1.5 × the same computation in-process + 0.3 s.

Not a timed test: tests/physics/cli/test_cli.py checks the import graph instead (no scipy, vegas or panel for
``--help`` and ``experiments``), which does not depend on the machine's load.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

#: name → (argv after ``python -m physics``, target wall time [s]); the ETL point's target is computed.
COMMANDS: dict[str, tuple[list[str], float | None]] = {
    "help": (["--help"], 0.3),
    "experiments": (["experiments", "--json"], 0.3),
    "edm": (["edm", "--fermion", "e", "--m-gd", "0.1", "--json"], 0.5),
    "meson-br": (["meson-br", "--meson", "phi", "--m-gd", "0.1", "--json"], 0.5),
    "constraint": (["constraint", "babar-upsilon", "--m-gd", "0.1", "--json"], 0.5),
    "reach": (["reach", "--experiment", "na64e-2023", "--json"], 0.8),
}
#: The ETL point: a 10 MeV dark photon at NA64e (100 GeV, Pb, x ≥ 0.5), 0.1% requested precision.
ETL_POINT = {"mass_gev": 0.01, "beam_energy_gev": 100.0, "target": "Pb", "x_min": 0.5, "rel_error": 1e-3, "seed": 1}
ETL_ARGV = ["xsec", "--model", "dark-photon", "--mass", "0.01", "--beam-energy", "100", "--target", "Pb",
            "--x-min", "0.5", "--rel-error", "0.001", "--seed", "1", "--json"]


def _run(argv: list[str], env: dict, cwd: str) -> float:
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "physics", *argv], env=env, cwd=cwd, capture_output=True,
                         text=True, timeout=600)
    dt = time.perf_counter() - t0
    if res.returncode != 0:
        raise RuntimeError(f"python -m physics {' '.join(argv)} failed ({res.returncode}): {res.stderr[-500:]}")
    return dt


def _stats(times: list[float]) -> dict:
    return {"median_s": round(statistics.median(times), 3), "min_s": round(min(times), 3),
            "max_s": round(max(times), 3), "runs": len(times)}


def _etl_in_process_s(repeat: int) -> float:
    """Median wall time of the ETL point computed in this process (imports done beforehand)."""
    from physics.xsec.etl import sigma_v_point
    from physics.xsec.sigma_v import SigmaVConfig

    p = ETL_POINT
    cfg = SigmaVConfig(beam_energy_gev=p["beam_energy_gev"], target=p["target"], x_min=p["x_min"], x_max=1.0)
    sigma_v_point(cfg, p["mass_gev"], rel_error=p["rel_error"], seed=p["seed"])  # warm caches (material etc.)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        sigma_v_point(cfg, p["mass_gev"], rel_error=p["rel_error"], seed=p["seed"])
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench(repeat: int = 7) -> dict:
    out: dict = {"repeat": repeat, "load_average_before": [round(x, 2) for x in os.getloadavg()]}
    with tempfile.TemporaryDirectory(prefix="dap-bench-cli-") as tmp:
        env = {**os.environ, "DAP_CACHE_DIR": str(Path(tmp) / "cache")}
        env.pop("DAP_TRACEBACK", None)
        results = {}
        for name, (argv, target) in COMMANDS.items():
            _run(argv, env, tmp)  # warm the OS file cache (bytecode, shared libraries)
            st = _stats([_run(argv, env, tmp) for _ in range(repeat)])
            results[name] = {**st, "target_s": target, "meets_target": st["median_s"] <= target,
                             "command": "python -m physics " + " ".join(argv)}
        inproc = _etl_in_process_s(max(3, repeat // 2))
        target = 1.5 * inproc + 0.3
        _run(ETL_ARGV, env, tmp)
        st = _stats([_run(ETL_ARGV, env, tmp) for _ in range(repeat)])
        results["etl-point"] = {**st, "in_process_s": round(inproc, 3), "target_s": round(target, 3),
                                "meets_target": st["median_s"] <= target,
                                "command": "python -m physics " + " ".join(ETL_ARGV)}
    out["commands"] = results
    out["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    out["all_targets_met"] = all(r["meets_target"] for r in results.values())
    return out


if __name__ == "__main__":
    print(json.dumps(bench(int(sys.argv[1]) if len(sys.argv) > 1 else 7), indent=2))
