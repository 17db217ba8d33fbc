"""FactoryHub user-side extension: jupyter-server handlers plus the prebuilt JupyterLab frontend.

Nothing is registered at import time; jupyter-server calls
``_load_jupyter_server_extension`` when the extension is enabled
(``etc/jupyter/jupyter_server_config.d/factoryhub_lab.json``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

try:
    from ._version import __version__
except ImportError:  # a source checkout that was never built
    __version__ = "0.0.0+unknown"

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp

__all__ = ["__version__"]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Where the prebuilt frontend lives inside the package (for `jupyter labextension develop`)."""
    return [{"src": "labextension", "dest": "@factoryhub/lab"}]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """The module jupyter-server loads; this one."""
    return [{"module": "factoryhub_lab"}]


def _load_jupyter_server_extension(server_app: ServerApp) -> None:
    """Register the REST handlers under the server's base_url."""
    from .gpu_activity import GpuActivity
    from .handlers import setup_handlers

    setup_handlers(server_app.web_app)
    server_app.log.info("factoryhub_lab %s: handlers registered", __version__)
    activity = GpuActivity.for_session(server_app.web_app.settings)
    if activity is not None:  # a busy GPU keeps the session from being culled as idle
        activity.start()
        server_app.log.info("factoryhub_lab: GPU activity of GPUs %r sampled every %.0f s with %s",
                            activity.gpus, activity.interval, activity.nvidia_smi)
