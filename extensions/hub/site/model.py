"""The site description: everything a FactoryHub site decides, as typed, validated data.

One ``site.yaml`` maps onto :class:`Site`. Every field carries its help text (shown by
``factoryhub site-schema``); unknown keys are errors, so a typo never becomes a silent
default. Cross-references (a profile naming a partition, a GPU type offered by a
partition) are checked in :mod:`factoryhub.site.checks`.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from factoryhub.system_accounts import AccountPolicy

# Unix/Slurm-safe names: they end up in job scripts, paths and sacctmgr arguments.
UNIX_NAME = r"^[a-z_][a-z0-9_-]{0,31}$"
SLURM_NAME = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$"
SLUG = r"^[a-z0-9][a-z0-9-]{0,39}$"
UnixName = Annotated[str, Field(pattern=UNIX_NAME)]
GROUP_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
GroupName = Annotated[str, Field(pattern=GROUP_NAME)]


def _host_port_url(value: str) -> str:
    if not re.fullmatch(r"http://[A-Za-z0-9.\-]+:[0-9]{1,5}", value):
        raise ValueError("must look like http://HOST:PORT")
    return value


ServiceBindURL = Annotated[str, AfterValidator(_host_port_url)]
SlurmName = Annotated[str, Field(pattern=SLURM_NAME)]
# apptainer --bind SRC[:DST[:ro|rw]], absolute paths of a safe alphabet (they reach the job script)
BIND = r"^/[A-Za-z0-9_./+-]{0,255}(:/[A-Za-z0-9_./+-]{0,255}(:(ro|rw))?)?$"
MODULE = r"^[A-Za-z0-9_][A-Za-z0-9_.+/-]{0,127}$"  # module load NAME[/VERSION]
Slug = Annotated[str, Field(pattern=SLUG)]
PATTERN_HELP = {
    UNIX_NAME: "a Unix username: lowercase letters, digits, '_' and '-', starting with a letter or '_', "
    "at most 32 characters",
    SLURM_NAME: "a Slurm name: letters, digits, '_', '.' and '-', at most 64 characters",
    SLUG: "lowercase letters, digits and '-', starting with a letter or digit, at most 40 characters",
    GROUP_NAME: "a hub group name: letters, digits, '.', '_' and '-', starting with a letter or digit, "
    "at most 64 characters",
    BIND: "SRC[:DST[:ro|rw]] with absolute paths of letters, digits, '_', '.', '/', '+' and '-'",
    MODULE: "a module name such as cuda/12.9: letters, digits, '_', '.', '+', '/' and '-'",
}


class Section(BaseModel):
    """Base of every section: unknown keys are errors, values are immutable after load."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class HubSettings(Section):
    """The hub's addresses, state and administrators."""

    bind_url: str = Field(
        "http://127.0.0.1:8000/",
        description="Public URL the proxy listens on, e.g. https://hub.factory.example.eu/. "
        "The embedded default listens on loopback only.",
    )
    public_url: str = Field(
        "", description="The address users reach the hub at, when it differs from bind_url (TLS offload, a "
        "reverse proxy), e.g. https://hub.factory.example.eu/. Stable links (the catalogue's DCAT-AP IRIs) use it; "
        "empty: bind_url.")
    hub_bind_url: str = Field(
        "http://127.0.0.1:8081",
        description="Where the hub's own API listens. Slurm jobs call it to report their port, "
        "so on a cluster it must be reachable from compute nodes (e.g. http://10.0.0.5:8081).",
    )
    hub_connect_url: str = Field(
        "", description="How Slurm jobs on compute nodes reach the hub's API when it differs from hub_bind_url "
        "(a load balancer, a Kubernetes Service), e.g. http://hub-api.factory.example.eu:8081; empty: hub_bind_url.")
    state_dir: Path = Field(
        Path(".factoryhub"),
        description="Directory for the hub's state: cookie secret, SQLite databases, local homes. "
        "Relative paths are taken from the site file's directory.",
    )
    admin_users: list[UnixName] = Field(
        default_factory=list, description="Usernames that are hub admins, e.g. [ops-alice]."
    )
    proxy_command: list[str] = Field(
        default_factory=lambda: ["configurable-http-proxy"],
        description="Argv of configurable-http-proxy (installed from npm by the project's setup).",
    )
    min_uid: int = Field(
        1000, ge=1, le=2**31 - 2,
        description="Lowest Unix uid that may log in and run sessions; accounts below it (root, daemons) are "
        "refused at login, at spawn and at sbatch, e.g. 1000 (Debian's UID_MIN).")
    max_uid: int = Field(
        60000, ge=1, le=2**31 - 2,
        description="Highest Unix uid that may run sessions; nobody (65534) and other overflow ids lie above "
        "Debian's default 60000.")
    denied_users: list[UnixName] = Field(
        default_factory=list,
        description="Further usernames never allowed to log in or run sessions, e.g. service accounts above "
        "min_uid [factoryhub, backup-svc]. root, nobody and the hub's own user are always refused.")
    log_format: Literal["text", "json"] = Field(
        "text", description="How the hub and the services it starts write their logs: text (JupyterHub's lines) or "
        "json (one JSON object per line: time, level, logger, message and, where known, request_id, method, path, "
        "status, duration_ms, user; for a log shipper). Either way every response carries an X-Request-Id header "
        "and every error its request id, for users to quote to support (docs/logs.md).")

    @field_validator("bind_url", "hub_bind_url", "public_url", "hub_connect_url")
    @classmethod
    def _http_url(cls, value: str, info) -> str:
        optional = info.field_name in ("public_url", "hub_connect_url")
        if (value or not optional) and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value


