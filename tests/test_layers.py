"""The import layering of pyproject.toml ([tool.importlinter]) holds: ``lint-imports`` keeps every contract.

The contracts themselves are checked to bite: a scratch copy of the packages with one wrong-way import
(physics importing the dashboard or a GUI library, a pure module importing the σ_V store, a new cycle, a
new module placed in no layer) must break the named contract. The copies live in a temporary directory;
the repository is never touched.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(root: Path) -> subprocess.CompletedProcess:
    if not LINT_IMPORTS.exists():
        pytest.fail(f"{LINT_IMPORTS} missing: install the test extra (pip install -e '.[test]')")
    # --no-cache: no .import_linter_cache directory left in the tree
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=root, capture_output=True, text=True,
                          timeout=120)


def _contracts() -> list[dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]


def test_import_contracts_hold():
    proc = _lint(ROOT)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    assert "0 broken" in proc.stdout


def test_the_layering_is_declared():
    """The contracts that carry the layering are present (deleting them would make lint-imports pass
    trivially)."""
    by_type: dict[str, list[dict]] = {}
    for c in _contracts():
        by_type.setdefault(c["type"], []).append(c)
    assert any(c.get("containers") == ["physics"] and c.get("exhaustive") for c in by_type.get("layers", []))
    assert any(set(c["ancestors"]) >= {"physics", "dashboard"} for c in by_type.get("acyclic_siblings", []))
    forbidden = {(s, f) for c in by_type.get("forbidden", []) for s in c["source_modules"]
                 for f in c["forbidden_modules"]}
    assert {("physics", "dashboard"), ("physics", "panel"), ("physics", "bokeh"),
            ("physics", "holoviews"), ("physics.signal", "physics.service"),
            ("physics.xsec", "physics.service"), ("physics.model", "physics.cli")} <= forbidden
    layered = {tuple(c["containers"]) for c in by_type.get("layers", []) if c.get("exhaustive")}
    assert {("physics",), ("physics.model",), ("physics.xsec",), ("physics.signal",), ("physics.service",),
            ("physics.cli",)} <= layered
    assert not [c["id"] for c in _contracts() if c.get("ignore_imports")], "no declared exceptions"


def _scratch_copy(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for pkg in ("physics", "dashboard"):
        shutil.copytree(ROOT / pkg, root / pkg, ignore=ignore)
    for name in ("app.py", "pyproject.toml"):
        shutil.copy2(ROOT / name, root / name)
    return root


#: (file, line appended to it, contract name expected among the broken ones)
WRONG_WAY = [
    ("physics/model/constants.py", "import dashboard.style", "physics never imports the dashboard or the app"),
    ("physics/edm.py", "import app", "physics never imports the dashboard or the app"),
    ("physics/model/widths.py", "import panel", "physics never imports a GUI or plotting library"),
    ("physics/signal/statistics.py", "from physics.service import store",
     "the pure physics layers never import the service layer, the API or the CLI"),
    ("physics/signal/reach.py", "from physics.service.provider import table_for_experiment",
     "the pure physics layers never import the service layer, the API or the CLI"),
    ("physics/xsec/iww.py", "import multiprocessing",
     "the pure physics layers never start processes, use the disk cache or draw progress bars"),
    ("physics/edm.py", "from physics.signal import reach", "the EDM bound uses only the model layer"),
    ("physics/model/form_factors.py", "from physics.xsec import etl", "physics layers"),
    ("physics/new_module.py", "from physics.model import constants", "physics layers"),
    ("physics/model/constants.py", "from physics.model import mesons", "model: mesons and materials"),
    ("physics/xsec/mc.py", "from physics.xsec import etl", "cross sections: table points"),
    ("physics/signal/experiments.py", "from physics.signal import reach", "signal: reach over yields"),
    ("physics/service/store.py", "from physics.service import jobs", "service: provider over jobs"),
    ("physics/cli/options.py", "from physics.cli.commands import reach", "CLI: the subcommands"),
    ("dashboard/style.py", "from physics import cli", "the dashboard never imports the CLI"),
    ("dashboard/style.py", "from . import views", "no import cycles between sibling modules"),
]


@pytest.mark.parametrize("path, line, contract", WRONG_WAY, ids=[f"{p}: {l}" for p, l, _ in WRONG_WAY])
def test_a_wrong_way_import_breaks_a_contract(tmp_path, path, line, contract):
    root = _scratch_copy(tmp_path)
    assert _lint(root).returncode == 0  # the copy is clean
    target = root / path
    text = target.read_text(encoding="utf-8") if target.exists() else ""
    target.write_text(text + f"\n{line}\n", encoding="utf-8")
    proc = _lint(root)
    assert proc.returncode != 0
    broken = " ".join(proc.stdout.split("Broken contracts", 1)[-1].split())  # the report wraps long names
    assert contract in broken, proc.stdout[-3000:]
