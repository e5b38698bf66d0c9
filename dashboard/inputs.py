"""Inputs — the one job of this module: every value a user (widget, typed text or shared link) can set in a
session, declared once as ``param`` parameters.

Ranges come from the one table of allowed ranges, :data:`physics.limits.LIMITS` (the CLI and the input
files use the same entries): a parameter's ``bounds`` are its LIMITS entry (narrowed where the dashboard is
stricter, e.g. the finest Monte Carlo precision of :mod:`dashboard.fairshare`), ``softbounds`` the range a
slider offers. So a value outside the range can never be set: :meth:`Offers.offer` turns it (or text that is
not a number) into a message in ``refused`` (field → one line), shown next to the control, and the
parameter keeps its last good value. Checks that involve several fields live in :mod:`dashboard.checks`.

Plain ``param`` objects, no Panel: one :class:`Inputs` per browser session.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import param

from physics import limits
from physics.errors import InputError
from physics.xsec.methods import DEFAULT_METHOD, METHODS, SHORT_LABELS

from . import adapter, fairshare, style

# ------------------------------------------------------------------------------------ choices and names
ALP_MODES = {"light": "m_a ≪ m_γD (m_a = 1 keV)", "degenerate": "m_a = m_γD", "ratio": "m_a = r · m_γD",
             "fixed": "fixed m_a"}
M_CHI_MODES = {"ratio": "m_χ = r_χ · m_γD", "fixed": "fixed m_χ"}
VIEWS = ("exclusion", "yields", "edm", "spectrum", "map")
VIEW_TITLES = {"exclusion": "Exclusion plane", "yields": "Event yields", "edm": "EDM bounds",
               "spectrum": "Missing-energy spectrum", "map": "Map (m_γD, m_a)"}
#: the map's "experiment" meaning the best (lowest) g₉₀ of the selected experiments at every point
MAP_COMBINED = "combined"
MAP_COMBINED_LABEL = "best of the selected experiments"
CHANNEL_OPTIONS = {style.CHANNEL_LABELS[c]: c for c in adapter.CHANNELS}
OVERLAY_OPTIONS = {label: key for key, label in adapter.CONSTRAINT_LABELS.items()}
METHOD_OPTIONS = {SHORT_LABELS[m]: m for m in METHODS}
LOOK_OPTIONS = {"screen": "screen", "presentation (large fonts, thick lines)": "presentation"}
EXPORT_SIZE_OPTIONS = {"slide 16:9": "slide", "single column": "single", "double column": "double"}

#: Parameters synced to the URL (parameter → query name). Names and formats of older links keep working.
URL_PARAMS = {
    "m_gd_min": "mmin", "m_gd_max": "mmax", "m_gd": "mgd", "g": "g", "alp_mode": "alp", "m_a": "ma",
    "m_a_ratio": "ra", "cutoff": "lambda", "alpha_d": "alphaD", "m_chi_mode": "chi", "m_chi_ratio": "rchi",
    "m_chi": "mchi", "experiments": "exp", "channels": "ch", "method": "method", "overlays": "ov",
    "view": "view", "show_channel_curves": "chcurves", "overrides": "set", "custom": "custom",
    "rel_error": "relerr", "presentation": "present", "axis_ranges": "ranges",
    "bands": "bands", "edm_both_cutoffs": "edm2",
    "map_experiment": "mapexp", "map_m_gd_min": "mapxmin", "map_m_gd_max": "mapxmax", "map_m_a_min": "mapymin",
    "map_m_a_max": "mapymax", "map_n": "mapn",
}

#: custom experiments per session (form and links); see dashboard.fairshare
MAX_CUSTOM = fairshare.MAX_CUSTOM_EXPERIMENTS
#: longest custom-experiment label [characters] (the shared limit of physics.limits for display labels)
MAX_LABEL_CHARS = limits.MAX_LABEL_CHARS
#: per-meson N_V override parameters of ExperimentSettings (meson key → parameter name)
NV_PARAMS = {m: f"nv_{m}" for m in adapter.MESON_KEYS}
#: per-experiment numbers of ExperimentSettings that override the base experiment's (x_min: the cut)
STAT_FIELDS = ("eot", "background", "observed", "x_min")
#: longest echo of typed text in a message [characters]
ECHO_CHARS = 60

#: id of a class-level parameter made by number() → the Limit its bounds were made from (for messages)
_FIELD_LIMITS: dict[int, limits.Limit] = {}
#: units as the labels show them
UNIT_LABELS = {"GeV^-1": "GeV⁻¹", "X0": "X₀"}


def _limit(key: str, **narrow) -> limits.Limit:
    """The LIMITS entry ``key``, optionally narrowed by the dashboard (``lo``, ``hi``, ``lo_open``…)."""
    return dataclasses.replace(limits.LIMITS[key], **narrow) if narrow else limits.LIMITS[key]


def number(lim: limits.Limit, default, label: str, doc: str, *, soft=None, optional: bool = False,
           integer: bool = False) -> param.Parameter:
    """A parameter whose bounds are the Limit ``lim``; ``soft`` = the slider's range (default: the bounds)."""
    cls = param.Integer if (integer or lim.integer) else param.Number
    unit = f" [{UNIT_LABELS.get(lim.unit, lim.unit)}]" if lim.unit and lim.unit not in ("events", "electrons", "mesons") else ""
    p = cls(default=default, bounds=(lim.lo if not (integer or lim.integer) else int(lim.lo),
                                     lim.hi if not (integer or lim.integer) else int(lim.hi)),
            inclusive_bounds=(not lim.lo_open, not lim.hi_open), softbounds=soft, allow_None=optional,
            label=label + unit, doc=f"{doc}; allowed {lim.allowed}")
    _FIELD_LIMITS[id(p)] = lim     # read back by field_limit() (class-level parameters are never copied)
    return p


