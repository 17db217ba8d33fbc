"""The gate extension: it wraps the router so every handler, even one added after it, is gated; and a server it
cannot guard does not start."""
from __future__ import annotations

import logging

import nbformat
import pytest
from nbformat.v4 import new_notebook
from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine
from tornado.web import Application, RequestHandler

from factoryhub_lab.dashboard import gate
from factoryhub_lab.dashboard.connection import GuardedKernelConnection
from factoryhub_lab.dashboard.contents import ReadOnlyContentsManager
from factoryhub_lab.dashboard.handlers import DeniedHandler, FullHandler, ViewerKernelHandler
from factoryhub_lab.dashboard.kernels import DashboardKernelManager
from factoryhub_lab.dashboard.viewers import Viewer

BASE = "/user/owner/dash/"
NOTEBOOK = "dashboards/x.ipynb"


class Jupyter(RequestHandler):
    """Stands for any handler Jupyter or an extension registered."""


class HubAuth:
    access_scopes = {"access:servers!server=owner/dash"}

    def get_token(self, handler): ...
    async def user_for_token(self, token, use_cache=True, session_id="", *, sync=True): ...
    def check_scopes(self, required, user): ...


class ServerApp:
    """The parts of jupyter-server's ServerApp the gate extension reads."""

    def __init__(self, root, **overrides):
        self.root_dir = str(root)
        self.kernel_manager = DashboardKernelManager(root_dir=str(root))
        self.contents_manager = ReadOnlyContentsManager(root_dir=str(root))
        self.kernel_websocket_connection_class = GuardedKernelConnection
        self.identity_provider = type("IdP", (), {"hub_auth": HubAuth()})()
        self.web_app = Application([(BASE + "api", Jupyter), (BASE + "voila/render/(.*)", Jupyter)], base_url=BASE)
        self.log = logging.getLogger("test.gate")
        self.__dict__.update(overrides)


@pytest.fixture
def home(tmp_path, monkeypatch):
    (tmp_path / "dashboards").mkdir()
    nbformat.write(new_notebook(), tmp_path / "dashboards" / "x.ipynb")
    monkeypatch.setenv("FACTORYHUB_DASHBOARD", NOTEBOOK)
    monkeypatch.setenv("FACTORYHUB_DASHBOARD_MAX_VIEWERS", "1")
    return tmp_path


def route(app, path, method="GET", **headers):
    request = HTTPServerRequest(start_line=RequestStartLine(method, path, "HTTP/1.1"),
                                headers=HTTPHeaders({"Host": "127.0.0.1", **headers}))
    return app.find_handler(request).handler_class


def test_every_route_goes_through_the_gate_even_ones_added_later(home):
    server = ServerApp(home)
    gate._load_jupyter_server_extension(server)
    app = server.web_app
    assert gate.installed(app)
    assert server.kernel_manager.max_viewers == 1 and server.kernel_manager.notebook == NOTEBOOK
    assert route(app, BASE + "api") is Jupyter
    assert route(app, BASE + "voila/render/" + NOTEBOOK) is Jupyter
    assert route(app, BASE + "voila/render/other.ipynb") is DeniedHandler
    assert route(app, BASE + "tree") is DeniedHandler
    # an extension loaded after the gate (Voila, jupyterhub) adds its handlers to the wrapped router
    app.add_handlers(".*$", [(BASE + "late/(.*)", Jupyter), (BASE + "voila/static/(.*)", Jupyter)])
    assert route(app, BASE + "voila/static/voila.js") is Jupyter
    assert route(app, BASE + "late/anything") is DeniedHandler
    # kernel routes: only the server's kernels, and the model and shutdown through the gate's own handler
    kernel = "0c1d2e3f-4a5b-4c6d-8e7f-901234567890"
    assert route(app, BASE + f"api/kernels/{kernel}") is DeniedHandler
    server.kernel_manager._kernels[kernel] = object()
    server.kernel_manager.audience.rendered(kernel, Viewer("alice", "t"))
    assert route(app, BASE + f"api/kernels/{kernel}") is ViewerKernelHandler
    assert route(app, BASE + f"voila/api/shutdown/{kernel}", method="POST") is ViewerKernelHandler
    # and the render page is "full" with one viewer of one
    assert route(app, BASE + "voila/render/" + NOTEBOOK) is FullHandler


@pytest.mark.parametrize("override,words", [
    ({"kernel_manager": object()}, "kernel manager is object, not DashboardKernelManager"),
    ({"contents_manager": object()}, "contents manager is object, not ReadOnlyContentsManager"),
    ({"kernel_websocket_connection_class": object}, "not GuardedKernelConnection"),
    ({"identity_provider": object()}, "the identity provider has no JupyterHub auth"),
])
def test_a_server_the_gate_cannot_guard_stops(home, caplog, override, words):
    server = ServerApp(home, **override)
    router = server.web_app.default_router
    with pytest.raises(SystemExit) as stopped:
        gate._load_jupyter_server_extension(server)
    assert stopped.value.code == 1
    assert "the gate could not be installed, stopping" in caplog.text and words in caplog.text
    assert server.web_app.default_router is router and not gate.installed(server.web_app)


def test_bad_dashboard_variables_stop_the_server_with_their_sentence(home, caplog, monkeypatch):
    monkeypatch.setenv("FACTORYHUB_DASHBOARD", "../elsewhere.ipynb")
    with pytest.raises(SystemExit) as stopped:
        gate._load_jupyter_server_extension(ServerApp(home))
    assert stopped.value.code == 1
    assert f"FactoryHub dashboard: ../elsewhere.ipynb is outside the home directory {home.resolve()}" in caplog.text
