"""pyproject.toml is the single source of truth for dependencies; environment.yml must mirror it."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _name(req: str) -> str:
    return re.split(r"[<>=!~\[; ]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject_packages() -> set[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    reqs = list(data["project"]["dependencies"])
    for extra in data["project"].get("optional-dependencies", {}).values():
        reqs += extra
    return {_name(r) for r in reqs}


def _environment_packages() -> set[str]:
    names = set()
    in_pip = False
    in_deps = False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        s = line.split("#", 1)[0].rstrip()
        if not s.strip():
            continue
        if not line.startswith(" "):
            in_deps = s.strip() == "dependencies:"
            continue
        if not in_deps:
            continue
        if s.strip() == "- pip:":
            in_pip = True
            continue
        m = re.match(r"^\s*-\s+(.+)$", s)
        if not m:
            continue
        if in_pip and line.startswith("      "):
            continue  # pip section installs the project itself
        name = _name(m.group(1))
        if name not in {"python", "pip"}:
            names.add(name)
    return names


def test_environment_mirrors_pyproject():
    py, env = _pyproject_packages(), _environment_packages()
    assert py == env, f"only in pyproject: {sorted(py - env)}; only in environment.yml: {sorted(env - py)}"


def test_required_libraries_declared():
    required = {"panel", "holoviews", "bokeh", "numpy", "scipy", "vegas", "param", "diskcache"}
    assert required <= _pyproject_packages()
