"""Revocation at once: the hub is asked again about every viewer's token, and refused viewers lose their kernel."""
from __future__ import annotations

import logging

from tornado.web import HTTPError

from factoryhub_lab.dashboard.identity import DashboardIdentityProvider, UncachedHubOAuth
from factoryhub_lab.dashboard.revocation import Access, Revocation, hub_access, refused_kernels
from factoryhub_lab.dashboard.viewers import Audience, Viewer

SCOPE = "access:servers!server=owner/dash"
ALICE, BOB, OWNER = Viewer("alice", "tok-a"), Viewer("bob", "tok-b"), Viewer("owner", "tok-o")


class Hub:
    """HubOAuth's answers, from a dict the test edits."""

    access_scopes = {SCOPE}

    def __init__(self, tokens, down=False):
        self.tokens, self.down, self.calls = tokens, down, []

    async def user_for_token(self, token, use_cache=True, session_id="", *, sync=True):
        self.calls.append((token, use_cache, sync))
        if self.down:
            raise HTTPError(502, "Failed to check authorization (upstream problem)")
        return self.tokens.get(token)

    def check_scopes(self, required, user):
        return set(required) & set(user["scopes"])


def model(name, scopes=(SCOPE,)):
    return {"name": name, "scopes": list(scopes)}


async def test_the_hub_is_asked_without_cache_and_its_answer_is_read_strictly():
    hub = Hub({"tok-a": model("alice"), "tok-x": model("mallory"), "tok-u": model("alice", scopes=("read:users",))})
    assert await hub_access(hub, ALICE) is Access.ALLOWED
    assert hub.calls == [("tok-a", False, False)]
    assert await hub_access(hub, Viewer("alice", "tok-gone")) is Access.REFUSED  # deleted user, expired token
    assert await hub_access(hub, Viewer("alice", "tok-x")) is Access.REFUSED  # the token is someone else's now
    assert await hub_access(hub, Viewer("alice", "tok-u")) is Access.REFUSED  # share revoked: no access scope
    hub.down = True
    assert await hub_access(hub, ALICE) is Access.UNKNOWN


async def test_one_question_per_token_per_round():
    asked = []

    async def ask(viewer):
        asked.append(viewer.token)
        return Access.REFUSED if viewer.user == "bob" else Access.ALLOWED

    pairs = [("k1", ALICE), ("k2", BOB), ("k3", BOB), ("k1", ALICE), ("k4", OWNER)]
    refused, unknown = await refused_kernels(pairs, ask)
    assert refused == {"k2": BOB, "k3": BOB} and unknown == 0
    assert sorted(asked) == ["tok-a", "tok-b", "tok-o"]


class Kernels:
    """The kernel manager as the revocation loop uses it."""

    notebook = "dashboards/x.ipynb"

    def __init__(self):
        self.audience = Audience()
        self.running = {"k-alice", "k-bob", "k-owner"}
        self.shut = []

    def __contains__(self, kernel_id):
        return kernel_id in self.running

    async def shutdown_kernel(self, kernel_id, now=False):
        self.shut.append((kernel_id, now))
        self.running.discard(kernel_id)


async def test_a_refused_viewer_loses_websocket_and_kernel_at_once_the_owner_included(caplog):
    caplog.set_level("INFO")
    km = Kernels()
    km.audience.rendered("k-alice", ALICE)
    km.audience.rendered("k-bob", BOB)
    km.audience.rendered("k-owner", OWNER)
    closed = []
    km.audience.connected("k-alice", 1, ALICE, lambda reason: closed.append(("alice", reason)))
    km.audience.connected("k-owner", 2, OWNER, lambda reason: closed.append(("owner", reason)))
    hub = Hub({"tok-a": model("alice"), "tok-b": model("bob"), "tok-o": model("owner")})
    revocation = Revocation(km, lambda viewer: hub_access(hub, viewer), 0.1, logging.getLogger("test"))

    assert await revocation.once() == [] and closed == [] and km.shut == []
    del hub.tokens["tok-a"]  # the hub deleted the guest
    hub.tokens["tok-o"] = model("owner", scopes=())  # and the owner's token lost its access
    assert sorted(await revocation.once()) == ["k-alice", "k-owner"]
    assert sorted(closed) == [("alice", "Your access to this dashboard has ended"),
                              ("owner", "Your access to this dashboard has ended")]
    assert sorted(km.shut) == [("k-alice", True), ("k-owner", True)] and km.running == {"k-bob"}
    assert km.audience.viewers() == [("k-bob", BOB)]
    assert "dashboard access: user=alice kernel=k-alice notebook=dashboards/x.ipynb event=evicted" in caplog.text


async def test_viewers_are_kept_while_the_hub_does_not_answer(caplog):
    km = Kernels()
    km.audience.rendered("k-alice", ALICE)
    hub = Hub({}, down=True)
    revocation = Revocation(km, lambda viewer: hub_access(hub, viewer), 0.1, logging.getLogger("test"))
    assert await revocation.once() == [] and km.shut == []
    assert "the hub did not answer about 1 viewer token(s)" in caplog.text
    hub.down = False  # it answers again: the guest it deleted meanwhile goes
    assert await revocation.once() == ["k-alice"]


async def test_a_kernel_already_gone_is_still_forgotten():
    km = Kernels()
    km.audience.rendered("k-gone", ALICE)
    revocation = Revocation(km, lambda viewer: hub_access(Hub({}), viewer), 0.1, logging.getLogger("test"))
    assert await revocation.once() == ["k-gone"]
    assert km.shut == [] and km.audience.viewers() == []


async def test_the_identity_provider_never_answers_from_the_hub_auth_cache(monkeypatch):
    provider = DashboardIdentityProvider()
    assert isinstance(provider.hub_auth, UncachedHubOAuth)
    seen = []

    async def check(self, url, api_token, cache_key=None, use_cache=True):
        seen.append(use_cache)
        return model("alice")

    monkeypatch.setattr(UncachedHubOAuth, "_check_hub_authorization", check)
    assert (await provider.hub_auth.user_for_token("tok-a", sync=False))["name"] == "alice"
    assert (await provider.hub_auth.user_for_token("tok-a", use_cache=True, sync=False))["name"] == "alice"
    assert seen == [False, False]
