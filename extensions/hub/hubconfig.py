"""Turn a validated site description into JupyterHub configuration (``c.*``).

The only place that knows both the site model and JupyterHub's option names;
jupyterhub_config.py calls :func:`configure` and nothing else.
"""
from __future__ import annotations

import sys
from pathlib import Path

from .announcements_wiring import READER_TOKEN_FILE as ANNOUNCEMENTS_READER_TOKEN_FILE
from .announcements_wiring import configure_announcements
from .catalogue_wiring import configure_catalogue
from .dashboards_wiring import LOGIN_TOKEN_FILE as DASHBOARD_LOGIN_TOKEN_FILE
from .dashboards_wiring import configure_dashboards
from .local_accounts import CREDENTIALS_FILE, LocalAccountsAuthenticator, ensure_credentials
from .oidc_wiring import configure_oidc
from .proxy import HubFirstProxy
from .quota_wiring import configure_quota, connect_kpi_sources, sessions_token
from .request_logs import (
    LOG_FORMAT_VARIABLE,
    RequestIdTransform,
    application_logging_config,
    hub_log_request,
    template_request_id,
)
from .site import LoadedSite
from .workshops_wiring import LOGIN_TOKEN_FILE, configure_workshops

TEMPLATES = Path(__file__).parent / "templates"


def configure(c, loaded: LoadedSite) -> None:
    """Set every ``c.*`` the site decides."""
    site, state = loaded.site, loaded.state_dir
    state.mkdir(parents=True, exist_ok=True)
    state.chmod(0o700)  # cookie secret, database and credentials live here

    c.JupyterHub.bind_url = site.hub.bind_url
    c.JupyterHub.hub_bind_url = site.hub.hub_bind_url
    if site.hub.hub_connect_url:  # jobs on compute nodes report their port here
        c.Spawner.hub_connect_url = site.hub.hub_connect_url
    c.JupyterHub.db_url = site.databases.hub.format(state_dir=state)
    c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
    c.JupyterHub.proxy_class = HubFirstProxy  # the API answers before the services have started
    c.ConfigurableHTTPProxy.pid_file = str(state / "jupyterhub-proxy.pid")
    c.ConfigurableHTTPProxy.command = list(site.hub.proxy_command)
    c.JupyterHub.template_paths = [str(TEMPLATES)]
    c.JupyterHub.template_vars = {"factoryhub_site_name": site.name}
    c.Spawner.default_url = "/lab"
    c.Spawner.start_timeout = site.sessions.start_timeout_seconds
    # A server on a busy node may take a while to answer after its job started.
    c.Spawner.http_timeout = site.sessions.start_timeout_seconds
    if site.sessions.named_servers_per_user:
        c.JupyterHub.allow_named_servers = True
        c.JupyterHub.named_server_limit_per_user = site.sessions.named_servers_per_user
    c.Authenticator.admin_users = set(site.hub.admin_users)
    # Never a system account as a session identity: asked at login, at spawn and at sbatch.
    c.AccountPolicyConfig.min_uid = site.hub.min_uid
    c.AccountPolicyConfig.max_uid = site.hub.max_uid
    c.AccountPolicyConfig.denied_users = list(site.hub.denied_users)

    _configure_auth(c, loaded)
    _configure_sessions(c, loaded)
    _configure_services(c, loaded)
    _configure_logs(c, loaded.site.hub.log_format)


def _configure_auth(c, loaded: LoadedSite) -> None:
    site, state = loaded.site, loaded.state_dir
    if site.auth.kind == "oidc":
        configure_oidc(c, loaded)
        return
    names = [a.name for a in site.auth.accounts]
    passwords = ensure_credentials(state, names)
    c.JupyterHub.authenticator_class = LocalAccountsAuthenticator
    c.LocalAccountsAuthenticator.passwords = passwords
    c.LocalAccountsAuthenticator.credentials_file = str(state / CREDENTIALS_FILE)
    c.Authenticator.admin_users = set(c.Authenticator.admin_users) | {a.name for a in site.auth.accounts if a.admin}
    c.JupyterHub.template_vars.update(
        factoryhub_local_accounts=True, factoryhub_credentials_file=str(state / CREDENTIALS_FILE))
    lines = "\n".join(f"    {name:<12} {pw}" for name, pw in passwords.items())
    print(f"FactoryHub local accounts (this machine only, {site.hub.bind_url}):\n{lines}\n"
          f"  (kept in {state / CREDENTIALS_FILE})", file=sys.stderr, flush=True)