class Databases(Section):
    """SQLAlchemy URLs; SQLite under the state directory by default."""

    hub: str = Field(
        "sqlite:///{state_dir}/jupyterhub.sqlite",
        description="SQLAlchemy URL of the hub's database; {state_dir} is expanded. "
        "PostgreSQL in production, e.g. postgresql+psycopg://factoryhub@db/factoryhub_hub (the password in "
        "~/.pgpass, never here).",
    )
    quota: str = Field(
        "sqlite:///{state_dir}/quota.sqlite",
        description="SQLAlchemy URL of the allocations ledger; {state_dir} is expanded. "
        "PostgreSQL in production, e.g. postgresql+psycopg://quota@db/quota.",
    )
    workshops: str = Field(
        "sqlite:///{state_dir}/workshops.sqlite",
        description="SQLAlchemy URL of the workshops, their participants and audit trail; {state_dir} is expanded.")
    dashboards: str = Field(
        "sqlite:///{state_dir}/dashboards.sqlite",
        description="SQLAlchemy URL of the published dashboards, guest links and access log; {state_dir} is "
        "expanded.")
    announcements: str = Field(
        "sqlite:///{state_dir}/announcements.sqlite",
        description="SQLAlchemy URL of the admins' announcements; {state_dir} is expanded.")
    catalogue: str = Field(
        "sqlite:///{state_dir}/catalogue.sqlite",
        description="SQLAlchemy URL of the catalogue's access requests and audit trail; {state_dir} is expanded. "
        "PostgreSQL in production, e.g. postgresql+psycopg://catalogue@db/catalogue.",
    )


class LocalAccount(Section):
    """One local account of the development login."""

    name: UnixName = Field(description="Login name, e.g. researcher.")
    admin: bool = Field(False, description="Whether this account is a hub admin.")


class LocalAuth(Section):
    """Accounts kept in the state directory with generated passwords. Loopback only."""

    kind: Literal["local"]
    accounts: list[LocalAccount] = Field(
        min_length=1, description="Accounts to create; passwords are generated on first start."
    )


