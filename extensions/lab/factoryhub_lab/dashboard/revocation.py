"""Revocation at once: every few seconds, ask the hub again about every viewer's token.

A guest whose user was deleted, whose share was revoked or whose token expired loses their kernel
(and its websocket is closed) within FACTORYHUB_DASHBOARD_RECHECK_SECONDS, without reloading the page.
The owner's own kernels follow the same rule. When the hub cannot be reached, viewers are kept: the hub
only revokes while it runs, and the next answer it gives is acted on.
"""
from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from .viewers import Viewer, log_access


class Access(enum.Enum):
    """The hub's answer about one viewer's token."""

    ALLOWED = "allowed"
    REFUSED = "refused"
    UNKNOWN = "unknown"  # the hub did not answer


async def hub_access(hub_auth: Any, viewer: Viewer) -> Access:
    """Ask the hub, bypassing any cache, whether ``viewer.token`` still belongs to ``viewer.user`` and still
    grants access to this server (the same scope check as JupyterHubIdentityProvider.get_user)."""
    try:
        model = await hub_auth.user_for_token(viewer.token, use_cache=False, sync=False)
    except Exception:  # an HTTPError for 5xx or no connection: not an answer about the viewer
        return Access.UNKNOWN
    if not model or model.get("name") != viewer.user:
        return Access.REFUSED
    if not hub_auth.check_scopes(hub_auth.access_scopes, model):
        return Access.REFUSED
    return Access.ALLOWED


async def refused_kernels(pairs: list[tuple[str, Viewer]], ask: Callable[[Viewer], Awaitable[Access]]
                          ) -> tuple[dict[str, Viewer], int]:
    """One round: the kernels to evict (with the viewer refused) and how many tokens got no answer.
    Each distinct token is asked about once per round."""
    answers: dict[Viewer, Access] = {}
    refused: dict[str, Viewer] = {}
    for kernel_id, viewer in pairs:
        if viewer not in answers:
            answers[viewer] = await ask(viewer)
        if answers[viewer] is Access.REFUSED:
            refused.setdefault(kernel_id, viewer)
    return refused, sum(answer is Access.UNKNOWN for answer in answers.values())


class Revocation:
    """The background loop: re-check, then close the websockets and shut down the kernels of refused viewers."""

    def __init__(self, kernel_manager: Any, ask: Callable[[Viewer], Awaitable[Access]], interval: float,
                 log: logging.Logger):
        self.kernel_manager = kernel_manager
        self.ask = ask
        self.interval = interval
        self.log = log

    async def run(self) -> None:
        """Re-check every ``interval`` seconds until cancelled; a failed round is logged, never fatal."""
        while True:
            try:
                await self.once()
            except Exception:
                self.log.exception("dashboard gate: re-checking viewers failed; trying again in %.1f s",
                                   self.interval)
            await asyncio.sleep(self.interval)

    async def once(self) -> list[str]:
        """One round; returns the kernels evicted."""
        km = self.kernel_manager
        refused, unknown = await refused_kernels(km.audience.viewers(), self.ask)
        if unknown:
            self.log.warning("dashboard gate: the hub did not answer about %d viewer token(s); keeping them "
                             "until it does", unknown)
        for kernel_id, viewer in refused.items():
            await self.evict(kernel_id, viewer)
        return list(refused)

    async def evict(self, kernel_id: str, viewer: Viewer) -> None:
        """Close the kernel's websockets and shut it down."""
        km = self.kernel_manager
        log_access(self.log, "evicted", viewer.user, kernel_id, km.notebook,
                   "reason=the hub no longer grants this token access to the server")
        for close in km.audience.closers(kernel_id):
            close("Your access to this dashboard has ended")
        if kernel_id in km:
            try:
                await km.shutdown_kernel(kernel_id, now=True)
            except Exception:  # gone meanwhile (the page's own shutdown beacon, culling)
                self.log.debug("dashboard gate: kernel %s was already shutting down", kernel_id)
        km.audience.forget(kernel_id)
