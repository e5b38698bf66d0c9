"""Record the golden outputs of a fixed list of CLI calls (``python -m physics <call> --json``).

    python -m tests.golden.record                 # rewrite tests/golden/golden.json (see README.md: only
                                                  # together with a PHYSICS_VERSION bump)
    python tests/golden/record.py --out new.json  # write elsewhere (tests/test_golden.py does this)

Every call runs in this one process through :func:`physics.cli.main` (its ``--json`` stdout parsed back),
in the order of :data:`CALLS`, with a private, empty ``$DAP_CACHE_DIR`` and no other ``DAP_*`` variable
set, so the result depends only on the code and the shipped data, never on a user's cache, materials or
experiment files. The Monte Carlo calls carry fixed seeds. The output is text JSON: ``provenance``
(physics and schema versions, date, Python/numpy/vegas versions, the command lines) and ``calls``
(command line → parsed JSON output). This script imports ``physics`` from ``sys.path`` (the working tree
when run with ``-m`` from the repository root, or ``PYTHONPATH``), and nothing from ``tests``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import io
import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

GOLDEN_PATH = Path(__file__).resolve().parent / "golden.json"

#: The calls, as typed after ``python -m physics`` (``--json`` is appended). Order matters only for the
#: private cache (a σ_V table computed by an earlier call is read from the cache by a later one).
CALLS: tuple[str, ...] = (
    # dark photon (ε = 1), exact tree level, VEGAS with a fixed seed: a shipped configuration (100 GeV Pb,
    # NA64e cut) at 1 % and a configuration with no shipped table (20 GeV Cu) kept cheap (one mass, 5 %)
    "xsec --model dark-photon --mass 0.01 --experiment na64e-2023 --rel-error 0.01 --seed 1",
    "xsec --model dark-photon --mass 0.05 --beam-energy 20 --target Cu --x-min 0.5 --rel-error 0.05 --seed 3",
    # dark photon, IWW approximation
    "xsec --model dark-photon --mass 0.01 --experiment na64e-2023 --method iww",
    "xsec --model dark-photon --mass 0.2 --beam-energy 8 --target Al --x-min 0.3 --method iww",
    # dark axion portal (factorisation over a σ_V table): shipped ETL table with a cut, IWW table
    "xsec --model dark-axion-portal --m-gd 0.05 --m-a 1e-6 --g 1e-3 --experiment na64e-2023 --x-min 0.6",
    "xsec --model dark-axion-portal --m-gd 0.05 --m-a 0.01 --g 1e-3 --experiment ldmx-phase2 --method iww",
    # reach
    "reach --experiment na64e-2023",
    "reach --experiment ldmx-phase2",
    "reach --experiment na64e-2023 --x-min 0.7 --m-gd 0.001:1:12",
    "reach --experiment na64e-2023 --method iww --m-gd 0.001:1:12",
    "reach --experiment ldmx-phase2 --m-gd 0.01,0.1,0.5 --m-a 0.001,0.05,0.2 --alpha-d 0.5 --m-chi 0.01 "
    "--statistics neyman --nuclear coherent+incoherent",
    # constraints (all four)
    "constraint babar-upsilon --m-gd 0.001,0.01,0.1,1,5",
    "constraint besiii-omega --m-gd 0.001,0.01,0.1,0.5",
    "constraint besiii-phi --m-gd 0.001,0.01,0.1,0.5",
    "constraint sn1987a",
    "constraint sn1987a --m-gd 0.001,0.01,0.1",
    # EDM: e, μ, n; both scenarios and explicit masses
    "edm --fermion e --scenario light-alp --m-gd 0.1",
    "edm --fermion e --scenario degenerate --m-gd 0.1",
    "edm --fermion e --m-gd 0.3 --m-a 0.02 --cutoff 10000",
    "edm --fermion mu --scenario light-alp --m-gd 0.1",
    "edm --fermion mu --scenario degenerate --m-gd 0.1",
    "edm --fermion mu --m-gd 0.3 --m-a 0.02 --cutoff 10000",
    "edm --fermion n --scenario light-alp --m-gd 0.1",
    "edm --fermion n --scenario degenerate --m-gd 0.1",
    "edm --fermion n --m-gd 0.3 --m-a 0.02 --cutoff 10000",
    "edm-table",
    # Br(V → a γD), every meson
    "meson-br --meson rho --m-gd 0.1",
    "meson-br --meson omega --m-gd 0.1",
    "meson-br --meson phi --m-gd 0.1",
    "meson-br --meson jpsi --m-gd 1",
    "meson-br --meson upsilon --m-gd 1 --m-a 0.5 --g 1e-4",
    # the shipped σ_V table, the ε recast and the registry
    "sigma-table --experiment na64e-2023",
    "sigma-table --beam-energy 20 --target W --method iww --masses 0.001:1:8",
    "recast --experiment na64e-2023",
    "recast --experiment ldmx-phase2 --method iww --statistics neyman",
    "experiments",
)


def run_calls(calls: tuple[str, ...] = CALLS) -> dict[str, object]:
    """Run every call through :func:`physics.cli.main` in this process with a private empty cache;
    returns {call: parsed JSON output}. Raises RuntimeError if a call does not exit with status 0."""
    saved = dict(os.environ)
    outputs: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="dap-golden-") as cache_dir:
        for key in [k for k in os.environ if k.startswith("DAP_")]:
            del os.environ[key]
        os.environ["DAP_CACHE_DIR"] = cache_dir
        try:
            from physics import cli

            for call in calls:
                out, err = io.StringIO(), io.StringIO()
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                    status = cli.main([*shlex.split(call), "--json"])
                if status != 0:
                    raise RuntimeError(f"{call!r} exited with {status}: {err.getvalue().strip()}")
                outputs[call] = json.loads(out.getvalue())
        finally:
            os.environ.clear()
            os.environ.update(saved)
    return outputs


def provenance(calls: tuple[str, ...] = CALLS) -> dict[str, object]:
    """Versions, date and command lines of a recording."""
    import numpy
    import scipy
    import vegas

    import physics
    from physics import version

    return {"physics_version": version.PHYSICS_VERSION, "schema_version": version.SCHEMA_VERSION,
            "recorded_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "source_tree": _git_state(Path(physics.__file__).resolve().parent),
            "python": sys.version.split()[0], "numpy": numpy.__version__, "scipy": scipy.__version__,
            "vegas": vegas.__version__, "commands": [f"python -m physics {c} --json" for c in calls]}


def _git_state(directory: Path) -> str:
    """``<commit>`` of the checkout holding ``directory`` (``+ local changes`` if its tree differs from the
    commit), or ``unknown`` outside git."""
    try:
        run = lambda *a: subprocess.run(["git", "-C", str(directory), *a], capture_output=True, text=True,
                                        check=True, timeout=30).stdout.strip()
        commit = run("rev-parse", "HEAD")
        return commit + (" + local changes" if run("status", "--porcelain", "--untracked-files=no") else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=GOLDEN_PATH, help=f"output JSON (default {GOLDEN_PATH})")
    args = parser.parse_args(argv)
    outputs = run_calls()
    doc = {"provenance": provenance(), "calls": outputs}
    args.out.write_text(json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8")
    print(f"{len(outputs)} calls → {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