def _configure_sessions(c, loaded: LoadedSite) -> None:
    site, state = loaded.site, loaded.state_dir
    profiles = [p.model_dump(mode="json") for p in site.profiles]
    if site.sessions.backend == "local":
        from factoryhub.spawners.local import LocalSessionSpawner

        c.JupyterHub.spawner_class = LocalSessionSpawner
        c.LocalSessionSpawner.home_dir_template = str(state / "homes" / "{username}")
        # Local sessions are the hub's children: let them end with it.
        c.JupyterHub.cleanup_servers = True
    else:
        from factoryhub.spawners.slurm.port_callback import install_port_callback
        from factoryhub.spawners.slurm.spawner import SlurmSessionSpawner

        slurm = site.slurm
        install_port_callback()
        c.JupyterHub.spawner_class = SlurmSessionSpawner
        c.SlurmSessionSpawner.slurm_conf = str(slurm.conf or "")
        c.SlurmSessionSpawner.slurm_bin_dir = str(slurm.bin_dir or "")
        c.SlurmSessionSpawner.hub_id = slurm.hub_id
        c.SlurmSessionSpawner.gpu_labels = {g.name: g.label for g in site.gpu_types}
        c.SlurmSessionSpawner.offer_reservations = slurm.offer_reservations
        c.SlurmSessionSpawner.hidden_reservations = list(slurm.hidden_reservations)
        c.SlurmSessionSpawner.show_idle_gpus = slurm.show_idle_gpus
        c.SlurmSessionSpawner.project_storage = site.sessions.project_storage or ""
        if slurm.default_environment is not None:
            c.SlurmSessionSpawner.default_environment = slurm.default_environment.model_dump(mode="json")
        c.Spawner.cmd = ["jupyterhub-singleuser"]
        # Sessions are Slurm jobs: a hub restart must never cancel them.
        c.JupyterHub.cleanup_servers = False
        # A restart serves the API after this long, whatever is still being checked: a pending
        # job's check lasts until it runs (its port report needs the API), and running sessions
        # route themselves as soon as their own check passes (SlurmSessionSpawner.poll).
        c.JupyterHub.init_spawners_timeout = 1
        _add_service(c, "factoryhub-reconciler",
                     [sys.executable, "-m", "factoryhub.spawners.slurm.reconciler", f"--hub-id={slurm.hub_id}",
                      f"--interval={slurm.reconcile_every_seconds}", f"--grace={slurm.orphan_grace_seconds}",
                      f"--slurm-conf={slurm.conf or ''}", f"--slurm-bin-dir={slurm.bin_dir or ''}"],
                     "Cancel Slurm jobs of this hub that no session owns",
                     ["list:users", "read:users", "read:servers", "admin:server_state"])
    spawner = spawner_name(loaded)
    getattr(c, spawner).profiles = profiles
    getattr(c, spawner).default_profile = site.sessions.default_profile or ""


