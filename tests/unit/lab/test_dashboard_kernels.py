"""The dashboard server's kernels: a viewer per kernel, the cap under concurrent renders, widget traffic only
on the websocket, and a contents manager that writes nothing."""
from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from jupyter_server.services.kernels.connection.base import serialize_msg_to_ws_v1
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from tornado.web import HTTPError

from factoryhub_lab.dashboard.connection import WS_V1, incoming_allowed, parse_incoming
from factoryhub_lab.dashboard.contents import ReadOnlyContentsManager
from factoryhub_lab.dashboard.kernels import DashboardKernelManager, full_message
from factoryhub_lab.dashboard.viewers import RENDERER, Audience, Viewer, note_renderer

ALICE, BOB = Viewer("alice", "tok-a"), Viewer("bob", "tok-b")


@pytest.fixture
def manager(monkeypatch, tmp_path):
    async def start(self, *, kernel_id=None, path=None, **kwargs):
        await asyncio.sleep(0.05)  # starting takes a while: renders overlap
        kernel_id = kernel_id or str(uuid.uuid4())
        self._kernels[kernel_id] = object()
        self.started_with = kwargs
        await asyncio.sleep(0.05)  # as jupyter-server's: running before its start returns
        return kernel_id

    monkeypatch.setattr(AsyncMappingKernelManager, "start_kernel", start, raising=False)
    return DashboardKernelManager(max_viewers=2, notebook="dashboards/x.ipynb", root_dir=str(tmp_path))


async def render(manager, viewer):
    RENDERER.set(viewer)  # what Voila's prelaunch hook does in the render request
    return await manager.start_kernel(kernel_name="python3", path="dashboards")


async def test_renders_arriving_together_never_overshoot_the_viewer_limit(manager):
    outcomes = await asyncio.gather(*(render(manager, Viewer(f"guest{i}", f"t{i}")) for i in range(5)),
                                    return_exceptions=True)
    started = [o for o in outcomes if isinstance(o, str)]
    refused = [o for o in outcomes if isinstance(o, HTTPError)]
    assert len(started) == 2 and len(manager.list_kernel_ids()) == 2
    assert [e.status_code for e in refused] == [429, 429, 429]
    assert refused[0].log_message == full_message(2) == (
        "This dashboard has 2 viewers, the most it allows at once; try again in a few minutes.")
    assert full_message(1).startswith("This dashboard has 1 viewer, ")


async def test_a_kernel_still_starting_counts_once_toward_the_limit(manager):
    """A kernel is among the running ones before its start returns: counted twice, it made the second of
    two allowed viewers wait in vain (seen with ten guests on a limit of ten)."""
    first = asyncio.ensure_future(render(manager, ALICE))
    await asyncio.sleep(0.07)  # the first kernel runs, its start has not returned yet
    second = await render(manager, BOB)
    assert len({await first, second}) == 2 and manager.viewer_count() == 2


async def test_each_kernel_belongs_to_the_viewer_whose_page_started_it(manager, caplog):
    caplog.set_level("INFO")
    kernel = await render(manager, ALICE)
    assert manager.audience.may_use(kernel, "alice") and not manager.audience.may_use(kernel, "bob")
    assert f"dashboard access: user=alice kernel={kernel} notebook=dashboards/x.ipynb event=render" in caplog.text
    # the slot comes back when the kernel goes, and so does its viewer record
    manager.remove_kernel(kernel)
    assert manager.viewer_count() == 0 and manager.audience.renderer(kernel) is None
    assert f"user=alice kernel={kernel} notebook=dashboards/x.ipynb event=kernel ended" in caplog.text


async def test_the_kernel_never_gets_the_servers_hub_token(manager, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "server-secret")
    RENDERER.set(ALICE)
    await manager.start_kernel(kernel_name="python3", env={"JUPYTERHUB_API_TOKEN": "server-secret",
                                                           "JPY_API_TOKEN": "server-secret", "LANG": "C"})
    assert manager.started_with["env"] == {"LANG": "C"}
    RENDERER.set(BOB)
    await manager.start_kernel(kernel_name="python3")  # no env given: the server's own, without the token
    assert "JUPYTERHUB_API_TOKEN" not in manager.started_with["env"] and "PATH" in manager.started_with["env"]


async def test_no_kernel_starts_without_a_render_request_behind_it(manager):
    RENDERER.set(None)
    with pytest.raises(HTTPError) as err:
        await manager.start_kernel(kernel_name="python3")
    assert err.value.status_code == 403
    # one render, one kernel: the noted viewer is used up by the first start
    await render(manager, ALICE)
    with pytest.raises(HTTPError):
        await manager.start_kernel(kernel_name="python3")


