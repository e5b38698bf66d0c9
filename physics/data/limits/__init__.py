"""Digitised constraint curves on the (m_γD, g_aγγD) plane: one data file + one JSON metadata file per curve
(darkcast-style). Loaded with importlib.resources by ``physics.signal.constraints``. See each ``*.json`` for source,
citation, units and licence (``LICENSE-Jodlowski-FORESEE-MIT.txt``)."""