def field_limit(obj: param.Parameterized, field: str) -> limits.Limit:
    """The allowed range of a numeric field (its parameter's bounds), as a :class:`physics.limits.Limit`."""
    lim = _FIELD_LIMITS.get(id(type(obj).param[field]))
    if lim is None:
        p = obj.param[field]
        lo, hi = p.bounds
        inc = p.inclusive_bounds
        lim = limits.Limit(field, "", float(lo), float(hi), "", lo_open=not inc[0], hi_open=not inc[1],
                           integer=isinstance(p, param.Integer))
    return lim


def parse_number(text) -> float:
    """Typed text as a float ('−', '×10^' accepted); ValueError if it is not a number. 'nan'/'inf' parse (and
    are refused by the range)."""
    t = str(text).strip().replace("−", "-").replace("×10^", "e").replace("x10^", "e").replace(" ", "")
    if not t:
        raise ValueError("empty")
    return float(t)


def fmt_number(v) -> str:
    """A number as the text boxes show it ("" for None)."""
    if v is None:
        return ""
    try:
        x = float(v)
    except (TypeError, ValueError):
        return str(v)
    if not math.isfinite(x):
        return str(x)
    if x == int(x) and abs(x) < 1e6:
        return str(int(x))
    return f"{x:.4g}"


