"""The reference corpus in tests/reference/ must equal the project's shared/reference/ drop when present.

The data rows must be byte-identical. The provenance header (comment lines) is identical too, except where the
upstream header pointed to the team's internal notes, which are not part of this repository: such a line of the
shipped copy points to the section of docs/physics.md that holds that material instead, and must otherwise read
the same up to that reference.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "reference"
#: "see <reference>)" at the end of a header phrase: the part a shipped header line may re-point to docs/
_SEE = re.compile(r"see [^)]*\)")
#: a Markdown file named in a shipped header that is not one of the repository's docs
_OUTSIDE_DOC = re.compile(r"(?<![\w/])(?!docs/)[\w./-]*\.md\b")

CSV_FILES = sorted(p.name for p in (ROOT / "tests" / "reference").glob("*.csv"))


@pytest.mark.parametrize("name", CSV_FILES)
def test_copy_matches_shared(name):
    src = SHARED / name
    if not src.is_file():
        pytest.skip("shared/reference not beside this clone")
    upstream = src.read_text(encoding="utf-8").splitlines()
    shipped = (ROOT / "tests" / "reference" / name).read_text(encoding="utf-8").splitlines()
    assert len(shipped) == len(upstream)
    for ours, theirs in zip(shipped, upstream):
        if ours == theirs:
            continue
        assert ours.startswith("#") and theirs.startswith("#"), "data rows must be byte-identical"
        assert "docs/physics.md#" in ours, ours
        assert _SEE.sub("", ours) == _SEE.sub("", theirs), (ours, theirs)


@pytest.mark.parametrize("name", CSV_FILES)
def test_copy_cites_nothing_outside_the_repository(name):
    text = (ROOT / "tests" / "reference" / name).read_text(encoding="utf-8")
    assert not _OUTSIDE_DOC.findall(text), _OUTSIDE_DOC.findall(text)
