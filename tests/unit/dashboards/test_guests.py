"""Publishing, guest links and guest identities against a fake hub: who gets in, when it ends."""
from __future__ import annotations

import asyncio

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from factoryhub.dashboards import guests, links, publishing
from factoryhub.dashboards.models import AccessEvent, Guest
from factoryhub.dashboards.plan import Limits
from factoryhub.dashboards.schemas import DashboardCreate, LinkCreate

from .fakes import make_parts


def publish(parts, owner="alice", **changes):
    body = DashboardCreate(**{"name": "demo", "title": "Ticket classifier", "notebook": "dash/classifier.ipynb",
                              **changes})
    return asyncio.run(publishing.publish(parts, owner, body))


def kinds(parts):
    with parts.db.read() as session:
        return [e.kind for e in session.scalars(select(AccessEvent).order_by(AccessEvent.id))]


def test_publishing_starts_the_dash_server_with_the_dashboard_options(tmp_path):
    parts, hub, _ = make_parts(tmp_path)
    dashboard = publish(parts, show_sources=True)
    assert dashboard.server == "dash-demo"
    assert hub.users["alice"]["dash-demo"]["options"] == {
        "dashboard": "dash/classifier.ipynb", "dashboard_sources": True, "profile": "cpu-small"}
    assert kinds(parts) == ["dashboard.published"]


def test_a_server_the_hub_refuses_leaves_nothing_published(tmp_path):
    parts, hub, _ = make_parts(tmp_path)
    hub.refuse_spawn = "Project (account): 'x' is not one of your projects"
    with pytest.raises(publishing.Refused, match="server was refused: Project"):
        publish(parts)
    with pytest.raises(publishing.Refused) as missing:
        publishing.find(parts, "alice", "demo")
    assert missing.value.status == 404
    hub.refuse_spawn = ""
    assert publish(parts).name == "demo"  # the name is free again


@pytest.mark.parametrize("notebook, words", [("../bob/x.ipynb", "leaves your home"), ("/etc/x.ipynb", "outside"),
                                             ("dash/run.py", "is not a notebook")])
def test_notebooks_outside_the_home_or_not_notebooks_are_refused(notebook, words):
    with pytest.raises(ValidationError, match=words):
        DashboardCreate(name="demo", title="T", notebook=notebook)


def test_one_name_once_and_at_most_the_sites_number_per_owner(tmp_path):
    parts, _, _ = make_parts(tmp_path, Limits(max_per_owner=2))
    publish(parts)
    with pytest.raises(publishing.Refused, match="already publish a dashboard named 'demo'"):
        publish(parts)
    publish(parts, name="two")
    with pytest.raises(publishing.Refused, match="already publish 2 dashboards, the most"):
        publish(parts, name="three")


def test_someone_elses_dashboard_is_refused_by_name(tmp_path):
    parts, _, _ = make_parts(tmp_path)
    publish(parts)
    with pytest.raises(publishing.Refused) as refused:
        publishing.owned(parts, "alice", "demo", "bob", is_admin=False)
    assert refused.value.status == 403 and "is not yours" in refused.value.message
    assert publishing.owned(parts, "alice", "demo", "root", is_admin=True).owner == "alice"


def test_a_link_admits_guests_up_to_its_limit_and_the_next_is_told_why(tmp_path):
    parts, _, _ = make_parts(tmp_path)
    dashboard = publish(parts)
    _, code = links.create(parts, dashboard, LinkCreate(max_guests=2), "user:alice")
    names = [guests.admit(parts, code, "10.0.0.1")[0] for _ in range(2)]
    assert len(set(names)) == 2 and all(n.startswith("guest-") for n in names)
    with pytest.raises(guests.GuestRefused, match="already admitted its 2 guests") as refused:
        guests.admit(parts, code, "10.0.0.3")
    assert refused.value.status == 409
    assert kinds(parts).count("guest.refused") == 1
    assert links.of_dashboard(parts, dashboard.id)[0]["uses"] == 2


def test_a_ticket_logs_in_once_and_names_the_one_server(tmp_path):
    parts, _, clock = make_parts(tmp_path)
    dashboard = publish(parts)
    _, code = links.create(parts, dashboard, LinkCreate(), "user:alice")
    name, ticket = guests.admit(parts, code, "10.0.0.1")
    grant = guests.redeem(parts, ticket)
    assert (grant["guest"], grant["owner"], grant["server"]) == (name, "alice", "dash-demo")
    with pytest.raises(guests.GuestRefused, match="unknown, used or expired"):
        guests.redeem(parts, ticket)
    _, late = guests.admit(parts, code, "10.0.0.2")
    clock.advance(minutes=3)
    with pytest.raises(guests.GuestRefused, match="unknown, used or expired"):
        guests.redeem(parts, late)


