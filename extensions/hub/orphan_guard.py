"""Hub-managed services end with the hub that started them.

JupyterHub starts its managed services (quota, catalogue, reconciler, idle culler) as
child processes and stops them when it stops. A hub killed alone (an OOM kill, SIGKILL)
cannot: its services would keep running, and the next hub would start a second copy of
each — two importers on one ledger, two reconcilers cancelling jobs. Each service
therefore watches its parent: once the process that started it is gone (the service
is re-parented), it stops itself, gracefully first.
"""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
import time

from .request_logs import LOG_FORMAT_VARIABLE, application_logging_config, configure_service_logging

log = logging.getLogger(__name__)


def exit_when_orphaned(interval: float = 0.5, grace: float = 10.0) -> threading.Thread:
    """Watch the parent process from a daemon thread; when it is gone, SIGINT this process
    (the services stop on KeyboardInterrupt, as when the hub stops them) and, should that
    not end it within ``grace`` seconds, exit hard."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        log.warning("The hub (pid %s) that started this service is gone: stopping", parent)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(grace)
        os._exit(1)

    thread = threading.Thread(target=watch, name="exit-when-orphaned", daemon=True)
    thread.start()
    return thread


def stop_on_signals() -> None:
    """SIGINT and SIGTERM both end this process through KeyboardInterrupt, its clean stop, whatever
    it inherited: a hub started in the background (nohup, a CI job, a shell without job control)
    hands SIGINT down as ignored, and JupyterHub stops a service with SIGINT first and waits 10 s
    before SIGTERM — per service, in turn, so a hub with five services took a minute to stop."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)


LOG_FORMAT = "[%(levelname)1.1s %(asctime)s %(name)s] %(message)s"


def run_service(service) -> None:
    """A managed service's whole life: its log format (text, or JSON lines when the hub sets
    FACTORYHUB_LOG_FORMAT=json), ending with its hub, ``service.serve()`` until the hub stops it
    (SIGINT first, hence KeyboardInterrupt). Other exceptions leave."""
    configure_service_logging(os.environ.get(LOG_FORMAT_VARIABLE, "text"), service.log, LOG_FORMAT)
    stop_on_signals()
    exit_when_orphaned()  # a hub killed alone must not leave this copy running beside the next one
    try:
        asyncio.run(service.serve())
    except KeyboardInterrupt:
        service.log.info("%s stopped", service.name)


def run_idle_culler() -> None:
    """jupyterhub-idle-culler as a managed service that ends with its hub, in the hub's log format."""
    from jupyterhub_idle_culler import IdleCuller
    from traitlets.config import Config

    config = Config()
    config.IdleCuller.logging_config = application_logging_config(os.environ.get(LOG_FORMAT_VARIABLE, "text"))
    stop_on_signals()
    exit_when_orphaned()
    IdleCuller.launch_instance(config=config)


if __name__ == "__main__":
    run_idle_culler()
