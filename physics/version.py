"""Physics and data-schema versions.

``PHYSICS_VERSION`` must be bumped whenever a change alters any computed number (matrix element, form
factor, constants, phase space, integration strategy). Precomputed tables and cache keys carry it, so a
physics change can never serve stale numbers. ``SCHEMA_VERSION`` versions the on-disk JSON layout.
"""

PHYSICS_VERSION = "1.3"
SCHEMA_VERSION = 1
