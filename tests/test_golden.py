"""Golden outputs: a fixed list of CLI calls (tests/golden/record.py, fixed seeds, private empty cache) must
give exactly the JSON recorded in tests/golden/golden.json — every number bit for bit, every key, every
text — apart from the few run-dependent fields in :data:`VOLATILE_KEYS`. A refactor that changes any of
them changed the physics; re-recording is only for a PHYSICS_VERSION bump (tests/golden/README.md).

The calls run in one fresh interpreter (``python -m tests.golden.record``) importing this working tree,
so in-process memos left by other tests cannot change what a call reports (e.g. where a table came from).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from physics import version
from tests.golden import record

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = json.loads(record.GOLDEN_PATH.read_text(encoding="utf-8"))

#: Keys (at any depth) left out of the comparison: they differ from run to run by nature, not by physics.
#: Keep this list minimal; never add a key that holds a computed number.
VOLATILE_KEYS = frozenset({
    "date",         # time stamp of a σ_V table computed during the run (provenance of fresh IWW tables)
    "wall_time_s",  # how long that computation took
})


def _strip(obj):
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if k not in VOLATILE_KEYS}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


def _differences(old, new, path: str = "") -> list[str]:
    """Every leaf where ``new`` is not identical to ``old``: same structure and keys, same JSON type
    (bool, int, float, str, null are not interchangeable) and exactly equal value."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = [f"{path}/{k}: missing now" for k in old if k not in new]
        out += [f"{path}/{k}: new key" for k in new if k not in old]
        for k in old:
            if k in new:
                out += _differences(old[k], new[k], f"{path}/{k}")
        return out
    if isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            return [f"{path}: length {len(old)} recorded, {len(new)} now"]
        return [d for i, (a, b) in enumerate(zip(old, new)) for d in _differences(a, b, f"{path}[{i}]")]
    same = type(old) is type(new) and old == new
    if isinstance(old, float) and isinstance(new, float):
        same = same and math.copysign(1.0, old) == math.copysign(1.0, new)
    if same:
        return []
    return [f"{path}: recorded {old!r}, now {new!r}"]


def _run(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("golden") / "now.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAP_") and k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-m", "tests.golden.record", "--out", str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(out.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def now(tmp_path_factory) -> dict:
    return _run(tmp_path_factory)


def test_golden_file_matches_this_physics_version():
    prov = GOLDEN["provenance"]
    assert (prov["physics_version"], prov["schema_version"]) == (version.PHYSICS_VERSION, version.SCHEMA_VERSION), (
        "PHYSICS_VERSION/SCHEMA_VERSION changed: re-record tests/golden/golden.json (tests/golden/README.md)")


def test_golden_file_holds_every_call():
    assert list(GOLDEN["calls"]) == list(record.CALLS), "tests/golden/record.py CALLS differ from golden.json"
    assert GOLDEN["provenance"]["commands"] == [f"python -m physics {c} --json" for c in record.CALLS]


@pytest.mark.parametrize("call", list(GOLDEN["calls"]), ids=list(GOLDEN["calls"]))
def test_call_output_identical(now, call):
    assert call in now["calls"], f"{call!r} was not run"
    diffs = _differences(_strip(GOLDEN["calls"][call]), _strip(now["calls"][call]))
    libs = {k: (GOLDEN["provenance"].get(k), now["provenance"].get(k)) for k in ("python", "numpy", "scipy", "vegas")
            if GOLDEN["provenance"].get(k) != now["provenance"].get(k)}
    note = f" (library versions differ from the recording: {libs})" if libs else ""
    assert not diffs, f"{len(diffs)} differences{note}:\n" + "\n".join(diffs[:20])


def test_golden_run_is_deterministic(now, tmp_path_factory):
    """A second run in a new interpreter (new hash seed, new private cache) gives the same outputs."""
    again = _run(tmp_path_factory)
    diffs = _differences(_strip(now["calls"]), _strip(again["calls"]))
    assert not diffs, "\n".join(diffs[:20])


def test_differences_sees_type_sign_and_structure():
    assert _differences({"a": [1.0, True]}, {"a": [1.0, True]}) == []
    assert _differences({"a": 1.0}, {"a": 1.0000000000000002})
    assert _differences({"a": True}, {"a": 1})
    assert _differences({"a": 1}, {"a": 1.0})
    assert _differences({"a": 0.0}, {"a": -0.0})
    assert _differences({"a": [1.0]}, {"a": [1.0, 2.0]})
    assert _differences({"a": 1.0}, {"b": 1.0})
    assert _strip({"x": {"date": "d", "wall_time_s": 1.0, "sigma_pb": 2.0}}) == {"x": {"sigma_pb": 2.0}}
