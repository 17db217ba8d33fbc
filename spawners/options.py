"""Session options: one validator for the spawn form, the REST API and ``opt-`` URLs.

User input becomes a typed :class:`SessionRequest` here and nowhere else; every
refusal names the field and what is allowed. Pure functions, no spawner state.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

from factoryhub.costs import session_cost_gpu_hours
from factoryhub.site import Profile

from .dashboard import KEYS as DASHBOARD_KEYS
from .dashboard import DashboardRequest, InvalidDashboard, parse_dashboard
from .maintenance import MaintenanceWindow, render_notice

if TYPE_CHECKING:
    from .workshop import WorkshopBinding

ALLOWED_KEYS = ("profile", "walltime_hours", "gpus", "account", "reservation", "workshop")
SLURM_ONLY_KEYS = ("account", "reservation", "workshop")
# What the spawn form calls each option (its labels begin with these words): a refusal names
# the field as the form shows it, and the API key for REST API users.
LABELS = {"account": "Project", "profile": "Profile", "walltime_hours": "Walltime (hours)", "gpus": "GPUs",
          "reservation": "Reservation", "workshop": "Workshop"}


class InvalidOptions(ValueError):
    """A user option is not acceptable; ``field`` is its API key, the message names it as the
    form does and says what is allowed: "Walltime (hours) (walltime_hours): must be ...".

    ``on_form=False`` for keys the form does not show (unknown options): they are named by key only."""

    def __init__(self, field: str, message: str, *, on_form: bool = True):
        self.field, self.reason = field, message
        label = LABELS.get(field) if on_form else None
        super().__init__(f"{label} ({field}): {message}" if label else f"{field}: {message}")


@dataclass(frozen=True)
class SessionRequest:
    """A validated request for one session."""

    profile: Profile
    walltime_hours: float
    account: str | None = None  # the Slurm account (project) charged; None on the local backend
    gpus: int | None = None  # chosen GPU count (<= the profile's); None: the profile's
    reservation: str | None = None
    workshop: WorkshopBinding | None = None  # the workshop this session belongs to (docs/workshops.md)
    dashboard: DashboardRequest | None = None  # a dash- server's notebook (spawners/dashboard.py)

    @property
    def gpu_count(self) -> int:
        return self.profile.gpus if self.gpus is None else self.gpus

    @property
    def walltime_minutes(self) -> int:
        return max(1, math.ceil(self.walltime_hours * 60))

    @property
    def cost_gpu_hours(self) -> float:
        """Worst-case charge (:func:`factoryhub.costs.session_cost_gpu_hours`): GPUs x walltime x price."""
        return session_cost_gpu_hours(self.gpu_count, self.walltime_hours, self.profile.price)


def _single(value: object, field: str) -> str:
    if isinstance(value, list):  # form and query data arrive as lists of strings
        if len(value) != 1:
            raise InvalidOptions(field, "give exactly one value")
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise InvalidOptions(field, f"must be a string or number, not {type(value).__name__}")
    return str(value).strip()


def parse_user_options(options: Mapping[str, object] | None, profiles: Sequence[Profile],
                       default_profile: str | None = None, accounts: Sequence[str] | None = None,
                       reservations: Sequence[str] = (), workshops: Sequence[WorkshopBinding] = (),
                       server_name: str = "") -> SessionRequest:
    """Validate raw user options (form, API body or query) into a :class:`SessionRequest`.

    ``accounts`` are the Slurm accounts the user really belongs to (the first is the
    default); None where the backend has no accounts (local sessions). ``reservations``
    are the active reservations the user may use. ``workshops`` are the user's active
    workshops (:func:`factoryhub.spawners.workshop.active_workshops`): a workshop session
    takes its profile, account and reservation (:func:`~factoryhub.spawners.workshop.pin_options`).
    ``server_name`` is the named server's name: a ``dash-`` server shows a dashboard
    (:func:`~factoryhub.spawners.dashboard.parse_dashboard`).
    """
    options = dict(options or {})
    allowed = ALLOWED_KEYS if accounts is not None else tuple(k for k in ALLOWED_KEYS if k not in SLURM_ONLY_KEYS)
    # (the dashboard keys are the dashboards service's, not the form's: parse_dashboard judges them)
    unknown = sorted(set(options) - set(allowed) - set(DASHBOARD_KEYS), key=str)
    if unknown:
        raise InvalidOptions(str(unknown[0])[:40], f"unknown option (allowed: {', '.join(allowed)})", on_form=False)
    workshop = None
    if accounts is not None and (workshops or "workshop" in options):
        from .workshop import pin_options  # (it builds on this module's InvalidOptions)
        options = pin_options(options, workshops, accounts)
        workshop = next((w for w in workshops if w.id == options.get("workshop")), None)
        if workshop is not None and workshop.reservation:
            # made by the workshops service for the workshop's account; Slurm lets its jobs wait for
            # it during the 15 minutes before it starts, when it is not active yet
            reservations = (*reservations, workshop.reservation)
    by_id = {p.id: p for p in profiles}
    profile_id = _single(options["profile"], "profile") if "profile" in options else (default_profile or profiles[0].id)
    if profile_id not in by_id:
        raise InvalidOptions("profile", f"{profile_id[:40]!r} is not offered (choose one of {', '.join(by_id)})")
    profile = by_id[profile_id]
    walltime = profile.default_walltime_hours
    if "walltime_hours" in options:
        text = _single(options["walltime_hours"], "walltime_hours")
        try:
            walltime = float(text)
        except ValueError:
            raise InvalidOptions("walltime_hours", f"{text[:40]!r} is not a number of hours") from None
        if not (math.isfinite(walltime) and 0 < walltime <= profile.max_walltime_hours):
            raise InvalidOptions(
                "walltime_hours", f"must be more than 0 and at most {profile.max_walltime_hours:g} hours "
                f"for profile {profile.id}")
    try:
        dashboard = parse_dashboard(options, server_name)
    except InvalidDashboard as err:
        raise InvalidOptions(err.field, str(err), on_form=False) from None
    return SessionRequest(profile=profile, walltime_hours=walltime, account=_account(options, accounts),
                          gpus=_gpus(options, profile), reservation=_reservation(options, reservations),
                          workshop=workshop, dashboard=dashboard)


def _gpus(options: Mapping[str, object], profile: Profile) -> int | None:
    if "gpus" not in options:
        return None
    text = _single(options["gpus"], "gpus")
    if not text.isdigit() or not (1 if profile.gpus else 0) <= int(text) <= profile.gpus:
        allowed = f"from 1 to {profile.gpus}" if profile.gpus else "0 (the profile has no GPUs)"
        raise InvalidOptions("gpus", f"{text[:40]!r} is not allowed: {allowed} for profile {profile.id}")
    return int(text)


def _reservation(options: Mapping[str, object], reservations: Sequence[str]) -> str | None:
    if "reservation" not in options:
        return None
    name = _single(options["reservation"], "reservation")
    if name not in reservations:
        usable = ", ".join(reservations) or "none"
        raise InvalidOptions("reservation", f"{name[:40]!r} is not an active reservation you may use ({usable})")
    return name


def _account(options: Mapping[str, object], accounts: Sequence[str] | None) -> str | None:
    if accounts is None:
        return None
    if not accounts:
        raise InvalidOptions("account", "you belong to no project (Slurm account) on this cluster: "
                                        "ask your project's principal investigator to add you")
    if "account" not in options:
        return accounts[0]
    account = _single(options["account"], "account")
    if account not in accounts:
        raise InvalidOptions("account", f"{account[:40]!r} is not one of your projects ({', '.join(accounts)})")
    return account


def form_to_options(form: Mapping[str, Sequence[str]]) -> dict[str, object]:
    """Form or query data (lists of strings) to user_options; validation happens later.

    A field left empty means "not given" (the profile default applies); ``_xsrf`` and
    other underscore fields belong to the page, not to the session.
    """
    return {key: list(values) for key, values in form.items()
            if not key.startswith("_") and any(str(v).strip() for v in values)}


def _first_value(value: object) -> str:
    return str(value[0] if isinstance(value, list) and value else value)


def _exact(number: float) -> str:
    """A number as the shortest text that parses back to the same double (``:g`` keeps only 6
    digits): the form's estimate must compute with the price the hold uses."""
    text = repr(float(number))
    return text[:-2] if text.endswith(".0") else text