class Request:
    def __init__(self, user, token):
        self.current_user = type("U", (), {"username": user})() if user else None
        self.identity_provider = type("IdP", (), {"hub_auth": type("A", (), {"get_token": lambda _s, _h: token})()})()


def test_the_prelaunch_hook_needs_a_user_and_a_hub_token():
    RENDERER.set(None)
    assert note_renderer(Request("alice", "tok-a"), notebook=None, cwd="x") is None
    assert RENDERER.get() == ALICE
    for user, token in (("alice", None), (None, "tok-a")):
        with pytest.raises(HTTPError) as err:
            note_renderer(Request(user, token))
        assert err.value.status_code == 403


def test_the_audience_lists_every_token_to_recheck():
    audience = Audience()
    audience.rendered("k1", ALICE)
    audience.rendered("k2", BOB)
    closed = []
    audience.connected("k1", 1, Viewer("alice", "tok-a2"), closed.append)
    assert sorted(audience.viewers(), key=str) == sorted(
        [("k1", ALICE), ("k2", BOB), ("k1", Viewer("alice", "tok-a2"))], key=str)
    audience.closers("k1")[0]("bye")
    assert closed == ["bye"]
    audience.disconnected("k1", 1)
    audience.forget("k2")
    assert audience.viewers() == [("k1", ALICE)] and audience.closers("k1") == []


def message(msg_type, content=None, channel="shell"):
    return {"channel": channel, "header": {"msg_type": msg_type, "msg_id": "1"}, "parent_header": {},
            "metadata": {}, "content": content or {}}


@pytest.mark.parametrize("channel,msg_type,content,allowed", [
    ("shell", "kernel_info_request", {}, True),
    ("shell", "comm_info_request", {"target_name": "jupyter.widget"}, True),
    ("shell", "comm_msg", {"comm_id": "c", "data": {"method": "update"}}, True),
    ("shell", "comm_open", {"target_name": "jupyter.widget.control"}, True),
    ("shell", "comm_close", {"comm_id": "c"}, True),
    (None, "comm_msg", {}, True),  # Jupyter treats no channel as shell
    ("shell", "execute_request", {"code": "import os; os.system('id')"}, False),
    ("shell", "inspect_request", {}, False), ("shell", "complete_request", {}, False),
    ("shell", "history_request", {}, False), ("shell", "is_complete_request", {}, False),
    ("shell", "shutdown_request", {}, False), ("control", "kernel_info_request", {}, False),
    ("control", "interrupt_request", {}, False), ("control", "debug_request", {}, False),
    ("stdin", "input_reply", {"value": "x"}, False), ("iopub", "comm_msg", {}, False),
    ("shell", "comm_open", {"target_name": "my.library.eval"}, False),
    ("shell", "comm_open", {}, False), ("shell", "comm_open", "not a dict", False),
])
def test_only_widget_traffic_reaches_the_kernel(channel, msg_type, content, allowed):
    assert incoming_allowed(channel, msg_type, content) is allowed


def test_messages_are_read_in_both_websocket_protocols():
    legacy = message("execute_request", {"code": "1"})
    assert parse_incoming(json.dumps(legacy), None) == ("shell", "execute_request", {"code": "1"})
    parts = [json.dumps(legacy[k]).encode() for k in ("header", "parent_header", "metadata", "content")]
    v1 = serialize_msg_to_ws_v1(parts, "control")
    assert parse_incoming(v1, WS_V1) == ("control", "execute_request", {"code": "1"})


async def test_the_contents_manager_reads_and_refuses_every_write(tmp_path):
    (tmp_path / "keep.txt").write_text("original")
    cm = ReadOnlyContentsManager(root_dir=str(tmp_path))
    assert (await cm.get("keep.txt"))["content"] == "original"
    model = {"type": "file", "format": "text", "content": "changed"}
    writes = [cm.save(model, "keep.txt"), cm.save(model, "new.txt"), cm.new(path="new.txt"),
              cm.new_untitled(type="notebook"), cm.copy("keep.txt", ""), cm.rename("keep.txt", "moved.txt"),
              cm.update({"path": "moved.txt"}, "keep.txt"), cm.delete("keep.txt"), cm.delete_file("keep.txt"),
              cm.create_checkpoint("keep.txt"), cm.restore_checkpoint("1", "keep.txt"),
              cm.delete_checkpoint("1", "keep.txt"), cm.trust_notebook("keep.txt")]
    for write in writes:
        with pytest.raises(HTTPError) as err:
            await write
        assert err.value.status_code == 403 and "read-only" in err.value.log_message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]
    assert (tmp_path / "keep.txt").read_text() == "original"
