"""The gate's decision on each request to a dashboard server (a pure function: no server here)."""
from __future__ import annotations

import pytest

from factoryhub_lab.dashboard.routes import Dashboard, Verdict, decide

BASE = "/user/alice/dash-sensors/"
NB = "dashboards/sensor preparation.ipynb"
RENDER = BASE + "voila/render/dashboards/sensor%20preparation.ipynb"
K1 = "0c1d2e3f-4a5b-4c6d-8e7f-901234567890"
K2 = "11111111-2222-4333-8444-555555555555"
DASHBOARD = Dashboard(base_url=BASE, notebook=NB)


def verdict(path, method="GET", websocket=False, kernels=(K1,), viewers=1, max_viewers=3, dashboard=DASHBOARD):
    return decide(method, path, websocket, dashboard, frozenset(kernels), viewers, max_viewers)


@pytest.mark.parametrize("path", [
    BASE, BASE.rstrip("/"),  # the hub sends guests to the server's URL; Jupyter redirects them
    BASE + "api",  # the hub waits for it while the server starts
    BASE + "oauth_callback", BASE + "logout",
    RENDER, RENDER.replace("%20", " "),
    BASE + "voila/static/voila.js", BASE + "voila/static/1187.voila.js",
    BASE + "voila/templates/lab/static/voila-style.js", BASE + "voila/templates/reveal/static/index.css",
    BASE + "voila/labextensions/@jupyter-widgets/jupyterlab-manager/static/remoteEntry.5d5f.js",
    BASE + "voila/labextensions/@voila-dashboards/widgets-manager8/static/496.ad76.js",
    BASE + "voila/labextensions/jupyterlab_pygments/static/remoteEntry.js",
    BASE + "voila/api/themes/@jupyterlab/theme-light-extension/index.css",
    BASE + f"api/kernels/{K1}/channels",
])
def test_what_voila_needs_for_the_one_notebook_passes(path):
    websocket = path.endswith("/channels")
    assert verdict(path, websocket=websocket).verdict is Verdict.PASS, path


@pytest.mark.parametrize("path", [
    # other UIs and services of a Jupyter server
    BASE + "lab", BASE + "lab/tree/x.ipynb", BASE + "tree", BASE + "tree/", BASE + "notebooks/x.ipynb",
    BASE + "edit/x.py", BASE + "view/x.html", BASE + "files/secret.txt", BASE + "nbconvert/html/x.ipynb",
    BASE + "terminals/websocket/1", BASE + "api/terminals", BASE + "api/contents", BASE + "api/contents/x.ipynb",
    BASE + "api/kernels", BASE + "api/kernels/", BASE + "api/sessions", BASE + "api/kernelspecs",
    BASE + "api/status", BASE + "api/me", BASE + "api/spec.yaml", BASE + "api/", BASE + "metrics",
    BASE + "factoryhub/api/session", BASE + "proxy/8888/", BASE + "lsp/status", BASE + "login",
    BASE + "static/favicon.ico", BASE + "robots.txt",
    # Voila's other pages
    BASE + "voila", BASE + "voila/", BASE + "voila/tree", BASE + "voila/tree/dashboards",
    BASE + "voila/files/dashboards/data.csv", BASE + "voila/api/contents/dashboards",
    BASE + f"voila/execution/{K1}",
    # other notebooks, and the same one spelt differently
    BASE + "voila/render/dashboards/other.ipynb", BASE + "voila/render/notes.txt",
    RENDER + "/", RENDER.replace("dashboards/", "dashboards//"),
    BASE + "voila/render//dashboards/sensor%20preparation.ipynb",
    BASE + "voila/render/./dashboards/sensor%20preparation.ipynb",
    BASE + "voila/render/dashboards/../dashboards/sensor%20preparation.ipynb",
    BASE + "voila/render/dashboards/%2e%2e/dashboards/sensor%20preparation.ipynb",
    BASE + "voila/render/dashboards%2fsensor%20preparation.ipynb%00",
    BASE + "voila/render/dashboards/sensor%2520preparation.ipynb",  # double encoding
    BASE + "voila/render/Dashboards/sensor%20preparation.ipynb",
    BASE + "VOILA/render/dashboards/sensor%20preparation.ipynb",
    BASE + "voila/render/dashboards/sensor%20preparation.IPYNB", BASE + "voila/render/dashboards/sensor%ff.ipynb",
    BASE + "voila/render/", BASE + "voila/render",
    BASE + "%76oila/render/dashboards/sensor%20preparation.ipynb",
    # assets outside their folders
    BASE + "voila/static/../../etc/passwd", BASE + "voila/static/..%2f..%2fserver_extension.py",
    BASE + "voila/static/%2e%2e/x.js", BASE + "voila/static/", BASE + "voila/static//voila.js",
    BASE + "voila/static/.hidden", BASE + "voila/templates/../static/x.js", BASE + "voila/templates/lab/x.js",
    BASE + "voila/templates/%2e%2e/static/x.js", BASE + "voila/templates/lab/static/../../base/page.html",
    BASE + "voila/labextensions/../../../../etc/passwd", BASE + "voila/api/themes/../x",
    # kernels that are not this server's, or routes it does not need
    BASE + f"api/kernels/{K2}/channels", BASE + f"api/kernels/{K1}/interrupt", BASE + f"api/kernels/{K1}/restart",
    BASE + f"api/kernels/{K1.upper()}/channels", BASE + f"api/kernels/{K1}/channels/", BASE + f"api/kernels/{K1}/",
    # outside the server's prefix
    "/", "/hub/home", "/user/alice/other/voila/render/dashboards/sensor%20preparation.ipynb",
    "/user/alice/dash-sensors" + "x/api", "/user/alice//dash-sensors/api", "/user/alice/dash-sensorsapi",
])
def test_everything_else_is_denied(path):
    websocket = "/channels" in path
    assert verdict(path, websocket=websocket).verdict is Verdict.DENY, path


