"""Fixtures shared by every test: the user material/experiment registries are process-global (files and
``$DAP_MATERIALS``/``$DAP_EXPERIMENTS`` register into them), so each test starts from and leaves behind the
registries as they were — no test can make a name known to another."""

from __future__ import annotations

import pytest

from physics.signal import experiments
from physics.model import materials


@pytest.fixture(autouse=True)
def _isolated_registries():
    saved = [(mod, name, dict(getattr(mod, name)))
             for mod in (materials, experiments)
             for name in ("_user_materials", "_user_experiments", "_env_state") if hasattr(mod, name)]
    yield
    for mod, name, content in saved:
        live = getattr(mod, name)
        live.clear()
        live.update(content)
