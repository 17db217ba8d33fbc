"""The kernel websocket as a dashboard server accepts it: its own viewer only, widget messages only.

Voila executes the notebook on the server; the page's websocket only carries widget traffic. A websocket
that could send ``execute_request`` would let any guest run code as the owner, so everything that is not
kernel info or widget comm traffic on the shell channel is dropped (``incoming_allowed``).
"""
from __future__ import annotations

import json
from typing import Any

from jupyter_server.services.kernels.connection.base import deserialize_binary_message, deserialize_msg_from_ws_v1
from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection
from tornado.web import HTTPError

from .viewers import log_access, viewer_of

# What the widget manager of Voila's page sends: kernel info on connect, comm traffic for the widgets.
ALLOWED_MESSAGE_TYPES = ("kernel_info_request", "comm_info_request", "comm_open", "comm_msg", "comm_close")
# Comms the page may open: ipywidgets' own targets, not whatever else the notebook's libraries register.
WIDGET_COMM_TARGET_PREFIX = "jupyter.widget"
WS_V1 = "v1.kernel.websocket.jupyter.org"


def incoming_allowed(channel: str | None, msg_type: str, content: Any) -> bool:
    """Whether a message from the page may reach the kernel (pure: tested on its own)."""
    if channel not in (None, "shell") or msg_type not in ALLOWED_MESSAGE_TYPES:
        return False
    if msg_type == "comm_open":
        target = content.get("target_name") if isinstance(content, dict) else None
        return isinstance(target, str) and target.startswith(WIDGET_COMM_TARGET_PREFIX)
    return True


def parse_incoming(ws_msg: str | bytes, subprotocol: str | None) -> tuple[str | None, str, Any]:
    """(channel, msg_type, content) of a websocket message, in either of Jupyter's kernel protocols."""
    if subprotocol == WS_V1:
        channel, parts = deserialize_msg_from_ws_v1(ws_msg)
        return channel, json.loads(parts[0]).get("msg_type", ""), json.loads(parts[3])
    msg = deserialize_binary_message(ws_msg) if isinstance(ws_msg, bytes) else json.loads(ws_msg)
    return msg.get("channel"), msg.get("header", {}).get("msg_type", ""), msg.get("content")


class GuardedKernelConnection(ZMQChannelsWebsocketConnection):
    """Jupyter's kernel websocket connection for a dashboard server (set as kernel_websocket_connection_class)."""

    async def prepare(self):
        """Before the upgrade: only the viewer whose page view started this kernel may connect (else 403)."""
        handler = self.websocket_handler
        viewer = viewer_of(handler)
        audience = self.multi_kernel_manager.audience
        if viewer is None or not audience.may_use(self.kernel_id, viewer.user):
            self.log.warning("dashboard gate: refused %s a websocket to kernel %s, which is not theirs",
                             viewer.user if viewer else "an unidentified request", self.kernel_id)
            raise HTTPError(403, "This kernel belongs to another viewer")
        self._viewer = viewer
        await super().prepare()

    def connect(self):
        """Record the websocket (user, token) for the revocation loop, then connect as Jupyter does."""
        viewer = self._viewer
        manager = self.multi_kernel_manager
        manager.audience.connected(self.kernel_id, id(self), viewer, self._close_for)
        log_access(self.log, "kernel connect", viewer.user, self.kernel_id, manager.notebook)
        return super().connect()

    def disconnect(self):
        """Forget the websocket, then disconnect as Jupyter does."""
        self.multi_kernel_manager.audience.disconnected(self.kernel_id, id(self))
        return super().disconnect()

    def _close_for(self, reason: str) -> None:
        # 1008: policy violation, the close code for "you may no longer be here"
        self.websocket_handler.close(1008, reason)

    def handle_incoming_message(self, incoming_msg):
        """Pass widget traffic to the kernel; drop (and log) anything else, such as execute_request."""
        try:
            channel, msg_type, content = parse_incoming(incoming_msg, self.subprotocol)
        except Exception:  # whatever cannot be parsed cannot be checked
            channel, msg_type, content = "?", "unreadable", None
        if not incoming_allowed(channel, msg_type, content):
            self.log.warning("dashboard gate: dropped a %s message on channel %s from %s to kernel %s",
                             msg_type, channel, self._viewer.user, self.kernel_id)
            return
        super().handle_incoming_message(incoming_msg)
