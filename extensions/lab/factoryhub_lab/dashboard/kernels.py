"""The dashboard server's kernel manager: one kernel per page view, at most max_viewers at once.

The gate already answers 429 to a render when the server is full; this is the backstop for renders that
arrive together (the count is taken before the first await, so concurrent starts cannot overshoot), and
the place where each kernel gets its viewer (see ``viewers``).
"""
from __future__ import annotations

import os
import uuid

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from tornado.web import HTTPError
from traitlets import Instance, Integer, Unicode, default

from .viewers import RENDERER, Audience, log_access

# The server's own hub credentials: a kernel whose widgets answer guests has no use for them.
HUB_SECRETS = ("JUPYTERHUB_API_TOKEN", "JPY_API_TOKEN")


def full_message(max_viewers: int) -> str:
    """The sentence a viewer reads when every slot is taken."""
    noun = "viewer" if max_viewers == 1 else "viewers"
    return (f"This dashboard has {max_viewers} {noun}, the most it allows at once; "
            "try again in a few minutes.")


class DashboardKernelManager(AsyncMappingKernelManager):
    """Starts kernels only for the dashboard's render page, up to ``max_viewers``, and records their viewers."""

    max_viewers = Integer(
        1, config=True,
        help="""The most kernels (one per page view) this dashboard server runs at once, e.g. 5.

        Set by the gate extension from FACTORYHUB_DASHBOARD_MAX_VIEWERS.""",
    )
    notebook = Unicode(
        "", config=True,
        help="The dashboard's notebook, for the access log (set by the gate extension), e.g. dashboards/x.ipynb.",
    )
    audience = Instance(Audience, help="Who watches which kernel (see factoryhub_lab.dashboard.viewers).")

    @default("audience")
    def _default_audience(self) -> Audience:
        return Audience()

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._starting: set[str] = set()

    def viewer_count(self) -> int:
        """Kernels running or being started. A kernel joins the running ones before its start returns, so
        the two are counted as one set of ids (adding the sizes counted it twice, refusing viewers early)."""
        return len(set(self.list_kernel_ids()) | self._starting)

    async def start_kernel(self, *, kernel_id=None, path=None, **kwargs):
        """Start the kernel of one page view; refuse (403/429) anything else or one too many."""
        viewer = RENDERER.get()
        if viewer is None:
            raise HTTPError(403, "Kernels on a dashboard server start only for the dashboard's page")
        if self.viewer_count() >= self.max_viewers:
            raise HTTPError(429, full_message(self.max_viewers))
        kernel_id = kernel_id or str(uuid.uuid4())
        self._starting.add(kernel_id)
        RENDERER.set(None)  # one page view, one kernel
        env = dict(kwargs.get("env") or os.environ)
        kwargs["env"] = {name: value for name, value in env.items() if name not in HUB_SECRETS}
        try:
            kernel_id = await super().start_kernel(kernel_id=kernel_id, path=path, **kwargs)
        finally:
            self._starting.discard(kernel_id)
        self.audience.rendered(kernel_id, viewer)
        log_access(self.log, "render", viewer.user, kernel_id, self.notebook)
        return kernel_id

    def remove_kernel(self, kernel_id):
        """Forget the kernel's viewer along with the kernel (shutdown, culling, eviction or death)."""
        viewer = self.audience.renderer(kernel_id)
        self.audience.forget(kernel_id)
        if viewer is not None:
            log_access(self.log, "kernel ended", viewer.user, kernel_id, self.notebook)
        return super().remove_kernel(kernel_id)
