"""The σ_V table provider: :func:`get_sigma_table`, the one front door to σ_V tables.

A table comes from the shipped (precomputed) tables, the persistent cache or a computation, in that order
(:func:`physics.service.store.lookup`); missing points are computed by the job service
(:mod:`physics.service.jobs`: a local process pool, or the server's configured executor) and cached. The pure
physics never calls this: ``physics.signal.reach`` and ``physics.signal.yields`` take the table as an argument,
and the CLI, the API and the dashboard fetch it here first.
"""

from __future__ import annotations

import warnings

from physics.service import jobs
from physics.service.store import IncompleteTableWarning, lookup, make_request
from physics.xsec.methods import DEFAULT_METHOD
from physics.xsec.sigma_v import SigmaVConfig, SigmaVTable


def get_sigma_table(config: SigmaVConfig, method: str = DEFAULT_METHOD, rel_error: float = 0.01, seed: int = 1,
                    masses=None, progress=None) -> SigmaVTable:
    """σ_V(M) table of ``config``: precomputed → cache → compute (missing points only, then cached).

    method: "etl" (exact tree level, VEGAS; default) or "iww" (analytic approximation).
    rel_error: requested relative MC precision per point (etl). seed: base seed (point i uses seed + i).
    masses: GeV (default: the automatic grid, see :func:`mass_grid`).
    progress: optional callable ``progress(done, total)`` called from this thread as points land; an
    exception raised by it cancels the computation (points already done stay cached) and propagates.
    Points that missed the precision are kept (flagged in provenance, :class:`IncompleteTableWarning`),
    never cached. Raises :class:`physics.errors.InputError` for bad input, ``RuntimeError`` if the point
    computation fails.
    """
    req = make_request(config, method, rel_error, seed, masses)
    source, table, masses, have = lookup(req)
    if table is not None:
        if progress is not None:
            progress(len(table.points), len(table.points))
        return table
    service = jobs.inline_service() if req.analytic else jobs.default_service()
    handle = service.submit_request(req)
    try:
        last = None
        while not handle.wait(0.05):
            if progress is not None and handle.progress != last:
                last = handle.progress
                progress(*last)
        if progress is not None:
            progress(*handle.progress)
        table = handle.result()
    finally:
        if not handle.finished:
            handle.cancel()
    bad = table.provenance.get("incomplete_points_gev")
    if bad:
        warnings.warn(f"{len(bad)} σ_V point(s) did not reach rel_error={req.rel_error:g} (kept in the table, "
                      f"flagged in its provenance, not cached): M = {', '.join(f'{m:.4g}' for m in bad)} GeV",
                      IncompleteTableWarning, stacklevel=2)
    return table


def table_for_experiment(experiment, method: str = DEFAULT_METHOD, **options) -> SigmaVTable:
    """The σ_V table an experiment's yields and reach need: its beam and target over the whole x range
    (``SigmaVConfig.from_experiment``), from :func:`get_sigma_table` (``options``: rel_error, seed, masses,
    progress)."""
    from physics.signal.experiments import get_experiment

    return get_sigma_table(SigmaVConfig.from_experiment(get_experiment(experiment)), method=method, **options)


__all__ = ["get_sigma_table", "table_for_experiment"]
