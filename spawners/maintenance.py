"""Maintenance windows: which ones a session's walltime crosses, and what the user is told.

The Slurm layer finds the windows (``FLAGS=MAINT`` reservations: spawners/slurm/cluster.py).
Slurm starts no job whose time limit would reach into a maintenance reservation on its nodes:
the job stays pending (reason ``ReqNodeNotAvail, Reserved for maintenance``) until the
maintenance ends. The spawn form warns before that happens (its script makes the same decision
as :func:`warnings`, tested under node in tests/unit/test_maintenance.py), and a spawn that
skipped the form (REST API) gets the warning as its first progress event.
"""
from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

QUARTER_HOUR = dt.timedelta(minutes=15)  # the form's walltime step


@dataclass(frozen=True)
class MaintenanceWindow:
    """Nodes of ``partitions`` are out of service from ``starts_at`` to ``ends_at`` (aware datetimes);
    ``partial`` are the partitions of which it takes only some nodes (a job may run on the others)."""

    name: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    partitions: frozenset[str]
    partial: frozenset[str] = frozenset()


def crossing(window: MaintenanceWindow, now: dt.datetime, walltime: dt.timedelta) -> bool:
    """Whether a session of ``walltime`` starting ``now`` would still run when the window starts.

    A session ending exactly as the window starts does not cross it; one starting inside it does;
    a window that has ended crosses nothing."""
    return window.ends_at > now and now + walltime > window.starts_at


def when(moment: dt.datetime, zone: dt.tzinfo | None = None) -> str:
    """A moment as the page shows it, in the cluster's zone (the hub machine's when None):
    'Sat 5 Dec 2026, 00:00 UTC'."""
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {local.tzname()}"


def _later(window: MaintenanceWindow, partition: str, subject: str, zone: dt.tzinfo | None) -> str:
    end = when(window.ends_at, zone)
    if partition in window.partial:
        return (f"Slurm will start {subject} only on the partition's nodes outside the maintenance, "
                f"or after it ends at {end}.")
    return f"Slurm will not start {subject} before the maintenance ends at {end}."


def _sentences(window: MaintenanceWindow, partition: str, zone: dt.tzinfo | None) -> tuple[str, str]:
    """(upcoming, under way): what a session of ``partition`` crossing ``window`` is told."""
    return (f"Your session would end after maintenance {window.name} starts at {when(window.starts_at, zone)}: "
            f"{_later(window, partition, 'it', zone)}",
            f"Maintenance {window.name} is under way until {when(window.ends_at, zone)}: "
            f"{_later(window, partition, 'your session', zone)}")


def fits_before(window: MaintenanceWindow, now: dt.datetime) -> float:
    """The longest walltime (hours, in the form's quarter-hour steps) that ends before the window starts."""
    return math.floor((window.starts_at - now) / QUARTER_HOUR) / 4


def warning(window: MaintenanceWindow, partition: str, now: dt.datetime, zone: dt.tzinfo | None = None) -> str:
    """The warning for a session of ``partition`` starting ``now`` that crosses ``window``."""
    upcoming, under_way = _sentences(window, partition, zone)
    if now >= window.starts_at:
        return under_way
    fit = fits_before(window, now)
    return f"{upcoming} Choose at most {fit:g} h to start now." if fit >= 0.25 else upcoming


def warnings(windows: Sequence[MaintenanceWindow], partition: str, now: dt.datetime, walltime: dt.timedelta,
             zone: dt.tzinfo | None = None) -> list[str]:
    """One warning per window of ``partition`` that a session of ``walltime`` starting ``now`` crosses."""
    return [warning(w, partition, now, zone) for w in windows
            if partition in w.partitions and crossing(w, now, walltime)]


def walltime_of(hours: float) -> dt.timedelta:
    """The time limit Slurm gets for ``hours`` (whole minutes, rounded up: SessionRequest.walltime_minutes)."""
    return dt.timedelta(minutes=max(1, math.ceil(hours * 60)))


def _ms(moment: dt.datetime) -> int:
    return round(moment.timestamp() * 1000)


