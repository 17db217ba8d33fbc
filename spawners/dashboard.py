"""Dashboard servers: a named server ``dash-<name>`` that shows one notebook with Voila only.

The dashboards service publishes a notebook by starting its owner's server ``dash-<name>``
with the options ``dashboard`` (the notebook, relative to the owner's home) and
``dashboard_sources``; the server is then ``factoryhub-dashboard-server`` (factoryhub_lab.dashboard),
which serves that notebook's Voila page and nothing else. A ``dash-`` server is never a
JupyterLab, whatever its options say: guests are given access to it by name (JupyterHub
shares), so it must not turn into a full session after a restart. See docs/dashboards.md.

Pure decisions; the spawners apply them (SessionOptionsMixin.apply_dashboard).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

SERVER_PREFIX = "dash-"
KEYS = ("dashboard", "dashboard_sources")
MAX_PATH = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}


class InvalidDashboard(ValueError):
    """A dashboard option is not acceptable; ``field`` names it (``dashboard`` or ``dashboard_sources``)."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class DashboardRequest:
    """A validated dashboard: the notebook (relative to the home) and whether its code is shown."""

    notebook: str
    show_sources: bool = False

    @property
    def url(self) -> str:
        """The server's default URL: Voila's page of the notebook."""
        return f"/voila/render/{self.notebook}"

    def environment(self, max_viewers: int, recheck_seconds: float) -> dict[str, str]:
        """What factoryhub-dashboard-server reads (factoryhub_lab/dashboard)."""
        return {"FACTORYHUB_DASHBOARD": self.notebook,
                "FACTORYHUB_DASHBOARD_SOURCES": "1" if self.show_sources else "0",
                "FACTORYHUB_DASHBOARD_MAX_VIEWERS": str(max_viewers),
                "FACTORYHUB_DASHBOARD_RECHECK_SECONDS": f"{recheck_seconds:g}"}


def is_dashboard_server(server_name: str) -> bool:
    """Whether a named server is a dashboard server (its name says so, whatever its options)."""
    return server_name.startswith(SERVER_PREFIX)


def notebook_path(text: str) -> str:
    """A notebook path relative to the owner's home, normalised; refuses what leaves the home.

    Symbolic links are resolved by the dashboard server itself (it can see the home; the hub may not).
    """
    text = text.strip()
    if not text:
        raise InvalidDashboard("dashboard", "give the notebook to show, relative to your home, "
                                            "e.g. dashboards/demo.ipynb")
    shown = text[:80]
    if len(text) > MAX_PATH or _CONTROL.search(text) or "\\" in text:
        raise InvalidDashboard("dashboard", f"{shown!r} is not a usable path (at most {MAX_PATH} characters, "
                                            "no control characters or backslashes)")
    if text.startswith(("/", "~")):
        raise InvalidDashboard("dashboard", f"{shown!r} is outside your home: give a path relative to it, "
                                            "e.g. dashboards/demo.ipynb")
    parts = PurePosixPath(text).parts
    if ".." in parts:
        raise InvalidDashboard("dashboard", f"{shown!r} leaves your home ('..' is not allowed)")
    if not text.endswith(".ipynb") or parts[-1] == ".ipynb":
        raise InvalidDashboard("dashboard", f"{shown!r} is not a notebook: a dashboard is a .ipynb file")
    return str(PurePosixPath(*parts))


def _flag(value: object) -> bool:
    if isinstance(value, list) and len(value) == 1:  # form and query data
        value = value[0]
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if isinstance(value, (str, int)) else None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidDashboard("dashboard_sources", f"{str(value)[:40]!r} is not true or false")


def parse_dashboard(options: Mapping[str, object], server_name: str) -> DashboardRequest | None:
    """The dashboard of a spawn on ``server_name`` (None: an ordinary session).

    A ``dash-`` server must show a dashboard; any other server must not."""
    given = any(k in options for k in KEYS)
    if not is_dashboard_server(server_name):
        if given:
            field = next(k for k in KEYS if k in options)
            raise InvalidDashboard(field, f"only servers named {SERVER_PREFIX}<name> show dashboards; "
                                          "publish one from the dashboards page")
        return None
    raw = options.get("dashboard")
    if isinstance(raw, list) and len(raw) == 1:
        raw = raw[0]
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidDashboard("dashboard", f"server {server_name[:60]} shows a dashboard: give its notebook, "
                                            "relative to your home (publish it from the dashboards page)")
    return DashboardRequest(notebook=notebook_path(raw), show_sources=_flag(options.get("dashboard_sources", False)))
