"""The reference corpus in tests/reference/ must equal the project's shared/reference/ drop when present."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "reference"


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "tests" / "reference").glob("*.csv")))
def test_copy_matches_shared(name):
    src = SHARED / name
    if not src.is_file():
        pytest.skip("shared/reference not beside this clone")
    assert (ROOT / "tests" / "reference" / name).read_bytes() == src.read_bytes()
