"""Physics and data-schema versions.

``PHYSICS_VERSION`` must be bumped whenever a change alters any computed number (matrix element, form
factor, constants, phase space, integration strategy, interpolation). Precomputed tables and cache keys carry
it, so a physics change can never serve stale numbers. ``SCHEMA_VERSION`` versions the on-disk JSON layout.

1.4 / schema 2: σ_V tables cover the whole x range in "endpoint" bins and every missing-energy cut is applied
to them (interpolation in x), table points hold the requested precision above the cuts up to x = 0.7.
"""

PHYSICS_VERSION = "1.4"
SCHEMA_VERSION = 2