def _configure_services(c, loaded: LoadedSite) -> None:
    quota_scopes, quota_api = configure_quota(c, loaded)
    workshop_scopes = configure_workshops(c, loaded, quota_api, sessions_token(loaded.state_dir, LOGIN_TOKEN_FILE))
    dashboard_scopes = configure_dashboards(c, loaded, sessions_token(loaded.state_dir, DASHBOARD_LOGIN_TOKEN_FILE),
                                            spawner_name(loaded))
    announcement_scopes = configure_announcements(c, loaded, quota_api,
                                                  sessions_token(loaded.state_dir, ANNOUNCEMENTS_READER_TOKEN_FILE))
    user_scopes = [*quota_scopes, *configure_catalogue(c, loaded), *workshop_scopes, *dashboard_scopes,
                   *announcement_scopes]
    connect_kpi_sources(c)  # the KPI report asks the services configured above
    c.JupyterHub.load_roles.append({"name": "user", "description": "Standard user privileges, and using the "
                                    "site's services (own allocations, the catalogue)",
                                    "scopes": ["self", *user_scopes]})
    # A session's token: its own activity and server, where the services answer and the services
    # as its user — nothing else.
    c.Spawner.server_token_scopes = ["users:activity!user", "access:servers!server", *user_scopes]
    _configure_metrics(c, loaded)
    site = loaded.site
    if site.hub.public_url:  # sessions reach the services through the proxy (else they ask the hub where)
        c.JupyterHub.public_url = site.hub.public_url
        c.Spawner.environment.update({"FACTORYHUB_SERVICES_URL": site.hub.public_url.rstrip("/") + "/services/"})
    culler = loaded.site.services.idle_culler
    if not culler.enabled:
        return
    _add_service(c, "idle-culler",
                 [sys.executable, "-m", "factoryhub.orphan_guard",
                  f"--timeout={culler.timeout_minutes * 60}", f"--cull-every={culler.every_seconds}"],
                 "Stop idle servers", ["list:users", "read:users:activity", "read:servers", "delete:servers"])
    # Sessions tell the hub of their activity (a busy GPU included, factoryhub_lab.gpu_activity) often
    # enough that the culler never stops an active one: four times per timeout, at most every 5 min.
    report = activity_interval_seconds(culler.timeout_minutes * 60)
    c.Spawner.environment.update({"JUPYTERHUB_ACTIVITY_INTERVAL": str(report),
                                  "FACTORYHUB_GPU_SAMPLE_SECONDS": str(report)})


def _configure_logs(c, log_format: str) -> None:
    """Request ids on every hub response, error and page (request_logs.py); the site's log format for
    the hub and, through their environment, every service it starts (after all are configured)."""
    c.JupyterHub.tornado_settings.update({"transforms": [RequestIdTransform], "log_function": hub_log_request})
    c.JupyterHub.template_vars["factoryhub_request_id"] = template_request_id  # error.html shows it
    c.JupyterHub.logging_config = application_logging_config(log_format)
    # appended to, so a LazyConfigValue: its to_dict() lists the same dicts (get_value would freeze the list
    # there and then, and every service appended later would be lost)
    services = c.JupyterHub.services
    for service in services.to_dict().get("extend", []) if hasattr(services, "to_dict") else services:
        if "command" in service:
            service.setdefault("environment", {})[LOG_FORMAT_VARIABLE] = log_format


def spawner_name(loaded: LoadedSite) -> str:
    """The class name of the site's spawner (its options are set as c.<name>.*)."""
    return "LocalSessionSpawner" if loaded.site.sessions.backend == "local" else "SlurmSessionSpawner"


METRICS_IDENTITY, METRICS_ROLE, METRICS_TOKEN_FILE = "factoryhub-metrics", "factoryhub-metrics-reader", \
    "metrics-token"


def _configure_metrics(c, loaded: LoadedSite) -> None:
    """Prometheus reads /hub/metrics and each service's /metrics with the token of the identity
    factoryhub-metrics (kept in the state directory, made once); its role reads metrics, nothing else
    (access:services only lets it reach the services' metrics pages: their APIs ask for more)."""
    c.JupyterHub.authenticate_prometheus = True
    c.JupyterHub.services.append({"name": METRICS_IDENTITY,
                                  "api_token": sessions_token(loaded.state_dir, METRICS_TOKEN_FILE)})
    c.JupyterHub.load_roles.append({"name": METRICS_ROLE, "description": "Read the hub's and the services' "
                                    "Prometheus metrics", "scopes": ["read:metrics", "access:services"],
                                    "services": [METRICS_IDENTITY]})


def activity_interval_seconds(timeout_seconds: int) -> int:
    """How often a session reports activity for an idle timeout of ``timeout_seconds``."""
    return max(10, min(300, timeout_seconds // 4))


def _add_service(c, name: str, command: list[str], description: str, scopes: list[str]) -> None:
    """A hub-managed service with a role of exactly ``scopes`` (least privilege)."""
    c.JupyterHub.services.append({"name": name, "command": command})
    c.JupyterHub.load_roles.append({"name": name, "description": description, "scopes": scopes,
                                    "services": [name]})
