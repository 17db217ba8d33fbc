"""The session's route to the user's announcements (GET factoryhub/api/announcements): the announcements
service's answer for the server's own token; a site without that service has none, quietly."""
from __future__ import annotations

import pytest
from jupyter_server.auth.identity import IdentityProvider
from tornado import web

from factoryhub_lab.handlers import setup_handlers
from tests.unit.lab.test_messages import FakeHub, get, serve

NOTICES = [{"id": 4, "level": "warning", "title": "Maintenance", "text": "Down on Friday.",
            "starts_at": "2026-12-04T12:00:00+00:00", "ends_at": "2026-12-05T12:00:00+00:00"}]


class FakeAnnouncements(web.RequestHandler):
    """The announcements service's current route: the caller's announcements (the caller is the token's user)."""
    tokens: list[str] = []

    def get(self):
        FakeAnnouncements.tokens.append(self.request.headers["Authorization"])
        self.finish({"user": "alice", "announcements": NOTICES})


@pytest.fixture
async def lab(monkeypatch):
    """A session's server with the extension's routes, and the hub's proxy knowing the service or not."""
    proxy, proxy_port = serve(web.Application([
        (r"/services/factoryhub-announcements/api/v1/announcements/current", FakeAnnouncements),
        (r"/hub/api/services/([^/]+)", FakeHub)]))
    FakeAnnouncements.tokens, FakeHub.asked = [], []
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "server-token")
    monkeypatch.setenv("FACTORYHUB_SERVICES_URL", "")
    monkeypatch.setenv("JUPYTERHUB_API_URL", f"http://127.0.0.1:{proxy_port}/hub/api")
    app = web.Application(base_url="/user/alice/", cookie_secret=b"s" * 32,
                          identity_provider=IdentityProvider(token="browser-token"))
    setup_handlers(app)
    server, port = serve(app)
    yield f"http://127.0.0.1:{port}/user/alice/factoryhub/api/announcements"
    server.stop()
    proxy.stop()


async def test_the_users_announcements_come_from_the_service_asked_with_the_servers_token(lab):
    FakeHub.known = {"factoryhub-announcements"}
    assert await get(lab) == (200, {"user": "alice", "announcements": NOTICES})
    assert FakeAnnouncements.tokens == ["token server-token"]  # never the browser's
    assert (await get(lab, token="wrong"))[0] == 403


async def test_a_site_without_the_service_has_no_announcements_and_no_error(lab):
    FakeHub.known = set()
    assert await get(lab) == (200, {"announcements": [], "available": False})
    assert await get(lab) == (200, {"announcements": [], "available": False})
    assert FakeHub.asked == ["factoryhub-announcements"]  # not asked again every poll
