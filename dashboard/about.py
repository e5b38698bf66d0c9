"""The dashboard's "About / cite" text: what the tool computes, the paper it implements, how to cite it.

:func:`about_markdown` is a pure function returning static Markdown (no Panel import, no user input; the
only variable part is the installed package's version), so the layout can put it in a ``pn.pane.Markdown``
and a test can check it without a browser. Documentation is named by repository path (``docs/...``), the
paper by its arXiv identifier.
"""

from __future__ import annotations

from importlib import metadata

#: Distribution name in pyproject.toml (the version comes from its metadata).
DISTRIBUTION = "dark-axion-portal-explorer"

#: The paper whose phenomenology the tool implements (docs/references.bib, key Gninenko:2026).
PAPER_AUTHORS = "S. N. Gninenko et al."
PAPER_TITLE = "Constraints on dark axion portal: missing energy and fermion EDMs"
PAPER_ARXIV = "2602.11405"
PAPER_URL = "https://arxiv.org/abs/2602.11405"

#: BibTeX entry of the paper, identical in content to the one in docs/references.bib.
PAPER_BIBTEX = """@article{Gninenko:2026,
  author        = {Gninenko, S. N. and others},
  title         = {Constraints on dark axion portal: missing energy and fermion {EDMs}},
  year          = {2026},
  eprint        = {2602.11405},
  archivePrefix = {arXiv},
  url           = {https://arxiv.org/abs/2602.11405}
}"""


def software_version() -> str:
    """Version of the installed package (``importlib.metadata``); in a source tree that was never installed,
    ``physics.__version__`` if it is defined, otherwise ``"unknown"``."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        pass
    try:
        import physics
    except ImportError:  # pragma: no cover - the dashboard always ships with physics
        return "unknown"
    return str(getattr(physics, "__version__", "unknown"))


def about_markdown() -> str:
    """Markdown of the "About / cite" panel (static text; only the version is looked up)."""
    version = software_version()
    return f"""\
### About

The **Dark Axion Portal Explorer** computes the phenomenology of the dark axion portal: an axion-like
particle *a*, the photon and a dark photon γ<sub>D</sub> coupled by (g/2) a F F̃<sub>D</sub>, with γ<sub>D</sub>
decaying invisibly to dark fermions. It gives

- exact tree-level cross sections of e N → e N V and, by factorisation, of e N → e N a γ<sub>D</sub>;
- signal yields from bremsstrahlung-like production and from vector mesons (ρ, ω, φ, J/ψ, Υ), and the
  90% CL reach in the coupling g of the electron fixed-target experiments NA64e and LDMX;
- other constraints (BaBar Υ(1S) → invisible, BESIII ω, φ → invisible, the SN1987A band);
- bounds from the electric dipole moments of the electron, muon and neutron.

Every formula, with its source, units and range of validity, is in `docs/physics.md`; what was checked
against what, with the numbers and tolerances, is in `docs/validation.md`; all references are in
`docs/references.bib` (paths in the source repository).

### How to cite

The physics implemented here is that of

> {PAPER_AUTHORS}, "{PAPER_TITLE}", arXiv:{PAPER_ARXIV} (2026), <{PAPER_URL}>.

Please cite this paper for results obtained with the tool:

```bibtex
{PAPER_BIBTEX}
```

To cite the software itself: Dark Axion Portal Explorer, version {version}; the citation metadata are in
`CITATION.cff` at the root of the repository.

The SN1987A band is the digitisation by K. Jodłowski (arXiv:2305.10409; public repository
krzysztofjjodlowski/Looking_forward_to_photon_coupled_LLPs, MIT licence) of Fig. 8 of A. Hook,
G. Marques-Tavares, C. Ristow, JHEP 06 (2021) 167, arXiv:2105.06476.

### Licence

MIT licence (`LICENSE` in the repository).
"""


__all__ = ["about_markdown", "software_version", "PAPER_ARXIV", "PAPER_TITLE", "PAPER_URL"]
