"""Cross sections: the production of a massive vector V (ε = 1) and of the dark axion portal pair.

The exact tree-level matrix element (:mod:`~physics.xsec.matrix_element`) over the 2→3 phase space
(:mod:`~physics.xsec.kinematics`) integrated with VEGAS (:mod:`~physics.xsec.mc`, :mod:`~physics.xsec.etl`);
the improved Weizsäcker–Williams approximation (:mod:`~physics.xsec.iww`); the σ_V(M) table type with its
interpolation and missing-energy windows (:mod:`~physics.xsec.sigma_v`) and its cut-aware points
(:mod:`~physics.xsec.table_points`); the factorised portal cross section σ(e N → e N a γD) from a σ_V table
(:mod:`~physics.xsec.factorisation`, arXiv:2602.11405 Eq. (8)) and its direct 2→4 check
(:mod:`~physics.xsec.etl_4body`). Uses the model layer only; never the cache, jobs or CLI.
"""
