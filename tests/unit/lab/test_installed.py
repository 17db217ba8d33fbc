"""The extension as pip installed it: JupyterLab and jupyter-server both list it as enabled."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

JUPYTER = str(Path(sys.executable).with_name("jupyter"))


def test_jupyterlab_lists_the_prebuilt_extension_enabled():
    listing = subprocess.run([JUPYTER, "labextension", "list"], capture_output=True, text=True, timeout=120)
    text = re.sub(r"\x1b\[[0-9;]*m", "", listing.stdout + listing.stderr)
    assert re.search(r"@factoryhub/lab v\S+ enabled OK \(python, factoryhub-lab\)", text), text


def test_jupyter_server_lists_the_server_extension_enabled():
    listing = subprocess.run([JUPYTER, "server", "extension", "list"], capture_output=True, text=True, timeout=120)
    text = re.sub(r"\x1b\[[0-9;]*m", "", listing.stdout + listing.stderr)
    assert re.search(r"factoryhub_lab enabled", text) and re.search(r"factoryhub_lab \S+ OK", text), text
