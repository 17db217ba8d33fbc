"""configurable-http-proxy that is quick to take over after a crash and routes the hub first.

Two delays of JupyterHub's own proxy handling kept the API unreachable for seconds after a
hub was killed alone (its proxy left running):

- the previous proxy is stopped with a fixed one-second sleep after each signal (two at
  least); here it is polled every 50 ms, and a proxy that has exited but not yet been
  reaped (a zombie) counts as gone;
- the routes to the hub itself and to the sessions that still run are added only in the
  final route check, after every managed service has started and answered, one after
  another; here they are added as soon as the proxy runs (the hub's later check finds them
  and leaves them).
"""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from jupyterhub.proxy import ConfigurableHTTPProxy


def _running_proxy(pid: int) -> bool:
    """True while ``pid`` is a live (not zombie) configurable-http-proxy process."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, IndexError):
        return False
    return state != "Z" and b"configurable-http-proxy" in cmdline


class HubFirstProxy(ConfigurableHTTPProxy):
    """See the module docstring; everything else is JupyterHub's ConfigurableHTTPProxy."""

    stop_previous_seconds = 5.0

    def _check_previous_process(self):
        """Stop a proxy a previous hub left running, without JupyterHub's fixed sleeps."""
        try:
            pid = int(Path(self.pid_file).read_text().strip()) if self.pid_file else 0
        except (OSError, ValueError):
            pid = 0
        if pid and _running_proxy(pid):
            self.log.warning("Stopping the proxy a previous hub left running (pid %s)", pid)
            deadline = time.monotonic() + self.stop_previous_seconds
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    break
                while _running_proxy(pid) and time.monotonic() < deadline:
                    time.sleep(0.05)
                if not _running_proxy(pid):
                    break
                deadline = time.monotonic() + 1
        if pid and not _running_proxy(pid):
            self._remove_process_files()
        super()._check_previous_process()

    async def start(self):
        """Start configurable-http-proxy, then route the hub and every session known to run."""
        await super().start()
        await self.add_hub_route(self.hub)
        await self._route_running_sessions()

    async def _route_running_sessions(self) -> None:
        """Sessions whose restart check has passed (or that routed themselves meanwhile, on the
        proxy this one replaced) are reachable at once, not after every service has started."""
        for user in list(getattr(self.app, "users", {}).values()):
            for name, spawner in list(user.spawners.items()):
                if spawner.server is None or not (spawner.ready or getattr(spawner, "route_wanted", False)):
                    continue
                try:
                    await self.add_route(spawner.proxy_spec, spawner.server.host,
                                         {"user": user.name, "server_name": name})
                except Exception as err:  # the hub's own route check follows and retries
                    self.log.warning("Could not route %s yet: %s", spawner._log_name, err)
