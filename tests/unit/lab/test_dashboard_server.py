"""``factoryhub-dashboard-server`` as a process: the gate, Voila and the kernel rules, against a fake hub API.

The console script runs as the spawner starts it (JUPYTERHUB_* and FACTORYHUB_DASHBOARD* variables, the usual
singleuser arguments), with jupyterhub's real singleuser extension and HubOAuth. The hub is a small HTTP
server in the test answering the two calls a server makes: GET /hub/api (version) and GET /hub/api/user
(who a token belongs to, and its scopes). Requests carry "Authorization: token ..." as API clients do, so
no OAuth round trip is needed; removing a token from the fake hub is the hub deleting that guest.
The real hub, OAuth login and browser are the hub and browser tiers'.
"""
from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jupyterhub
import pytest
import requests
import websocket

from tests.harness.hub import REPO, descendants, free_port, wait_until

NOTEBOOK = "notebooks/dashboards/sensor-preparation.ipynb"
BASE = "/user/owner/dash-sensors/"
SCOPE = "access:servers!server=owner/dash-sensors"
SERVER_SCRIPT = Path(sys.executable).with_name("factoryhub-dashboard-server")


class FakeHub(ThreadingHTTPServer):
    """The hub API as a dashboard server sees it; ``tokens`` maps a token to its user (edit it to revoke)."""

    def __init__(self):
        self.tokens: dict[str, str] = {}
        self.scopes: dict[str, list[str]] = {}
        self.asked: list[str] = []
        super().__init__(("127.0.0.1", 0), _HubHandler)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hub/api"


class _HubHandler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        hub: FakeHub = self.server
        token = self.headers.get("Authorization", "").removeprefix("token ")
        if self.path == "/hub/api":
            self._answer(200, {"version": jupyterhub.__version__})
        elif self.path == "/hub/api/user" and token in hub.tokens:
            hub.asked.append(token)
            name = hub.tokens[token]
            self._answer(200, {"kind": "user", "name": name, "scopes": hub.scopes.get(token, [SCOPE])})
        else:
            self._answer(403, {"status": 403, "message": "no such token"})

    def _answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-JupyterHub-Version", jupyterhub.__version__)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class Server:
    """The running server, its log, and the fake hub's token file."""

    def __init__(self, root: Path, hub: FakeHub, log: Path, port: int):
        self.root, self.hub, self.log, self.port = root, hub, log, port
        self.url = f"http://127.0.0.1:{port}{BASE}"

    def get(self, path, token="tok-alice", **kwargs):
        return requests.get(self.url + path, headers=auth(token), allow_redirects=False, timeout=120, **kwargs)

    def request(self, method, path, token="tok-alice", **kwargs):
        return requests.request(method, self.url + path, headers=auth(token), allow_redirects=False, timeout=30,
                                **kwargs)

    def raw(self, method, path, token="tok-alice", body=b"") -> tuple[int, str]:
        """A request sent as written (requests would resolve '..' and '.' before sending)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, BASE + path, body=body, headers=auth(token))
            answer = connection.getresponse()
            return answer.status, answer.read().decode(errors="replace")
        finally:
            connection.close()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def auth(token):
    return {"Authorization": f"token {token}"} if token else {}


def owners_config(home: Path, marker: Path) -> None:
    """Config in the owner's home that would weaken the server if it were read."""
    (home / ".jupyter").mkdir()
    weaker = {"ServerApp": {"jpserver_extensions": {"jupyterlab": True, "jupyter_server_terminals": True},
                            "terminals_enabled": True, "disable_check_xsrf": True},
              "VoilaConfiguration": {"strip_sources": False, "show_tracebacks": True}}
    (home / ".jupyter" / "jupyter_server_config.json").write_text(json.dumps(weaker))
    (home / ".jupyter" / "jupyter_server_config.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    (home / ".jupyter" / "voila.json").write_text(json.dumps({"VoilaConfiguration": {"strip_sources": False}}))
    (home / "voila.json").write_text(json.dumps({"VoilaConfiguration": {"strip_sources": False}}))


def server_env(root: Path, hub: FakeHub, port: int, tmp: Path) -> dict[str, str]:
    """What the spawner sets for a named server dash-sensors of user owner (JupyterHub's usual variables)."""
    return {**os.environ, "JUPYTERHUB_API_URL": hub.api_url, "JUPYTERHUB_API_TOKEN": "server-token",
            "JUPYTERHUB_CLIENT_ID": "jupyterhub-user-owner-dash-sensors", "JUPYTERHUB_USER": "owner",
            "JUPYTERHUB_SERVER_NAME": "dash-sensors", "JUPYTERHUB_BASE_URL": "/", "JUPYTERHUB_HOST": "",
            "JUPYTERHUB_SERVICE_PREFIX": BASE, "JUPYTERHUB_SERVICE_URL": f"http://127.0.0.1:{port}{BASE}",
            "JUPYTERHUB_OAUTH_CALLBACK_URL": BASE + "oauth_callback",
            "JUPYTERHUB_OAUTH_ACCESS_SCOPES": json.dumps([SCOPE]), "JUPYTERHUB_ROOT_DIR": str(root),
            "FACTORYHUB_DASHBOARD": NOTEBOOK, "FACTORYHUB_DASHBOARD_MAX_VIEWERS": "1",
            "FACTORYHUB_DASHBOARD_RECHECK_SECONDS": "0.3", "FACTORYHUB_NOTEBOOK_OUTPUT": str(tmp / "outputs"),
            "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"), "HOME": str(root)}