class Offers(param.Parameterized):
    """Base of the input classes: values are *offered* (typed text, slider, link) and either set or refused.

    ``refused`` maps a field to the one-line message of the last refused offer; it is cleared for a field as
    soon as the field holds an accepted value again (whatever set it: text, slider, reset, link).
    """

    refused = param.Dict(default={}, precedence=-1, doc="field → message of a refused value (typed/link)")

    def __init__(self, **params):
        super().__init__(**params)
        self.param.watch(self._accepted, [p for p in self.param if p not in ("name", "refused")])

    def _accepted(self, *events):
        names = {e.name for e in events}
        if names & set(self.refused):
            self.refused = {k: v for k, v in self.refused.items() if k not in names}

    def _refuse(self, field: str, message: str) -> None:
        self.refused = {**self.refused, field: message}

    def offer(self, field: str, value: Any, label: str | None = None) -> bool:
        """Set ``field`` to ``value`` (a number or typed text; "" = None for optional fields) if it is allowed;
        otherwise keep the old value and record the message in ``refused``. Returns True if set."""
        p = self.param[field]
        name = label or field
        if not isinstance(p, param.Number):             # text and choices: the parameter's own check
            try:
                setattr(self, field, value)
            except ValueError:
                self._refuse(field, f"{name}: not an allowed value")
                return False
            return True
        if isinstance(value, str):
            if not value.strip() and p.allow_None:
                value = None
            else:
                try:
                    value = parse_number(value)
                except ValueError:
                    shown = value if len(value) <= ECHO_CHARS else value[: ECHO_CHARS - 1] + "…"
                    self._refuse(field, f"'{shown}' is not a number")
                    return False
        if value is not None:
            try:
                value = field_limit(self, field).check(value, name)
            except InputError as exc:
                self._refuse(field, str(exc))
                return False
        if getattr(self, field) == value:
            if field in self.refused:
                self.refused = {k: v for k, v in self.refused.items() if k != field}
            return True
        setattr(self, field, value)
        return True


# ------------------------------------------------------------------------------------ experiments
def _coerce_number(v):
    if isinstance(v, bool):
        return float("nan")
    if isinstance(v, (int, float)):
        return v
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def _finite(x) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


class ExperimentSettings(Offers):
    """The per-session numbers of one experiment — EOT, expected background, observed events, the
    missing-energy cut x_min = E_miss/E0 — and optional overrides of its vector-meson yields N_V (None: the
    documented model of physics.signal.meson_yields). ``base`` is the registry (or custom) experiment."""

    eot = number(_limit("eot"), 1e12, "EOT", "electrons on target", soft=(1e9, 1e18))
    background = number(_limit("background"), 0.0, "expected background", "expected background events")
    observed = number(_limit("observed"), 0, "observed events", "observed events", integer=True)
    x_min = number(_limit("x_min"), 0.5, "cut x_min = E_miss/E₀", "missing-energy cut x_min = E_miss/E0",
                   soft=(0.0, 0.99))
    nv_rho = number(_limit("meson_yield"), None, "N_V ρ", "N_V(ρ) override (blank: model)", optional=True)
    nv_omega = number(_limit("meson_yield"), None, "N_V ω", "N_V(ω) override (blank: model)", optional=True)
    nv_phi = number(_limit("meson_yield"), None, "N_V φ", "N_V(φ) override (blank: model)", optional=True)
    nv_jpsi = number(_limit("meson_yield"), None, "N_V J/ψ", "N_V(J/ψ) override (blank: model)", optional=True)
    nv_upsilon = number(_limit("meson_yield"), None, "N_V Υ(1S)", "N_V(Υ) override (blank: model)", optional=True)

    def __init__(self, base, **params):
        self.base = base
        super().__init__(name=base.id, **params)
        self.apply_overrides({})

    def _base_nv(self, meson):
        v = (self.base.meson_yields or {}).get(meson)
        return None if v is None else _coerce_number(v)

    @property
    def exp_id(self) -> str:
        return self.base.id

    @property
    def e_miss_min_gev(self) -> float:
        """The cut as a missing-energy threshold E_miss ≥ x_min E0 [GeV]."""
        return float(self.x_min) * float(self.base.beam_energy_gev)

    def meson_overrides(self) -> dict:
        return {m: getattr(self, p) for m, p in NV_PARAMS.items() if getattr(self, p) is not None}

    def model_nv(self) -> dict:
        """meson → N_V of the documented model at this session's EOT and cut ({} if not computable)."""
        try:
            return adapter.model_meson_yields(self.base.replace(eot=self.eot, x_min=self.x_min))
        except (InputError, TypeError):
            return {}

    def experiment(self):
        """The Experiment with this session's numbers (raises InputError naming the field physics refuses)."""
        exp = self.base.replace(eot=self.eot, background=self.background, observed=int(self.observed),
                                x_min=self.x_min, meson_yields=self.meson_overrides())
        adapter.validate_meson_yields(exp)
        adapter.n_upper(exp)
        return exp

    def overrides(self) -> dict:
        """Numbers differing from the base experiment (for the URL); N_V overrides under "meson_yields"."""
        out = {k: getattr(self, k) for k in STAT_FIELDS if float(getattr(self, k)) != float(getattr(self.base, k))}
        nv = {}
        for m, p in NV_PARAMS.items():
            v, b = getattr(self, p), self._base_nv(m)
            if v != b:
                nv[m] = v
        if nv:
            out["meson_yields"] = nv
        return out

    def apply_overrides(self, ov: dict) -> None:
        """Offer the numbers of an ``overrides()``-style dict (missing entries: the base experiment's); refused
        values (e.g. a link's background of 1e30) are reported in ``refused``."""
        ov = ov if isinstance(ov, dict) else {}
        nv = ov.get("meson_yields") or {}
        nv = nv if isinstance(nv, dict) else {}
        wanted = {k: _coerce_number(ov.get(k, getattr(self.base, k))) for k in STAT_FIELDS}
        for m, p in NV_PARAMS.items():
            v = nv[m] if m in nv else self._base_nv(m)
            wanted[p] = None if v is None else _coerce_number(v)
        ok = {}
        for k, v in wanted.items():
            try:
                ok[k] = v if v is None else field_limit(self, k).check(v, k)
            except InputError as exc:
                self._refuse(k, f"{self.base.name}: {exc}")
        self.param.update(**ok)


