"""Every script in ``examples/`` runs with ``--quick`` and exits with status 0.

Each script checks its own result (against SciPy or the in-memory call) and
exits with status 1 if it is wrong, so this also checks that the examples
compute what they claim. The Dask example is skipped when dask is missing
(the script itself then prints a message and exits with 0).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py"))
NEEDS = {"dask_example.py": "dask"}


def test_every_example_is_listed():
    assert set(SCRIPTS) >= {"deblur.py", "filterbank_stream.py", "fir_filter.py",
                            "dask_example.py"}


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_runs(script, tmp_path):
    needs = NEEDS.get(script)
    if needs and importlib.util.find_spec(needs) is None:
        pytest.skip(f"{script} needs {needs}")
    env = dict(os.environ, FFTCONV_CALIBRATION=str(tmp_path / "no-calibration.json"),
               MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, str(EXAMPLES / script), "--quick"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert proc.returncode == 0, (
        f"{script} --quick exited with {proc.returncode}\n--- stdout ---\n{proc.stdout}"
        f"\n--- stderr ---\n{proc.stderr[-4000:]}")
    assert proc.stdout.strip(), f"{script} printed nothing"


def test_filterbank_example_shows_what_a_bank_is_for(tmp_path):
    """Frames over the whole turn of the grating, and timings against calls that do and do not
    reuse the filters' spectrum (issue 24: it compared against calls that reused it, and showed
    only frames near 0 degrees)."""
    env = dict(os.environ, FFTCONV_CALIBRATION=str(tmp_path / "no-calibration.json"))
    proc = subprocess.run([sys.executable, str(EXAMPLES / "filterbank_stream.py"), "--quick"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    angles = [float(line.split("grating at")[1].split("deg")[0]) for line in out.splitlines() if "grating at" in line]
    assert min(angles) < 10 and max(angles) > 150 and len(angles) >= 5
    assert "conv2d transforming the filters every frame" in out and "spectrum kept" in out
    assert "nearest orientation in" in out
