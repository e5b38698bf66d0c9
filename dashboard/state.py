"""Session state of the dashboard: every input, its validation, and the data behind each view.

No Panel/HoloViews here: the classes are plain ``param.Parameterized`` objects so the logic is unit-testable
without a browser. One :class:`DashboardState` exists per browser session (created in
``dashboard.layout.create_app``); nothing mutable is shared between sessions except the read-only tables
and the shared job service inside :mod:`dashboard.adapter`.

Validation never raises: :meth:`DashboardState.validate` fills ``errors`` (control name → message) and the
views keep showing the last good data while any error is present.
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
from collections import OrderedDict

import numpy as np
import param

from physics import errors as _errors
from physics import limits
from physics.methods import DEFAULT_METHOD, METHODS

from . import adapter, fairshare

log = logging.getLogger("dashboard.state")

ALP_MODES = {
    "light": "m_a ≪ m_γD (m_a = 1 keV)",
    "degenerate": "m_a = m_γD",
    "ratio": "m_a = r · m_γD",
    "fixed": "fixed m_a",
}
M_CHI_MODES = {"ratio": "m_χ = r_χ · m_γD", "fixed": "fixed m_χ"}
VIEWS = ("exclusion", "yields", "edm", "spectrum")
VIEW_TITLES = {"exclusion": "Exclusion plane", "yields": "Event yields", "edm": "EDM bounds",
               "spectrum": "Missing-energy spectrum"}

#: Parameters synced to the URL (parameter → query name).
URL_PARAMS = {
    "m_gd_min": "mmin", "m_gd_max": "mmax", "m_gd": "mgd", "g": "g", "alp_mode": "alp", "m_a": "ma",
    "m_a_ratio": "ra", "cutoff": "lambda", "alpha_d": "alphaD", "m_chi_mode": "chi", "m_chi_ratio": "rchi",
    "m_chi": "mchi", "experiments": "exp", "channels": "ch", "method": "method", "overlays": "ov",
    "view": "view", "show_channel_curves": "chcurves", "overrides": "set", "custom": "custom",
    "rel_error": "relerr",
}

#: custom experiments per session (form and links); see dashboard.fairshare
MAX_CUSTOM = fairshare.MAX_CUSTOM_EXPERIMENTS
#: longest custom-experiment label [characters] (the shared limit of physics.limits for display labels)
MAX_LABEL_CHARS = limits.MAX_LABEL_CHARS


def _finite(x) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _fmt(x) -> str:
    try:
        return f"{float(x):.4g}"
    except (TypeError, ValueError):
        return repr(x)


#: per-meson N_V override parameters of ExperimentSettings (meson key → parameter name)
NV_PARAMS = {m: f"nv_{m}" for m in adapter.MESON_KEYS}
#: per-experiment numbers of ExperimentSettings that override the base experiment's (x_min: the missing-energy cut)
STAT_FIELDS = ("eot", "background", "observed", "x_min")


class ExperimentSettings(param.Parameterized):
    """The per-session editable numbers of one experiment — EOT, expected background, observed events, the
    missing-energy cut x_min = E_miss/E0 — and optional overrides of its vector-meson yields N_V (None: the
    documented model of physics.meson_yields).

    The cut needs no new σ_V table: the experiment's table covers the whole x range and the cut is applied to
    it (physics.yields), and the meson yields count photons above it (physics.meson_yields).
    ``base`` is the registry experiment (or the custom one); :meth:`experiment` returns the validated copy.
    """

    eot = param.Number(default=1e12, doc="electrons on target")
    background = param.Number(default=0.0, doc="expected background events")
    observed = param.Number(default=0, doc="observed events")
    x_min = param.Number(default=0.5, doc="missing-energy cut x_min = E_miss/E0")
    nv_rho = param.Number(default=None, allow_None=True, doc="N_V(ρ) override (None: model)")
    nv_omega = param.Number(default=None, allow_None=True, doc="N_V(ω) override (None: model)")
    nv_phi = param.Number(default=None, allow_None=True, doc="N_V(φ) override (None: model)")
    nv_jpsi = param.Number(default=None, allow_None=True, doc="N_V(J/ψ) override (None: model)")
    nv_upsilon = param.Number(default=None, allow_None=True, doc="N_V(Υ) override (None: model)")

    def __init__(self, base, **params):
        self.base = base
        nv = {p: self._base_nv(m) for m, p in NV_PARAMS.items()}
        super().__init__(eot=float(base.eot), background=float(base.background), observed=float(base.observed),
                         x_min=float(base.x_min), name=base.id, **nv, **params)

    def _base_nv(self, meson):
        v = (self.base.meson_yields or {}).get(meson)
        return None if v is None else _coerce_number(v)

    def meson_overrides(self) -> dict:
        """meson → N_V of the overrides set in this session (None entries = model)."""
        return {m: getattr(self, p) for m, p in NV_PARAMS.items() if getattr(self, p) is not None}

    def model_nv(self) -> dict:
        """meson → N_V of the documented model at this session's EOT and cut ({} if either is invalid)."""
        try:
            return adapter.model_meson_yields(self.base.replace(eot=self.eot, x_min=self.x_min))
        except (adapter.InputError, TypeError):
            return {}

    @property
    def e_miss_min_gev(self) -> float:
        """The cut as a missing-energy threshold E_miss ≥ x_min E0 [GeV] (NaN if x_min is not a number)."""
        try:
            return float(self.x_min) * float(self.base.beam_energy_gev)
        except (TypeError, ValueError):
            return float("nan")

    @property
    def exp_id(self) -> str:
        return self.base.id

    def experiment(self):
        """Validated Experiment with this session's numbers (raises InputError naming eot/background/observed/
        x_min or meson_yields.<meson>); the N_V overrides go to physics as ``meson_yields``. The numbers pass the
        same checks as the CLI's (physics.experiments, physics.meson_yields) and the 90% CL event limit of
        background/observed must be computable (physics.statistics)."""
        obs = self.observed
        if _finite(obs) and float(obs) == int(float(obs)):
            obs = int(float(obs))
        exp = self.base.replace(eot=self.eot, background=self.background, observed=obs, x_min=self.x_min,
                                meson_yields=self.meson_overrides())
        adapter.validate_meson_yields(exp)
        adapter.n_upper(exp)
        return exp

    def overrides(self) -> dict:
        """Numbers differing from the base experiment (for the URL: eot, background, observed, x_min); N_V
        overrides under "meson_yields" (meson → number, or None where a base override was cleared). A link
        without "x_min" (older links) keeps the experiment's own cut."""
        out = {}
        for k in STAT_FIELDS:
            v = getattr(self, k)
            if not (_finite(v) and float(v) == float(getattr(self.base, k))):
                out[k] = v if _finite(v) else str(v)
        nv = {}
        for m, p in NV_PARAMS.items():
            v, b = getattr(self, p), self._base_nv(m)
            if v is None and b is None:
                continue
            if v is None or b is None or not (_finite(v) and float(v) == float(b)):
                nv[m] = v if (v is None or _finite(v)) else str(v)
        if nv:
            out["meson_yields"] = nv
        return out

    def apply_overrides(self, ov: dict) -> None:
        """Set the numbers from an ``overrides()``-style dict (missing entries: the base experiment's)."""
        upd = {k: _coerce_number(ov.get(k, getattr(self.base, k))) for k in STAT_FIELDS}
        nv = ov.get("meson_yields") or {}
        if not isinstance(nv, dict):
            nv = {}
        for m, p in NV_PARAMS.items():
            v = nv[m] if m in nv else self._base_nv(m)
            upd[p] = None if v is None else _coerce_number(v)
        self.param.update(**upd)


