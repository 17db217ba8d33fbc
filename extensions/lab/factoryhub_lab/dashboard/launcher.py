"""``factoryhub-dashboard-server``: the process a dashboard-only named server runs.

The spawner sets FACTORYHUB_DASHBOARD* (see ``settings``) and JupyterHub's usual JUPYTERHUB_* variables and
passes the usual singleuser arguments. The variables are checked before anything heavy is imported, so a
wrong one ends the process at once with one sentence; then ``server.DashboardServerApp`` runs.
"""
from __future__ import annotations

import os
import sys

from .settings import DashboardSettingsError, read_settings, root_dir_from


def main(argv: list[str] | None = None) -> None:
    """Console script: check the spawner's variables (one sentence and exit 1 if wrong), then serve."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        settings = read_settings(os.environ, root_dir_from(os.environ, os.getcwd()))
    except DashboardSettingsError as err:
        print(err, file=sys.stderr)
        raise SystemExit(1) from None
    os.environ["JUPYTERHUB_DISABLE_USER_CONFIG"] = "1"  # the owner's ~/.jupyter must not weaken the server
    os.environ["JUPYTERHUB_DEFAULT_URL"] = settings.render_path
    # Voila reads voila.py/voila.json from the working folder (the owner's home): start from one without them
    os.chdir("/")
    from .server import run  # after the check: Jupyter Server takes seconds to import

    run(argv, settings)


if __name__ == "__main__":
    main()