def script_entries(windows: Sequence[MaintenanceWindow], zone: dt.tzinfo | None = None) -> list[dict]:
    """What the form's script decides on: one entry per window and partition, its texts made here."""
    entries = []
    for window in windows:
        for partition in sorted(window.partitions):
            upcoming, under_way = _sentences(window, partition, zone)
            entries.append({"partition": partition, "start": _ms(window.starts_at), "end": _ms(window.ends_at),
                            "upcoming": upcoming, "underWay": under_way})
    return entries


# The decision of warnings() in the browser (tests/unit/test_maintenance.py runs this text under node
# against the Python): entries from script_entries(), the walltime in hours as the form holds it.
WARNING_FUNCTION = """function factoryhubMaintenanceWarnings(entries, partition, nowMs, hours) {
  const walltimeMs = Math.max(1, Math.ceil(hours * 60)) * 60000;
  const found = [];
  for (const entry of entries) {
    if (entry.partition !== partition || entry.end <= nowMs || nowMs + walltimeMs <= entry.start) { continue; }
    if (nowMs >= entry.start) { found.push(entry.underWay); continue; }
    const fit = Math.floor((entry.start - nowMs) / 900000) / 4;
    found.push(fit >= 0.25 ? entry.upcoming + " Choose at most " + fit + " h to start now." : entry.upcoming);
  }
  return found;
}"""

SCRIPT = """<script>
(function () {
""" + WARNING_FUNCTION + """
  const form = document.currentScript.closest("form") || document;
  const entries = JSON.parse(document.getElementById("factoryhub-maintenance-data").textContent);
  const out = document.getElementById("factoryhub-maintenance-warning");
  function update() {
    const profile = form.querySelector('input[name="profile"]:checked');
    if (!profile) { return; }
    const hours = parseFloat(form.querySelector("#walltime_hours").value) ||
                  parseFloat(profile.dataset.defaultWalltime);
    const found = factoryhubMaintenanceWarnings(entries, profile.dataset.partition, Date.now(), hours);
    out.textContent = found.join(" ");
    out.hidden = found.length === 0;
  }
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
})();
</script>"""


def _partitions_text(window: MaintenanceWindow) -> str:
    names = ", ".join(sorted(window.partitions))
    some = f" (some nodes of {', '.join(sorted(window.partial))})" if window.partial else ""
    return f"partition{'s' if len(window.partitions) != 1 else ''} {names}{some}"


def as_announcements(windows: Sequence[MaintenanceWindow], now: dt.datetime,
                     zone: dt.tzinfo | None = None) -> list[dict]:
    """The windows as the hub's announcement feed shows them beside the admins' messages (on every
    hub page): a warning each, with its dates and partitions."""
    return [{"id": f"maintenance:{w.name}", "level": "warning", "title": f"Maintenance {w.name}",
             "text": f"{'under way' if w.starts_at <= now else 'from ' + when(w.starts_at, zone)} until "
                     f"{when(w.ends_at, zone)}, {_partitions_text(w)}: Slurm starts no session that would "
                     f"still run when it begins."}
            for w in windows]


def render_notice(windows: Sequence[MaintenanceWindow], now: dt.datetime, partition: str, hours: float,
                  zone: dt.tzinfo | None = None) -> str:
    """The spawn form's maintenance box: every window with its dates and partitions, and the warning
    for the request the form shows first (``partition``, ``hours``), which the script then keeps up to date."""
    if not windows:
        return ""
    items = "".join(f"<li><strong>{escape(w.name)}</strong>: {escape(when(w.starts_at, zone))} to "
                    f"{escape(when(w.ends_at, zone))}, {escape(_partitions_text(w))}</li>" for w in windows)
    found = warnings(windows, partition, now, walltime_of(hours), zone)
    data = json.dumps(script_entries(windows, zone)).replace("<", "\\u003c")  # no '</script>' inside
    return (f'<div class="alert alert-info" id="factoryhub-maintenance"><strong>Planned maintenance</strong>'
            f'<ul>{items}</ul><p>Slurm starts no session that would still run when a maintenance begins.</p></div>'
            f'<p class="alert alert-warning" id="factoryhub-maintenance-warning" role="alert"'
            f'{"" if found else " hidden"}>{escape(" ".join(found))}</p>'
            f'<script type="application/json" id="factoryhub-maintenance-data">{data}</script>' + SCRIPT)