class GroupRule(Section):
    """How values of the groups claim become hub groups."""

    pattern: str = Field(
        description="Regular expression matched against each value of the groups claim; its named group "
        "'group' is the hub group, e.g. '^urn:geant:factory.example.eu:group:(?P<group>[a-z0-9-]+)#aai$'. "
        "Values no rule matches are ignored.")

    @field_validator("pattern")
    @classmethod
    def _compiles_with_a_group(cls, value: str) -> str:
        try:
            compiled = re.compile(value)
        except re.error as err:
            raise ValueError(f"not a regular expression ({err})") from None
        if "group" not in compiled.groupindex:
            raise ValueError("the pattern needs a named group (?P<group>...) that names the hub group")
        return value


class OIDCAuth(Section):
    """Institutional login through an OpenID Connect provider (oauthenticator's GenericOAuthenticator,
    with PKCE, refresh tokens and encrypted auth state). Groups and roles follow the provider's claims at
    every login; the hub's admins are exactly the members of admin_groups."""

    kind: Literal["oidc"]
    issuer: str = Field(pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
                        description="Issuer URL; its /.well-known/openid-configuration is read at start, "
                        "e.g. https://login.factory.example.eu/realms/hpc.")
    display_name: str = Field("your institution", min_length=1, max_length=60,
                              description="Shown on the login button: 'Sign in with <display_name>'.")
    client_id: str = Field(min_length=1, description="OAuth client id registered for the hub.")
    client_secret_file: Path = Field(description="File holding the client secret (mode 600).")
    scopes: list[str] = Field(default_factory=lambda: ["openid", "profile", "email", "offline_access"],
                              description="OAuth scopes to request; offline_access lets the hub refresh expired "
                              "tokens without a new login.")
    username_claim: str = Field("preferred_username", min_length=1,
                                description="Claim holding the user's HPC (Unix) username, or the key looked up in "
                                "username_map_file. Dotted paths reach into nested claims.")
    username_map_file: Path | None = Field(
        None, description="YAML mapping of username_claim values to Unix usernames, for providers that do not "
        "know HPC usernames (e.g. eduPersonPrincipalName -> Unix name). Unmapped users are refused.")
    groups_claim: str | None = Field(
        None, description="Claim listing the user's groups or entitlements, e.g. eduperson_entitlement or groups. "
        "Without it users are in no provider-managed group.")
    group_rules: list[GroupRule] = Field(
        default_factory=lambda: [GroupRule(pattern=r"^(?P<group>[A-Za-z0-9][A-Za-z0-9._-]{0,63})$")],
        description="How claim values become hub groups; the default takes plain group names as they are.")
    admin_groups: list[GroupName] = Field(
        default_factory=list, description="Hub groups whose members are hub admins (and quota and catalogue "
        "admins). The only way to be an admin with OIDC login.")
    trainer_groups: list[GroupName] = Field(
        default_factory=list, description="Hub groups whose members hold the trainer role (see docs/login.md).")
    require_unix_account: bool = Field(
        True, description="Refuse users whose mapped username has no Unix account on the hub's host.")
    require_slurm_association: bool | None = Field(
        None, description="Refuse users with no Slurm association; default: when sessions run on Slurm.")
    account_help: str = Field(
        "Ask your project's principal investigator to add you to a project, or write to the support desk.",
        min_length=1, max_length=1000,
        description="Shown to a refused user: how to get an HPC account and a project on this system.")
    account_help_url: str = Field(
        "", pattern=r"^(https://\S+)?$", max_length=500,
        description="A link shown with account_help, e.g. the page where users apply for an HPC account (https).")
    refresh_seconds: int = Field(300, ge=0, le=86400,
                                 description="How old the provider's answer may get before the hub refreshes it "
                                 "(with the refresh token); 0 turns refreshing off.")

    @field_validator("username_claim", "groups_claim")
    @classmethod
    def _claim_path(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_:-]+(\.[A-Za-z0-9_:-]+)*", value):
            raise ValueError("a claim name, or a dotted path of names")
        return value


class GpuType(Section):
    """A GPU model as Slurm names it in GRES."""

    name: SlurmName = Field(description="Slurm GRES type, e.g. h100 (as in gres.conf).")
    label: str = Field(min_length=1, description="Shown to users, e.g. 'NVIDIA H100 80GB'.")
    memory_gb: int = Field(gt=0, le=1024, description="Memory per GPU in GB.")