@pytest.fixture(scope="module")
def hub():
    fake = FakeHub()
    thread = threading.Thread(target=fake.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.shutdown()
    fake.server_close()


@pytest.fixture(scope="module")
def server(tmp_path_factory, hub):
    tmp = tmp_path_factory.mktemp("dashboard-server")
    root = tmp / "home"
    shutil.copytree(REPO / "notebooks", root / "notebooks",
                    ignore=shutil.ignore_patterns("generated", "outputs", "__pycache__"))
    owners_config(root, tmp / "owner-config-ran")
    hub.tokens.update({"tok-alice": "alice", "tok-bob": "bob"})
    port = free_port()
    log = tmp / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([str(SERVER_SCRIPT), *(["--allow-root"] if os.geteuid() == 0 else [])],
                                cwd=root, env=server_env(root, hub, port, tmp), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    running = Server(root, hub, log, port)
    try:
        wait_until(lambda: proc.poll() is not None or requests.get(running.url + "api", timeout=5).ok, 60,
                   "the dashboard server's /api")
        assert proc.poll() is None, running.log_text()[-3000:]
        yield running
    finally:
        stop(proc)


def stop(proc: subprocess.Popen) -> None:
    """End the server, then whatever of its tree is left (kernels run in process groups of their own)."""
    tree = descendants(proc.pid)
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # the server shuts its kernels down itself
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    for pid in tree + descendants(proc.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


DENIED = [("GET", p) for p in (
    "lab", "lab/tree/notebooks", "tree", "tree/notebooks", "voila", "voila/tree", "voila/tree/notebooks",
    "voila/render/notebooks/dashboards/ticket-classifier.ipynb", "voila/render/notebooks/data/make_sensor_data.py",
    "voila/render/notebooks/dashboards/../dashboards/sensor-preparation.ipynb",
    "voila/render/notebooks/dashboards/%2e%2e/dashboards/sensor-preparation.ipynb",
    "voila/render//notebooks/dashboards/sensor-preparation.ipynb",
    "voila/render/notebooks/dashboards/sensor-preparation.ipynb/", "voila/files/notebooks/README.md",
    "voila/api/contents", "voila/api/contents/notebooks", "voila/templates/../../../etc/passwd",
    "voila/static/..%2f..%2fsettings.py", "api/contents", "api/contents/notebooks/README.md", "api/kernels",
    "api/sessions", "api/terminals", "terminals/websocket/1", "api/kernelspecs", "api/status", "api/me",
    "api/spec.yaml", "files/notebooks/README.md", "nbconvert/html/" + NOTEBOOK, "view/notebooks/README.md",
    "edit/notebooks/README.md", "notebooks/" + NOTEBOOK, "factoryhub/api/session", "proxy/8080/", "metrics",
    "lsp/status", "api/extensions", "login", "static/favicon.ico",
)] + [
    ("PUT", "api/contents/notebooks/README.md"), ("POST", "api/contents/notebooks"),
    ("PATCH", "api/contents/notebooks/README.md"), ("DELETE", "api/contents/notebooks/README.md"),
    ("POST", "api/kernels"), ("POST", "api/sessions"), ("POST", "api/terminals"),
    ("POST", "voila/render/" + NOTEBOOK), ("DELETE", "api/kernels/" + str(uuid.uuid4())),
]


@pytest.mark.timeout(120)
def test_everything_but_the_dashboard_is_refused_and_nothing_is_written(server):
    readme = server.root / "notebooks" / "README.md"
    before = readme.read_bytes()
    body = json.dumps({"type": "file", "format": "text", "content": "pwned"}).encode()
    for method, path in DENIED:
        status, text = server.raw(method, path, body=body if method in ("PUT", "POST", "PATCH") else b"")
        assert status == 404, (method, path, status, text[:300])
        assert "serves only its dashboard" in text, (method, path)
    assert readme.read_bytes() == before
    assert server.get("api").json().keys() == {"version"}  # what the hub polls while the server starts
    landing = server.get("")
    assert landing.status_code == 302
    assert landing.headers["Location"].split("?")[0].endswith(BASE + "voila/render/" + NOTEBOOK)


def kernel_id_in(page: str) -> str:
    config = re.search(r'<script id="jupyter-config-data" type="application/json">\s*(\{.*?\})\s*</script>', page,
                       re.S)
    assert config, "no page config in the rendered page"
    return json.loads(config.group(1))["kernelId"]


def kernel_message(msg_type: str, content: dict) -> str:
    msg_id = uuid.uuid4().hex
    return json.dumps({"channel": "shell", "header": {"msg_id": msg_id, "msg_type": msg_type, "username": "t",
                                                      "session": "s", "version": "5.3", "date": ""},
                       "parent_header": {}, "metadata": {}, "content": content, "buffers": []})


def replies(ws, wanted: str, deadline: float) -> list[dict]:
    """Messages until one of type ``wanted`` arrives (shell replies come in request order)."""
    seen = []
    while time.monotonic() < deadline:
        msg = json.loads(ws.recv())
        seen.append(msg)
        if msg["header"]["msg_type"] == wanted:
            return seen
    raise TimeoutError(f"no {wanted} within the deadline; saw {[m['header']['msg_type'] for m in seen]}")


@pytest.mark.timeout(180)
def test_a_viewer_renders_runs_widgets_and_is_evicted_when_the_hub_revokes_them(server):
    page = server.get("voila/render/" + NOTEBOOK)
    assert page.status_code == 200, page.text[-2000:]
    assert "application/vnd.jupyter.widget-view+json" in page.text, "no widget in the rendered page"
    # sources stripped although the owner's ~/.jupyter and ~/voila.json say otherwise (never read)
    assert "def prepare(" not in page.text and "import pandas" not in page.text, "sources must be stripped"
    assert not (server.root.parent / "owner-config-ran").exists()
    assert "@factoryhub/lab" not in page.text  # its panels would call APIs the gate refuses
    kernel = kernel_id_in(page.text)

    # one viewer at most: the next render is told to come back later, with a readable page
    full = server.get("voila/render/" + NOTEBOOK, token="tok-bob")
    assert full.status_code == 429 and "the most it allows at once" in full.text
    assert full.headers["Content-Type"].startswith("text/html")
    # another viewer never reaches this kernel
    assert server.get(f"api/kernels/{kernel}", token="tok-bob").status_code == 403
    assert server.request("POST", f"voila/api/shutdown/{kernel}", token="tok-bob").status_code == 403
    with pytest.raises(websocket.WebSocketBadStatusException, match="403"):
        websocket.create_connection(f"ws://127.0.0.1:{server.port}{BASE}api/kernels/{kernel}/channels",
                                    header=auth("tok-bob"), timeout=30)
    asked = len(server.hub.asked)
    assert server.get(f"api/kernels/{kernel}").json()["id"] == kernel  # the widget manager's lookup
    assert server.get(f"api/kernels/{kernel}").status_code == 200
    assert len(server.hub.asked) >= asked + 2, "the hub must be asked on every request (no cache)"

    ws = websocket.create_connection(f"ws://127.0.0.1:{server.port}{BASE}api/kernels/{kernel}/channels",
                                     header=auth("tok-alice"), timeout=30)
    try:
        marker = server.root / "executed-by-a-guest"
        ws.send(kernel_message("execute_request", {"code": f"open({str(marker)!r}, 'w').close()", "silent": False,
                                                   "store_history": False, "user_expressions": {},
                                                   "allow_stdin": False, "stop_on_error": True}))
        ws.send(kernel_message("comm_info_request", {"target_name": "jupyter.widget"}))
        seen = replies(ws, "comm_info_reply", time.monotonic() + 30)
        widgets = seen[-1]["content"]["comms"]
        assert widgets, "the dashboard's widgets are not in its kernel"
        ws.send(kernel_message("kernel_info_request", {}))
        seen += replies(ws, "kernel_info_reply", time.monotonic() + 30)
        assert "execute_reply" not in {m["header"]["msg_type"] for m in seen} and not marker.exists()
        assert "dropped a execute_request message" in server.log_text()

        # the hub deletes alice: her websocket is closed and her kernel shut down without a reload
        del server.hub.tokens["tok-alice"]
        wait_until(lambda: not ws.connected or _closed(ws), 20, "the revoked viewer's websocket to close")
    finally:
        ws.close()
    log = server.log_text()
    assert re.search(rf"dashboard access: user=alice kernel={kernel} notebook={re.escape(NOTEBOOK)} event=render", log)
    assert re.search(rf"dashboard access: user=alice kernel={kernel} .*event=kernel connect", log)
    assert re.search(rf"dashboard access: user=alice kernel={kernel} .*event=evicted", log)

    # the slot is free again: bob renders, and his page's shutdown beacon frees it
    page = wait_until(lambda: (r := server.get("voila/render/" + NOTEBOOK, token="tok-bob")).status_code == 200 and r,
                      60, "bob's render after alice's eviction")
    bobs = kernel_id_in(page.text)
    assert server.request("POST", f"voila/api/shutdown/{bobs}", token="tok-bob").status_code == 204
    assert server.get(f"api/kernels/{bobs}", token="tok-bob").status_code == 404


def _closed(ws) -> bool:
    try:
        ws.settimeout(0.5)
        while True:
            if ws.recv_data()[0] == websocket.ABNF.OPCODE_CLOSE:
                return True
    except websocket.WebSocketTimeoutException:
        return False
    except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError):
        return True


def test_only_the_dashboard_extensions_run(server):
    log = server.log_text()
    for ours in ("jupyterhub", "voila.server_extension", "factoryhub_lab.dashboard.gate"):
        assert f"{ours} | extension was successfully loaded" in log, ours
    for other in ("jupyterlab |", "factoryhub_lab |", "jupyter_server_terminals |", "jupyter_lsp |",
                  "jupyter_server_proxy |", "notebook_shim |"):
        assert other not in log, other
