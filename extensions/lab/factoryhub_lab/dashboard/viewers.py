"""Who watches the dashboard: the hub user and token behind each kernel and each open kernel websocket.

Voila starts one kernel per page view. The render request's user and hub token are noted by Voila's
prelaunch hook (``note_renderer``) and picked up by the kernel manager when it starts that request's kernel,
so every kernel has a known viewer; websockets to it are accepted from that viewer only, and the revocation
loop re-checks every token recorded here.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tornado.web import HTTPError


@dataclass(frozen=True)
class Viewer:
    """A hub user and the hub token a request of theirs authenticated with."""

    user: str
    token: str


# Set by the prelaunch hook inside the render request; read by the kernel manager in the same request's task.
RENDERER: ContextVar[Viewer | None] = ContextVar("factoryhub_dashboard_renderer", default=None)


def viewer_of(handler: Any) -> Viewer | None:
    """The authenticated user of a request and the hub token it came with (None without either)."""
    user = handler.current_user
    hub_auth = getattr(handler.identity_provider, "hub_auth", None)
    token = hub_auth.get_token(handler) if hub_auth is not None else None
    if user is None or not token:
        return None
    return Viewer(user.username, token)


def note_renderer(req: Any, notebook: Any = None, cwd: str = "") -> None:
    """Voila's prelaunch hook: remember who asks for this page's kernel (the notebook stays unchanged)."""
    viewer = viewer_of(req)
    if viewer is None:
        # without a hub token the viewer could never be re-checked, so never revoked
        raise HTTPError(403, "This dashboard needs a JupyterHub login")
    RENDERER.set(viewer)


SocketCloser = Callable[[str], None]


class Audience:
    """The viewer behind each kernel and the websockets open on it; the one registry the gate consults."""

    def __init__(self) -> None:
        self._renderers: dict[str, Viewer] = {}
        self._sockets: dict[str, dict[int, tuple[Viewer, SocketCloser]]] = {}

    def rendered(self, kernel_id: str, viewer: Viewer) -> None:
        """Record the viewer whose page view started ``kernel_id``."""
        self._renderers[kernel_id] = viewer

    def may_use(self, kernel_id: str, user: str) -> bool:
        """Whether ``user`` is the viewer who started ``kernel_id`` (other guests never reach its widgets)."""
        viewer = self._renderers.get(kernel_id)
        return viewer is not None and viewer.user == user

    def connected(self, kernel_id: str, key: int, viewer: Viewer, close: SocketCloser) -> None:
        """Record an open websocket (``close(reason)`` ends it)."""
        self._sockets.setdefault(kernel_id, {})[key] = (viewer, close)

    def disconnected(self, kernel_id: str, key: int) -> None:
        """Forget a websocket that closed."""
        self._sockets.get(kernel_id, {}).pop(key, None)

    def forget(self, kernel_id: str) -> None:
        """Forget a kernel that is gone."""
        self._renderers.pop(kernel_id, None)
        self._sockets.pop(kernel_id, None)

    def viewers(self) -> list[tuple[str, Viewer]]:
        """Every (kernel, viewer) pair to re-check: the renderer and each websocket's own token."""
        pairs = list(self._renderers.items())
        for kernel_id, sockets in self._sockets.items():
            pairs += [(kernel_id, viewer) for viewer, _close in sockets.values()]
        return pairs

    def renderer(self, kernel_id: str) -> Viewer | None:
        """The viewer who started ``kernel_id``, if known."""
        return self._renderers.get(kernel_id)

    def closers(self, kernel_id: str) -> list[SocketCloser]:
        """How to close each websocket open on ``kernel_id``."""
        return [close for _viewer, close in self._sockets.get(kernel_id, {}).values()]


def log_access(log: logging.Logger | logging.LoggerAdapter, event: str, user: str, kernel_id: str,
               notebook: str, detail: str = "") -> None:
    """The one INFO line per render, kernel connect and eviction that the access log is built from."""
    at = datetime.now(UTC).isoformat(timespec="seconds")
    log.info("dashboard access: user=%s kernel=%s notebook=%s event=%s at=%s%s", user, kernel_id, notebook, event,
             at, f" {detail}" if detail else "")