def render_form(profiles: Sequence[Profile], previous: Mapping[str, object] | None,
                default_profile: str | None = None, accounts: Sequence[str] | None = None,
                reservations: Sequence[str] = (), idle_gpus: Mapping[str, int] | None = None,
                gpu_labels: Mapping[str, str] | None = None, balances: Mapping[str, float] | None = None,
                workshops: Sequence[WorkshopBinding] = (), maintenance: Sequence[MaintenanceWindow] = (),
                now: dt.datetime | None = None) -> str:
    """The spawn form's HTML; every site- or user-supplied text is escaped.

    ``balances`` (project -> GPU-hours left) label the projects; a small script shows the
    chosen request's worst-case cost as the user changes profile, GPUs or walltime. The
    user's active ``workshops`` are offered first; choosing one fixes profile, project and
    reservation (the inputs are disabled, so the workshop's values apply). ``maintenance``
    windows are listed, with a warning when the chosen walltime from ``now`` crosses one
    (:func:`factoryhub.spawners.maintenance.render_notice`)."""
    previous = {k: _first_value(v) for k, v in (previous or {}).items()}
    chosen = str(previous.get("profile") or default_profile or profiles[0].id)
    walltime = previous.get("walltime_hours")
    rows = []
    for p in profiles:
        checked = " checked" if p.id == chosen else ""
        label = escape((gpu_labels or {}).get(p.gpu_type or "", p.gpu_type or ""))
        gpus = f"up to {p.gpus} × {label}" if p.gpus else "no GPU"
        if p.gpus and idle_gpus is not None:
            gpus += f" ({idle_gpus.get(p.gpu_type or '', 0)} idle now)"
        rows.append(
            f'<label class="list-group-item factoryhub-profile">'
            f'<input type="radio" name="profile" value="{escape(p.id)}"{checked} '
            f'data-max-walltime="{_exact(p.max_walltime_hours)}" '
            f'data-default-walltime="{_exact(p.default_walltime_hours)}" '
            f'data-max-gpus="{p.gpus}" data-price="{_exact(p.price)}" data-partition="{escape(p.partition)}"> '
            f'<strong>{escape(p.title)}</strong> '
            f'<small class="text-muted">{gpus}, {p.cpus} CPU, {p.memory_gb} GB, '
            f'up to {p.max_walltime_hours:g} h</small>'
            f'<div>{escape(p.description)}</div></label>'
        )
    value = f' value="{escape(str(walltime))}"' if walltime is not None else ""
    return (
        _workshop_select(workshops, previous.get("workshop")) +
        _account_select(accounts, previous.get("account"), balances) +
        f'<div class="form-group"><fieldset><legend>{LABELS["profile"]}</legend>'
        f'<div class="list-group">{"".join(rows)}</div></fieldset>'
        '<label for="walltime_hours">Walltime (hours; empty for the profile default)</label>'
        f'<input class="form-control" type="number" step="0.25" min="0.25" '
        f'id="walltime_hours" name="walltime_hours"{value}>'
        + _gpu_input(profiles, previous.get("gpus")) + _reservation_select(reservations, previous.get("reservation"))
        + _maintenance_notice(profiles, chosen, walltime, maintenance, now)
        + '</div>' + (WORKSHOP_SCRIPT if workshops else "") + COST_SCRIPT
    )