class CustomExperimentForm(Offers):
    """The "custom experiment" form: a new beam/target setup whose σ_V table is computed in the background."""

    label = param.String(default="", label="name (optional)",
                         doc="name shown in legends (empty: made from target and beam energy)")
    beam_energy_gev = number(_limit("beam_energy"), 50.0, "beam energy", "beam energy E0", soft=(1.0, 1000.0))
    target = param.Selector(default="W", objects=adapter.materials(), label="target material")
    thickness_x0 = number(_limit("thickness_x0"), 1.0, "thickness", "target thickness L_T")
    x_min = number(_limit("x_min"), 0.5, "x_min = E_miss/E₀ cut", "missing-energy cut")
    eot = number(_limit("eot"), 1e12, "EOT", "electrons on target")
    background = number(_limit("background"), 0.0, "expected background", "expected background events")
    observed = number(_limit("observed"), 0, "observed events", "observed events", integer=True)
    lepton = param.Selector(default="e", objects={f"{style.BEAM_LABELS[k]} beam": k for k in limits.LEPTONS},
                            label="beam lepton")

    FIELDS = ("label", "beam_energy_gev", "target", "thickness_x0", "x_min", "eot", "background", "observed",
              "lepton")

    def spec(self) -> dict:
        return {k: getattr(self, k) for k in self.FIELDS}

    @staticmethod
    def build(spec: dict, exp_id: str):
        """Validated Experiment from a spec (raises InputError with the offending field)."""
        obs = spec.get("observed", 0)
        if _finite(obs) and not isinstance(obs, bool) and float(obs) == int(float(obs)):
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
            reference="custom experiment defined in the dashboard", lepton=spec.get("lepton", "e"))
        adapter.validate_experiment_config(exp)
        adapter.n_upper(exp)
        return exp


