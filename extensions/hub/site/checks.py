"""Cross-reference checks of a site that per-field validation cannot see.

Pure: takes a :class:`Site`, returns the problems (empty when the site is coherent).
"""
from __future__ import annotations

from ipaddress import ip_address
from urllib.parse import urlsplit

from .model import Site


def _loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def _names(items) -> str:
    return ", ".join(sorted(i.name for i in items)) or "(none defined)"


def cross_check(site: Site) -> list[tuple[str, object, str]]:
    """Problems as (key path, value, what is allowed)."""
    problems: list[tuple[str, object, str]] = []
    partitions = {p.name: p for p in site.partitions}
    gpu_types = {g.name for g in site.gpu_types}

    def unique(key: str, values: list[str]) -> None:
        seen: set[str] = set()
        for i, value in enumerate(values):
            if value in seen:
                problems.append((f"{key}[{i}]", value, "must be unique"))
            seen.add(value)

    unique("profiles", [p.id for p in site.profiles])
    unique("partitions", [p.name for p in site.partitions])
    unique("gpu_types", [g.name for g in site.gpu_types])

    for i, part in enumerate(site.partitions):
        for j, gpu in enumerate(part.gpu_types):
            if gpu not in gpu_types:
                problems.append((f"partitions[{i}].gpu_types[{j}]", gpu, f"must be one of {_names(site.gpu_types)}"))

    for i, prof in enumerate(site.profiles):
        key = f"profiles[{i}]"
        part = partitions.get(prof.partition)
        if part is None:
            problems.append((f"{key}.partition", prof.partition, f"must be one of {_names(site.partitions)}"))
        if prof.gpus > 0 and prof.gpu_type is None:
            problems.append((f"{key}.gpu_type", None, "is required when gpus > 0"))
        if prof.gpu_type is not None:
            if prof.gpus == 0:
                problems.append((f"{key}.gpu_type", prof.gpu_type, "must be unset when gpus is 0"))
            elif part is not None and prof.gpu_type not in part.gpu_types:
                offered = ", ".join(part.gpu_types) or "no GPUs"
                problems.append((f"{key}.gpu_type", prof.gpu_type, f"partition {part.name} offers {offered}"))
        if prof.default_walltime_hours > prof.max_walltime_hours:
            problems.append((f"{key}.default_walltime_hours", prof.default_walltime_hours,
                             f"must be <= max_walltime_hours ({prof.max_walltime_hours:g})"))
        if part is not None and prof.max_walltime_hours > part.max_walltime_hours:
            problems.append((f"{key}.max_walltime_hours", prof.max_walltime_hours,
                             f"must be <= partition {part.name}'s max_walltime_hours ({part.max_walltime_hours:g})"))

    if site.sessions.default_profile and site.sessions.default_profile not in {p.id for p in site.profiles}:
        problems.append(("sessions.default_profile", site.sessions.default_profile,
                         "must be one of " + ", ".join(p.id for p in site.profiles)))
    if site.auth.kind == "local" and not _loopback(site.hub.bind_url):
        problems.append(("hub.bind_url", site.hub.bind_url,
                         "local accounts are for development: bind to 127.0.0.1 or use auth.kind: oidc"))
    if site.auth.kind == "local" and site.hub.public_url and not _loopback(site.hub.public_url):
        # loopback behind a reverse proxy is still published: its generated passwords are no login
        problems.append(("hub.public_url", site.hub.public_url,
                         "local accounts are for development: a hub reached at a public address needs "
                         "auth.kind: oidc"))
    if site.hub.min_uid > site.hub.max_uid:
        problems.append(("hub.min_uid", site.hub.min_uid, f"must be <= hub.max_uid ({site.hub.max_uid})"))
    policy = site.account_policy
    for j, account in enumerate(getattr(site.auth, "accounts", [])):
        if account.name in {a.name for a in site.auth.accounts[:j]}:
            problems.append((f"auth.accounts[{j}].name", account.name, "must be unique"))
        refused = policy.refusal(account.name)
        if refused:
            problems.append((f"auth.accounts[{j}].name", account.name, f"sessions never run as system accounts: "
                             f"{refused}"))
    for j, name in enumerate(site.hub.admin_users):
        refused = policy.refusal(name)
        if refused:
            problems.append((f"hub.admin_users[{j}]", name, f"must not be a system account: {refused}"))
    for i, prof in enumerate(site.profiles):
        if site.sessions.backend == "slurm" and prof.environment is None and site.slurm.default_environment is None:
            problems.append((f"profiles[{i}].environment", None, "is required on Slurm when "
                             "slurm.default_environment is unset (the software the session runs: "
                             "{kind: python, prefix: ...} or {kind: apptainer, image: ...})"))
    if site.auth.kind == "oidc":
        problems.extend(_oidc_problems(site))
    catalogue = site.services.catalogue
    if catalogue.enabled and catalogue.directory is not None and not catalogue.directory.is_dir():
        problems.append(("services.catalogue.directory", str(catalogue.directory),
                         "must be an existing folder of catalogue entries"))
    problems.extend(_workshop_problems(site))
    return problems


def _workshop_problems(site: Site) -> list[tuple[str, object, str]]:
    """Workshop profiles must exist; pool accounts must be unique and never system accounts."""
    problems, settings, known = [], site.services.workshops, {p.id for p in site.profiles}
    for j, profile in enumerate(settings.profiles):
        if profile not in known:
            problems.append((f"services.workshops.profiles[{j}]", profile, "must be one of " + ", ".join(known)))
    if settings.pool_home_policy == "archive" and settings.pool_archive_dir is None:
        problems.append(("services.workshops.pool_archive_dir", None, "is required with pool_home_policy: archive"))
    policy = site.account_policy
    for j, name in enumerate(settings.pool_accounts):
        if name in settings.pool_accounts[:j]:
            problems.append((f"services.workshops.pool_accounts[{j}]", name, "must be unique"))
        refused = policy.refusal(name)
        if refused:
            problems.append((f"services.workshops.pool_accounts[{j}]", name, f"must not be a system account: "
                             f"{refused}"))
    return problems


def _oidc_problems(site: Site) -> list[tuple[str, object, str]]:
    auth, problems = site.auth, []
    if site.hub.admin_users:
        problems.append(("hub.admin_users", list(site.hub.admin_users),
                         "must be empty with OIDC login: admins are the members of auth.admin_groups"))
    if "openid" not in auth.scopes:
        problems.append(("auth.scopes", list(auth.scopes), "must include openid"))
    secret = auth.client_secret_file
    if not secret.is_file():
        problems.append(("auth.client_secret_file", str(secret), "must be an existing file holding the secret"))
    elif secret.stat().st_mode & 0o077:
        problems.append(("auth.client_secret_file", str(secret), "must be readable by its owner only (chmod 600)"))
    if auth.username_map_file is not None and not auth.username_map_file.is_file():
        problems.append(("auth.username_map_file", str(auth.username_map_file), "must be an existing YAML file"))
    return problems
