"""The shipped σ_V tables (JSON): installed as the package data ``physics.precomputed``.

This folder is the one copy of the tables. pyproject.toml maps the package ``physics.precomputed`` onto it
(``[tool.setuptools.package-dir]``), so a wheel carries the tables as ``physics/precomputed/*.json``;
:func:`physics.store.precomputed_dir` reads them there with :mod:`importlib.resources`, or here in a checkout
(plain or editable install). No code lives here.
"""
