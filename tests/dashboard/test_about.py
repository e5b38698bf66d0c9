"""The "About / cite" text of the dashboard (dashboard/about.py): names the paper, the software and its docs."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from dashboard import about

ROOT = Path(__file__).resolve().parents[2]


def test_names_the_paper_and_its_arxiv_id():
    text = about.about_markdown()
    assert "S. N. Gninenko et al." in text
    assert "Constraints on dark axion portal: missing energy and fermion EDMs" in text
    assert "arXiv:2602.11405" in text and "https://arxiv.org/abs/2602.11405" in text


def test_bibtex_equals_the_entry_in_references_bib():
    # The panel's BibTeX must not drift from docs/references.bib (the one list of references).
    bib = (ROOT / "docs" / "references.bib").read_text(encoding="utf-8")
    entry = re.search(r"^@article\{Gninenko:2026,.*?^\}", bib, re.S | re.M)
    assert entry is not None
    assert about.PAPER_BIBTEX == entry.group(0)
    assert about.PAPER_BIBTEX in about.about_markdown()


def test_software_citation_version_licence_and_docs_paths_exist():
    text = about.about_markdown()
    try:
        expected = metadata.version("dark-axion-portal-explorer")
    except metadata.PackageNotFoundError:
        expected = about.software_version()
    assert f"version {expected}" in text and expected != ""
    assert "MIT licence" in text
    # every repository path the text names exists, so the panel cannot point to a missing file
    paths = set(re.findall(r"`((?:docs/)?[\w.-]+\.(?:md|bib|cff)|LICENSE)`", text))
    assert {"docs/physics.md", "docs/validation.md", "docs/references.bib", "CITATION.cff", "LICENSE"} <= paths
    for p in paths:
        assert (ROOT / p).is_file(), p
    assert "license: MIT" in (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")


def test_static_and_free_of_internal_references():
    text = about.about_markdown()
    assert about.about_markdown() == text                    # pure: same text on every call
    # citations must point to docs/ or a named paper, never to notes outside the repository
    for bad in ("PHYSICS" + ".md", "seed " + "paper", "seed " + "Eq", "issue" + " "):
        assert bad not in text, bad


def test_importing_it_does_not_import_panel():
    # A pure text module: usable from the CLI or tests without the web stack.
    code = "import sys, dashboard.about as a; a.about_markdown(); print('panel' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_page_has_an_about_card_citing_the_paper():
    """The sidebar carries the About / cite text (the paper's arXiv id) in a card of its own."""
    import panel as pn

    from .conftest import session

    app = session(method="iww")
    cards = [c for c in app.sidebar if isinstance(c, pn.Card) and c.title == "About / cite"]
    assert len(cards) == 1
    text = " ".join(o.object for o in cards[0].objects if isinstance(o, pn.pane.Markdown))
    assert "2602.11405" in text and "Gninenko" in text
