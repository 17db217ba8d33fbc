"""Interim Slurm backend: stock batchspawner's SlurmSpawner fed by validated options.

Issue 3 replaces this with FactoryHub's own Slurm spawner (shared watcher, safe port
callback, accounts, argv-only commands). Until then only validated, typed values from
the site's profiles reach the job script.
"""
from __future__ import annotations

import shlex

from batchspawner import SlurmSpawner
from traitlets import Unicode

from .mixin import SessionOptionsMixin
from .options import SessionRequest


def slurm_walltime(minutes: int) -> str:
    """Minutes as Slurm's D-HH:MM:SS."""
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    return f"{days}-{hours:02d}:{mins:02d}:00"


class StockSlurmSessionSpawner(SessionOptionsMixin, SlurmSpawner):
    """batchspawner's SlurmSpawner with FactoryHub profiles."""

    default_environment_prefix = Unicode(
        "", config=True,
        help="Prefix of the Python environment on the cluster for profiles that name none, "
        "e.g. /opt/factoryhub/user-env (its bin/ goes first on the job's PATH).",
    )

    def apply_session_request(self, request: SessionRequest) -> None:
        profile = request.profile
        self.req_partition = profile.partition
        self.req_runtime = slurm_walltime(request.walltime_minutes)
        self.req_memory = f"{profile.memory_gb}G"
        self.req_nprocs = str(profile.cpus)
        self.req_gres = f"gpu:{profile.gpu_type}:{profile.gpus}" if profile.gpus else ""
        env = profile.environment
        prefix = str(env.prefix) if env is not None and env.kind == "python" else self.default_environment_prefix
        if prefix:
            self.req_prologue = f"export PATH={shlex.quote(prefix + '/bin')}:$PATH"
