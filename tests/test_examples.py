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
