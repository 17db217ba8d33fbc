"""Profiles, the spawn form and option validation, shared by every FactoryHub spawner."""
from __future__ import annotations

import time

from jupyterhub.spawner import SpawnException
from traitlets import Any, Bool, Float, Integer, List, Unicode, default
from traitlets.config import LoggingConfigurable

from factoryhub.site import Profile
from factoryhub.system_accounts import AccountPolicyConfig, refusal_message

from . import metrics
from .dashboard import DashboardRequest, is_dashboard_server
from .options import InvalidOptions, SessionRequest, form_to_options, parse_user_options, render_form


def refuse(message: str, reason: str, status_code: int = 400) -> SpawnException:
    """A spawn refusal whose message the spawn page and the API show as is."""
    err = SpawnException(message, reason=reason, status_code=status_code)
    err.jupyterhub_message = message
    return err


class SessionOptionsMixin(AccountPolicyConfig, LoggingConfigurable):
    """Mix into a Spawner: offers the site's profiles and validates user_options once.

    Subclasses read ``self.session_request`` in ``start()``; it is set in
    ``apply_user_options``, which JupyterHub runs for form, API and query spawns alike.
    """

    profiles = List(
        config=True,
        help="Session profiles (dicts with the fields of site.yaml's profiles), e.g. "
        "[{'id': 'gpu-1', 'title': '1 GPU, 4 h', 'partition': 'gpu', 'gpus': 1, 'gpu_type': 'h100'}].",
    )
    default_profile = Unicode("", config=True, help="Profile id pre-selected when the user chose none.")
    session_request = Any(None, help="The validated SessionRequest of the current spawn.")
    dashboard_command = List(Unicode(), config=True, help="The command of dashboard servers (dash-<name>), "
                             "e.g. ['factoryhub-dashboard-server']: Voila on one notebook, nothing else.")
    dashboard_max_viewers = Integer(10, min=1, config=True, help="Most viewers (Voila kernels, one per page view) "
                                    "a dashboard server runs at once; one more is asked to come back later.")
    dashboard_recheck_seconds = Float(2.0, min=0.5, config=True, help="How often a dashboard server checks that "
                                      "its viewers' access still holds (a revoked guest's kernel stops then).")
    dashboard_idle_minutes = Integer(30, min=1, config=True, help="A dashboard server with no viewer for this "
                                     "long stops itself (its job ends and its hold is settled).")
    named_sessions = Bool(True, config=True, help="Whether users may run named sessions besides dashboards "
                          "(False where the site allows none: then only dash-<name> servers are named).")

    @property
    def profile_models(self) -> list[Profile]:
        return [p if isinstance(p, Profile) else Profile.model_validate(p) for p in self.profiles]

    def _previous_options(self) -> dict:
        orm = getattr(self, "orm_spawner", None)
        return dict(getattr(orm, "user_options", None) or self.user_options or {})

    @default("options_form")
    def _default_options_form(self):
        def form(spawner):
            return render_form(spawner.profile_models, spawner._previous_options(), spawner.default_profile or None)
        return form

    @default("options_from_form")
    def _default_options_from_form(self):
        return form_to_options

    def options_from_query(self, query_data):
        return form_to_options({k: [v] if isinstance(v, str) else v for k, v in query_data.items()})

    @default("apply_user_options")
    def _default_apply_user_options(self):
        def apply(spawner, user_options):
            try:
                spawner.refuse_system_account()  # before anything looks at the options
                spawner.session_request = spawner.validate_options(user_options)
                spawner.apply_session_request(spawner.session_request)
                spawner.apply_dashboard(spawner.session_request.dashboard)
            except SpawnException as err:
                spawner.record_spawn(time.monotonic(), err)
                raise
        return apply

    async def start(self):
        """Start the session (``start_session``, per backend), timed by profile and outcome (metrics.py)."""
        started = time.monotonic()
        try:
            result = await self.start_session()
        except BaseException as err:
            self.record_spawn(started, err)
            raise
        self.record_spawn(started, None)
        return result

    async def start_session(self):
        """Start the backend's server and return its (ip, port); override per backend."""
        raise NotImplementedError

    def record_spawn(self, started: float, error: BaseException | None) -> None:
        """Count a spawn that started, was refused (a 4xx the user reads) or failed, with its duration."""
        request = self.session_request
        status = getattr(error, "status_code", None) or 500
        outcome = "started" if error is None else "refused" if isinstance(error, SpawnException) and \
            400 <= status < 500 else "failed"
        metrics.spawn_done(request.profile.id if request is not None else "none", outcome, time.monotonic() - started)

    def validate_options(self, user_options) -> SessionRequest:
        try:
            return parse_user_options(user_options, self.profile_models, self.default_profile or None,
                                      server_name=self.name or "")
        except InvalidOptions as err:
            raise self.refuse_options(err) from None

    def refuse_options(self, err: InvalidOptions) -> SpawnException:
        """Log a refused option and turn it into the 400 the user sees."""
        self.log.warning("Refused session options for %s: %s", self._log_name, err)
        return refuse(f"Invalid session options — {err}", "invalid_options")

    def refuse_system_account(self) -> None:
        """Refuse (403) a session for a system account, however its hub user came to exist
        (login, admin API, an old database): sessions run with the user's Unix identity."""
        refused = self.account_policy.refusal(self.user.name)
        if refused:
            self.log.warning("Refused a session for %s: %s", self._log_name, refused)
            raise refuse(refusal_message(refused), "system_account", 403)

    def apply_session_request(self, request: SessionRequest) -> None:
        """Turn the validated request into the backend's settings (override per backend)."""

    def apply_dashboard(self, dashboard: DashboardRequest | None) -> None:
        """Make a dash- server a dashboard server (spawners/dashboard.py), others the configured session."""
        if self.name and not is_dashboard_server(self.name) and not self.named_sessions:
            raise refuse(f"This site runs one session per user: {self.name[:60]} can only be a dashboard "
                         "server (dash-<name>, published from the dashboards page)", "named_sessions_off", 403)
        if dashboard is None:  # (a spawner's server name never changes: an ordinary one keeps its command)
            return
        self.cmd = list(self.dashboard_command)
        self.default_url = dashboard.url
        self.environment = {**self.environment,
                            **dashboard.environment(self.dashboard_max_viewers, self.dashboard_recheck_seconds)}

    def get_args(self):
        """The server's arguments; a dashboard server also stops itself once nobody has looked for a while."""
        args = super().get_args()
        request = self.session_request
        if request is not None and request.dashboard is not None:
            # (its kernels' culling is the dashboard server's own, forced: factoryhub_lab.dashboard.server)
            args.append(f"--ServerApp.shutdown_no_activity_timeout={self.dashboard_idle_minutes * 60}")
        return args