class Partition(Section):
    """A Slurm partition sessions may run in."""

    name: SlurmName = Field(description="Slurm partition name, e.g. gpu.")
    gpu_types: list[SlurmName] = Field(
        default_factory=list, description="GPU types (names from gpu_types) the partition offers."
    )
    max_walltime_hours: float = Field(gt=0, le=24 * 30, description="Longest session allowed.")


class PythonEnvironment(Section):
    """Sessions run JupyterLab from a Python environment on the cluster."""

    kind: Literal["python"]
    prefix: Path = Field(description="Prefix of a Python environment on the cluster, e.g. /opt/envs/ai-2026.")


class ApptainerEnvironment(Section):
    """Sessions run JupyterLab inside an Apptainer image."""

    kind: Literal["apptainer"]
    image: Path = Field(description="Apptainer image on the cluster filesystem, e.g. /images/pytorch.sif.")
    binds: list[Annotated[str, Field(pattern=BIND)]] = Field(
        default_factory=list, max_length=32,
        description="Folders of the cluster visible in the container (apptainer --bind), as SRC[:DST[:ro|rw]], "
        "e.g. [/srv/factoryhub/catalogue:/data:ro, /project]: the catalogue's data and project storage.")


Environment = Annotated[PythonEnvironment | ApptainerEnvironment, Field(discriminator="kind")]


class Profile(Section):
    """A session offer: resources, walltime bounds and price."""

    id: Slug = Field(description="Stable identifier, used in the API (user_options.profile).")
    title: str = Field(min_length=1, max_length=80, description="Shown in the spawn form.")
    description: str = Field("", max_length=500, description="One or two sentences shown under the title.")
    partition: SlurmName = Field(description="Partition (from partitions) the session runs in.")
    gpus: int = Field(0, ge=0, le=16, description="GPUs per session.")
    gpu_type: SlurmName | None = Field(None, description="GPU type (from gpu_types); required when gpus > 0.")
    cpus: int = Field(1, ge=1, le=512, description="CPU cores per session.")
    memory_gb: int = Field(4, ge=1, le=4096, description="Memory per session in GB.")
    default_walltime_hours: float = Field(1.0, gt=0, description="Walltime when the user picks none.")
    max_walltime_hours: float = Field(4.0, gt=0, description="Upper bound of the walltime a user may pick.")
    price: float = Field(
        1.0, ge=0, le=100,
        description="GPU-hours charged per GPU per hour of walltime (1.0 list price; 0.5 for a workshop).",
    )
    environment: Environment | None = Field(
        None, description="Software for the session; the site's default environment when unset."
    )
    modules: list[Annotated[str, Field(pattern=MODULE)]] = Field(
        default_factory=list, max_length=32,
        description="Environment modules loaded before the session starts (module load, for sites with Lmod or "
        "Environment Modules), e.g. [cuda/12.9, nccl/2.27].")


class SlurmSettings(Section):
    """How the hub reaches Slurm."""

    conf: Path | None = Field(None,
                              description="slurm.conf to use (exported as SLURM_CONF); Slurm's default when unset.")
    bin_dir: Path | None = Field(None, description="Directory of sbatch/squeue/scancel; PATH when unset.")
    default_environment: Environment | None = Field(
        None, description="Software for sessions whose profile names none."
    )
    reconcile_every_seconds: int = Field(
        60, ge=5, le=3600, description="How often the reconciler looks for jobs of this hub that no session owns.")
    orphan_grace_seconds: int = Field(
        120, ge=5, le=86400, description="Jobs younger than this are never treated as orphans (spawns in flight).")
    hub_id: Slug = Field(
        "factoryhub", description="Tag in every session job's comment (factoryhub:<hub_id>:<user>:<server>) "
        "by which this hub recognises its own jobs; give each hub on a cluster its own.",
    )
    offer_reservations: bool = Field(
        True, description="Offer users the active Slurm reservations they may use (false: sessions never "
        "run in a reservation).")
    hidden_reservations: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, description="Reservations never offered, as shell-style patterns, "
        "e.g. ['maint*', 'root_*'].")
    show_idle_gpus: bool = Field(
        True, description="Show how many GPUs of each type are idle now next to each profile.")


