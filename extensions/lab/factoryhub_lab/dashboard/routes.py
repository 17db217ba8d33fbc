"""Which requests a dashboard server answers: one pure decision per request, before any handler runs.

Only what Voila needs to render the one notebook and run its widgets passes; everything else is refused
before Jupyter's routing sees it. Paths are matched raw (percent-encoded, as tornado's router matches them),
and the one captured part that tornado decodes (the notebook in the render URL) is decoded the same way.
"""
from __future__ import annotations

import enum
import re
from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes


class Verdict(enum.Enum):
    """What the gate does with a request."""

    PASS = "pass"  # to Jupyter's own handler
    KERNEL_MODEL = "kernel-model"  # GET a viewer's kernel model: the gate's handler, which checks the viewer
    KERNEL_SHUTDOWN = "kernel-shutdown"  # Voila's shutdown beacon: the gate's handler, which checks the viewer
    FULL = "full"  # the render page while every viewer slot is taken: 429
    DENY = "deny"  # anything else: 404


@dataclass(frozen=True)
class Decision:
    """A verdict, the rule that gave it (for logs and tests) and the kernel it concerns, if any."""

    verdict: Verdict
    rule: str
    kernel_id: str = ""


@dataclass(frozen=True)
class Dashboard:
    """The facts a decision depends on that do not change while the server runs."""

    base_url: str  # e.g. /user/alice/dash-sensors/ (always ends in /)
    notebook: str  # e.g. dashboards/sensor-preparation.ipynb


# Static assets: names as Voila, JupyterLab themes and federated extensions use them, never '.' or '..'.
_ASSET_SEGMENT = re.compile(r"[A-Za-z0-9@_~+=,-][A-Za-z0-9@_~+=,.-]*")  # a first '.' would allow '..'/hidden
_TEMPLATE_NAME = re.compile(r"[A-Za-z0-9_-]+")
_ASSET_PREFIXES = ("voila/static/", "voila/labextensions/", "voila/api/themes/")
_KERNEL_ID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_CHANNELS = re.compile(rf"api/kernels/({_KERNEL_ID})/channels")
_KERNEL = re.compile(rf"api/kernels/({_KERNEL_ID})")
_SHUTDOWN = re.compile(rf"voila/api/shutdown/({_KERNEL_ID})")
RENDER_PREFIX = "voila/render/"


def decide(method: str, path: str, websocket: bool, dashboard: Dashboard, kernel_ids: Collection[str],
           viewers: int, max_viewers: int) -> Decision:
    """Decide one request. ``path`` is the raw request path without the query string; ``kernel_ids`` are the
    kernels this server runs (all started by Voila's render page); ``viewers`` counts them and starts under way."""
    base = dashboard.base_url
    if path in (base, base.rstrip("/")):
        # the hub sends a guest to the server's URL; Jupyter redirects it to the dashboard (default_url)
        return _only(method, ("GET",), "landing")
    if not path.startswith(base):
        return Decision(Verdict.DENY, "outside base URL")
    rest = path[len(base):]
    if rest == "api":
        # JupyterHub waits for <server>/api to answer and reads its X-JupyterHub-Version header
        return _only(method, ("GET",), "api version")
    if rest in ("oauth_callback", "logout"):
        return _only(method, ("GET",), rest)
    if rest.startswith(RENDER_PREFIX):
        if _decoded(rest[len(RENDER_PREFIX):]) != dashboard.notebook:
            return Decision(Verdict.DENY, "another notebook")
        if method != "GET":
            return Decision(Verdict.DENY, "render: GET only")
        if viewers >= max_viewers:
            return Decision(Verdict.FULL, "render")
        return Decision(Verdict.PASS, "render")
    if _is_asset(rest):
        return _only(method, ("GET", "HEAD"), "asset")
    for pattern, rule, methods, verdict in (
        (_CHANNELS, "kernel channels", ("GET",), Verdict.PASS),
        (_KERNEL, "kernel model", ("GET",), Verdict.KERNEL_MODEL),
        (_SHUTDOWN, "kernel shutdown", ("POST",), Verdict.KERNEL_SHUTDOWN),
    ):
        match = pattern.fullmatch(rest)
        if match:
            kernel_id = match.group(1)
            if kernel_id not in kernel_ids:
                return Decision(Verdict.DENY, f"{rule}: no such kernel")
            if method not in methods or (rule == "kernel channels") != websocket:
                return Decision(Verdict.DENY, f"{rule}: wrong method")
            return Decision(verdict, rule, kernel_id)
    return Decision(Verdict.DENY, "not the dashboard")


def _only(method: str, methods: tuple[str, ...], rule: str) -> Decision:
    if method in methods:
        return Decision(Verdict.PASS, rule)
    return Decision(Verdict.DENY, f"{rule}: wrong method")


def _decoded(raw: str) -> str | None:
    """Decode a path part as tornado decodes a captured group (percent-decoding, strict UTF-8)."""
    try:
        return unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        return None


def _is_asset(rest: str) -> bool:
    if rest.startswith("voila/templates/"):
        parts = rest[len("voila/templates/"):].split("/", 2)
        return (len(parts) == 3 and bool(_TEMPLATE_NAME.fullmatch(parts[0])) and parts[1] == "static"
                and _safe_asset(parts[2]))
    return any(rest.startswith(prefix) and _safe_asset(rest[len(prefix):]) for prefix in _ASSET_PREFIXES)


def _safe_asset(relative: str) -> bool:
    """A plain relative file name: no empty, '.' or '..' segments, no percent-encoding, no odd characters."""
    segments = relative.split("/")
    return all(_ASSET_SEGMENT.fullmatch(s) for s in segments)
