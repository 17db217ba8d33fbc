"""The gate's own answers: 404 for what the server does not serve, 429 when the dashboard is full, and the
viewer-checked kernel routes Voila's page uses (its kernel's model, its shutdown beacon)."""
from __future__ import annotations

import json
from html import escape

from jupyter_core.utils import ensure_async
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import web

from .kernels import full_message
from .viewers import log_access

DENIED = "This dashboard server serves only its dashboard"
RETRY_AFTER_SECONDS = 120
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;line-height:1.5}}</style></head>
<body><h1>{title}</h1><p>{sentence}</p><p><a href="{href}">Open the dashboard</a></p></body></html>
"""


def page(title: str, sentence: str, href: str) -> str:
    """A minimal HTML page (no scripts, nothing from elsewhere)."""
    return _PAGE.format(title=escape(title), sentence=escape(sentence), href=escape(href, quote=True))


def _dashboard_url(handler: web.RequestHandler) -> str:
    return url_path_join(handler.settings.get("base_url", "/"), handler.settings["factoryhub_dashboard"].render_path)


class DeniedHandler(web.RequestHandler):
    """404 for every method on every path the gate refuses; JSON for API paths, a short page otherwise."""

    def check_xsrf_cookie(self) -> None:
        """Nothing to protect here, and a refusal must read the same whatever the method (404, not 403)."""

    def prepare(self) -> None:
        """Answer before any method runs."""
        self.set_status(404)
        self.set_header("Cache-Control", "no-store")
        rest = self.request.path[len(self.settings.get("base_url", "/")):]
        if rest.startswith(("api/", "voila/api/")):
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps({"message": DENIED}))
        else:
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.finish(page("Not here", DENIED + ".", _dashboard_url(self)))


class FullHandler(JupyterHandler):
    """429 to a logged-in viewer while every viewer slot is taken (others are sent to log in first)."""

    @web.authenticated
    def get(self) -> None:
        """The readable 'come back later' page."""
        gate = self.settings["factoryhub_dashboard"]
        self.set_status(429)
        self.set_header("Retry-After", str(RETRY_AFTER_SECONDS))
        self.set_header("Cache-Control", "no-store")
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.log.info("dashboard gate: %s found the dashboard full (%d viewers)", self.current_user.username,
                      gate.max_viewers)
        self.finish(page("Dashboard full", full_message(gate.max_viewers), _dashboard_url(self)))


class ViewerKernelHandler(APIHandler):
    """GET: the kernel's model (Voila's widget manager asks for it); POST: Voila's shutdown beacon.
    Both only for the viewer whose page view started the kernel."""

    def _check_viewer(self, kernel_id: str) -> None:
        if not self.kernel_manager.audience.may_use(kernel_id, self.current_user.username):
            raise web.HTTPError(403, "This kernel belongs to another viewer")

    @web.authenticated
    async def get(self, kernel_id: str) -> None:
        """The kernel model, as Jupyter's GET /api/kernels/<id> gives it."""
        self._check_viewer(kernel_id)
        model = await ensure_async(self.kernel_manager.kernel_model(kernel_id))
        self.finish(json.dumps(model))

    @web.authenticated
    async def post(self, kernel_id: str) -> None:
        """The page is closing: shut its kernel down and free the viewer slot."""
        self._check_viewer(kernel_id)
        km = self.kernel_manager
        log_access(self.log, "page closed", self.current_user.username, kernel_id, km.notebook)
        await ensure_async(km.shutdown_kernel(kernel_id))
        self.set_status(204)
        self.finish()
