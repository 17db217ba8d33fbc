"""The job → hub port callback, done safely.

A starting job's ``batchspawner-singleuser`` POSTs ``{"port": N}`` to
``/hub/api/batchspawner``. Stock batchspawner ``setattr``s every key of that body onto
the spawner, so a user's job could rewrite the commands the hub runs. This handler
accepts one key, ``port``, as an integer, and only with the server's own token.
"""
from __future__ import annotations

import json

from jupyterhub import apihandlers
from jupyterhub.apihandlers import APIHandler
from tornado import web

CALLBACK_PATH = r"/api/batchspawner"


def parse_port_report(body: object) -> int:
    """The reported port, or ValueError saying what is wrong with the body."""
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object {\"port\": <int>}")
    extra = sorted(set(body) - {"port"})
    if extra:
        raise ValueError(f"only 'port' may be reported; refused keys: {', '.join(map(str, extra))[:200]}")
    port = body.get("port")
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValueError("port must be an integer from 1 to 65535")
    return port


def _owns(spawner, token: str) -> bool:
    owns = getattr(spawner, "owns_token", None)
    return owns(token) if owns is not None else spawner.api_token == token


class PortCallbackHandler(APIHandler):
    """Accept ``{"port": int}`` from the starting server's own token; refuse anything else."""

    @web.authenticated
    def post(self):
        token = self.get_auth_token()
        user = self.current_user
        spawner = next((s for s in getattr(user, "spawners", {}).values() if _owns(s, token)), None)
        if spawner is None:
            self.log.warning("Port report refused for %s: not a server's own token", getattr(user, "name", user))
            raise web.HTTPError(403, "only a session's own server token may report its port")
        try:
            port = parse_port_report(self.get_json_body())
        except ValueError as err:
            self.log.warning("Port report refused for %s: %s", spawner._log_name, err)
            raise web.HTTPError(400, str(err)) from None
        report = getattr(spawner, "report_port", None)
        if report is not None:
            report(port)
        else:
            spawner.port = port
        self.log.info("Session %s reported port %d", spawner._log_name, port)
        self.set_status(201)
        self.finish(json.dumps({"message": "port recorded"}))


def install_port_callback() -> None:
    """Serve /hub/api/batchspawner with the safe handler (replacing batchspawner's own).

    Called explicitly by the hub configuration, before the hub builds its routes.
    """
    import batchspawner.api  # noqa: F401  (its import appends the unsafe handler: replace it)

    handlers = apihandlers.default_handlers
    handlers[:] = [(path, h) for path, h in handlers if path != CALLBACK_PATH]
    handlers.append((CALLBACK_PATH, PortCallbackHandler))
