"""The installable product: a wheel built from pyproject.toml, installed into a fresh virtual environment and
used from a directory outside the repository, serves the shipped σ_V tables to the CLI and the dashboard.

One module fixture builds the wheel (``pip wheel --no-deps --no-build-isolation``: the build backend,
setuptools, comes with the test extra, so nothing is downloaded) from a copy of the sources whose version is
changed to a marker, and installs it with ``pip --python`` into a fresh ``venv --without-pip`` whose
``.pth`` file points at this environment's site-packages for the dependencies (numpy, vegas, panel, …). The
repository's own editable install is never visible there (its finder is a ``.pth`` *inside* that
site-packages, which a path added by a ``.pth`` file does not execute); the tests check that ``physics`` and
``dashboard`` are imported from the fresh environment. Whole module: ~20–40 s.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import tomllib
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Version written into the copied pyproject.toml: every place that reports the version must show it.
MARKER_VERSION = "0.0.0.post12345"
SERVER_TIMEOUT_S = 90


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv python, site-packages of the venv, wheel path, a work directory outside the repository)."""
    work = tmp_path_factory.mktemp("packaging")
    src = work / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    for name in ("physics", "dashboard", "precomputed"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    for name in ("README.md", "LICENSE"):
        shutil.copy2(ROOT / name, src / name)
    text = (ROOT / "pyproject.toml").read_text()
    version = _pyproject()["project"]["version"]
    text, n = re.subn(rf'(?m)^version = "{re.escape(version)}"$', f'version = "{MARKER_VERSION}"', text)
    assert n == 1, "pyproject.toml: expected one `version = ...` line in [project]"
    (src / "pyproject.toml").write_text(text)

    t0 = time.perf_counter()
    dist = work / "dist"
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                          "--no-cache-dir", "--quiet", "-w", str(dist), str(src)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
    (wheel,) = dist.glob("*.whl")

    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    vpy = venv / "bin" / "python"
    vsite = Path(subprocess.run([str(vpy), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                capture_output=True, text=True, check=True).stdout.strip())
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (vsite / "_dap_test_dependencies.pth").write_text("\n".join(sorted(deps)) + "\n")
    res = subprocess.run([sys.executable, "-m", "pip", "--python", str(vpy), "install", "--no-deps",
                          "--no-index", "--quiet", str(wheel)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
    outside = work / "elsewhere"
    outside.mkdir()
    print(f"wheel built and installed in {time.perf_counter() - t0:.1f} s")
    return vpy, vsite, wheel, outside


def _env(outside: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP") and not k.startswith("DAP_")}
    env["DAP_CACHE_DIR"] = str(outside / "cache")      # private and empty: nothing comes from a cache
    return env


def _run(installed, *argv, timeout=300) -> subprocess.CompletedProcess:
    vpy, _, _, outside = installed
    return subprocess.run([str(vpy), *argv], capture_output=True, text=True, cwd=outside, env=_env(outside),
                          timeout=timeout)


# ---------------------------------------------------------------------------------------------- the wheel
def test_wheel_carries_tables_data_and_the_app(installed):
    _, _, wheel, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    tables = sorted(p.name for p in (ROOT / "precomputed").glob("*.json"))
    assert tables, "no shipped tables in precomputed/"
    for t in tables:
        assert f"physics/precomputed/{t}" in names
    for p in (ROOT / "physics" / "data").rglob("*"):
        if p.is_file() and p.suffix in (".json", ".txt", ".toml") and "__pycache__" not in p.parts:
            assert "physics/data/" + p.relative_to(ROOT / "physics" / "data").as_posix() in names
    # every package of the source tree is in the wheel (the package list in pyproject.toml is explicit)
    for init in list((ROOT / "physics").rglob("__init__.py")) + list((ROOT / "dashboard").rglob("__init__.py")):
        if "__pycache__" not in init.parts:
            assert init.relative_to(ROOT).as_posix() in names
    assert "dashboard/app.py" in names
    assert not any(n.startswith(("tests/", "benchmarks/", "precomputed/")) for n in names)


def test_installed_cli_uses_the_shipped_tables_from_outside_the_repository(installed):
    vpy, vsite, _, outside = installed
    res = _run(installed, "-c", "import physics, dashboard, physics.service.store as s; "
                                "print(physics.__file__); print(dashboard.__file__); print(s.precomputed_dir())")
    assert res.returncode == 0, res.stderr
    physics_file, dashboard_file, tables_dir = res.stdout.split()
    assert Path(physics_file).is_relative_to(vsite) and Path(dashboard_file).is_relative_to(vsite)
    assert Path(tables_dir) == vsite / "physics" / "precomputed"

    # where the table would come from (instant), then the table itself (instant when shipped; a wheel without
    # the tables would start a VEGAS computation of minutes here, so the source is checked first)
    res = _run(installed, "-m", "physics", "sigma-table", "--experiment", "na64e-2023", "--json", "--source-only")
    assert res.returncode == 0, res.stderr[-2000:]
    assert json.loads(res.stdout)["source"] == "precomputed", res.stderr[-2000:]
    res = _run(installed, "-m", "physics", "sigma-table", "--experiment", "na64e-2023", "--json")
    assert res.returncode == 0, res.stderr[-2000:]
    assert json.loads(res.stdout)["source"] == "precomputed"
    assert "Stale" not in res.stderr and "not usable" not in res.stderr, res.stderr[-2000:]

    res = _run(installed, "-m", "physics", "constraint", "sn1987a", "--m-gd", "0.01", "--json")
    assert res.returncode == 0, res.stderr[-2000:]       # the digitised curves in physics/data/limits
    res = _run(installed, "-m", "physics", "recast", "--experiment", "na64e-2023", "--m-gd", "0.01", "--json")
    assert res.returncode == 0, res.stderr[-2000:]
    assert json.loads(res.stdout)["published"]["eps90_at_m"] == [2e-5]   # physics/data published limits


def test_one_version_string_from_the_package_metadata(installed):
    """--version, table provenance and the dashboard all report the installed distribution's version."""
    res = _run(installed, "-m", "physics", "--version")
    assert res.returncode == 0 and res.stdout.split() == ["python", "-m", "physics", MARKER_VERSION]
    vpy, _, _, outside = installed
    res = subprocess.run([str(vpy.parent / "dap"), "--version"], capture_output=True, text=True, cwd=outside,
                         env=_env(outside), timeout=120)   # the console script of [project.scripts]
    assert res.returncode == 0 and res.stdout.split()[-1] == MARKER_VERSION, res.stderr[-2000:]
    code = ("import physics, dashboard.adapter as a; from physics.xsec.iww import iww_table; "
            "from physics.xsec.sigma_v import SigmaVConfig; from physics.signal.experiments import get_experiment; "
            "t = iww_table(SigmaVConfig.from_experiment(get_experiment('na64e-2023')), masses=[0.01, 0.1]); "
            "print(physics.__version__); print(t.to_dict()['provenance']['generator']); "
            "print(a.versions()['package'])")
    res = _run(installed, "-c", code)
    assert res.returncode == 0, res.stderr[-2000:]
    version, generator, dashboard_version = res.stdout.splitlines()
    assert version == MARKER_VERSION and generator.endswith(" " + MARKER_VERSION)
    assert dashboard_version == MARKER_VERSION


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 30.0) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310 - 127.0.0.1 only
        return r.status, r.read().decode("utf-8", "replace")


#: Pulls a session of the served app the way a browser does (signed session id, websocket) and prints the
#: text of its σ_V status pane (css class ``dap-status``) as a JSON list.
_PULL_STATUS = """
import json, os, sys
import panel  # registers Panel's Bokeh models, needed to deserialise the document
from bokeh.client import pull_session
from bokeh.util.token import generate_session_id
sid = generate_session_id(secret_key=os.environ["BOKEH_SECRET_KEY"].encode(), signed=True)
with pull_session(url=sys.argv[1], session_id=sid) as session:
    doc = session.document
    print(json.dumps([m.text for m in doc.models if "dap-status" in (getattr(m, "css_classes", None) or [])]))
"""


def test_installed_app_is_served_and_finds_the_tables(installed):
    """``panel serve`` of the installed app (site-packages/dashboard/app.py, with the options of
    ``python -m dashboard.serve``: 127.0.0.1, origin check, signed sessions): /liveness answers, the page is the
    dashboard (not the "not served safely" notice) and a session's σ_V status says every default curve uses a
    precomputed table (none is being computed)."""
    vpy, vsite, _, outside = installed
    app = vsite / "dashboard" / "app.py"
    assert app.is_file()
    port = _free_port()
    env = _env(outside)
    env.update({"BOKEH_SECRET_KEY": secrets.token_urlsafe(32), "BOKEH_SIGN_SESSIONS": "true",
                "BOKEH_ALLOW_WS_ORIGIN": f"127.0.0.1:{port}"})
    log = outside / "server.log"
    with open(log, "w") as fh:
        proc = subprocess.Popen([str(vpy), "-m", "panel", "serve", str(app), "--port", str(port), "--address",
                                 "127.0.0.1", f"--allow-websocket-origin=127.0.0.1:{port}", "--session-ids",
                                 "signed", "--num-procs", "1", "--liveness"],
                                cwd=outside, env=env, stdout=fh, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + SERVER_TIMEOUT_S
        while True:
            assert proc.poll() is None, f"server exited {proc.returncode}: {log.read_text()[-3000:]}"
            try:
                if _get(f"http://127.0.0.1:{port}/liveness", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"no /liveness after {SERVER_TIMEOUT_S} s: {log.read_text()[-3000:]}"
            time.sleep(0.3)
        status, page = _get(f"http://127.0.0.1:{port}/app", timeout=SERVER_TIMEOUT_S)
        assert status == 200
        assert "<title>Dark Axion Portal Explorer</title>" in page, log.read_text()[-3000:]
        # the session's document, as a browser gets it over the websocket (bokeh.client, in a process of the
        # installed environment, with a session id signed by the server's key): its σ_V status line says where
        # each curve's table comes from
        res = subprocess.run([str(vpy), "-c", _PULL_STATUS, f"http://127.0.0.1:{port}/app"], capture_output=True,
                             text=True, cwd=outside, env=env, timeout=SERVER_TIMEOUT_S)
        assert res.returncode == 0, res.stderr[-3000:] + log.read_text()[-3000:]
        status_texts = json.loads(res.stdout)
        assert len(status_texts) == 1, status_texts
        assert "precomputed table" in status_texts[0] and "computing" not in status_texts[0], status_texts[0]
        text = log.read_text()
        assert "Traceback" not in text and "StalePrecomputed" not in text, text[-3000:]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
