"""Run every benchmark: ``python -m benchmarks [name ...]``.

Each ``benchmarks/bench_<name>.py`` defines ``bench() -> dict``; results are printed as JSON and written to
``benchmarks/results/<name>.json`` (git-ignored) with the machine description.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    names = [m.name[len("bench_"):] for m in pkgutil.iter_modules([str(HERE)]) if m.name.startswith("bench_")]
    wanted = argv or sorted(names)
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    machine = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count()}
    failed = 0
    for name in wanted:
        if name not in names:
            print(f"error: unknown benchmark {name!r}; have {', '.join(sorted(names))}", file=sys.stderr)
            return 2
        mod = importlib.import_module(f"benchmarks.bench_{name}")
        t0 = time.perf_counter()
        try:
            res = mod.bench()
        except Exception as exc:  # report and go on with the others
            res = {"error": repr(exc)}
            failed += 1
        res = {"benchmark": name, "wall_s": round(time.perf_counter() - t0, 3), "machine": machine, **res}
        (out_dir / f"{name}.json").write_text(json.dumps(res, indent=2))
        print(json.dumps(res, indent=2), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
