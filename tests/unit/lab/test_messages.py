"""The session's route to the user's workshop messages (GET factoryhub/api/messages?after=N): the workshops
service's answer, asked with the server's own token; a site without that service has no messages, quietly."""
from __future__ import annotations

import json
import logging
import socket

import pytest
from jupyter_server.auth.identity import IdentityProvider
from tornado import web
from tornado.httpclient import AsyncHTTPClient
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from factoryhub_lab.handlers import setup_handlers
from factoryhub_lab.services import WORKSHOPS, ServiceClient

MESSAGES = [{"id": i, "workshop": "gpu-intro", "title": "Introduction to GPU computing", "text": f"message {i}",
             "sent_at": "2026-12-04T13:50:00+00:00", "sender": "trainer1"} for i in (3, 7)]


class FakeWorkshops(web.RequestHandler):
    """The workshops service's messages route, as the contract in docs/workshops.md describes it."""
    calls: list[str] = []

    def get(self):
        FakeWorkshops.calls.append(f"{self.request.query} {self.request.headers['Authorization']}")
        after = self.get_argument("after", "0")
        if not after.isdigit():
            self.set_status(400)
            self.finish({"status": 400, "message": "after must be a whole number", "field": "after"})
            return
        self.finish({"messages": [m for m in MESSAGES if m["id"] > int(after)]})


class FakeHub(web.RequestHandler):
    """The hub's service model: it knows the workshops service or, at a site without workshops, it does not."""
    known: set[str] = set()
    asked: list[str] = []

    def get(self, name):
        FakeHub.asked.append(name)
        if name not in FakeHub.known:
            self.set_status(404)
            self.finish({"status": 404, "message": f"No such service: {name}"})
            return
        self.finish({"name": name, "url": f"http://{self.request.host}", "prefix": f"/services/{name}/"})


def serve(app: web.Application) -> tuple[HTTPServer, int]:
    sockets = bind_sockets(0, "127.0.0.1")
    server = HTTPServer(app)
    server.add_sockets(sockets)
    return server, sockets[0].getsockname()[1]


@pytest.fixture
async def proxy():
    """The hub's proxy: the workshops service behind /services/factoryhub-workshops/, anything else a 404 page."""
    server, port = serve(web.Application([
        (r"/services/factoryhub-workshops/api/v1/messages", FakeWorkshops),
        (r"/hub/api/services/([^/]+)", FakeHub)], default_handler_class=web.ErrorHandler,
        default_handler_args={"status_code": 404}))
    FakeWorkshops.calls, FakeHub.known, FakeHub.asked = [], {"factoryhub-workshops"}, []
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
async def session(monkeypatch):
    """A session's server with the extension's routes, for services at the URL the test names."""
    servers = []

    def start(services_url: str = "", hub_api_url: str = "") -> str:
        monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "server-token")
        monkeypatch.setenv("FACTORYHUB_SERVICES_URL", services_url)
        monkeypatch.setenv("JUPYTERHUB_API_URL", hub_api_url)
        app = web.Application(base_url="/user/alice/", cookie_secret=b"s" * 32,
                              identity_provider=IdentityProvider(token="browser-token"))
        setup_handlers(app)
        server, port = serve(app)
        servers.append(server)
        return f"http://127.0.0.1:{port}/user/alice/factoryhub/api/messages"

    yield start
    for server in servers:
        server.stop()


async def get(url: str, token: str = "browser-token"):
    response = await AsyncHTTPClient().fetch(url, headers={"Authorization": f"token {token}"}, raise_error=False)
    return response.code, json.loads(response.body)


async def test_new_messages_come_from_the_service_asked_with_the_servers_token(proxy, session):
    url = session(services_url=f"{proxy}/services/")
    assert await get(f"{url}?after=3") == (200, {"messages": MESSAGES[1:]})
    assert await get(url) == (200, {"messages": MESSAGES})  # no after: every message (after=0)
    assert FakeWorkshops.calls == ["after=3 token server-token", "after=0 token server-token"]


async def test_the_hub_says_where_the_service_answers(proxy, session):
    url = session(hub_api_url=f"{proxy}/hub/api")
    assert await get(f"{url}?after=0") == (200, {"messages": MESSAGES})


async def test_a_refusal_of_the_service_is_passed_through(proxy, session):
    code, body = await get(f"{session(services_url=f'{proxy}/services/')}?after=soon")
    assert code == 400 and body["field"] == "after"


async def test_only_the_sessions_user_may_ask(proxy, session):
    url = session(services_url=f"{proxy}/services/")
    assert (await AsyncHTTPClient().fetch(url, raise_error=False)).code == 403
    assert FakeWorkshops.calls == []


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("where", ["proxy without the service", "hub without the service", "nobody answers"])
async def test_a_site_without_the_workshops_service_has_no_messages_quietly(proxy, session, where, caplog):
    FakeHub.known = set()
    # a proxy without the route answers its 404 page (/elsewhere/: no route for the service there)
    url = session(**{"proxy without the service": {"services_url": f"{proxy}/elsewhere/services/"},
                     "hub without the service": {"hub_api_url": f"{proxy}/hub/api"},
                     "nobody answers": {"services_url": f"http://127.0.0.1:{closed_port()}/services/"}}[where])
    with caplog.at_level(logging.INFO, logger="factoryhub_lab.services"):
        answer = await get(f"{url}?after=0")
    assert answer == (200, {"messages": [], "available": False})
    assert [r for r in caplog.records if r.name.startswith("factoryhub_lab") and r.levelno >= logging.WARNING] == []
    assert FakeWorkshops.calls == []


async def test_a_service_the_hub_does_not_have_is_not_asked_about_at_every_poll(proxy):
    FakeHub.known = set()
    now = [0.0]
    client = ServiceClient("server-token", hub_api_url=f"{proxy}/hub/api", clock=lambda: now[0], absent_ttl=300)
    for _ in range(3):  # polls 30 s apart
        assert (await client.call(WORKSHOPS, "messages", {"after": 0}, quiet=True)).status == 503
        now[0] += 30
    assert FakeHub.asked == ["factoryhub-workshops"]
    FakeHub.known = {"factoryhub-workshops"}  # the site added it (a hub restart): found within absent_ttl
    now[0] = 301
    assert (await client.call(WORKSHOPS, "messages", {"after": 0})).body == {"messages": MESSAGES}
    assert FakeHub.asked == ["factoryhub-workshops"] * 2
