"""FactoryHub's Slurm spawner: batchspawner's SlurmSpawner, made safe and shared.

Kept from batchspawner: the job-id state (``job_id``/``job_status`` in the spawner
state), the Unix user environment and the port-report protocol (the job POSTs
``{"port": N}`` to /hub/api/batchspawner). Replaced: the job script (typed fields into a
fixed skeleton, FactoryHub's own launcher), every command (argv, no shell), status (one
shared watcher instead of squeue per spawner), progress (the pending reason in plain
words), failure reporting (sbatch's message, the job's output), restart handling.
See docs/sessions.md.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import fnmatch
import hashlib
import hmac
import pwd
import time
from html import escape
from pathlib import Path

from batchspawner import SlurmSpawner
from jupyterhub.spawner import SpawnException
from sqlalchemy.orm import object_session
from traitlets import Bool, Dict, Float, List, Unicode, default

from factoryhub.site import Profile

from .. import maintenance, metrics
from ..mixin import SessionOptionsMixin
from ..mixin import refuse as _refuse
from ..options import InvalidOptions, SessionRequest, parse_user_options, render_form
from ..workshop import WorkshopBinding, session_accounts, workshop_bindings
from .budget import BudgetHoldMixin
from .client import SlurmClient, SlurmError, SlurmUnreachable
from .cluster import ClusterView, cluster_cache_for
from .jobscript import ApptainerEnv, JobRequest, PythonEnv, UnsafeJobField, render
from .queue import LIMIT_REASONS, describe_pending
from .watcher import watcher_for

UNREACHABLE_MESSAGE = "The scheduler is unreachable, try again shortly."


class SlurmSessionSpawner(BudgetHoldMixin, SessionOptionsMixin, SlurmSpawner):
    """A JupyterLab session as a Slurm job, charged to one of the user's projects."""

    slurm_bin_dir = Unicode("", config=True, help="Directory of sbatch/squeue/scancel (PATH when empty).")
    slurm_conf = Unicode("", config=True,
                         help="slurm.conf to use, e.g. /etc/slurm/slurm.conf (Slurm's default when empty).")
    hub_id = Unicode(
        "factoryhub", config=True,
        help="Tag put in every job's comment (factoryhub:<hub_id>:<user>:<server>) so the reconciler "
        "can tell this hub's jobs from others, e.g. 'hub-prod'.",
    )
    default_environment = Dict(
        config=True,
        help="Environment of profiles that name none: {'kind': 'python', 'prefix': '/opt/envs/ai'} or "
        "{'kind': 'apptainer', 'image': '/images/lab.sif'}.",
    )
    gpu_labels = Dict(config=True, help="GRES type -> label shown in progress, e.g. {'h100': 'H100'}.")
    offer_reservations = Bool(True, config=True, help="Offer the active reservations a user may use.")
    hidden_reservations = List(
        Unicode(), config=True, help="Reservations never offered, as shell-style patterns, e.g. ['root_*'] "
        "(maintenance reservations, FLAGS=MAINT, are never offered: the spawn form shows them as maintenance).")
    show_idle_gpus = Bool(True, config=True, help="Show idle GPUs per type in the spawn form.")
    project_storage = Unicode(
        "", config=True, help="Where sessions' outputs go, with {account} and {username} filled in, e.g. "
        "/proj/{account}/{username}/outputs (FACTORYHUB_NOTEBOOK_OUTPUT in the session; empty: none set).")
    port_timeout = Float(120.0, config=True, help="Seconds to wait for the running job to report its port.")
    listen_probe_interval = Float(
        0.05, config=True, help="Seconds between checks whether a reported server accepts connections yet.")

    token_sha256 = Unicode("", help="SHA-256 of the running server's API token (kept in the state).")
    maintenance_warnings = List(Unicode(), help="Maintenance windows the current request's walltime crosses, "
                                "as the user is told (spawners/maintenance.py).")
    route_wanted = Bool(False, help="Routed by the spawner itself during a restart check (a proxy started "
                        "after that must route it too).")

    # --- state: what must survive a hub restart ------------------------------------
    def get_state(self):
        state = super().get_state()
        if self.port:
            state["port"] = self.port
        if self.token_sha256:
            state["token_sha256"] = self.token_sha256
        return state

    def load_state(self, state):
        super().load_state(state)
        self.port = int(state.get("port") or 0)
        self.token_sha256 = state.get("token_sha256", "")

    def clear_state(self):
        super().clear_state()
        self.token_sha256 = ""
        self.route_wanted = False

    def owns_token(self, token: str) -> bool:
        """True if ``token`` is this server's own (also after a hub restart)."""
        if self.api_token:
            return hmac.compare_digest(self.api_token, token)
        digest = hashlib.sha256(token.encode()).hexdigest()
        return bool(self.token_sha256) and hmac.compare_digest(self.token_sha256, digest)

    # --- shared machinery ------------------------------------------------------------
    @property
    def client(self) -> SlurmClient:
        return SlurmClient(bin_dir=Path(self.slurm_bin_dir) if self.slurm_bin_dir else None,
                           slurm_conf=Path(self.slurm_conf) if self.slurm_conf else None,
                           account_policy=self.account_policy)

    @property
    def watcher(self):
        return watcher_for(self.client)

    @property
    def cluster(self):
        return cluster_cache_for(self.client)

    async def maintenance_announcements(self) -> list[dict]:
        """The cluster's maintenance windows as the hub's announcement feed shows them (announcements_feed.py)."""
        now = dt.datetime.now(dt.UTC)
        return maintenance.as_announcements((await self.cluster.view()).maintenance(now), now)

    @default("dashboard_command")
    def _default_dashboard_command(self):
        return ["factoryhub-dashboard-server"]  # from the session's environment, like jupyterhub-singleuser

    @default("options_form")
    def _default_options_form(self):
        async def form(spawner):
            try:
                view = await spawner.cluster.view()
            except SlurmError as err:
                spawner.log.warning("Spawn form without projects for %s: %s", spawner._log_name, err)
                return f'<p class="alert alert-warning">{UNREACHABLE_MESSAGE}</p>'
            now = dt.datetime.now(dt.UTC)
            try:
                accounts, active = session_accounts(view.accounts_of(spawner.user.name), spawner.workshops(), now)
            except InvalidOptions as err:
                return f'<p class="alert alert-warning" id="factoryhub-no-project">{escape(err.reason)}</p>'
            return render_form(spawner.offered_profiles(view), spawner._previous_options(),
                               spawner.default_profile or None, accounts,
                               spawner.offered_reservations(view), view.idle_gpus if spawner.show_idle_gpus else None,
                               spawner.gpu_labels, await spawner.project_balances(accounts), active,
                               view.maintenance(now), now)
        return form

    def workshops(self) -> tuple[WorkshopBinding, ...]:
        """The workshops this user takes part in, active or not, from the properties of the user's
        hub groups (docs/workshops.md); a malformed binding is logged and ignored."""
        groups = ((group.name, group.properties) for group in getattr(self.user, "groups", None) or ())
        return workshop_bindings(groups, self.log)

    def offered_profiles(self, view: ClusterView) -> list[Profile]:
        """The site's profiles, their walltime bounded by Slurm's partition limits."""
        return [view.bounded(p) for p in self.profile_models]

    def offered_reservations(self, view: ClusterView) -> tuple[str, ...]:
        """Active reservations this user may use, less those the site hides (never a maintenance one)."""
        if not self.offer_reservations:
            return ()
        return tuple(r for r in view.reservations_of(self.user.name)
                     if not any(fnmatch.fnmatchcase(r, pattern) for pattern in self.hidden_reservations))

    @default("apply_user_options")
    def _default_apply_user_options(self):
        async def apply(spawner, user_options):
            spawner.refuse_system_account()  # before anything looks at the options or asks Slurm
            try:
                spawner.session_request = await spawner._validate(user_options)
                spawner.apply_dashboard(spawner.session_request.dashboard)
                spawner.maintenance_warnings = await spawner._maintenance_warnings(spawner.session_request)
            except InvalidOptions as err:
                refused = spawner.refuse_options(err)
                spawner.record_spawn(time.monotonic(), refused)
                raise refused from None
            except SlurmUnreachable:
                raise _refuse(UNREACHABLE_MESSAGE, "slurm_unreachable", 503) from None
        return apply

    async def _maintenance_warnings(self, request: SessionRequest) -> list[str]:
        """What the user is told when the request's walltime crosses a maintenance window: the form
        warned already, a REST API spawn hears it first in its progress events (docs/sessions.md)."""
        now = dt.datetime.now(dt.UTC)
        view = await self.cluster.view()  # (the one validation just used: cached)
        found = maintenance.warnings(view.maintenance(now), request.profile.partition, now,
                                     dt.timedelta(minutes=request.walltime_minutes))
        for text in found:
            self.log.warning("Session %s (%d min on %s) crosses a maintenance window: %s", self._log_name,
                             request.walltime_minutes, request.profile.partition, text)
        return found

    async def _validate(self, user_options) -> SessionRequest:
        """Validate against the cached cluster view; a project or reservation the cache does
        not know yet gets one fresh look before the request is refused. A session of one of the
        user's active workshops takes the workshop's profile, project and reservation."""
        workshops, now, arrived = self.workshops(), dt.datetime.now(dt.UTC), self.cluster.clock()

        def parse(view):
            accounts, active = session_accounts(view.accounts_of(self.user.name), workshops, now)
            return parse_user_options(user_options, self.offered_profiles(view), self.default_profile or None,
                                      accounts, self.offered_reservations(view), active, server_name=self.name or "")

        try:
            return parse(await self.cluster.view())
        except InvalidOptions as err:
            if err.field not in ("account", "reservation"):
                raise
        # e.g. a workshop participant who joined a moment ago: a view begun after this request
        return parse(await self.cluster.view(fresher_than=arrived))

    # --- the job ---------------------------------------------------------------------
    def _environment(self, profile: Profile) -> PythonEnv | ApptainerEnv:
        env = profile.environment.model_dump(mode="json") if profile.environment else dict(self.default_environment)
        if env.get("kind") == "apptainer":
            return ApptainerEnv(image=env["image"], binds=tuple(env.get("binds") or ()))
        if env.get("kind") == "python":
            return PythonEnv(prefix=env["prefix"])
        raise _refuse(f"Profile {profile.id} has no software environment configured", "misconfigured", 500)

    def job_request(self, request: SessionRequest) -> JobRequest:
        profile = request.profile
        try:
            account = pwd.getpwnam(self.user.name)
        except KeyError:
            raise _refuse(f"{self.user.name} has no Unix account on the cluster: sessions run as your cluster "
                          "user, ask the site's support to create it", "no_unix_account", 403) from None
        self._owner_uid = account.pw_uid
        home = account.pw_dir
        return JobRequest(
            username=self.user.name, hub_id=self.hub_id, server_name=self.name or "", account=request.account,
            partition=profile.partition, cpus=profile.cpus, memory_gb=profile.memory_gb,
            walltime_minutes=request.walltime_minutes, home=home, environment=self._environment(profile),
            gpus=request.gpu_count, gpu_type=profile.gpu_type if request.gpu_count else None,
            reservation=request.reservation, price=profile.price, env=self.get_env(),
            command=(*self.cmd, *self.get_args()), modules=tuple(profile.modules),
            course=request.workshop.course if request.workshop else None,
            idle_timeout_minutes=request.workshop.idle_timeout_minutes if request.workshop else None,
            output_dir=self.project_storage.format(account=request.account, username=self.user.name)
            if self.project_storage else None,
        )

    def _persist_state(self) -> None:
        """Store the job id the moment sbatch returns: a hub crash must not forget it."""
        if self.orm_spawner is not None:
            self.orm_spawner.state = self.get_state()
            object_session(self.orm_spawner).commit()  # the hub's own session (Spawner.db is deprecated)

    async def submit_batch_script(self) -> str:
        if self.session_request is None:  # e.g. a spawn that bypassed apply_user_options
            raise _refuse("Session options were not validated", "invalid_options", 500)
        try:
            job = self.job_request(self.session_request)
        except UnsafeJobField as err:
            raise _refuse(f"Cannot build the job: {err}", "invalid_options") from None
        await self.hold_budget(self.session_request)
        try:
            self.job_id = await self.client.submit(render(job), self.user.name)
        except SlurmError as err:
            await self.close_budget(ran=False)
            if isinstance(err, SlurmUnreachable):
                raise _refuse(UNREACHABLE_MESSAGE, "slurm_unreachable", 503) from None
            raise _refuse(f"Slurm refused the session: {err.stderr or err}", "sbatch_failed") from None
        self._output_path = Path(job.output_path.replace("%j", self.job_id))
        self._submitted_at = time.monotonic()
        self.token_sha256 = hashlib.sha256(self.api_token.encode()).hexdigest()
        self._persist_state()
        await self.attach_budget(self.job_id)
        self.log.info("Submitted job %s for %s (account %s, partition %s%s)", self.job_id, self._log_name,
                      job.account, job.partition,
                      f", workshop {self.session_request.workshop.id}" if self.session_request.workshop else "")
        return self.job_id

    async def cancel_batch_job(self) -> None:
        await self.client.cancel(self.job_id, self.user.name)

    async def _job_ended_message(self, state: str) -> str:
        path, uid = getattr(self, "_output_path", None), getattr(self, "_owner_uid", None)
        tail = (await self.client.job_output_tail(path, self.user.name, uid)
                if path is not None and uid is not None else "")
        text = f"The session's job {self.job_id} ended ({state}) before JupyterLab started."
        return f"{text} Last lines of its output:\n{tail}" if tail else text

    async def start_session(self):
        """Submit the session's job and return (node address, port) once JupyterLab reported."""
        self.refuse_system_account()
        self.port = 0
        self._port_reported = asyncio.Event()
        self._job_started = False
        if not self.watcher.reachable and self.watcher.error_since is not None:
            raise _refuse(UNREACHABLE_MESSAGE, "slurm_unreachable", 503)
        await self.submit_batch_script()
        self.watcher.watch(self.job_id, starting=True)
        try:
            node = await self._wait_for_session()
        except BaseException:
            self.watcher.unwatch(self.job_id)
            await self.close_budget(ran=self._job_started)
            raise
        self.watcher.started(self.job_id)
        self.ip = (await self.cluster.view()).node_addresses.get(node, node)
        self.log.info("Session %s: job %s on %s port %d", self._log_name, self.job_id, node, self.port)
        await self._until_listening()
        return self.ip, self.port

    async def _until_listening(self) -> None:
        """Return once the server accepts connections on its port.

        The job reports its port before JupyterLab has started (a second or more). JupyterHub's
        own readiness check backs off exponentially with jitter (0.2, 0.4, 0.8 s…), so it
        finds a server late; a cheap TCP probe at a steady short interval does not. Gives up
        quietly (JupyterHub's check then decides) when the job ends or after http_timeout.
        """
        deadline = time.monotonic() + self.http_timeout
        while time.monotonic() < deadline:
            try:
                _, writer = await asyncio.wait_for(asyncio.open_connection(self.ip, self.port), 2)
            except (TimeoutError, OSError):
                job = self.watcher.snapshot.get(self.job_id)
                if job is not None and not job.active:
                    return
                await asyncio.sleep(self.listen_probe_interval)
                continue
            writer.close()
            return

    async def _wait_for_session(self) -> str:
        """Wait for the job's port report and return its node; refuse as soon as the watcher
        sees the job end or held by a limit. The report itself proves the job runs, so
        readiness never waits for a watcher tick."""
        running_since = None
        while not self._port_reported.is_set():
            snapshot = self.watcher.snapshot
            if self.watcher.reachable and snapshot.taken_at >= self._submitted_at:
                job = snapshot.get(self.job_id)
                if job is None or not job.active:
                    state = job.state if job else "no longer in the queue"
                    raise _refuse(await self._job_ended_message(state), "job_ended", 500)
                if job.held_by_limit:
                    await self._cancel_quietly()
                    raise _refuse(f"The session cannot start: {LIMIT_REASONS[job.reason]} "
                                  f"(Slurm reason {job.reason}).", "held_by_limit", 403)
                if job.running and running_since is None:
                    running_since = time.monotonic()
                    self._job_runs()
            if running_since is not None and time.monotonic() - running_since > self.port_timeout:
                raise _refuse(await self._job_ended_message("running, but JupyterLab never reported"),
                              "no_port", 500)
            await self._until_port_or_update()
        job = self.watcher.snapshot.get(self.job_id)
        if job is None or not job.running:
            job = (await self.watcher.refresh()).get(self.job_id)
        if running_since is None:  # the port report came before any tick saw the job run
            self._job_runs()
        return job.node if job is not None else ""

    def _job_runs(self) -> None:
        """The session's job left the queue: count how long it waited there (metrics.py)."""
        self._job_started = True
        partition = self.session_request.profile.partition if self.session_request else ""
        metrics.QUEUE_WAIT_SECONDS.labels(partition).observe(time.monotonic() - self._submitted_at)

    async def _until_port_or_update(self) -> None:
        waits = [asyncio.ensure_future(self._port_reported.wait()),
                 asyncio.ensure_future(self.watcher.next_update())]
        try:
            await asyncio.wait(waits, timeout=30, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()

    def report_port(self, port: int) -> None:
        """Called by the port callback with the server's own token."""
        self.port = port
        self._job_started = True
        self._persist_state()
        event = getattr(self, "_port_reported", None)
        if event is not None:
            event.set()

    async def _cancel_quietly(self) -> None:
        try:
            await self.cancel_batch_job()
        except SlurmError as err:
            self.log.warning("Could not cancel job %s of %s: %s", self.job_id, self._log_name, err)

    async def poll(self):
        """None while the job is active or its state is unknown; 1 once Slurm ended it.

        At hub start-up (``_check_pending``) a session whose job is still pending, or
        running without having reported its port, is resumed here: the hub serves
        requests meanwhile (init_spawners_timeout), so the job's port report arrives.
        """
        if not self.job_id:
            return 0
        if self._check_pending and self.server is not None and not self.port:
            # (the hub's own server record holds a placeholder port; ours is set only by the job)
            return await self._resume_after_restart()
        watcher = self.watcher
        if self.job_id not in watcher.watched:  # e.g. after a hub restart
            watcher.watch(self.job_id)
        if watcher.snapshot.taken_at == 0:
            try:
                await watcher.next_update(timeout=30)
            except TimeoutError:
                return None
        if not watcher.reachable:
            return None  # unknown is not gone: keep the session
        job = watcher.snapshot.get(self.job_id)
        if job is not None and job.active:
            if self._check_pending and job.running and self.server is not None:
                await self._route_now()  # reachable now, not once every other session's check ends
            return None
        self.log.warning("Session %s ended: job %s %s", self._log_name, self.job_id,
                         f"{job.state} ({job.reason})" if job else "is no longer known to Slurm")
        watcher.unwatch(self.job_id)
        await self.close_budget(ran=True)
        self.clear_state()
        return 1

    async def _resume_after_restart(self):
        self.log.info("Resuming %s after a hub restart: job %s", self._log_name, self.job_id)
        self._port_reported = asyncio.Event()
        self._submitted_at = time.monotonic()
        self.watcher.watch(self.job_id, starting=True)
        try:
            node = await asyncio.wait_for(self._wait_for_session(), self.start_timeout)
        except (TimeoutError, SpawnException) as err:
            self.log.warning("Could not resume %s: %s", self._log_name, getattr(err, "message", "start timeout"))
            await self._cancel_quietly()
            self.watcher.unwatch(self.job_id)
            await self.close_budget(ran=True)
            return 1
        self.watcher.started(self.job_id)
        self.server.ip = (await self.cluster.view()).node_addresses.get(node, node)
        self.server.port = self.port
        object_session(self.orm_spawner).commit()
        await self._route_now()
        return None

    async def _route_now(self) -> None:
        """Add this server's route at once. After a restart JupyterHub routes the servers it
        checked in the background only when *every* check has finished, and a pending job's
        check lasts until the job runs: without this, one queued session would keep every
        other user's running session unreachable."""
        self.route_wanted = True  # a proxy that replaces the current one routes it too (HubFirstProxy)
        proxy = self.user.settings.get("proxy")
        if proxy is None:
            return
        try:
            await proxy.add_route(self.proxy_spec, self.server.host,
                                  {"user": self.user.name, "server_name": self.name})
        except Exception as err:  # the hub's own route check retries; the session is not lost
            self.log.warning("Could not route %s yet: %s", self._log_name, err)

    async def stop(self, now=False):
        if not self.job_id:
            return
        self.log.info("Stopping %s: cancelling job %s", self._log_name, self.job_id)
        job = self.watcher.snapshot.get(self.job_id)
        await self._cancel_quietly()
        # Settle the hold at once from the job's real run time, so the balance frees what the
        # session did not use now, not at the next accounting import.
        started_at = job.start_time if job is not None and job.running else None
        await self.close_budget(ran=getattr(self, "_job_started", True),  # after a restart: assume it ran
                                charged_gpu_hours=self.charge_so_far(started_at, time.time()))
        if not now:  # wait (bounded) until the shared watcher sees the job release its resources
            self.watcher.expedite(self.job_id)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                await self.watcher.next_update(timeout=5)
                job = self.watcher.snapshot.get(self.job_id)
                if not self.watcher.reachable or job is None or job.state not in ("PENDING", "RUNNING", "CONFIGURING"):
                    break
        self.watcher.unwatch(self.job_id)

    async def progress(self):
        """Stream what the job is doing: why it waits, its place in the queue, then the node."""
        last = None
        for text in self.maintenance_warnings:  # (the form showed it; a REST API spawn hears it here)
            yield {"message": f"Warning: {text}"}
        while True:
            job = self.watcher.snapshot.get(self.job_id) if self.job_id else None
            if job is None:
                message = "Submitting the session to Slurm…"
            elif job.pending and self.maintenance_warnings and job.reason == "ReqNodeNotAvail":
                message = (f"Job {job.job_id} pending until the maintenance ends: its walltime crosses it "
                           f"(Slurm reason {job.reason})")
            elif job.pending:
                label = self.gpu_labels.get(self.session_request.profile.gpu_type or "", None) \
                    if self.session_request else None
                why = describe_pending(job, self.watcher.snapshot, label, time.time())
                message = f"Job {job.job_id} pending: {why}"
            elif job.running:
                message = f"Job {job.job_id} running on {job.node}, waiting for JupyterLab to start…"
            else:
                message = f"Job {job.job_id} {job.state.lower()}"
            if message != last:
                yield {"message": message}
                last = message
            if job is not None and job.running and self.port:
                return
            try:
                await self.watcher.next_update(timeout=5)
            except TimeoutError:
                pass
