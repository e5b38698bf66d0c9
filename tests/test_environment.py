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


#: Libraries the user named that were measured and dropped; the README's "Dependencies" section says why.
DROPPED = {"holoviews"}


def test_required_libraries_declared():
    required = {"panel", "bokeh", "numpy", "scipy", "vegas", "param", "diskcache"}
    assert required <= _pyproject_packages()
    assert not DROPPED & _pyproject_packages()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Dependencies", 1)[-1].split("\n## ", 1)[0]
    for name in DROPPED:
        assert name in section.lower(), f"README's Dependencies section must say why {name} was dropped"


def test_every_runtime_dependency_is_used():
    """No declared runtime dependency stays unused: each is imported by the package or the dashboard."""
    deps = {_name(d) for d in tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
            ["project"]["dependencies"]}
    sources = "\n".join(p.read_text(encoding="utf-8") for pkg in ("physics", "dashboard")
                        for p in (ROOT / pkg).rglob("*.py"))
    unused = {d for d in deps if not re.search(rf"^\s*(import|from) {re.escape(d)}\b", sources, re.M)}
    assert not unused, f"declared but never imported: {sorted(unused)}"