class CustomExperimentForm(param.Parameterized):
    """The "custom experiment" form: a new beam/target setup whose σ_V table is computed in the background."""

    label = param.String(default="", doc="name shown in legends (empty: made from target and beam energy)")
    beam_energy_gev = param.Number(default=50.0, doc="beam energy E0 [GeV]")
    target = param.Selector(default="W", objects=adapter.materials(), doc="target material")
    thickness_x0 = param.Number(default=1.0, doc="target thickness L_T [X0]")
    x_min = param.Number(default=0.5, doc="missing-energy cut x_min = E_miss/E0")
    eot = param.Number(default=1e12, doc="electrons on target")
    background = param.Number(default=0.0, doc="expected background events")
    observed = param.Number(default=0, doc="observed events")

    FIELDS = ("label", "beam_energy_gev", "target", "thickness_x0", "x_min", "eot", "background", "observed")

    def spec(self) -> dict:
        return {k: getattr(self, k) for k in self.FIELDS}

    @staticmethod
    def build(spec: dict, exp_id: str):
        """Validated Experiment from a spec (raises InputError with the offending field)."""
        obs = spec.get("observed", 0)
        if _finite(obs) and float(obs) == int(float(obs)):
            obs = int(float(obs))
        label = spec.get("label")
        label = "" if label is None else limits.check_text("label", label, MAX_LABEL_CHARS).strip()
        if not label:
            try:
                label = f"{spec.get('target')} {float(spec.get('beam_energy_gev')):g} GeV (custom)"
            except (TypeError, ValueError):
                label = exp_id
        exp = adapter.make_experiment(
            id=exp_id, name=label, beam_energy_gev=spec.get("beam_energy_gev"), target=spec.get("target"),
            thickness_x0=spec.get("thickness_x0"), x_min=spec.get("x_min"), eot=spec.get("eot"),
            background=spec.get("background", 0.0), observed=obs, status="projection",
            reference="custom experiment defined in the dashboard")
        adapter.validate_experiment_config(exp)
        adapter.n_upper(exp)
        return exp


