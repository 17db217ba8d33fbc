"""The jupyter-server extension that puts the gate in front of every route of a dashboard server.

It wraps the web application's router, so every request, whichever extension registered its handler
(before or after this one), is first decided by ``routes.decide``. Anything it cannot set up ends the
server (SystemExit): a dashboard server never serves ungated. It also starts the revocation loop.
"""
from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import Any

from tornado.httputil import HTTPServerRequest
from tornado.routing import ReversibleRouter, Router

from .connection import GuardedKernelConnection
from .contents import ReadOnlyContentsManager
from .handlers import DeniedHandler, FullHandler, ViewerKernelHandler
from .kernels import DashboardKernelManager
from .revocation import Revocation, hub_access
from .routes import Dashboard, Decision, Verdict, decide
from .settings import DashboardSettings, DashboardSettingsError, read_settings

SETTING = "factoryhub_dashboard"  # web_app.settings key of the installed Gate
_TARGETS = {Verdict.DENY: DeniedHandler, Verdict.FULL: FullHandler,
            Verdict.KERNEL_MODEL: ViewerKernelHandler, Verdict.KERNEL_SHUTDOWN: ViewerKernelHandler}


class Gate:
    """The installed gate: the dashboard, its kernel manager and the hub access check."""

    def __init__(self, settings: DashboardSettings, base_url: str, kernel_manager: DashboardKernelManager,
                 hub_auth: Any):
        self.settings = settings
        self.dashboard = Dashboard(base_url=base_url if base_url.endswith("/") else base_url + "/",
                                   notebook=settings.notebook)
        self.kernel_manager = kernel_manager
        self.hub_auth = hub_auth
        self.revocation_task: asyncio.Task | None = None

    @property
    def max_viewers(self) -> int:
        """The most viewers (kernels) at once."""
        return self.settings.max_viewers

    @property
    def render_path(self) -> str:
        """The dashboard's page below the base URL."""
        return self.settings.render_path

    def decide(self, request: HTTPServerRequest) -> Decision:
        """The verdict on one request, from the kernels running now."""
        km = self.kernel_manager
        websocket = request.headers.get("Upgrade", "").lower() == "websocket"
        return decide(request.method or "", request.path, websocket, self.dashboard,
                      frozenset(km.list_kernel_ids()), km.viewer_count(), self.max_viewers)


class GateRouter(ReversibleRouter):
    """Wraps the application's router: requests the gate passes go on to it, the rest to the gate's handlers."""

    def __init__(self, application: Any, inner: Router, gate: Gate):
        self.application = application
        self.inner = inner
        self.gate = gate

    @property
    def rules(self) -> list:
        """The wrapped router's rules, so extensions loaded later still add their handlers there."""
        return self.inner.rules

    def find_handler(self, request: HTTPServerRequest, **kwargs: Any):
        """Route a request the gate passes as Jupyter would; answer the others with the gate's handlers."""
        decision = self.gate.decide(request)
        if decision.verdict is Verdict.PASS:
            return self.inner.find_handler(request, **kwargs)
        args = [decision.kernel_id.encode()] if decision.kernel_id else []
        return self.application.get_handler_delegate(request, _TARGETS[decision.verdict], path_args=args)

    def reverse_url(self, name: str, *args: Any):
        """As the wrapped router."""
        return self.inner.reverse_url(name, *args)


def install(serverapp: Any) -> Gate:
    """Check the server is set up as a dashboard server, then wrap its router with the gate."""
    settings = read_settings(os.environ, serverapp.root_dir)
    km = serverapp.kernel_manager
    problems = []
    if not isinstance(km, DashboardKernelManager):
        problems.append(f"kernel manager is {type(km).__name__}, not DashboardKernelManager")
    if not issubclass(serverapp.kernel_websocket_connection_class, GuardedKernelConnection):
        problems.append("kernel websocket connection class is not GuardedKernelConnection")
    if not isinstance(serverapp.contents_manager, ReadOnlyContentsManager):
        problems.append(f"contents manager is {type(serverapp.contents_manager).__name__}, not ReadOnlyContentsManager")
    hub_auth = getattr(serverapp.identity_provider, "hub_auth", None)
    if not all(hasattr(hub_auth, name) for name in ("get_token", "user_for_token", "check_scopes", "access_scopes")):
        problems.append("the identity provider has no JupyterHub auth, so viewers could never be re-checked")
    if problems:
        raise RuntimeError("; ".join(problems))
    km.max_viewers = settings.max_viewers
    km.notebook = settings.notebook
    web_app = serverapp.web_app
    gate = Gate(settings, web_app.settings.get("base_url", "/"), km, hub_auth)
    web_app.settings[SETTING] = gate
    web_app.default_router = GateRouter(web_app, web_app.default_router, gate)
    return gate


def installed(web_app: Any) -> bool:
    """Whether the gate wraps ``web_app``'s router."""
    return isinstance(web_app.default_router, GateRouter) and isinstance(web_app.settings.get(SETTING), Gate)


def handler_kwargs(router: Any) -> Iterator[dict]:
    """The keyword arguments of every handler registered below ``router`` (to find Voila's configuration)."""
    for rule in getattr(router, "rules", []):
        if isinstance(rule.target, Router):
            yield from handler_kwargs(rule.target)
        elif rule.target_kwargs:
            yield rule.target_kwargs


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "factoryhub_lab.dashboard.gate"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    try:
        gate = install(serverapp)
    except DashboardSettingsError as err:
        serverapp.log.critical("%s", err)
        raise SystemExit(1) from None
    except Exception as err:
        # SystemExit passes jupyter-server's "log and go on" for failed extensions: never serve ungated
        serverapp.log.critical("FactoryHub dashboard: the gate could not be installed, stopping: %s", err)
        raise SystemExit(1) from None
    serverapp.log.info("dashboard gate: serving only %s to at most %d viewers; tokens re-checked every %.1f s",
                       gate.settings.notebook, gate.max_viewers, gate.settings.recheck_seconds)


async def _start_jupyter_server_extension(serverapp: Any) -> None:
    gate: Gate = serverapp.web_app.settings[SETTING]
    revocation = Revocation(gate.kernel_manager, lambda viewer: hub_access(gate.hub_auth, viewer),
                            gate.settings.recheck_seconds, serverapp.log)
    gate.revocation_task = asyncio.create_task(revocation.run())
