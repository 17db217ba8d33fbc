"""The guest's page in the service's real web app (a fake hub behind it): terms first, accepting
them sends the browser to the hub's guest login with a one-time ticket; refusals are pages."""
from __future__ import annotations

import asyncio
import re
import socket
from urllib.parse import parse_qs, urlparse

from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from factoryhub.dashboards import guests, links
from factoryhub.dashboards.schemas import LinkCreate
from factoryhub.dashboards.service import DashboardsService

from .fakes import make_parts
from .test_guests import publish


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def fetch(url, **kw):
    try:
        return await AsyncHTTPClient().fetch(url, follow_redirects=False, **kw)
    except HTTPClientError as err:
        return err.response


def test_terms_then_a_ticket_the_hub_redeems_once(tmp_path):
    parts, _, _ = make_parts(tmp_path)
    link, code = links.create(parts, publish(parts), LinkCreate(max_guests=1), "user:alice")

    async def scenario():
        port = free_port()
        server = DashboardsService(terms="Be kind.\n\nVisits are logged.").make_app(parts, "/p/").listen(
            port, "127.0.0.1")
        try:
            page = await fetch(f"http://127.0.0.1:{port}/p/guest/{code}")
            text = page.body.decode()
            assert page.code == 200 and "Ticket classifier" in text and "<p>Visits are logged.</p>" in text
            xsrf = re.search(r'name="_xsrf" value="([^"]+)"', text).group(1)
            cookie = page.headers["Set-Cookie"].split(";")[0]
            accepted = await fetch(f"http://127.0.0.1:{port}/p/guest/{code}", method="POST",
                                   body=f"_xsrf={xsrf}&accept=yes", headers={"Cookie": cookie})
            assert accepted.code == 302
            target = urlparse(accepted.headers["Location"])
            assert target.path == "/hub/dashboard-guest"
            ticket = parse_qs(target.query)["ticket"][0]
            grant = guests.redeem(parts, ticket)
            assert (grant["owner"], grant["server"], grant["notebook"]) == ("alice", "dash-demo",
                                                                             "dash/classifier.ipynb")
            forged = await fetch(f"http://127.0.0.1:{port}/p/guest/{code}", method="POST", body="accept=yes")
            assert forged.code == 403  # no xsrf: no guest
            full = await fetch(f"http://127.0.0.1:{port}/p/guest/{code}")
            assert full.code == 409 and "already admitted its 1 guest," in full.body.decode()
            unknown = await fetch(f"http://127.0.0.1:{port}/p/guest/{'x' * 22}")
            assert unknown.code == 404 and "not known here" in unknown.body.decode()
        finally:
            server.stop()
    asyncio.run(scenario())
    assert link.max_guests == 1
