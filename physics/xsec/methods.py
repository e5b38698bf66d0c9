"""The σ_V methods: one name per method, its labels and whether it is analytic (docs/physics.md#sigma-tables).

- ``etl`` — exact tree level (the full 2 → 3 matrix element integrated with VEGAS: Monte Carlo, with a
  requested precision ``rel_error`` and a seed);
- ``iww`` — the improved Weizsäcker–Williams approximation (Bjorken, Essig, Schuster, Toro, PRD 80 (2009)
  075018, Eqs. (A14)–(A17)): analytic, so precision and seed do not apply.

:class:`Method` is a :class:`enum.StrEnum`: a member *is* its name (``Method.ETL == "etl"``, ``str()``,
f-strings and JSON give ``"etl"``), so CLI arguments, URL values and cache keys are the plain strings they
always were. Values that are stored or hashed (keys, provenance, settings) are written as plain ``str``
(``Method.ETL.value``); the enum members are for comparisons.
"""

from __future__ import annotations

from enum import StrEnum


class Method(StrEnum):
    """How σ_V is computed: ``ETL`` (exact tree level, VEGAS) or ``IWW`` (analytic approximation)."""

    ETL = "etl"
    IWW = "iww"


#: Every method name, in display order (plain strings: CLI choices, error messages, widget values).
METHODS: tuple[str, ...] = tuple(m.value for m in Method)
#: Methods without Monte Carlo: their results do not depend on the requested precision or the random-number seed.
ANALYTIC_METHODS: tuple[str, ...] = (Method.IWW.value,)
#: Default method of every entry point.
DEFAULT_METHOD: str = Method.ETL.value

#: Display labels: ``LABELS`` (titles, summaries) and ``SHORT_LABELS`` (buttons).
LABELS: dict[str, str] = {Method.ETL.value: "ETL (exact tree level, VEGAS)",
                          Method.IWW.value: "IWW (approximation)"}
SHORT_LABELS: dict[str, str] = {Method.ETL.value: "ETL (exact)", Method.IWW.value: "IWW (approx.)"}


__all__ = ["Method", "METHODS", "ANALYTIC_METHODS", "DEFAULT_METHOD", "LABELS", "SHORT_LABELS"]