@pytest.mark.parametrize("method,path", [
    ("POST", RENDER), ("HEAD", RENDER), ("PUT", BASE + "api"), ("POST", BASE + "oauth_callback"),
    ("POST", BASE + "voila/static/voila.js"), ("DELETE", BASE + f"api/kernels/{K1}"),
    ("PATCH", BASE + f"api/kernels/{K1}"), ("GET", BASE + f"voila/api/shutdown/{K1}"),
    ("POST", BASE + f"api/kernels/{K1}/channels"), ("DELETE", BASE), ("POST", BASE),
])
def test_allowed_routes_take_only_the_methods_voila_uses(method, path):
    assert verdict(path, method=method, websocket=path.endswith("channels")).verdict is Verdict.DENY


def test_kernel_channels_are_websocket_only_and_the_kernel_model_and_shutdown_are_not():
    assert verdict(BASE + f"api/kernels/{K1}/channels", websocket=False).verdict is Verdict.DENY
    assert verdict(BASE + f"api/kernels/{K1}", websocket=True).verdict is Verdict.DENY
    model = verdict(BASE + f"api/kernels/{K1}")
    assert (model.verdict, model.kernel_id) == (Verdict.KERNEL_MODEL, K1)
    shutdown = verdict(BASE + f"voila/api/shutdown/{K1}", method="POST")
    assert (shutdown.verdict, shutdown.kernel_id) == (Verdict.KERNEL_SHUTDOWN, K1)
    assert verdict(BASE + f"voila/api/shutdown/{K2}", method="POST").verdict is Verdict.DENY


def test_the_render_page_says_full_when_every_viewer_slot_is_taken():
    assert verdict(RENDER, viewers=2, max_viewers=3).verdict is Verdict.PASS
    assert verdict(RENDER, viewers=3, max_viewers=3).verdict is Verdict.FULL
    assert verdict(RENDER, viewers=4, max_viewers=3).verdict is Verdict.FULL
    # a full server still serves its assets and the viewers it has
    assert verdict(BASE + "voila/static/voila.js", viewers=3, max_viewers=3).verdict is Verdict.PASS
    channels = verdict(BASE + f"api/kernels/{K1}/channels", websocket=True, viewers=3, max_viewers=3)
    assert channels.verdict is Verdict.PASS
    # another notebook is not "full", it is not served
    assert verdict(BASE + "voila/render/x.ipynb", viewers=3, max_viewers=3).verdict is Verdict.DENY


def test_a_server_at_the_root_and_non_ascii_names():
    root = Dashboard(base_url="/", notebook="tableau de bord/über.ipynb")
    assert verdict("/", dashboard=root).verdict is Verdict.PASS
    assert verdict("/voila/render/tableau%20de%20bord/%C3%BCber.ipynb", dashboard=root).verdict is Verdict.PASS
    assert verdict("/voila/render/tableau%20de%20bord/%FCber.ipynb", dashboard=root).verdict is Verdict.DENY  # latin-1
    assert verdict("/api/contents", dashboard=root).verdict is Verdict.DENY
