"""The CLI's subcommands: one module per group here, each defining ``register(subparsers)``.

:data:`COMMANDS` names every subcommand, the module that registers it and its one-line help, so that
``python -m physics <command>`` imports only that command's module (:func:`physics.cli.build_parser`) and
``--help`` imports none. ``tests/physics/cli/test_cli.py`` checks this map against the modules' ``register``.
"""

from __future__ import annotations

#: subcommand → (module in this package, one-line help exactly as its ``register`` gives it)
COMMANDS: dict[str, tuple[str, str]] = {
    "cache": ("table", "inspect, verify or clear the persistent σ_V cache"),
    "constraint": ("constraint", "other constraints on g_aγγD vs m_gD (BaBar, BESIII, SN1987A)"),
    "edm": ("edm", "EDM bound on the coupling product g_aγγD·g̃_af·g_γDf"),
    "edm-table": ("edm", "Table 2: EDM bounds for e, mu, n in both scenarios"),
    "experiments": ("experiments", "list the experiment registry"),
    "meson-br": ("meson_br", "branching ratio of a vector meson to a + dark photon"),
    "precompute": ("precompute", "generate shipped σ_V(M) tables (ETL/VEGAS) for experiments"),
    "reach": ("reach", "90%% CL reach g_90(m_gD) per channel for an experiment"),
    "recast": ("recast", "invisible dark-photon limit ε_90(m) of an experiment next to the published one"),
    "sigma-table": ("table", "σ_V(M) table of an experiment/setup and its source"),
    "xsec": ("xsec", "cross section per atom (dark photon ε = 1, or dark axion portal)"),
}
