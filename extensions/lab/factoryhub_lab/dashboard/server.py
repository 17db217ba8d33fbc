"""The dashboard server application: JupyterHub's singleuser server with Voila and the FactoryHub gate only.

Settings that keep the server safe for guests are applied in code after every config file, the command line
and the extensions have been read (``forced_config``), so no configuration can weaken them; the server checks
that the gate is in place and Voila runs as forced before it listens.
"""
from __future__ import annotations

from typing import Any

from jupyter_server.serverapp import ServerApp
from traitlets.config import Config

from .connection import ALLOWED_MESSAGE_TYPES, GuardedKernelConnection
from .contents import ReadOnlyContentsManager
from .gate import handler_kwargs, installed
from .identity import DashboardIdentityProvider
from .kernels import DashboardKernelManager
from .settings import DashboardSettings
from .viewers import note_renderer

GATE_EXTENSION = "factoryhub_lab.dashboard.gate"
# jupyterhub's singleuser extension (hub OAuth, activity), Voila's server extension and the gate: nothing else,
# whatever jupyter_server_config.d enables (JupyterLab, terminals, LSP, server proxy, factoryhub_lab's panels)
EXTENSIONS = {"jupyterhub": True, "voila.server_extension": True, GATE_EXTENSION: True}
CULL_IDLE_SECONDS = 600  # a page left open untouched for 10 minutes gives its viewer slot back
CULL_INTERVAL_SECONDS = 60
# Federated JupyterLab extensions whose frontends would call APIs the gate refuses
VOILA_EXTENSION_DENYLIST = ["@factoryhub/lab", "@jupyterhub/jupyter-server-proxy"]


def voila_settings(settings: DashboardSettings) -> dict[str, Any]:
    """VoilaConfiguration values a dashboard server runs with (forced again on Voila's handlers after load,
    since Voila merges voila.json/voila.py from the config path over the server's config)."""
    return {
        "strip_sources": not settings.show_sources,
        "show_tracebacks": False,
        "allow_template_override": "NOTEBOOK",  # the notebook may choose; ?template= in a guest's URL may not
        "allow_theme_override": "NOTEBOOK",
        "preheat_kernel": False,  # pooled kernels would have no viewer
        "progressive_rendering": False,  # its /voila/execution websocket is not on the gate's list
        "http_header_envs": [],  # never copy request headers (cookies) into the kernel's environment
        "file_allowlist": [],
        "extension_denylist": list(VOILA_EXTENSION_DENYLIST),
        "prelaunch_hook": note_renderer,
    }


def forced_config(settings: DashboardSettings) -> Config:
    """The configuration applied last, over config files, the command line and extensions."""
    c = Config()
    c.ServerApp.jpserver_extensions = dict(EXTENSIONS)
    c.ServerApp.root_dir = str(settings.root_dir)
    c.ServerApp.default_url = settings.render_path
    c.ServerApp.terminals_enabled = False
    c.ServerApp.contents_manager_class = ReadOnlyContentsManager
    c.ServerApp.kernel_manager_class = DashboardKernelManager
    c.ServerApp.kernel_websocket_connection_class = GuardedKernelConnection
    c.ServerApp.identity_provider_class = DashboardIdentityProvider
    c.ServerApp.reraise_server_extension_failures = True  # a failing extension stops the server
    c.ServerApp.extra_services = []
    c.ServerApp.tornado_settings = {}  # e.g. no "disable_check_xsrf" or "headers" slipped in by a config file
    c.ServerApp.disable_check_xsrf = False
    c.ServerApp.allow_origin = ""
    c.ServerApp.allow_origin_pat = ""
    c.ServerApp.allow_credentials = False
    c.DashboardKernelManager.max_viewers = settings.max_viewers
    c.DashboardKernelManager.notebook = settings.notebook
    c.DashboardKernelManager.cull_idle_timeout = CULL_IDLE_SECONDS
    c.DashboardKernelManager.cull_interval = CULL_INTERVAL_SECONDS
    c.DashboardKernelManager.cull_connected = True  # an open but untouched tab must not hold a slot for ever
    c.DashboardKernelManager.cull_busy = False
    c.DashboardKernelManager.allowed_message_types = list(ALLOWED_MESSAGE_TYPES)
    c.DashboardKernelManager.allow_tracebacks = False
    for name, value in voila_settings(settings).items():
        c.VoilaConfiguration[name] = value
    return c


class DashboardServerApp(ServerApp):
    """Jupyter's ServerApp with the dashboard server's extensions and settings forced after config loading."""

    name = "factoryhub-dashboard-server"
    dashboard: DashboardSettings  # set by run() before initialize()

    def init_server_extensions(self) -> None:
        """Load exactly our extensions, then apply the forced config over what they and config files set."""
        self.jpserver_extensions = dict(EXTENSIONS)
        super().init_server_extensions()
        self.update_config(forced_config(self.dashboard))

    def load_server_extensions(self) -> None:
        """Load the extensions, then refuse to go on unless the gate guards the server and Voila is as forced."""
        super().load_server_extensions()
        loaded = {name for name, ext in self.extension_manager.extensions.items() if ext.enabled}
        if loaded != set(EXTENSIONS):
            self.log.critical("FactoryHub dashboard: unexpected extensions %s, stopping", sorted(loaded))
            self.exit(1)
        if not installed(self.web_app):
            self.log.critical("FactoryHub dashboard: the gate is not installed, stopping")
            self.exit(1)
        voila = [kwargs["voila_configuration"] for kwargs in handler_kwargs(self.web_app.default_router)
                 if "voila_configuration" in kwargs]
        if not voila:
            self.log.critical("FactoryHub dashboard: Voila's handlers are missing, stopping")
            self.exit(1)
        for configuration in {id(v): v for v in voila}.values():
            for name, value in voila_settings(self.dashboard).items():
                setattr(configuration, name, value)


def run(argv: list[str], settings: DashboardSettings) -> None:
    """Initialise and start a dashboard server (JupyterHub's user-config lock applied first)."""
    from jupyterhub.singleuser._disable_user_config import _disable_user_config

    app = DashboardServerApp.instance()
    app.dashboard = settings
    # what JupyterHubSingleUser.make_serverapp does for JUPYTERHUB_DISABLE_USER_CONFIG, which we launch without
    _disable_user_config(app)
    app.initialize(argv=argv, find_extensions=False)
    app.start()
