"""Files a site installs beside FactoryHub: the sudoers rule and the systemd unit.

They are rendered from templates shipped in this package (one source: the admin guide, the
tests and ``factoryhub sudoers`` / ``factoryhub systemd-unit`` print the same text).
"""
from __future__ import annotations

import re
from importlib.resources import files
from pathlib import PurePosixPath
from string import Template

UNIX_NAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
ABSOLUTE_DIR = re.compile(r"/[A-Za-z0-9_./+-]{0,255}")


def _checked(name: str, value: str, pattern: re.Pattern) -> str:
    if not pattern.fullmatch(value) or "/../" in f"{value}/":
        raise ValueError(f"{name}: {value!r} is not allowed here ({pattern.pattern})")
    return value


def sudoers(service_user: str, users_group: str, slurm_bin_dir: str = "/usr/bin") -> str:
    """The sudoers drop-in that lets ``service_user`` submit and cancel as ``users_group``'s members."""
    text = files(__package__).joinpath("sudoers.in").read_text()
    return Template(text).substitute(
        service_user=_checked("service user", service_user, UNIX_NAME),
        users_group=_checked("users group", users_group, UNIX_NAME),
        slurm_bin_dir=_checked("Slurm bin dir", slurm_bin_dir.rstrip("/") or "/", ABSOLUTE_DIR))


def systemd_unit(service_user: str, config_file: str, site_file: str, state_dir: str,
                 python: str = "/opt/factoryhub/hub-env/bin/python") -> str:
    """The systemd unit that runs the hub, its proxy and its services as ``service_user``."""
    text = files(__package__).joinpath("factoryhub.service.in").read_text()
    return Template(text).substitute(
        service_user=_checked("service user", service_user, UNIX_NAME),
        config_file=_checked("config file", config_file, ABSOLUTE_DIR),
        site_file=_checked("site file", site_file, ABSOLUTE_DIR),
        state_dir=_checked("state dir", state_dir, ABSOLUTE_DIR),
        python=_checked("python", python, ABSOLUTE_DIR), env_bin=str(PurePosixPath(python).parent))