class DashboardState(param.Parameterized):
    """All inputs of one session, their validation and the data of the four views."""

    # -- masses and coupling --------------------------------------------------------------------------
    m_gd_min = param.Number(default=1e-3, doc="lower end of the m_γD axis [GeV]")
    m_gd_max = param.Number(default=5.0, doc="upper end of the m_γD axis [GeV]")
    n_points = param.Integer(default=100, bounds=(10, 400), doc="masses per curve")
    m_gd = param.Number(default=0.1, doc="current dark-photon mass m_γD [GeV] (marker, yields table, spectrum)")
    g = param.Number(default=1e-3, doc="current coupling g_aγγD [GeV⁻¹] (marker, yields, spectrum)")
    alp_mode = param.Selector(default="light", objects=list(ALP_MODES), doc="ALP mass scenario")
    m_a = param.Number(default=1e-2, doc="ALP mass m_a [GeV] in the 'fixed m_a' scenario")
    m_a_ratio = param.Number(default=0.5, doc="r = m_a/m_γD in the 'ratio' scenario")
    # -- dark sector -----------------------------------------------------------------------------------
    alpha_d = param.Number(default=0.1, doc="dark coupling α_D")
    m_chi_mode = param.Selector(default="ratio", objects=list(M_CHI_MODES))
    m_chi_ratio = param.Number(default=1.0 / 3.0, doc="r_χ = m_χ/m_γD")
    m_chi = param.Number(default=0.01, doc="fixed dark-fermion mass m_χ [GeV]")
    # -- EDM -------------------------------------------------------------------------------------------
    cutoff = param.Number(default=1000.0, doc="UV cut-off Λ of the EDM loop [GeV]")
    # -- experiments, channels, method, overlays -------------------------------------------------------
    experiments = param.ListSelector(default=["na64e-2023", "na64e-projected", "ldmx-phase2"], objects=[])
    channels = param.ListSelector(default=list(adapter.CHANNELS), objects=list(adapter.CHANNELS))
    show_channel_curves = param.Boolean(default=True, doc="draw each channel, not only the total")
    method = param.Selector(default=DEFAULT_METHOD, objects=list(METHODS),
                            doc="σ_V: exact tree level (ETL, VEGAS) or improved Weizsäcker–Williams (IWW)")
    rel_error = param.Number(default=0.01, doc=f"requested relative MC error of new ETL tables (≥ "
                                               f"{fairshare.MIN_REL_ERROR:g} in the dashboard)")
    overlays = param.ListSelector(default=list(adapter.CONSTRAINT_KEYS), objects=list(adapter.CONSTRAINT_KEYS))
    view = param.Selector(default="exclusion", objects=list(VIEWS))
    # -- per-experiment numbers and custom experiments (JSON-able, for the URL) ------------------------
    overrides = param.Dict(default={}, doc="experiment id → {eot, background, observed, meson_yields} differing "
                                           "from defaults")
    custom = param.List(default=[], doc="custom experiment specs (see CustomExperimentForm)")
    # -- outputs ---------------------------------------------------------------------------------------
    errors = param.Dict(default={}, doc="control → message for every invalid input")
    revision = param.Integer(default=0, doc="bumped whenever the view data may have changed")

    INPUTS = ("m_gd_min", "m_gd_max", "n_points", "m_gd", "g", "alp_mode", "m_a", "m_a_ratio", "alpha_d",
              "m_chi_mode", "m_chi_ratio", "m_chi", "cutoff", "experiments", "channels", "show_channel_curves",
              "method", "rel_error", "overlays", "overrides", "custom")

    def __init__(self, **params):
        builtins = adapter.builtin_experiments()
        self.param.experiments.objects = list(builtins)
        # custom experiments must exist before they can be selected: apply them first
        custom = params.pop("custom", None)
        experiments = params.pop("experiments", None)
        overrides = params.pop("overrides", None)
        super().__init__(**params)
        self._builtins = builtins
        self.settings: dict[str, ExperimentSettings] = {}
        for exp in builtins.values():
            self._add_settings(exp)
        self.custom_form = CustomExperimentForm()
        self._custom_exps: dict = {}
        self._tables: dict[str, adapter.TableStatus] = {}
        self._cancelled: set = set()
        self._memo: OrderedDict = OrderedDict()
        self._syncing = False
        self.input_errors: dict[str, str] = {}   # unparsable typed text (set by the layout)
        self.notes: list[str] = []
        self._session = fairshare.new_session_id()   # owner of this session's table jobs (fair sharing)
        self._apply_custom()
        if custom is not None:
            self.custom = custom
        if experiments is not None:
            self.experiments = [e for e in experiments if e in self.param.experiments.objects]
        if overrides is not None:
            self.overrides = overrides
        self._apply_overrides()
        self.validate()

    #: order in which linked (URL) parameters must be applied
    APPLY_FIRST = ("custom", "overrides")

    def apply_many(self, values: dict) -> list[str]:
        """Set several parameters (e.g. from a shared link) in a safe order; returns the names that failed."""
        bad = []
        order = [k for k in self.APPLY_FIRST if k in values] + [k for k in values if k not in self.APPLY_FIRST]
        for k in order:
            try:
                v = values[k]
                if k == "experiments" and isinstance(v, list):
                    v = [e for e in v if e in self.param.experiments.objects]
                self.param.update(**{k: v})
            except Exception:  # noqa: BLE001 - reported to the caller
                bad.append(k)
        return bad

    # ------------------------------------------------------------------------------ experiments
    def _add_settings(self, exp) -> ExperimentSettings:
        s = ExperimentSettings(exp)
        s.param.watch(self._settings_changed, list(STAT_FIELDS) + list(NV_PARAMS.values()))
        self.settings[exp.id] = s
        return s

    def _settings_changed(self, *_events):
        if self._syncing:
            return
        ov = {k: s.overrides() for k, s in self.settings.items() if s.overrides()}
        self._syncing = True
        try:
            self.overrides = ov
        finally:
            self._syncing = False
        self.validate()

    @param.depends("overrides", watch=True)
    def _apply_overrides(self):
        if self._syncing:
            return
        self._syncing = True
        try:
            for exp_id, s in self.settings.items():
                ov = (self.overrides or {}).get(exp_id, {})
                s.apply_overrides(ov if isinstance(ov, dict) else {})
        finally:
            self._syncing = False

    @param.depends("custom", watch=True)
    def _apply_custom(self):
        """(Re)build the custom experiments from ``custom`` specs (form submission or URL)."""
        specs = list(self.custom or [])
        if len(specs) > MAX_CUSTOM:
            self.notes.append(f"{len(specs) - MAX_CUSTOM} custom experiment(s) ignored: at most {MAX_CUSTOM} per "
                              "session")
            specs = specs[:MAX_CUSTOM]
        new: dict = {}
        for i, spec in enumerate(specs):
            exp_id = f"custom-{i + 1}"
            try:
                if not isinstance(spec, dict):
                    raise adapter.InputError("custom", "a custom experiment (an object of fields)", spec)
                exp = CustomExperimentForm.build(spec, exp_id)
            except adapter.InputError as exc:
                self.notes.append(f"custom experiment {i + 1} ignored: {exc}")
                continue
            new[exp_id] = exp
        # drop settings of removed/changed customs
        for exp_id in list(self.settings):
            if exp_id.startswith("custom-") and (exp_id not in new or new[exp_id] != self._custom_exps.get(exp_id)):
                del self.settings[exp_id]
                self._tables.pop(exp_id, None)
        self._custom_exps = new
        for exp in new.values():
            if exp.id not in self.settings:
                self._add_settings(exp)
        objs = list(self._builtins) + list(new)
        keep = [e for e in self.experiments if e in objs]
        self.param.experiments.objects = objs
        if keep != list(self.experiments):
            self.experiments = keep
        self._apply_overrides()

    def experiment_name(self, exp_id: str) -> str:
        base = self._builtins.get(exp_id) or self._custom_exps.get(exp_id)
        return base.name if base is not None else exp_id

    def color_index(self, exp_id: str) -> int:
        objs = list(self.param.experiments.objects)
        return objs.index(exp_id) if exp_id in objs else 0

    def experiment_labels(self) -> dict:
        """id → display name for every selectable experiment."""
        return {k: self.experiment_name(k) for k in self.param.experiments.objects}

    def add_custom(self) -> str | None:
        """Validate the custom form and add it as a new experiment (selected). Returns its id, or None with
        ``errors['custom.<field>']`` set."""
        self._clear_errors("custom.")
        spec = self.custom_form.spec()
        n = len(self.custom or [])
        if n >= MAX_CUSTOM:
            self._set_error("custom.label", f"at most {MAX_CUSTOM} custom experiments per session")
            return None
        exp_id = f"custom-{n + 1}"
        try:
            CustomExperimentForm.build(spec, exp_id)
        except adapter.InputError as exc:
            field = _custom_field(exc.parameter)
            self._set_error(f"custom.{field}", str(exc))
            return None
        self.custom = list(self.custom or []) + [spec]
        if exp_id in self.param.experiments.objects and exp_id not in self.experiments:
            self.experiments = list(self.experiments) + [exp_id]
        self._cancelled.discard(exp_id)
        return exp_id

    def remove_custom(self, exp_id: str) -> None:
        specs = list(self.custom or [])
        idx = int(exp_id.split("-")[1]) - 1
        if 0 <= idx < len(specs):
            st = self._tables.get(exp_id)
            if st is not None:
                adapter.cancel_table(st)
            specs.pop(idx)
            self.custom = specs

    def selected_experiments(self) -> list:
        """Validated experiments in the selection (invalid settings are skipped and reported in ``errors``)."""
        out = []
        for exp_id in self.experiments:
            s = self.settings.get(exp_id)
            if s is None:
                continue
            try:
                out.append(s.experiment())
            except adapter.InputError:
                continue
        return out

    # ------------------------------------------------------------------------------ validation
    def _set_error(self, key: str, msg: str):
        errs = dict(self.errors)
        errs[key] = msg
        self.errors = errs

    def _clear_errors(self, prefix: str):
        errs = {k: v for k, v in self.errors.items() if not k.startswith(prefix)}
        if errs != self.errors:
            self.errors = errs

    def set_input_error(self, control: str, message: str | None) -> None:
        """The layout reports typed text that is not a number (message) or clears it (None)."""
        if message:
            self.input_errors[control] = message
        else:
            self.input_errors.pop(control, None)
        self.validate()

    @param.depends(*INPUTS, watch=True)
    def validate(self) -> dict:
        """Check every input; set ``errors`` (control → message); bump ``revision`` when all is valid."""
        e: dict[str, str] = {}
        e.update(self.input_errors)

        def rule(control: str, check) -> None:
            """``check(value)`` raises InputError → the message goes next to ``control``."""
            if control not in e:
                try:
                    check(getattr(self, control))
                except adapter.InputError as exc:
                    e[control] = str(exc)

        # the ranges shared with the CLI and the files (physics.limits), then the dashboard's own rules
        rule("m_gd_min", lambda v: limits.check("m_gd", v, "m_γD min"))
        rule("m_gd_max", lambda v: limits.check("m_gd", v, "m_γD max"))
        if "m_gd_min" not in e and "m_gd_max" not in e and not (self.m_gd_max > self.m_gd_min * 1.01):
            e["m_gd_max"] = f"m_γD max must exceed m_γD min = {_fmt(self.m_gd_min)} GeV"
        rule("m_gd", lambda v: limits.check("m_gd", v, "m_γD"))
        rule("g", lambda v: limits.check("g", v, "g_aγγD"))
        fixed_a, ratio_a = self.alp_mode == "fixed", self.alp_mode == "ratio"
        rule("m_a", lambda v: limits.check("m_a", v, "m_a") if fixed_a else _errors.finite("m_a", v))
        rule("m_a_ratio", lambda v: _errors.in_range("m_a/m_γD", v, 0.0, 100.0, lo_open=True) if ratio_a
             else _errors.finite("m_a/m_γD", v))
        rule("alpha_d", lambda v: (limits.check("alpha_D", v, "α_D"), _errors.positive("α_D", v)))
        ratio_chi = self.m_chi_mode == "ratio"
        rule("m_chi_ratio", lambda v: _errors.in_range("m_χ/m_γD", v, 0.0, 10.0) if ratio_chi
             else _errors.finite("m_χ/m_γD", v))
        rule("m_chi", lambda v: _errors.finite("m_χ", v) if ratio_chi else limits.check("m_chi", v, "m_χ"))
        rule("cutoff", lambda v: limits.check("cutoff", v, "Λ"))
        # fair sharing: links and widgets may not ask for finer Monte Carlo precision than MIN_REL_ERROR
        rule("rel_error", lambda v: _errors.in_range("rel_error", v, fairshare.MIN_REL_ERROR,
                                                    limits.limit("rel_error").hi))

        # per-experiment numbers
        for exp_id in self.param.experiments.objects:
            s = self.settings.get(exp_id)
            if s is None:
                continue
            try:
                s.experiment()
            except adapter.InputError as exc:
                field = _settings_field(exc.parameter)
                e[f"exp.{exp_id}.{field}"] = f"{self.experiment_name(exp_id)}: {exc}"

        # kinematics of the current point
        mass_keys = ("m_gd", "m_a", "m_a_ratio", "m_gd_min", "m_gd_max")
        if not any(k in e for k in mass_keys):
            m_a_pt = float(self.m_a_of(self.m_gd))
            exps = self.selected_experiments()
            if exps:
                kin = max(adapter.kinematic_limit_gev(x) for x in exps)
                if m_a_pt + self.m_gd >= kin:
                    key = "m_a" if self.alp_mode == "fixed" and m_a_pt >= self.m_gd else "m_gd"
                    e[key] = (f"m_a + m_γD = {_fmt(m_a_pt + self.m_gd)} GeV is beyond the kinematic reach of the "
                              f"selected experiments (< {_fmt(kin)} GeV)")
                lo_a = float(np.min(self.m_a_of(np.array([self.m_gd_min]))))
                if self.alp_mode == "fixed" and lo_a + self.m_gd_min >= kin and "m_a" not in e:
                    e["m_a"] = (f"m_a = {_fmt(self.m_a)} GeV closes every channel of the selected experiments "
                                f"(m_a + m_γD < {_fmt(kin)} GeV needed)")
            if self.alp_mode == "fixed" and self.m_a + adapter.TABLE_MIN_MASS_GEV > adapter.TABLE_CAP_GEV \
                    and "m_a" not in e:
                e["m_a"] = f"m_a = {_fmt(self.m_a)} GeV: allowed < {adapter.TABLE_CAP_GEV:g} GeV"
        # EDM cut-off above every mass in the loop (using whichever masses are valid)
        if "cutoff" not in e:
            cands = [adapter.M_NEUTRON_GEV]
            if "m_gd_max" not in e:
                cands.append(float(self.m_gd_max))
                if not any(k in e for k in ("m_a", "m_a_ratio")):
                    cands.append(float(np.max(self.m_a_of(np.array([self.m_gd_max])))))
            if "m_gd" not in e:
                cands.append(float(self.m_gd))
            heaviest = max(c for c in cands if math.isfinite(c))
            if not self.cutoff > heaviest:
                e["cutoff"] = (f"Λ = {_fmt(self.cutoff)} GeV must exceed every mass in the loop "
                               f"(here up to {_fmt(heaviest)} GeV: m_γD, m_a, m_n)")
        # keep errors of the custom form until the next submission
        e.update({k: v for k, v in self.errors.items() if k.startswith("custom.")})
        if e != self.errors:
            self.errors = e
        if not self.blocking_errors():
            self.revision += 1
        return e

    def blocking_errors(self) -> dict:
        """Errors that stop the views from updating (those of the custom-experiment form do not)."""
        return {k: v for k, v in self.errors.items() if not k.startswith("custom.")}

    # ------------------------------------------------------------------------------ compute
    @staticmethod
    def executor_note() -> str:
        """Non-blocking note when the server's configured job executor is not (yet) in use."""
        return adapter.server_executor().note()

    @property
    def valid(self) -> bool:
        return not self.blocking_errors()

    # ------------------------------------------------------------------------------ derived inputs
    def mass_grid(self) -> np.ndarray:
        return np.geomspace(self.m_gd_min, self.m_gd_max, int(self.n_points))

    def m_a_of(self, m_gd):
        """ALP mass [GeV] for dark-photon masses ``m_gd`` in the current scenario (array, broadcast)."""
        m_gd = np.asarray(m_gd, dtype=float)
        if self.alp_mode == "light":
            return np.full_like(m_gd, adapter.M_A_LIGHT_GEV)
        if self.alp_mode == "degenerate":
            return m_gd.copy()
        if self.alp_mode == "ratio":
            return self.m_a_ratio * m_gd
        return np.full_like(m_gd, float(self.m_a))

    def m_chi_arg(self, m_gd=None):
        """m_χ argument for physics.reach: None for the default m_γD/3, else the value (array for ratios)."""
        if self.m_chi_mode == "ratio":
            if abs(self.m_chi_ratio - 1.0 / 3.0) < 1e-12:
                return None
            return None if m_gd is None else self.m_chi_ratio * np.asarray(m_gd, dtype=float)
        return float(self.m_chi)

    def edm_scenario(self) -> str:
        return "degenerate" if self.alp_mode == "degenerate" else "light-alp"

    # ------------------------------------------------------------------------------ tables
    def ensure_tables(self) -> dict:
        """Ask for the σ_V table of every selected experiment (never blocks on a computation)."""
        for exp in self.selected_experiments():
            cfg = adapter.table_config(exp)
            cur = self._tables.get(exp.id)
            key = adapter.table_key(cfg, self.method, self.rel_error, 1)
            if cur is not None and cur.key == key:
                continue
            if cur is not None and not cur.ready:
                adapter.cancel_table(cur)
            if key in self._cancelled:
                self._tables[exp.id] = adapter.TableStatus(key, "cancelled")
                continue
            try:
                self._tables[exp.id] = adapter.request_table(cfg, self.method, self.rel_error, 1,
                                                             session=self._session)
            except adapter.InputError as exc:
                self._tables[exp.id] = adapter.TableStatus(key, "failed", error=str(exc))
            except Exception as exc:
                log.exception("table request failed for %s", exp.id)
                self._tables[exp.id] = adapter.TableStatus(key, "failed", error=f"{type(exc).__name__}: {exc}")
        return {k: self._tables[k] for k in self.experiments if k in self._tables}

    def poll(self) -> bool:
        """Refresh running jobs; True if something the views show has changed (new points or a finished job)."""
        changed = False
        for exp_id, st in list(self._tables.items()):
            if st.source == "queued":
                new = self._request_queued(exp_id, st)
                if new is not st:
                    changed = True
                    self._tables[exp_id] = new
                continue
            if st.job is None or st.ready or st.source in ("failed", "cancelled"):
                continue
            new = adapter.poll_table(st)
            if new.ready or new.source != st.source or new.progress != st.progress:
                changed = True
            self._tables[exp_id] = new
        if changed:
            self.revision += 1
        return changed

    def _request_queued(self, exp_id: str, st):
        """Ask again for a table held back by the fair-sharing caps (the same status if it must still wait)."""
        exp = next((x for x in self.selected_experiments() if x.id == exp_id), None)
        if exp is None:
            return st
        cfg = adapter.table_config(exp)
        if adapter.table_key(cfg, self.method, self.rel_error, 1) != st.key:
            return st
        try:
            new = adapter.request_table(cfg, self.method, self.rel_error, 1, session=self._session)
        except adapter.InputError as exc:
            return adapter.TableStatus(st.key, "failed", error=str(exc))
        except Exception as exc:
            log.exception("table request failed for %s", exp_id)
            return adapter.TableStatus(st.key, "failed", error=f"{type(exc).__name__}: {exc}")
        return st if (new.source == "queued" and new.note == st.note) else new

    def pending(self) -> list[str]:
        """Selected experiments whose table is computing or queued (waiting for a fair-sharing slot)."""
        return [k for k, st in self._tables.items() if k in self.experiments and not st.ready
                and (st.source == "queued" or (st.job is not None and st.source == "compute"))]

    def release(self) -> None:
        """The session ended: cancel this session's handles (shared computations continue for others)."""
        for st in self._tables.values():
            adapter.cancel_table(st)

    def cancel_jobs(self) -> list[str]:
        """Stop waiting for the running tables of this session (the job is cancelled unless another session
        also waits for it)."""
        out = []
        for exp_id in self.pending():
            st = self._tables[exp_id]
            adapter.cancel_table(st)
            self._cancelled.add(st.key)
            self._tables[exp_id] = adapter.TableStatus(st.key, "cancelled")
            out.append(exp_id)
        if out:
            self.revision += 1
        return out

    def retry(self) -> None:
        """Forget cancelled/failed tables so they are requested again."""
        self._cancelled.clear()
        for k in [k for k, st in self._tables.items() if st.source in ("failed", "cancelled")]:
            del self._tables[k]
        self.ensure_tables()
        self.revision += 1

    def table_for(self, exp_id: str):
        """(table or partial table or None, TableStatus or None)."""
        st = self._tables.get(exp_id)
        if st is None:
            return None, None
        if st.ready:
            return st.table, st
        return adapter.partial_table(st), st

    def status_rows(self) -> list[dict]:
        """One row per selected experiment: source of its table, progress, error."""
        rows = []
        for exp_id in self.experiments:
            st = self._tables.get(exp_id)
            if st is None:
                src, prog, err = ("invalid settings" if exp_id in self.settings else "unknown"), (0, 0), ""
            else:
                src, prog, err = st.source, st.progress, st.error
                if st.ready and st.computed:
                    src = "computed (now cached)"
                elif st.source == "compute":
                    src = "computing"
                elif st.source == "queued":
                    err = st.note
            rows.append({"id": exp_id, "name": self.experiment_name(exp_id), "source": src,
                         "done": prog[0], "total": prog[1], "error": err, "method": self.method})
        return rows

    # ------------------------------------------------------------------------------ view data
    def _memo_get(self, key, fn):
        if key in self._memo:
            self._memo.move_to_end(key)
            return self._memo[key]
        val = fn()
        self._memo[key] = val
        while len(self._memo) > 48:
            self._memo.popitem(last=False)
        return val

    def _physics_key(self):
        return (self.m_gd_min, self.m_gd_max, self.n_points, self.alp_mode, self.m_a, self.m_a_ratio, self.alpha_d,
                self.m_chi_mode, self.m_chi_ratio, self.m_chi, self.method)

    def _table_id(self, table, st):
        return (st.key if st is not None else None, len(table.points) if table is not None else 0)

    def reach_for(self, exp) -> dict | None:
        """physics reach dict for one experiment on the current grid (memoised per session)."""
        table, st = self.table_for(exp.id)
        if table is None:
            return None
        grid = self.mass_grid()
        key = ("reach", _exp_key(exp), self._physics_key(), self._table_id(table, st))
        return self._memo_get(key, lambda: adapter.reach(exp, grid, self.m_a_of(grid), self.alpha_d,
                                                          self.m_chi_arg(grid), self.method, table))

    def exclusion_data(self) -> dict:
        """Curves of the exclusion plane: per experiment the 90% CL reach of each enabled channel and their
        total; other constraints; the current point."""
        self.ensure_tables()
        grid = self.mass_grid()
        m_a = self.m_a_of(grid)
        curves, assumptions = [], {}
        for exp in self.selected_experiments():
            r = self.reach_for(exp)
            if r is None:
                continue
            g90 = r["g90_GeV-1"]
            partial = not self._tables[exp.id].ready
            assumptions[exp.id] = r.get("assumptions", {})
            enabled = [c for c in self.channels if c in g90]
            if self.show_channel_curves:
                # closed (all-NaN) channels are kept: an unchanged set of curves is cheap to redraw
                for ch in enabled:
                    curves.append({"exp_id": exp.id, "experiment": exp.name, "channel": ch, "m": grid,
                                   "g": np.asarray(g90[ch], dtype=float), "m_a": m_a, "partial": partial,
                                   "color_index": self.color_index(exp.id)})
            total = combine_channels(g90, enabled, all_enabled=set(enabled) == set(adapter.CHANNELS))
            if total.size:
                curves.append({"exp_id": exp.id, "experiment": exp.name, "channel": "total", "m": grid, "g": total,
                               "m_a": m_a, "partial": partial, "color_index": self.color_index(exp.id)})
        cons = self._memo_get(("constraints", tuple(self.overlays), self._physics_key()),
                              lambda: adapter.constraints(self.overlays, grid, m_a))
        return {"curves": curves, "constraints": cons, "point": self.point(), "assumptions": assumptions,
                "channels": list(self.channels), "method": self.method}

    def point(self) -> dict:
        return {"m_gd": float(self.m_gd), "g": float(self.g), "m_a": float(self.m_a_of(self.m_gd))}

    def yields_data(self) -> dict:
        """Expected events at the current g vs m_γD, per experiment and enabled channel (paper Fig. 3)."""
        self.ensure_tables()
        grid = self.mass_grid()
        curves, n_up = [], {}
        for exp in self.selected_experiments():
            table, st = self.table_for(exp.id)
            if table is None:
                continue
            key = ("yields", _exp_key(exp), self._physics_key(), self._table_id(table, st), self.g)
            ys = self._memo_get(key, lambda exp=exp, table=table: adapter.event_yields(
                exp, grid, self.g, self.m_a_of(grid), self.alpha_d, self.m_chi_arg(grid), self.method, table))
            n_up[exp.id] = adapter.n_upper(exp)
            for ch in self.channels:
                y = ys.get(ch)
                if y is not None and np.any(np.isfinite(y) & (y > 0)):
                    curves.append({"exp_id": exp.id, "experiment": exp.name, "channel": ch, "m": grid,
                                   "m_a": self.m_a_of(grid), "n": np.asarray(y, dtype=float)})
        return {"curves": curves, "n_up": n_up, "g": float(self.g), "point": self.point(), "method": self.method}

    def edm_data(self) -> dict:
        """EDM bounds on |g_aγγD g̃_af g_γDf| vs m_γD for e, μ, n at Λ in both paper scenarios (Fig. 6), and the
        Table 2 numbers at the current m_γD for Λ = 1, 10 TeV and the chosen Λ."""
        grid = self.mass_grid()
        curves = []
        for fermion in ("e", "mu", "n"):
            for sc in adapter.EDM_SCENARIOS:
                key = ("edm", fermion, sc, float(self.cutoff), self.m_gd_min, self.m_gd_max, self.n_points)
                b = self._memo_get(key, lambda f=fermion, s=sc: adapter.edm_curve(f, self.cutoff, s, grid))
                curves.append({"fermion": fermion, "scenario": sc, "m": grid, "bound": b,
                               "m_a_light": adapter.M_A_LIGHT_GEV, "current": sc == self.edm_scenario()})
        cutoffs = sorted({1000.0, 10000.0, float(self.cutoff)})
        m_ref = float(self.m_gd)
        rows = []
        if all(c > max(m_ref, adapter.M_NEUTRON_GEV) for c in cutoffs):
            rows = self._memo_get(("edmtable", tuple(cutoffs), m_ref), lambda: adapter.edm_table(cutoffs, m_ref))
        return {"curves": curves, "table": rows, "cutoff": float(self.cutoff), "m_gd_ref": m_ref,
                "limits": adapter.EDM_LIMITS}

    def spectrum_data(self) -> dict:
        """dσ/dx of e N → e N a γD (brem channel) at the current (m_a, m_γD, g) over the whole x range, per σ_V
        table (experiments on the same beam and target share it, whatever their cuts), and each experiment's
        cut: ``cuts`` = [{exp_id, experiment, x_min, x_max, color_index, fraction}] with ``fraction`` the
        share of the brem cross section inside the window."""
        self.ensure_tables()
        pt = self.point()
        out, notes, by_table, cuts = [], [], {}, []
        for exp in self.selected_experiments():
            table, st = self.table_for(exp.id)
            if table is None:
                continue
            m_lo, m_hi = float(table.masses_gev[0]), float(table.masses_gev[-1])
            if not (m_lo <= pt["m_a"] + pt["m_gd"] < m_hi):
                notes.append(f"{exp.name}: m_a + m_γD = {_fmt(pt['m_a'] + pt['m_gd'])} GeV outside its table "
                             f"[{_fmt(m_lo)}, {_fmt(m_hi)}] GeV")
                continue
            tid = self._table_id(table, st)
            cut = {"exp_id": exp.id, "experiment": exp.name, "x_min": float(exp.x_min), "x_max": float(exp.x_max),
                   "color_index": self.color_index(exp.id), "beam_energy_gev": float(exp.beam_energy_gev)}
            fkey = ("specfrac", tid, pt["m_a"], pt["m_gd"], self.method, cut["x_min"], cut["x_max"])
            cut["fraction"] = self._memo_get(fkey, lambda table=table, exp=exp: adapter.window_fraction(
                table, pt["m_a"], pt["m_gd"], exp))
            cuts.append(cut)
            if tid in by_table:  # same beam/target: dσ/dx per atom is identical (neither EOT nor the cut enters)
                entry = by_table[tid]
                entry["experiment"] += f", {exp.name}"
                entry["exp_ids"].append(exp.id)
                continue
            key = ("spec", tid, pt["m_a"], pt["m_gd"], pt["g"], self.method)
            edges, dsdx = self._memo_get(key, lambda table=table: adapter.spectrum(table, pt["m_a"], pt["m_gd"],
                                                                                  pt["g"]))
            entry = {"exp_id": exp.id, "exp_ids": [exp.id], "experiment": exp.name, "x_edges": np.asarray(edges),
                     "color_index": self.color_index(exp.id),
                     "dsdx_pb": np.asarray(dsdx), "beam_energy_gev": exp.beam_energy_gev, "target": exp.target}
            by_table[tid] = entry
            out.append(entry)
        return {"spectra": out, "cuts": cuts, "point": pt, "notes": notes, "method": self.method}

    def view_data(self, view: str | None = None) -> dict:
        view = view or self.view
        return {"exclusion": self.exclusion_data, "yields": self.yields_data, "edm": self.edm_data,
                "spectrum": self.spectrum_data}[view]()

    # ------------------------------------------------------------------------------ export
    def inputs_dict(self) -> dict:
        """Every input of the session (for export headers)."""
        d = {k: getattr(self, k) for k in self.INPUTS if k not in ("overrides", "custom")}
        d["alp_mode"] = f"{self.alp_mode} ({ALP_MODES[self.alp_mode]})"
        d["m_a_at_point_GeV"] = float(self.m_a_of(self.m_gd))
        d["m_chi"] = (f"{self.m_chi_ratio:.6g} × m_γD" if self.m_chi_mode == "ratio" else f"{self.m_chi:.6g} GeV")
        d["edm_scenario"] = self.edm_scenario()
        return d

    def header_lines(self, view: str) -> list[str]:
        """Comment header for CSV exports: every input, every experiment, table sources, versions."""
        v = adapter.versions()
        lines = [f"Dark Axion Portal Explorer — {VIEW_TITLES[view]} export",
                 f"date: {_dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()}",
                 f"versions: package {v['package']}, physics {v['physics_version']}, schema {v['schema_version']}",
                 "units: masses GeV, couplings GeV^-1, cross sections pb per atom"]
        for k, val in self.inputs_dict().items():
            lines.append(f"input {k} = {val}")
        for exp in self.selected_experiments():
            lines.append(
                f"experiment {exp.id}: name={exp.name}; beam_energy_GeV={exp.beam_energy_gev:g}; target={exp.target}; "
                f"thickness_X0={exp.thickness_x0:g}; x_min={exp.x_min:g}; x_max={exp.x_max:g}; EOT={exp.eot:g}; "
                f"background={exp.background:g}; observed={exp.observed}; "
                f"N_V_override={_nv_text(exp.meson_yields)}; status={exp.status}; "
                f"reference={exp.reference}")
            st = self._tables.get(exp.id)
            if st is not None:
                prov = getattr(st.table, "provenance", {}) if st.table is not None else {}
                lines.append(f"table {exp.id}: method={self.method}; source={st.source}; "
                             f"points={st.progress[0]}/{st.progress[1]}; provenance={_short(prov)}")
        return lines