class Sessions(Section):
    """Where sessions run."""

    backend: Literal["local", "slurm"] = Field(
        "local", description="local: sessions are processes on the hub machine (development); "
        "slurm: sessions are Slurm jobs.",
    )
    default_profile: Slug | None = Field(None, description="Profile pre-selected in the form; the first when unset.")
    start_timeout_seconds: int = Field(300, ge=10, le=86400, description="How long a session may take to start.")
    named_servers_per_user: int = Field(
        0, ge=0, le=20, description="Sessions a user may run at once besides the default one (0: named servers off).")
    project_storage: str | None = Field(
        None, pattern=r"^/[A-Za-z0-9_./+{}-]{0,255}$",
        description="Where a session's outputs go (the starter notebooks write there), a path on the cluster "
        "with {account} and {username} filled in, e.g. /proj/{account}/{username}/outputs; unset: "
        "outputs/ beside the notebook.")

    @field_validator("project_storage")
    @classmethod
    def _placeholders(cls, value: str | None) -> str | None:
        if value is None:
            return value
        unknown = set(re.findall(r"{([^{}]*)}", value)) - {"account", "username"}
        if unknown or "/../" in f"{value}/" or value.count("{") != value.count("}"):
            raise ValueError("may name only {account} and {username}, and no '..'")
        return value


class IdleCuller(Section):
    """jupyterhub-idle-culler, run as a hub service with least-privilege scopes."""

    enabled: bool = Field(True, description="Run the idle culler.")
    timeout_minutes: int = Field(60, ge=1, le=10080, description="Stop servers idle this long.")
    every_seconds: int = Field(300, ge=10, le=86400, description="How often to look for idle servers.")


class Quota(Section):
    """The allocations service: GPU-hour budgets per project, checked before every session."""

    enabled: bool = Field(
        True, description="Run the quota service (REST API and pages below /services/factoryhub-quota/).")
    enforce_at_spawn: bool = Field(
        True, description="Slurm sessions: hold each session's worst-case cost (GPUs x walltime x price) "
        "before submitting it, and refuse it when the project's balance cannot cover it.")
    unregistered_accounts: Literal["refuse", "allow"] = Field(
        "refuse", description="A Slurm account with no project in the ledger: refuse its sessions, or let them "
        "run unmetered (migration period).")
    bind_url: ServiceBindURL = Field(
        "http://127.0.0.1:0", description="Where the service listens (the hub proxies to it); port 0: a free "
        "port chosen when the hub starts.")
    import_every_seconds: int = Field(
        300, ge=0, le=86400, description="How often usage is imported from Slurm accounting (0: never).")
    limits_owner: Literal["service", "external"] = Field(
        "service", description="service: allocations are applied to Slurm's own limits (sacctmgr GrpTRESMins) and "
        "drift is repaired; external: another tool owns them, drift is only reported.")
    hold_grace_minutes: int = Field(
        30, ge=1, le=1440, description="A hold outlives its session's walltime by this much before it expires.")


