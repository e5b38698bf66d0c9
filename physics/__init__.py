"""Dark axion portal explorer: the physics (no Panel/HoloViews imports here).

``import physics`` is cheap (no numpy, scipy or vegas): the small curated API below is imported on first use
(module ``__getattr__``, PEP 562), so ``python -m physics --help`` starts fast.

    >>> import physics
    >>> physics.get_experiment("na64e-2023").eot            # electrons on target
    >>> physics.reach_g90("na64e-2023", [0.01, 0.1])        # 90% CL g_aγγD [GeV⁻¹] per channel
    >>> physics.edm_bound("e", m_gd=0.1, m_a=1e-6)          # EDM bound on |g g̃ g| [GeV⁻¹]
    >>> physics.sigma_v_table("na64e-2023").sigma_at(0.01)  # σ_V [pb] from the shipped table

The package reads like the paper, in layers (each imports only the layers below it; import-linter
contracts in pyproject.toml keep it so):

* :mod:`physics.model` — constants, materials, form factors, decay widths, mesons;
* :mod:`physics.xsec` — cross sections: exact tree level (VEGAS), IWW, σ_V tables, factorisation;
* :mod:`physics.signal` — experiments, yields, statistics, reach, constraints; :mod:`physics.edm` — EDM bounds;
* :mod:`physics.service` — table cache, shipped tables, job service, :func:`~physics.service.provider.get_sigma_table`;
* :mod:`physics.api` (the curated functions above) and :mod:`physics.cli` (``python -m physics``). ``physics.__version__`` is the installed distribution's
version (package metadata), the one version string of the CLI, table provenance and dashboard.
"""

#: Distribution name in pyproject.toml (the package metadata holds the version).
DISTRIBUTION = "dark-axion-portal-explorer"

#: Curated API: name → module defining it (imported on first access).
_API = {
    "list_experiments": "physics.api",
    "get_experiment": "physics.api",
    "sigma_v_table": "physics.api",
    "reach_g90": "physics.api",
    "edm_bound": "physics.api",
    "Experiment": "physics.signal.experiments",
    "SigmaVConfig": "physics.xsec.sigma_v",
    "SigmaVTable": "physics.xsec.sigma_v",
    "InputError": "physics.errors",
}

__all__ = ["__version__", *_API]


def _package_version() -> str:
    """Version of the installed distribution; ``0+unknown`` for a source tree that was never installed."""
    from importlib import metadata

    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "0+unknown"


def __getattr__(name: str):
    if name == "__version__":
        value = _package_version()
    elif name in _API:
        import importlib

        value = getattr(importlib.import_module(_API[name]), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # resolved once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
