"""Service layer: where σ_V tables come from, below the CLI and the dashboard, above the pure physics.

The persistent, validated point/table cache (:mod:`~physics.service.cache`, diskcache), the shipped tables,
table requests and the engine registry (:mod:`~physics.service.store`), the job service that computes missing
points in a process pool or on a configured Dask cluster (:mod:`~physics.service.jobs`) and the one entry
point :func:`physics.service.provider.get_sigma_table` (precomputed → cache → compute).
"""
