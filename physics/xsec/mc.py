"""Monte Carlo result record: every MC number travels with its error, seed and VEGAS settings."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

#: Below this Q (probability of the chi^2 of the iteration estimates) a VEGAS result is flagged.
Q_MIN = 0.1
#: A result with integrand values that were not finite (and hence contributed 0) in more than this fraction of
#: its evaluations is flagged: a lost value could have been anything.
NONFINITE_MAX_FRACTION = 1e-6


@dataclass(frozen=True)
class MCResult:
    """A Monte Carlo estimate.

    mean/error: value and 1σ error in ``unit``; chi2_dof and q: consistency of the (adapt=False) iterations
    (vegas' ``chi2/dof`` and ``Q``); neval: integrand evaluations used in total (adaptation + measurement);
    seed: the RNG seed; settings: the VEGAS settings (nitn, neval per iteration, alpha, ...);
    converged: requested precision reached; n_nonfinite: integrand evaluations inside phase space whose value
    was not finite (counted, contributed 0); ok: converged, q >= Q_MIN and n_nonfinite ≤
    NONFINITE_MAX_FRACTION × neval; message: why not ok.
    """

    mean: float
    error: float
    unit: str
    chi2_dof: float
    q: float
    neval: int
    seed: int
    settings: dict = field(default_factory=dict)
    converged: bool = True
    message: str = ""
    n_nonfinite: int = 0

    @property
    def rel_error(self) -> float:
        return abs(self.error / self.mean) if self.mean else math.inf

    @property
    def ok(self) -> bool:
        return bool(self.converged and self.q >= Q_MIN and math.isfinite(self.mean)
                    and math.isfinite(self.error) and self.n_nonfinite <= NONFINITE_MAX_FRACTION * self.neval)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["ok"] = self.ok
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "MCResult":
        keys = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in keys})
