"""A managed service stops at once on SIGINT (JupyterHub's first signal) and on SIGTERM, also when
it inherited SIGINT as ignored, as everything started from a background job or nohup does."""
from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

SERVICE = textwrap.dedent("""
    import asyncio, logging, sys
    from factoryhub.orphan_guard import run_service

    class Service:
        name = "signal-test"
        log = logging.getLogger("signal-test")

        async def serve(self):
            print("serving", flush=True)
            await asyncio.Event().wait()

    run_service(Service())
    print("stopped cleanly", flush=True)
""")


def ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("inherited", ["default", "ignored"])
def test_a_service_stops_cleanly_at_once(signum, inherited):
    proc = subprocess.Popen([sys.executable, "-c", SERVICE], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, preexec_fn=ignore_sigint if inherited == "ignored" else None)
    try:
        assert proc.stdout.readline().strip() == "serving"
        proc.send_signal(signum)
        output, _ = proc.communicate(timeout=5)  # JupyterHub would wait 10 s before its next signal
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0 and "stopped cleanly" in output, output
