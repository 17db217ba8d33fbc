"""JupyterHub's identity provider for a dashboard server, with the hub asked on every request.

HubAuth caches the hub's answer for a token (``cache_max_age``, five minutes by default) and a
``cache_max_age`` of 0 means "cache forever", not "never": a guest deleted on the hub would keep access.
So the cache is bypassed for every token lookup instead.
"""
from __future__ import annotations

from jupyterhub.services.auth import HubOAuth
from jupyterhub.singleuser.extension import JupyterHubIdentityProvider
from traitlets import default


class UncachedHubOAuth(HubOAuth):
    """HubOAuth that never answers from its cache: a revoked guest is refused on the next request."""

    def user_for_token(self, token, use_cache=True, session_id="", *, sync=True):
        """Ask the hub who ``token`` belongs to, every time (``use_cache`` is ignored)."""
        return super().user_for_token(token, use_cache=False, session_id=session_id, sync=sync)


class DashboardIdentityProvider(JupyterHubIdentityProvider):
    """JupyterHubIdentityProvider with :class:`UncachedHubOAuth`."""

    @default("hub_auth")
    def _default_hub_auth(self):
        return UncachedHubOAuth(parent=self)
