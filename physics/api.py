"""The curated Python API, re-exported by ``physics`` (``physics.reach_g90``, ``physics.edm_bound``, …).

Five functions cover what the CLI does most: the experiment registry, σ_V tables, the 90% CL reach and the
EDM bound. They take plain numbers and names (GeV, GeV⁻¹, pb, e·cm), validate them like the CLI
(:class:`physics.errors.InputError` naming the parameter) and return the same objects the CLI prints.
Heavy libraries are imported inside the functions, so ``import physics`` stays light.

Formulas: docs/physics.md (#reach, #sigma-tables, #edm-bound, #experiments).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from physics import errors
from physics.xsec.methods import DEFAULT_METHOD

if TYPE_CHECKING:  # pragma: no cover - typing only
    from physics.signal.experiments import Experiment
    from physics.xsec.sigma_v import SigmaVConfig, SigmaVTable


def list_experiments(file: str | None = None) -> dict[str, "Experiment"]:
    """Every registered experiment by id: the built-in benchmarks, ``$DAP_EXPERIMENTS`` and, if given, the
    experiments of the TOML/JSON ``file`` (registered for the rest of the process)."""
    from physics.signal import experiments

    if file is not None:
        experiments.load_experiments(file)
    return dict(experiments.all_experiments())


def get_experiment(experiment: "str | Experiment") -> "Experiment":
    """An experiment by id (``"na64e-2023"``, ``"na64e-projected"``, ``"ldmx-phase2"``, a user id), by the
    path of a TOML/JSON file holding one experiment, or an :class:`~physics.signal.experiments.Experiment` itself.
    Change numbers with ``Experiment.replace(eot=..., background=...)``."""
    from physics.signal import experiments

    return experiments.get_experiment(experiment)


def sigma_v_table(experiment: "str | Experiment | SigmaVConfig", method: str = DEFAULT_METHOD, rel_error: float = 0.01,
                  seed: int = 1, masses=None) -> "SigmaVTable":
    """The σ_V(M) table [pb per atom, ε = 1] of an experiment's beam and target (or of a
    :class:`~physics.xsec.sigma_v.SigmaVConfig`): the shipped table when there is one, else the persistent
    cache, else computed (ETL with VEGAS: minutes; ``method="iww"``: the fast approximation).
    ``rel_error``: requested relative MC precision per point; ``seed``: base seed; ``masses`` [GeV]: default
    the automatic grid. Use ``table.sigma_at(m)`` for σ_V at masses m [GeV] (docs/physics.md#sigma-tables)."""
    from physics.xsec.sigma_v import SigmaVConfig
    from physics.service.provider import get_sigma_table

    config = experiment if isinstance(experiment, SigmaVConfig) else \
        SigmaVConfig.from_experiment(get_experiment(experiment))
    return get_sigma_table(config, method=method, rel_error=rel_error, seed=seed, masses=masses)


def reach_g90(experiment: "str | Experiment", m_gd, m_a=1e-6, method: str = DEFAULT_METHOD, **options) -> dict:
    """90% CL upper limits g_90 [GeV⁻¹] on g_aγγD versus the dark-photon mass ``m_gd`` [GeV] (scalar or list
    in [0.001, 10]) for an experiment, per channel (a :class:`~physics.signal.reach.ReachResult`:
    ``result.g90["brem" | "jpsi" | … | "total"]``, NaN where a channel sets no limit; ``result.to_dict()`` is
    the JSON of ``python -m physics reach``); ``m_a`` [GeV] scalar or list like ``m_gd``. ``options`` as
    ``method`` of the σ_V table ("etl" or "iww"); ``options`` as :func:`physics.signal.reach.reach`:
    ``alpha_d`` (0.1), ``m_chi`` [GeV] (m_gd/3), ``statistics`` ("cls" or "neyman"), ``meson_model``, ``g_ref``. Same numbers as ``python -m physics
    reach`` (docs/physics.md#reach)."""
    from physics.service.provider import table_for_experiment
    from physics.signal.reach import reach
    from physics.signal.yields import validate_inputs

    validate_inputs(m_gd, m_a, options.get("alpha_d", 0.1), options.get("m_chi"))  # before any table is fetched
    return reach(experiment, m_gd, m_a=m_a, table=table_for_experiment(experiment, method), **options)


def edm_bound(fermion: str, m_gd: float | None = None, m_a: float | None = None, cutoff: float = 1000.0,
              scenario: str | None = None, edm_limit_ecm: float | None = None) -> dict:
    """Upper bound on |g_aγγD g̃_af g_γDf| [GeV⁻¹] from the EDM limit of ``fermion`` ("e", "mu" or "n")
    (docs/physics.md#edm-bound), with dark-photon mass ``m_gd`` [GeV] (default 0.1), ALP mass ``m_a`` [GeV]
    and UV cut-off ``cutoff`` [GeV]; ``edm_limit_ecm`` overrides the experimental limit [e·cm].

    The masses given are the masses used (the general loop integral). Without ``m_a`` and ``scenario`` this
    is the "light-alp" scenario (m_a = 1e-6 GeV). ``scenario`` is a shortcut that fixes m_a: "light-alp"
    (m_a = 1e-6 GeV unless given, must be < m_gd), "degenerate" (m_a = m_gd) or "general"; an ``m_a`` that
    contradicts it is an :class:`~physics.errors.InputError`. Returns the dict of
    :func:`physics.edm.coupling_bound` (bound, loop integral, limit and its citation, masses, scenario)."""
    from physics import edm

    m_gd = edm.DEFAULT_M_GD_REF_GEV if m_gd is None else m_gd
    if scenario is None:
        scenario = "light-alp" if m_a is None else "general"
    else:
        scenario = errors.one_of("scenario", scenario, edm.SCENARIOS)
    try:
        return edm.coupling_bound(fermion, m_gd, cutoff, m_a=m_a, scenario=scenario,
                                  edm_limit_ecm=edm_limit_ecm)
    except errors.InputError as exc:
        if exc.parameter == "m_a" and "scenario" in str(exc.allowed):
            raise errors.InputError(exc.parameter, exc.allowed, exc.value,
                                    "contradicts the scenario: omit it to use the masses as given") from None
        raise


__all__ = ["list_experiments", "get_experiment", "sigma_v_table", "reach_g90", "edm_bound"]