def _maintenance_notice(profiles: Sequence[Profile], chosen: str, walltime: object,
                        windows: Sequence[MaintenanceWindow], now: dt.datetime | None) -> str:
    """The maintenance box, warning about the request the form shows first (its script follows changes)."""
    if not windows:
        return ""
    profile = next((p for p in profiles if p.id == chosen), profiles[0])
    try:
        hours = float(str(walltime))
    except ValueError:
        hours = 0.0
    if not (math.isfinite(hours) and hours > 0):
        hours = profile.default_walltime_hours
    return render_notice(windows, now or dt.datetime.now(dt.UTC), profile.partition, hours)


# The worst-case cost of a request, in the browser: the arithmetic of factoryhub.costs, tested
# against it on tests/fixtures/cost-cases.json (tests/unit/test_costs.py runs this text under node).
# GPU-hours are GPUs x hours x price in that order (the same double as in Python); the hold is
# whole GPU-seconds rounded up (to_gpu_seconds); the figure shown is the hold in GPU-hours to
# 2 decimals, halves up, in exact integer arithmetic: what the quota service says it holds.
COST_FUNCTION = """function factoryhubCost(gpus, hours, price) {
  const gpuHours = gpus * hours * price;
  const gpuSeconds = Math.ceil(Number((gpuHours * 3600).toFixed(6)));
  const cents = Math.floor(gpuSeconds / 36) + (gpuSeconds % 36 >= 18 ? 1 : 0);
  const text = Math.floor(cents / 100).toLocaleString("en-US") + "." + String(cents % 100).padStart(2, "0");
  return {gpuHours: gpuHours, gpuSeconds: gpuSeconds, text: text};
}"""

