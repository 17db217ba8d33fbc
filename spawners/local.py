"""Sessions as local processes: the embedded default's backend (development only).

Accounts of the embedded default are not Unix users, so sessions run as the hub's own
user with a home directory per account under the state directory.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from jupyterhub.spawner import SimpleLocalProcessSpawner
from traitlets import default

from .mixin import SessionOptionsMixin
from .options import SessionRequest


class LocalSessionSpawner(SessionOptionsMixin, SimpleLocalProcessSpawner):
    """A JupyterLab process on the hub's machine, offering the site's profiles."""

    @default("cmd")
    def _default_cmd(self):
        # The singleuser server of the hub's own environment, whatever PATH says.
        return [str(Path(sys.executable).with_name("jupyterhub-singleuser"))]

    @default("dashboard_command")
    def _default_dashboard_command(self):
        return [str(Path(sys.executable).with_name("factoryhub-dashboard-server"))]

    def get_args(self):
        args = super().get_args()
        if os.geteuid() == 0:  # e.g. a CI container: the session runs as the hub's own (root) user
            args.append("--ServerApp.allow_root=True")
        return args

    async def start_session(self):
        """Start the local process, never for a system account's hub user."""
        self.refuse_system_account()
        return await SimpleLocalProcessSpawner.start(self)

    def apply_session_request(self, request: SessionRequest) -> None:
        profile = request.profile
        self.mem_limit = profile.memory_gb * 1024**3  # advisory here; exported as MEM_LIMIT
        self.cpu_limit = float(profile.cpus)
        self.environment = {
            **self.environment,
            "FACTORYHUB_PROFILE": profile.id,
            "FACTORYHUB_WALLTIME_HOURS": f"{request.walltime_hours:g}",
            "FACTORYHUB_WALLTIME_MINUTES": str(request.walltime_minutes),
            # counted from the request: the server starts within seconds of it
            "FACTORYHUB_WALLTIME_END": str(int(time.time()) + request.walltime_minutes * 60),
            "FACTORYHUB_GPUS": str(request.gpu_count),
            "FACTORYHUB_PRICE": f"{profile.price:g}",
        }
