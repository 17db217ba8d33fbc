"""A session whose GPUs are busy is active, even with no notebook traffic.

jupyter-server counts kernel, terminal and API traffic as activity; a training loop started
from a terminal or a script keeps a GPU at 100 % while the server looks idle, and the idle
culler would stop it. This module samples the session's GPUs with ``nvidia-smi`` and, while
any of them is busy, records ``factoryhub_gpu_last_activity`` in the server's settings —
jupyter-server's own hook for activity sources (``ServerWebApplication.last_activity``), which
jupyterhub-singleuser reports to the hub, where the idle culler reads it.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import shutil

log = logging.getLogger(__name__)
ACTIVITY_SETTING = "factoryhub_gpu_last_activity"


def parse_utilization(output: str) -> list[int]:
    """GPU utilisation percentages from ``nvidia-smi --query-gpu=utilization.gpu --format=csv,noheader,nounits``;
    lines that are not a number (``[N/A]``, ``[Not Supported]``) are skipped."""
    found = []
    for line in output.splitlines():
        value = line.strip().rstrip("%").strip()
        if value.isdigit():
            found.append(int(value))
    return found


def session_gpus(env: dict[str, str]) -> str | None:
    """The GPUs this session may use, as nvidia-smi's ``--id`` list; None when it has none."""
    if env.get("FACTORYHUB_GPUS", "0") in ("", "0") and not env.get("CUDA_VISIBLE_DEVICES"):
        return None
    visible = env.get("CUDA_VISIBLE_DEVICES", "")
    return visible if visible and visible not in ("NoDevFiles", "-1") else ""


class GpuActivity:
    """Samples the session's GPUs every ``interval`` seconds and marks the server active while one is busy."""

    def __init__(self, settings: dict, gpus: str, nvidia_smi: str, interval: float = 60.0,
                 busy_percent: int = 10, timeout: float = 10.0):
        self.settings, self.gpus, self.nvidia_smi = settings, gpus, nvidia_smi
        self.interval, self.busy_percent, self.timeout = interval, busy_percent, timeout
        self._task: asyncio.Task | None = None

    @classmethod
    def for_session(cls, settings: dict, env: dict[str, str] | None = None) -> GpuActivity | None:
        """The sampler for this session, or None without GPUs or without nvidia-smi."""
        env = dict(os.environ if env is None else env)
        gpus = session_gpus(env)
        nvidia_smi = shutil.which("nvidia-smi", path=env.get("PATH"))
        if gpus is None or nvidia_smi is None:
            return None
        return cls(settings, gpus, nvidia_smi, interval=float(env.get("FACTORYHUB_GPU_SAMPLE_SECONDS", "60")),
                   busy_percent=int(env.get("FACTORYHUB_GPU_BUSY_PERCENT", "10")))

    async def sample(self) -> list[int] | None:
        """One reading of the session's GPUs (None when nvidia-smi failed); marks activity when busy."""
        argv = [self.nvidia_smi, "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits"]
        if self.gpus:
            argv.append(f"--id={self.gpus}")
        try:
            proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE,
                                                        stderr=asyncio.subprocess.PIPE)
        except OSError as err:
            log.warning("GPU activity: cannot run %s: %s", self.nvidia_smi, err)
            return None
        try:
            out, err = await asyncio.wait_for(proc.communicate(), self.timeout)
        except TimeoutError:
            try:
                proc.kill()
            except ProcessLookupError:
                pass
            await proc.wait()
            log.warning("GPU activity: nvidia-smi gave no answer within %.0f s", self.timeout)
            return None
        if proc.returncode != 0:
            log.warning("GPU activity: nvidia-smi exited %s: %s", proc.returncode, err.decode(errors="replace")[:200])
            return None
        readings = parse_utilization(out.decode(errors="replace"))
        if any(value >= self.busy_percent for value in readings):
            self.settings[ACTIVITY_SETTING] = dt.datetime.now(dt.UTC)
        return readings

    async def _run(self) -> None:
        while True:
            await self.sample()
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        """Sample from now on, in the server's event loop (it may not run yet: extensions load first)."""
        from tornado.ioloop import IOLoop

        def begin() -> None:
            if self._task is None:
                self._task = asyncio.ensure_future(self._run())

        IOLoop.current().add_callback(begin)

    def stop(self) -> None:
        """Stop sampling."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
