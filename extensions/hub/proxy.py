"""configurable-http-proxy that is quick to take over after a crash and routes the hub first.

Two delays of JupyterHub's own proxy handling kept the API unreachable for seconds after a
hub was killed alone (its proxy left running):

- the previous proxy is stopped with a fixed one-second sleep after each signal (two at
  least); here it is polled every 50 ms, and a proxy that has exited but not yet been
  reaped (a zombie) counts as gone;
- the route to the hub itself is added only in the final route check, after every managed
  service has started and answered, one after another; here it is added as soon as the
  proxy runs (the hub's later check finds it and leaves it).
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
        """Start configurable-http-proxy, then route the hub at once."""
        await super().start()
        await self.add_hub_route(self.hub)