def test_link_expiry_default_maximum_and_minimum(tmp_path):
    parts, _, clock = make_parts(tmp_path, Limits(link_default_seconds=3600, link_max_seconds=7200))
    dashboard = publish(parts)
    link, _ = links.create(parts, dashboard, LinkCreate(), "user:alice")
    assert (link.expires_at - clock()).total_seconds() == 3600
    with pytest.raises(publishing.Refused, match="7201 is beyond this site's maximum of 7200 seconds"):
        links.create(parts, dashboard, LinkCreate(expires_in_seconds=7201), "user:alice")
    with pytest.raises(publishing.Refused, match="at least 60 seconds"):
        links.create(parts, dashboard, LinkCreate(expires_in_seconds=5), "user:alice")


def test_revoking_a_link_deletes_its_guests_in_the_hub_and_refuses_newcomers(tmp_path):
    parts, hub, _ = make_parts(tmp_path)
    dashboard = publish(parts)
    link, code = links.create(parts, dashboard, LinkCreate(), "user:alice")
    name, _ = guests.admit(parts, code, "10.0.0.1")
    hub.users[name] = {}  # logged in: the hub made the user
    assert asyncio.run(links.revoke(parts, link, "user:alice")) == []
    assert name not in hub.users
    with pytest.raises(guests.GuestRefused, match="revoked") as refused:
        guests.admit(parts, code, "10.0.0.2")
    assert refused.value.status == 409
    with pytest.raises(guests.GuestRefused) as page:
        guests.check_link(parts, code, "10.0.0.2")
    assert page.value.status == 410


def test_expired_guests_and_guests_of_expired_links_end_and_a_hub_outage_is_retried(tmp_path):
    parts, hub, clock = make_parts(tmp_path, Limits(guest_seconds=600))
    dashboard = publish(parts)
    _, code = links.create(parts, dashboard, LinkCreate(expires_in_seconds=3600), "user:alice")
    name, _ = guests.admit(parts, code, "10.0.0.1")
    hub.users[name] = {}
    clock.advance(minutes=11)
    hub.unreachable = True
    asyncio.run(guests.expire(parts))
    assert [g for g, _ in guests.due(parts)] == [name]  # still due: tried again next pass
    hub.unreachable = False
    asyncio.run(guests.expire(parts))
    assert name not in hub.users and guests.due(parts) == []
    with parts.db.read() as session:
        assert session.get(Guest, name).end_reason == "expired"
    with pytest.raises(guests.GuestRefused, match="expired"):
        clock.advance(hours=1)
        guests.admit(parts, code, "10.0.0.1")


def test_unpublishing_revokes_links_ends_guests_and_removes_the_server(tmp_path):
    parts, hub, _ = make_parts(tmp_path)
    dashboard = publish(parts)
    _, code = links.create(parts, dashboard, LinkCreate(), "user:alice")
    name, _ = guests.admit(parts, code, "10.0.0.1")
    hub.users[name] = {}
    asyncio.run(publishing.unpublish(parts, dashboard, "user:alice"))
    assert "dash-demo" not in hub.users["alice"] and name not in hub.users
    assert ("DELETE", "/users/alice/servers/dash-demo", {"remove": True}) in hub.calls
    with pytest.raises(guests.GuestRefused, match="revoked"):
        guests.admit(parts, code, "10.0.0.1")


def test_the_access_log_cannot_be_rewritten(tmp_path):
    parts, _, _ = make_parts(tmp_path)
    publish(parts)
    with pytest.raises(Exception, match="append-only"), parts.db.write() as session:
        session.execute(AccessEvent.__table__.delete())


def test_sharing_by_name_lists_users_and_groups_but_never_guests(tmp_path):
    from factoryhub.dashboards import sharing

    parts, hub, _ = make_parts(tmp_path)
    dashboard = publish(parts)
    asyncio.run(sharing.change(parts, dashboard, "user:alice", user="bob"))
    asyncio.run(sharing.change(parts, dashboard, "user:alice", group="eng"))
    hub.shares[("alice", "dash-demo")].add(("user", "guest-0123456789"))  # a guest's share, made at its login
    assert asyncio.run(sharing.shared_with(parts, dashboard)) == [{"group": "eng"}, {"user": "bob"}]
    with pytest.raises(publishing.Refused, match="no user carol on this hub"):
        asyncio.run(sharing.change(parts, dashboard, "user:alice", user="carol"))
    with pytest.raises(publishing.Refused, match="guests come in through links"):
        asyncio.run(sharing.change(parts, dashboard, "user:alice", user="guest-0123456789"))
    asyncio.run(sharing.change(parts, dashboard, "user:alice", user="bob", grant=False))
    assert asyncio.run(sharing.shared_with(parts, dashboard)) == [{"group": "eng"}]
    assert kinds(parts).count("share.granted") == 2 and kinds(parts).count("share.revoked") == 1
