"""The sudoers drop-in and the systemd unit a site installs: rendered from the shipped templates."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from factoryhub.cli import main as cli_main
from factoryhub.deploy import sudoers, systemd_unit


def test_the_sudoers_rule_allows_only_submit_cancel_and_tail_as_the_users_group(tmp_path):
    text = sudoers("factoryhub", "hpc-users", "/opt/slurm/bin")
    rules = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert "Defaults:factoryhub env_reset, !setenv, !requiretty" in rules
    assert 'Defaults:factoryhub env_keep = "SLURM_CONF"' in rules
    assert rules[-1] == "factoryhub ALL = (%hpc-users) NOPASSWD: FACTORYHUB_SESSIONS"
    commands = " ".join(rules[rules.index(next(r for r in rules if r.startswith("Cmnd_Alias"))):-1])
    assert "/opt/slurm/bin/sbatch --parsable," in commands and "/opt/slurm/bin/scancel ^[0-9]+$" in commands
    assert "ALL" not in commands and "bash" not in commands
    if shutil.which("visudo"):
        path = tmp_path / "factoryhub"
        path.write_text(text)
        check = subprocess.run(["visudo", "-cf", str(path)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.parametrize("kwargs, named", [
    ({"service_user": "root ALL=(ALL) ALL"}, "service user"),
    ({"users_group": "users, ALL"}, "users group"),
    ({"slurm_bin_dir": "relative/bin"}, "Slurm bin dir"),
    ({"slurm_bin_dir": "/usr/bin/../../bin"}, "Slurm bin dir"),
])
def test_values_that_would_widen_the_rule_are_refused(kwargs, named):
    args = {"service_user": "factoryhub", "users_group": "hpc-users", "slurm_bin_dir": "/usr/bin", **kwargs}
    with pytest.raises(ValueError, match=named):
        sudoers(**args)


def test_the_systemd_unit_kills_the_whole_group_and_keeps_sudo_working():
    text = systemd_unit("factoryhub", "/etc/factoryhub/jupyterhub_config.py", "/etc/factoryhub/site.yaml",
                        "/var/lib/factoryhub")
    lines = set(text.splitlines())
    assert {"User=factoryhub", "KillMode=control-group", "Restart=on-failure", "ProtectSystem=strict",
            "ReadWritePaths=/var/lib/factoryhub -/run/sudo", "NoNewPrivileges=no",
            "Environment=PATH=/opt/factoryhub/hub-env/bin:/opt/factoryhub/hub-env/bin/../proxy/node_modules/.bin:"
            "/usr/bin:/bin",
            "Environment=FACTORYHUB_SITE=/etc/factoryhub/site.yaml"} <= lines
    assert "ExecStart=/opt/factoryhub/hub-env/bin/python -m jupyterhub -f /etc/factoryhub/jupyterhub_config.py" \
        in lines


def test_the_cli_prints_them_and_names_a_bad_value(capsys):
    assert cli_main(["sudoers", "--users-group", "hpc-users"]) == 0
    assert "(%hpc-users) NOPASSWD" in capsys.readouterr().out
    assert cli_main(["systemd-unit", "--state-dir", "/srv/fh"]) == 0
    assert "ReadWritePaths=/srv/fh -/run/sudo" in capsys.readouterr().out
    assert cli_main(["sudoers", "--service-user", "Bad User"]) == 2
    assert "service user: 'Bad User' is not allowed" in capsys.readouterr().err