def same_setup(a: dict, b: dict) -> bool:
    """True if two custom specs describe the same experiment (every field equal; labels compared stripped)."""
    for k in CustomExperimentForm.FIELDS:
        x, y = a.get(k), b.get(k)
        if k == "lepton":                               # specs of older links have no lepton: an electron beam
            x, y = x or "e", y or "e"
        if k == "label":
            if str(x or "").strip() != str(y or "").strip():
                return False
        elif x != y and not (_finite(x) and _finite(y) and float(x) == float(y)):
            return False
    return True


# ------------------------------------------------------------------------------------ the session's inputs
DEFAULT_EXPERIMENTS = ["na64e-2023", "na64e-projected", "ldmx-phase2"]


class Inputs(Offers):
    """All inputs of one session: masses, couplings, scenarios, experiments and their numbers, custom
    experiments, channels, method, overlays, the shown view and how figures look. ``settings`` holds one
    :class:`ExperimentSettings` per selectable experiment, mirrored two-way with ``overrides`` (the URL form)."""

    # -- masses and coupling --------------------------------------------------------------------------
    m_gd_min = number(_limit("m_gd"), 1e-3, "m_γD axis from", "lower end of the m_γD axis", soft=(1e-3, 5.0))
    m_gd_max = number(_limit("m_gd"), 5.0, "m_γD axis to", "upper end of the m_γD axis", soft=(2e-3, 10.0))
    n_points = param.Integer(default=100, bounds=(10, 400), label="masses per curve", precedence=-1)
    m_gd = number(_limit("m_gd"), 0.1, "m_γD (current point)", "dark-photon mass of the marker, yields, spectrum")
    g = number(_limit("g"), 1e-3, "g_aγγD (current point)", "coupling of the marker, yields, spectrum",
               soft=(1e-7, 10.0))
    alp_mode = param.Selector(default="light", objects={v: k for k, v in ALP_MODES.items()},
                              label="ALP mass scenario")
    m_a = number(_limit("m_a"), 1e-2, "m_a (fixed)", "ALP mass in the 'fixed m_a' scenario", soft=(1e-6, 10.0))
    m_a_ratio = number(limits.Limit("m_a/m_γD", "", 0.0, 100.0, "dashboard range", lo_open=True), 0.5,
                       "r = m_a/m_γD", "ALP to dark-photon mass ratio in the 'ratio' scenario", soft=(1e-3, 100.0))
    # -- dark sector -----------------------------------------------------------------------------------
    alpha_d = number(_limit("alpha_D", lo_open=True), 0.1, "α_D", "dark coupling (> 0: γD decays invisibly)",
                     soft=(1e-4, 1.0))
    m_chi_mode = param.Selector(default="ratio", objects={v: k for k, v in M_CHI_MODES.items()},
                                label="dark-fermion mass")
    m_chi_ratio = number(limits.Limit("m_χ/m_γD", "", 0.0, 10.0, "dashboard range"), 1.0 / 3.0,
                         "r_χ = m_χ/m_γD", "dark-fermion to dark-photon mass ratio", soft=(1e-3, 10.0))
    m_chi = number(_limit("m_chi"), 0.01, "m_χ (fixed)", "fixed dark-fermion mass", soft=(1e-4, 10.0))
    # -- EDM -------------------------------------------------------------------------------------------
    cutoff = number(_limit("cutoff"), 1000.0, "cut-off Λ", "UV cut-off of the EDM loop", soft=(10.0, 1e5))
    # -- experiments, channels, method, overlays -------------------------------------------------------
    experiments = param.ListSelector(default=list(DEFAULT_EXPERIMENTS), objects=[], label="experiments")
    channels = param.ListSelector(default=list(adapter.CHANNELS), objects=CHANNEL_OPTIONS, label="channels")
    # off by default: the totals, as in the paper's Fig. 4 (and half the plot's Bokeh models at session start)
    show_channel_curves = param.Boolean(default=False, label="draw single channels (thin lines)")
    method = param.Selector(default=DEFAULT_METHOD, objects=METHOD_OPTIONS, label="σ_V method")
    rel_error = number(_limit("rel_error", lo=fairshare.MIN_REL_ERROR), 0.01,
                       "MC precision, relative (0.01 = 1%)",
                       "requested relative Monte Carlo error per point of new exact tables", soft=(1e-3, 0.3))
    overlays = param.ListSelector(default=list(adapter.CONSTRAINT_KEYS), objects=OVERLAY_OPTIONS,
                                  label="other constraints")
    view = param.Selector(default="exclusion", objects=list(VIEWS))
    bands = param.Boolean(default=False, label="uncertainty bands on reach curves",
                          doc="band = envelope of the σ_V MC error, meson model and form-factor variations "
                              "(docs/physics.md#uncertainty-bands)")
    edm_both_cutoffs = param.Boolean(default=False, label="EDM: draw both paper cut-offs Λ = 1 and 10 TeV (Fig. 6)")
    # -- the (m_γD, m_a) map ---------------------------------------------------------------------------
    map_experiment = param.Selector(default=MAP_COMBINED, objects={MAP_COMBINED_LABEL: MAP_COMBINED},
                                    label="map: experiment")
    map_m_gd_min = number(_limit("m_gd"), 1e-3, "map m_γD from", "lower end of the map's m_γD axis",
                          soft=(1e-3, 10.0))
    map_m_gd_max = number(_limit("m_gd"), 5.0, "map m_γD to", "upper end of the map's m_γD axis", soft=(1e-3, 10.0))
    map_m_a_min = number(_limit("m_a", lo=1e-6), 1e-6, "map m_a from",
                         "lower end of the map's m_a axis (log axis: > 0)", soft=(1e-6, 10.0))
    map_m_a_max = number(_limit("m_a", lo=1e-6), 5.0, "map m_a to", "upper end of the map's m_a axis",
                         soft=(1e-6, 10.0))
    map_n = number(limits.Limit("map points per axis", "", 10, 200, "grid of the map (n × n points)", integer=True),
                   100, "map points per axis", "grid points per axis of the map (n × n)", integer=True)
    # -- how the figures look --------------------------------------------------------------------------
    presentation = param.Boolean(default=False, label="presentation mode (no sidebar, large fonts)")
    axis_ranges = param.Dict(default={}, doc="view → {'x': [lo, hi], 'y': [lo, hi]} chosen by the user "
                                             "(missing: the view's default)")
    export_size = param.Selector(default="single", objects=EXPORT_SIZE_OPTIONS, label="export size")
    # at most 2: three times the base size left a journal column or a slide no room for the axes
    font_scale = number(limits.Limit("font scale", "", 0.5, 2.0, "readable to slide-sized text"), 1.0,
                        "export font scale", "multiplies every font size of exported figures")
    # -- per-experiment numbers and custom experiments (JSON-able, for the URL) ------------------------
    overrides = param.Dict(default={}, doc="experiment id → numbers differing from the experiment's defaults")
    custom = param.List(default=[], doc="custom experiment specs (see CustomExperimentForm)")

    #: the inputs every export header lists (everything that changes a number)
    PHYSICS = ("m_gd_min", "m_gd_max", "n_points", "m_gd", "g", "alp_mode", "m_a", "m_a_ratio", "alpha_d",
               "m_chi_mode", "m_chi_ratio", "m_chi", "cutoff", "experiments", "channels", "show_channel_curves",
               "method", "rel_error", "overlays", "overrides", "custom", "bands", "edm_both_cutoffs")
    #: order in which linked (URL) parameters must be applied
    APPLY_FIRST = ("custom", "overrides")

    def __init__(self, **params):
        self._builtins = adapter.builtin_experiments()
        self.param.experiments.objects = list(self._builtins)
        custom = params.pop("custom", None)
        experiments = params.pop("experiments", None)
        overrides = params.pop("overrides", None)
        map_experiment = params.pop("map_experiment", None)
        self.settings: dict[str, ExperimentSettings] = {}
        self._custom_exps: dict = {}
        self._syncing = False
        self.notes: list[str] = []
        super().__init__(**params)
        self.custom_form = CustomExperimentForm()
        for exp in self._builtins.values():
            self._add_settings(exp)
        self.param.watch(self._apply_custom, "custom")
        self.param.watch(self._apply_overrides, "overrides")
        self._apply_custom()
        if custom is not None:
            self.custom = custom
        if experiments is not None:
            self.experiments = [e for e in experiments if e in self.param.experiments.objects]
        if overrides is not None:
            self.overrides = overrides
        if map_experiment is not None:
            self.map_experiment = map_experiment

    # -- links -------------------------------------------------------------------------------------
    def apply_many(self, values: dict) -> list[str]:
        """Offer several parameters (a shared link) in a safe order; returns the names that were refused."""
        bad = []
        order = [k for k in self.APPLY_FIRST if k in values] + [k for k in values if k not in self.APPLY_FIRST]
        for k in order:
            v = values[k]
            try:
                if k == "experiments" and isinstance(v, list):
                    v = [e for e in v if e in self.param.experiments.objects]
                p = self.param[k]
                if isinstance(p, param.Number) and not isinstance(v, bool):
                    if not self.offer(k, v, p.label):
                        bad.append(k)
                    continue
                self.param.update(**{k: v})
            except Exception:  # noqa: BLE001 - reported to the caller
                bad.append(k)
        return bad

    def reset(self, keep: tuple[str, ...] = ()) -> None:
        """Every input back to its default (custom experiments removed, experiment numbers reset), but the
        parameters named in ``keep``."""
        defaults = {k: p.default for k, p in self.param.objects("existing").items()
                    if k not in ("name", "refused", "experiments", "view", *keep)}
        defaults["custom"] = []
        self.param.update(**defaults)
        self.experiments = [e for e in DEFAULT_EXPERIMENTS if e in self.param.experiments.objects]
        self.refused = {}
        for st in self.settings.values():
            st.refused = {}
        self.custom_form.refused = {}

    # -- experiments -------------------------------------------------------------------------------
    def _add_settings(self, exp) -> ExperimentSettings:
        s = ExperimentSettings(exp)
        s.param.watch(self._settings_changed, list(STAT_FIELDS) + list(NV_PARAMS.values()))
        self.settings[exp.id] = s
        return s

    def _settings_changed(self, *_events):
        if self._syncing:
            return
        self._syncing = True
        try:
            self.overrides = {k: s.overrides() for k, s in self.settings.items() if s.overrides()}
        finally:
            self._syncing = False

    def _apply_overrides(self, *_):
        if self._syncing:
            return
        self._syncing = True
        try:
            ov_all = self.overrides if isinstance(self.overrides, dict) else {}
            for exp_id, s in self.settings.items():
                s.apply_overrides(ov_all.get(exp_id, {}))
        finally:
            self._syncing = False

    def _apply_custom(self, *_):
        """(Re)build the custom experiments from the ``custom`` specs (form submission or URL)."""
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
                    raise InputError("custom", "a custom experiment (an object of fields)", spec)
                new[exp_id] = CustomExperimentForm.build(spec, exp_id)
            except InputError as exc:
                self.notes.append(f"custom experiment {i + 1} ignored: {exc}")
        for exp_id in list(self.settings):
            if exp_id.startswith("custom-") and (exp_id not in new or new[exp_id] != self._custom_exps.get(exp_id)):
                del self.settings[exp_id]
        self._custom_exps = new
        for exp in new.values():
            if exp.id not in self.settings:
                self._add_settings(exp)
        objs = list(self._builtins) + list(new)
        keep = [e for e in self.experiments if e in objs]
        self.param.experiments.objects = objs
        map_objs = {MAP_COMBINED_LABEL: MAP_COMBINED}
        for k in objs:
            lab = self.experiment_name(k)
            map_objs[lab if lab not in map_objs else f"{lab} ({k})"] = k
        self.param.map_experiment.objects = map_objs
        if self.map_experiment != MAP_COMBINED and self.map_experiment not in objs:
            self.map_experiment = MAP_COMBINED
        if keep != list(self.experiments):
            self.experiments = keep
        self._apply_overrides()

    def experiment_name(self, exp_id: str) -> str:
        base = self._builtins.get(exp_id) or self._custom_exps.get(exp_id)
        return base.name if base is not None else exp_id

    def experiment_options(self) -> dict:
        """display label → id for every selectable experiment (labels made unique)."""
        out: dict = {}
        for k in self.param.experiments.objects:
            base = self._builtins.get(k) or self._custom_exps.get(k)
            lab = f"{self.experiment_name(k)} ({style.BEAM_LABELS.get(adapter.beam_lepton(base), '?')})"
            out[lab if lab not in out else f"{lab} ({k})"] = k
        return out

    def color_index(self, exp_id: str) -> int:
        objs = list(self.param.experiments.objects)
        return objs.index(exp_id) if exp_id in objs else 0

    def selected_experiments(self) -> list:
        """Experiments in the selection whose numbers physics accepts (the others are reported by checks)."""
        out = []
        for exp_id in self.experiments:
            s = self.settings.get(exp_id)
            if s is None:
                continue
            try:
                out.append(s.experiment())
            except InputError:
                continue
        return out

    def add_custom(self, spec: dict) -> str:
        """Append an already checked custom spec and select it; returns its id."""
        self.custom = list(self.custom or []) + [spec]
        exp_id = f"custom-{len(self.custom)}"
        if exp_id in self.param.experiments.objects and exp_id not in self.experiments:
            self.experiments = list(self.experiments) + [exp_id]
        return exp_id

    def remove_custom(self, exp_id: str) -> None:
        specs = list(self.custom or [])
        idx = int(exp_id.split("-")[1]) - 1
        if 0 <= idx < len(specs):
            specs.pop(idx)
            self.custom = specs

    # -- derived ------------------------------------------------------------------------------------
    def view_inputs(self) -> "ViewInputs":
        return ViewInputs(**{f.name: _freeze(getattr(self, f.name)) for f in dataclasses.fields(ViewInputs)})

    def all_refused(self) -> dict:
        """Control key → message of every refused value (session, experiments, custom form)."""
        out = dict(self.refused)
        for exp_id, st in self.settings.items():
            out.update({f"exp.{exp_id}.{k}": v for k, v in st.refused.items()})
        out.update({f"custom.{k}": v for k, v in self.custom_form.refused.items()})
        return out


def m_a_of(alp_mode: str, m_a: float, m_a_ratio: float, m_gd):
    """ALP mass [GeV] for dark-photon masses ``m_gd`` [GeV] in a scenario (array, broadcast)."""
    import numpy as np

    m_gd = np.asarray(m_gd, dtype=float)
    if alp_mode == "light":
        return np.full_like(m_gd, adapter.M_A_LIGHT_GEV)
    if alp_mode == "degenerate":
        return m_gd.copy()
    if alp_mode == "ratio":
        return m_a_ratio * m_gd
    return np.full_like(m_gd, float(m_a))


def _freeze(v):
    return tuple(v) if isinstance(v, list) else v


@dataclasses.dataclass(frozen=True)
class ViewInputs:
    """The inputs the view data depend on (a hashable snapshot for memoisation)."""

    m_gd_min: float
    m_gd_max: float
    n_points: int
    m_gd: float
    g: float
    alp_mode: str
    m_a: float
    m_a_ratio: float
    alpha_d: float
    m_chi_mode: str
    m_chi_ratio: float
    m_chi: float
    cutoff: float
    channels: tuple
    show_channel_curves: bool
    method: str
    rel_error: float
    overlays: tuple
    bands: bool = False
    edm_both_cutoffs: bool = False
