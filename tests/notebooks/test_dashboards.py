"""The Voila dashboards (issue 17: SME demos) on the CPU: each one's widgets answer through a real
kernel, as a guest moving them would see, and Voila renders a dashboard as widgets without its code."""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import requests
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell

from tests.harness.hub import REPO, free_port, wait_until

pytestmark = pytest.mark.notebooks

# What a guest does, and what the dashboard must answer (run in the dashboard's kernel after it ran).
GUEST_MOVES = {
    "ticket-classifier": '''
text_box.value = "The billing portal has been broken for a week and nobody answers. Very disappointed."
assert answer.value.startswith("<b>negative</b>"), answer.value
text_box.value = "Thanks a lot, the new upload works great and my team loves it!"
assert answer.value.startswith("<b>positive</b>"), answer.value
assert abs(sum(bar.value for bar in bars.values()) - 1) < 1e-6
print("guest round trip: ok")''',
    "sensor-preparation": '''
first = table.value
line_choice.value = line_choice.options[-1]
window.value = 60
assert table.value != first and 2 <= table.value.count("<tr>") <= 6, table.value  # header + top machines
assert "pandas:" in timings.value and ("cuDF on the GPU" in timings.value or "no GPU" in timings.value)
print("guest round trip: ok")''',
}


def dashboards_copy(tmp_path: Path) -> Path:
    here = tmp_path / "notebooks"
    shutil.copytree(REPO / "notebooks", here, ignore=shutil.ignore_patterns("generated", "outputs", "__pycache__"))
    return here / "dashboards"


@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", sorted(GUEST_MOVES))
def test_a_dashboards_widgets_answer_through_a_real_kernel(name, tmp_path, monkeypatch):
    monkeypatch.setenv("FACTORYHUB_NOTEBOOK_OUTPUT", str(tmp_path / "outputs"))
    monkeypatch.setenv("FACTORYHUB_MODELS", str(tmp_path / "no-models"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    folder = dashboards_copy(tmp_path)
    nb = nbformat.read(folder / f"{name}.ipynb", as_version=4)
    nb.cells.append(new_code_cell(GUEST_MOVES[name]))
    NotebookClient(nb, timeout=540, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream")
    assert "guest round trip: ok" in printed
    views = [o for c in nb.cells for o in c.get("outputs", []) if "application/vnd.jupyter.widget-view+json" in
             o.get("data", {})]
    assert views, "the dashboard displays no widget"


def test_voila_renders_a_dashboard_as_widgets_without_its_code(tmp_path):
    folder = dashboards_copy(tmp_path)
    port = free_port()
    voila = Path(sys.executable).with_name("voila")
    env = {**os.environ, "FACTORYHUB_NOTEBOOK_OUTPUT": str(tmp_path / "outputs")}
    proc = subprocess.Popen([str(voila), "sensor-preparation.ipynb", "--no-browser", f"--port={port}",
                             "--Voila.ip=127.0.0.1", "--strip_sources=True"], cwd=folder, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        page = wait_until(lambda: (r := requests.get(f"http://127.0.0.1:{port}/", timeout=120)).ok and r, 180,
                          "Voila's page")
        assert "application/vnd.jupyter.widget-view+json" in page.text, "no widget in the rendered page"
        assert "def prepare(" not in page.text and "import pandas" not in page.text, "sources must be stripped"
        assert re.search(r"Sensor data preparation", page.text)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
