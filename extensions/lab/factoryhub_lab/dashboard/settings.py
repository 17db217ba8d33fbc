"""The spawner's contract with a dashboard server: FACTORYHUB_DASHBOARD* variables, read and checked once.

The launcher reads them before anything starts (a bad value ends the process with one sentence) and the
gate extension reads them again with the server's own root folder, so both act on the same checked values.
"""
from __future__ import annotations

import math
import os
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import nbformat

NOTEBOOK_ENV = "FACTORYHUB_DASHBOARD"
SOURCES_ENV = "FACTORYHUB_DASHBOARD_SOURCES"
MAX_VIEWERS_ENV = "FACTORYHUB_DASHBOARD_MAX_VIEWERS"
RECHECK_ENV = "FACTORYHUB_DASHBOARD_RECHECK_SECONDS"
DEFAULT_RECHECK_SECONDS = 2.0
PREFIX = "FactoryHub dashboard: "


class DashboardSettingsError(ValueError):
    """A FACTORYHUB_DASHBOARD* value the server cannot run with; str() is one sentence for the operator."""


@dataclass(frozen=True)
class DashboardSettings:
    """What one dashboard server serves and how many may watch it."""

    notebook: str  # normalised, '/'-separated, relative to root_dir
    root_dir: Path  # resolved (symlinks followed)
    show_sources: bool
    max_viewers: int
    recheck_seconds: float

    @property
    def render_path(self) -> str:
        """The dashboard's page below the server's base URL (also its default URL)."""
        return "/voila/render/" + quote(self.notebook, safe="/")


def root_dir_from(environ: Mapping[str, str], cwd: str) -> str:
    """The server's root folder as JupyterHub's singleuser extension picks it: $JUPYTERHUB_ROOT_DIR, else cwd."""
    return os.path.expanduser(environ.get("JUPYTERHUB_ROOT_DIR") or cwd)


def read_settings(environ: Mapping[str, str], root_dir: str) -> DashboardSettings:
    """Check the spawner's variables against ``root_dir``; raise DashboardSettingsError naming the problem."""
    root = Path(os.path.realpath(root_dir))
    return DashboardSettings(
        notebook=check_notebook(environ.get(NOTEBOOK_ENV, ""), root),
        root_dir=root,
        show_sources=environ.get(SOURCES_ENV, "") == "1",
        max_viewers=_max_viewers(environ.get(MAX_VIEWERS_ENV)),
        recheck_seconds=_recheck_seconds(environ.get(RECHECK_ENV)),
    )


def check_notebook(given: str, root: Path) -> str:
    """The notebook path, normalised, once it is a readable notebook inside ``root`` (links followed)."""
    if not given.strip():
        raise DashboardSettingsError(f"{PREFIX}{NOTEBOOK_ENV} is not set, so there is no notebook to serve")
    if "\\" in given or "\0" in given or given.startswith("/"):
        raise DashboardSettingsError(f"{PREFIX}{given} is not a path relative to the home directory {root}")
    notebook = posixpath.normpath(given)
    if notebook == ".." or notebook.startswith("../"):
        raise DashboardSettingsError(f"{PREFIX}{given} is outside the home directory {root}")
    if any(part.startswith(".") for part in notebook.split("/")):
        # Jupyter's contents manager does not serve hidden files, so Voila could never render it
        raise DashboardSettingsError(f"{PREFIX}{given} is in a hidden folder or file (a name starting with a dot)")
    if not notebook.endswith(".ipynb"):
        raise DashboardSettingsError(f"{PREFIX}{given} is not a notebook (its name does not end in .ipynb)")
    resolved = Path(os.path.realpath(root / notebook))
    if not resolved.is_relative_to(root):
        raise DashboardSettingsError(f"{PREFIX}{given} is outside the home directory {root} (it leads to {resolved})")
    if not resolved.exists():
        raise DashboardSettingsError(f"{PREFIX}{given} does not exist in the home directory {root}")
    if not resolved.is_file():
        raise DashboardSettingsError(f"{PREFIX}{given} is not a notebook (it is not a file)")
    try:
        nb = nbformat.read(resolved, as_version=4)
        nbformat.validate(nb)
    except Exception as err:  # nbformat raises several kinds; any of them means "not a notebook"
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        raise DashboardSettingsError(f"{PREFIX}{given} is not a valid notebook ({reason})") from None
    return notebook


def _max_viewers(raw: str | None) -> int:
    if raw is None or not raw.strip():
        raise DashboardSettingsError(f"{PREFIX}{MAX_VIEWERS_ENV} is not set, so the number of viewers has no limit")
    if not raw.strip().isdigit() or int(raw) < 1:
        raise DashboardSettingsError(f"{PREFIX}{MAX_VIEWERS_ENV} must be a whole number of at least 1, not {raw!r}")
    return int(raw)


def _recheck_seconds(raw: str | None) -> float:
    if raw is None or not raw.strip():
        return DEFAULT_RECHECK_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 0 < value <= 3600:
        raise DashboardSettingsError(f"{PREFIX}{RECHECK_ENV} must be a number of seconds above 0 and at most 3600, "
                                     f"not {raw!r}")
    return value