class CatalogueSettings(Section):
    """The dataset and model catalogue: search, access requests, DCAT-AP export."""

    enabled: bool = Field(True, description="Run the catalogue service (REST API and pages below "
                          "/services/factoryhub-catalogue/).")
    directory: Path | None = Field(
        None, description="Folder of the catalogue's entry files (<id>.yaml, see docs/catalogue.md); empty: the "
        "example catalogue shipped with FactoryHub.")
    bind_url: ServiceBindURL = Field(
        "http://127.0.0.1:0", description="Where the service listens (the hub proxies to it); port 0: a free "
        "port chosen when the hub starts.")
    reload_every_seconds: int = Field(
        5, ge=0, le=3600, description="How often the folder is looked at for changed entries (0: only on request).")
    public_export: bool = Field(
        False, description="Publish an anonymous DCAT-AP export for national portals' harvesters (open entries' "
        "locations only).")
    stewards: list[UnixName] = Field(
        [], description="Hub users who decide access requests (data stewards), besides the hub's admins.")
    steward_groups: list[GroupName] = Field(
        [], description="Hub groups whose members are data stewards (e.g. synced from the identity provider).")
    publisher_name: str = Field("", max_length=200, description="Publisher of the catalogue in the DCAT-AP export "
                                "(default: the site's name).")
    publisher_url: str = Field("", max_length=500, description="The publisher's web page (DCAT-AP export).")
    verify_every_hours: float = Field(
        168, ge=0, le=24 * 366, description="How often each entry's data is hashed and compared with its curated "
        "sha256, in hours (0: only when a steward asks, or with `factoryhub catalogue verify`).")
    verify_workers: int = Field(4, ge=1, le=64, description="Files of a directory hashed at the same time when "
                                "verifying (more helps on parallel filesystems, costs the users' bandwidth).")


class WorkshopsSettings(Section):
    """Training workshops (Slurm sessions only): trainers create them, participants join with codes."""

    enabled: bool = Field(True, description="Run the workshops service (below /services/factoryhub-workshops/) "
                          "when sessions run on Slurm.")
    bind_url: ServiceBindURL = Field(
        "http://127.0.0.1:0", description="Where the service listens (the hub proxies to it); port 0: a free "
        "port chosen when the hub starts.")
    profiles: list[Slug] = Field(
        [], description="Profiles a workshop may use (ids from profiles); empty: every profile.")
    trainers: list[UnixName] = Field(
        [], description="Hub users who may create workshops, besides the hub's admins and auth.trainer_groups.")
    pool_accounts: list[UnixName] = Field(
        [], max_length=2000, description="Pre-provisioned training Unix accounts (members of the sessions' users "
        "group, uids in hub.min_uid..max_uid) lent one per participant who has no account, e.g. [train01, "
        "train02]. Their login ends with the workshop.")
    pool_home_policy: Literal["keep", "clean", "archive"] = Field(
        "keep", description="A pool account's home at the end of its workshop: keep (the files stay; the account is "
        "lent again only after an admin frees it), clean (emptied by a short job as the account, then lent again) "
        "or archive (packed into pool_archive_dir first). Participants are told to download their work before.")
    pool_archive_dir: Path | None = Field(
        None, description="Folder the archive policy packs homes into, writable (not listable) by the pool accounts, "
        "e.g. /srv/factoryhub/workshop-archives (mode 1733).")
    expire_every_seconds: int = Field(
        30, ge=1, le=3600, description="How often the service looks for workshops whose end has come.")


class DashboardsSettings(Section):
    """SME demos: notebooks shown as Voila dashboards on dashboard-only servers, to guests through expiring links."""

    enabled: bool = Field(True, description="Run the dashboards service (below /services/factoryhub-dashboards/).")
    bind_url: ServiceBindURL = Field(
        "http://127.0.0.1:0", description="Where the service listens (the hub proxies to it); port 0: a free "
        "port chosen when the hub starts.")
    default_profile: Slug | None = Field(
        None, description="Profile of a dashboard whose owner chose none (default: sessions.default_profile).")
    link_default_hours: float = Field(
        168, gt=0, le=24 * 366, description="Lifetime of a guest link whose owner set none, in hours.")
    link_max_hours: float = Field(
        720, gt=0, le=24 * 366, description="Longest lifetime an owner may give a guest link, in hours.")
    guest_hours: float = Field(
        4, gt=0, le=24 * 31, description="Longest life of a guest identity (it also ends with its link).")
    max_viewers_per_dashboard: int = Field(
        10, ge=1, le=1000, description="Viewers a dashboard serves at once (one Voila kernel each, so that guests "
        "never see each other's inputs); one more is asked to come back later.")
    idle_stop_minutes: int = Field(
        30, ge=1, le=10080, description="A dashboard server with no viewer for this long stops (its job ends).")
    max_per_owner: int = Field(
        3, ge=1, le=50, description="Dashboards one user may publish (each is a named server dash-<name>).")
    guest_terms: str = Field(
        "", max_length=20000, description="Terms a guest accepts before seeing a dashboard (plain text, paragraphs "
        "separated by blank lines); empty: a short default saying the visit is logged.")
    expire_every_seconds: int = Field(
        5, ge=1, le=3600, description="How often the service looks for guest identities whose time is over.")

    @model_validator(mode="after")
    def _default_within_max(self):
        if self.link_default_hours > self.link_max_hours:
            raise ValueError("link_default_hours must not exceed link_max_hours")
        return self