COST_SCRIPT = """<p id="factoryhub-cost" class="text-muted" aria-live="polite"></p>
<script>
(function () {
""" + COST_FUNCTION + """
  const form = document.currentScript.closest("form") || document;
  const out = document.getElementById("factoryhub-cost");
  function update() {
    const profile = form.querySelector('input[name="profile"]:checked');
    if (!profile) { return; }
    const wall = parseFloat(form.querySelector("#walltime_hours").value) || parseFloat(profile.dataset.defaultWalltime);
    const gpusInput = form.querySelector("#gpus");
    const gpus = Math.min(parseInt(profile.dataset.maxGpus, 10),
                          gpusInput && gpusInput.value ? parseInt(gpusInput.value, 10) : Infinity);
    if (!gpus) { out.textContent = "This session uses no GPU-hours."; return; }
    let text = "This session may cost up to " + factoryhubCost(gpus, wall, parseFloat(profile.dataset.price)).text +
               " GPU-hours";
    const account = form.querySelector("#account");
    const chosen = account && account.selectedOptions[0];
    if (chosen && chosen.dataset.remaining !== undefined) {
      text += " of the " + parseFloat(chosen.dataset.remaining).toFixed(2) + " left in " + chosen.value;
    }
    out.textContent = text + ".";
  }
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
})();
</script>"""


# Choosing a workshop checks its profile and project and disables what it fixes (disabled inputs
# are not sent, so the workshop's values apply); runs before COST_SCRIPT, which then counts them.
WORKSHOP_SCRIPT = """<script>
(function () {
  const form = document.currentScript.closest("form") || document;
  const select = form.querySelector("#workshop");
  function pin() {
    const chosen = select.selectedOptions[0];
    const on = Boolean(select.value);
    form.querySelectorAll('input[name="profile"], #account, #reservation').forEach(function (el) { el.disabled = on; });
    if (!on) { return; }
    form.querySelectorAll('input[name="profile"]').forEach(function (radio) {
      if (radio.value === chosen.dataset.profile) { radio.checked = true; }
    });
    const account = form.querySelector("#account");
    if (account) { account.value = chosen.dataset.account; }
  }
  select.addEventListener("change", pin);
  pin();
})();
</script>"""


def _workshop_select(workshops: Sequence[WorkshopBinding], chosen: str | None) -> str:
    if not workshops:
        return ""
    if chosen not in {w.id for w in workshops}:
        chosen = workshops[0].id  # a participant during the workshop most likely wants its session
    def option(w: WorkshopBinding) -> str:
        selected = " selected" if w.id == chosen else ""
        return (f'<option value="{escape(w.id)}" data-profile="{escape(w.profile)}" '
                f'data-account="{escape(w.account)}"{selected}>{escape(w.title)} ({escape(w.id)})</option>')
    return (f'<div class="form-group"><label for="workshop">{LABELS["workshop"]} (sets the profile, project and '
            f'reservation)</label><select class="form-control" id="workshop" name="workshop">'
            f'<option value="">none</option>{"".join(option(w) for w in workshops)}</select></div>')


def _gpu_input(profiles: Sequence[Profile], chosen: str | None) -> str:
    most = max((p.gpus for p in profiles), default=0)
    if not most:
        return ""
    value = f' value="{escape(chosen)}"' if chosen else ""
    return (f'<label for="gpus">{LABELS["gpus"]} (empty for the profile\'s count)</label>'
            f'<input class="form-control" type="number" min="1" max="{most}" id="gpus" name="gpus"{value}>')


def _reservation_select(reservations: Sequence[str], chosen: str | None) -> str:
    if not reservations:
        return ""
    options = "".join(f'<option value="{escape(r)}"{" selected" if r == chosen else ""}>{escape(r)}</option>'
                      for r in reservations)
    return (f'<label for="reservation">{LABELS["reservation"]}</label><select class="form-control" id="reservation" '
            f'name="reservation"><option value="">none</option>{options}</select>')


def _account_select(accounts: Sequence[str] | None, chosen: str | None,
                    balances: Mapping[str, float] | None = None) -> str:
    if accounts is None:
        return ""
    if not accounts:
        return ('<p class="alert alert-warning" id="factoryhub-no-project">You belong to no project on this '
                "cluster yet: ask your project's principal investigator to add you.</p>")
    def option(account: str) -> str:
        selected = " selected" if account == chosen else ""
        if balances is None or account not in balances:
            return f'<option value="{escape(account)}"{selected}>{escape(account)}</option>'
        left = balances[account]
        return (f'<option value="{escape(account)}" data-remaining="{left:.2f}"{selected}>'
                f'{escape(account)} — {left:,.2f} GPU-hours left</option>')
    options = "".join(option(a) for a in accounts)
    return (f'<div class="form-group"><label for="account">{LABELS["account"]} (Slurm account charged)</label>'
            f'<select class="form-control" id="account" name="account">{options}</select></div>')