def combine_channels(g90: dict, enabled: list[str], all_enabled: bool) -> np.ndarray:
    """Total reach of the enabled channels.

    All channels on: physics.reach's own ``total``. Otherwise the yields of the enabled channels add; with
    N ∝ g² (the scaling physics.reach uses, g_90 = g_ref sqrt(N_up/N(g_ref))) that is
    g_tot = (Σ_c g_c^-2)^(-1/2) over channels with a finite limit.
    """
    if all_enabled and "total" in g90:
        return np.asarray(g90["total"], dtype=float)
    acc = None
    for ch in enabled:
        y = np.asarray(g90.get(ch), dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = np.where(np.isfinite(y) & (y > 0), 1.0 / (y * y), 0.0)
        acc = inv if acc is None else acc + inv
    if acc is None:
        return np.array([])
    with np.errstate(divide="ignore"):
        return np.where(acc > 0, 1.0 / np.sqrt(acc), np.nan)


def _settings_field(parameter: str) -> str:
    """ExperimentSettings parameter behind an InputError of Experiment / physics.meson_yields."""
    p = str(parameter)
    if p in STAT_FIELDS:
        return p
    if p == "x_max":                 # the window [x_min, x_max] is set by the cut control
        return "x_min"
    if p.startswith("meson_yields.") and p.split(".", 1)[1] in NV_PARAMS:
        return NV_PARAMS[p.split(".", 1)[1]]
    return "eot"


def _nv_text(meson_yields) -> str:
    """N_V overrides for the export header ("none (model)" if there are none)."""
    if not meson_yields:
        return "none (model)"
    return ", ".join(f"{m}:{float(v):.6g}" for m, v in meson_yields.items())


def _exp_key(exp) -> str:
    import dataclasses
    import json

    return json.dumps(dataclasses.asdict(exp), sort_keys=True, default=str)


def _coerce_number(v):
    if isinstance(v, (int, float)):
        return v
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def _custom_field(parameter: str) -> str:
    p = str(parameter)
    for f in CustomExperimentForm.FIELDS:
        if p == f or p.endswith(f):
            return f
    if p in ("target", "material"):
        return "target"
    if p in ("beam_energy", "mass"):
        return "beam_energy_gev"
    if p == "x_max":
        return "x_min"
    return "label"


def _short(d, limit=400) -> str:
    s = ", ".join(f"{k}={v}" for k, v in (d or {}).items())
    return s if len(s) <= limit else s[:limit] + "…"