class AnnouncementsSettings(Section):
    """Messages from the site's admins on the hub's pages and in JupyterLab (docs/announcements.md)."""

    enabled: bool = Field(True, description="Run the announcements service (below "
                          "/services/factoryhub-announcements/): admins post, users see what is meant for them.")
    bind_url: ServiceBindURL = Field(
        "http://127.0.0.1:0", description="Where the service listens (the hub proxies to it); port 0: a free "
        "port chosen when the hub starts.")
    cache_seconds: float = Field(
        30, ge=0, le=3600, description="How long a user's groups and a project's members are kept before the hub and "
        "the quota service are asked again (a new group member sees a group's announcement at most this late).")


class Services(Section):
    """Hub-managed services."""

    idle_culler: IdleCuller = Field(IdleCuller(), description="Stops servers nobody uses.")
    quota: Quota = Field(Quota(), description="GPU-hour allocations, usage and holds.")
    catalogue: CatalogueSettings = Field(CatalogueSettings(), description="Datasets and models, with lawful access.")
    workshops: WorkshopsSettings = Field(WorkshopsSettings(), description="Training workshops in one action.")
    dashboards: DashboardsSettings = Field(DashboardsSettings(), description="Voila dashboards shown to guests.")
    announcements: AnnouncementsSettings = Field(AnnouncementsSettings(), description="Admins' messages to "
                                                 "everyone, a group or a project.")


class Site(Section):
    """A whole site description (the root of site.yaml)."""

    name: str = Field("FactoryHub", min_length=1, max_length=60, description="Shown in the hub's pages.")
    hub: HubSettings = Field(HubSettings(), description="Addresses, state directory, admins, proxy.")
    databases: Databases = Field(Databases(), description="Database URLs.")
    auth: Annotated[LocalAuth | OIDCAuth, Field(discriminator="kind")] = Field(
        description="How users log in: kind local (development) or oidc (institutional login).")
    sessions: Sessions = Field(Sessions(), description="Where sessions run and how long they may take to start.")
    slurm: SlurmSettings = Field(SlurmSettings(), description="How to reach Slurm (sessions.backend: slurm).")
    gpu_types: list[GpuType] = Field(default_factory=list, description="GPU types of the cluster (GRES types).")
    partitions: list[Partition] = Field(min_length=1, description="Partitions sessions may use.")
    profiles: list[Profile] = Field(min_length=1, description="Session profiles offered in the spawn form.")
    services: Services = Field(Services(), description="Hub-managed services.")

    def profile(self, profile_id: str) -> Profile:
        return next(p for p in self.profiles if p.id == profile_id)

    def partition(self, name: str) -> Partition:
        return next(p for p in self.partitions if p.name == name)

    @property
    def account_policy(self) -> AccountPolicy:
        """Which Unix accounts may log in and run sessions (never system accounts)."""
        return AccountPolicy.of(self.hub.min_uid, self.hub.max_uid, self.hub.denied_users)

    @property
    def admin_groups(self) -> list[str]:
        """Groups whose members administer the hub and its services (OIDC login; none with local login)."""
        return list(self.auth.admin_groups) if self.auth.kind == "oidc" else []
