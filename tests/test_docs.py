"""The documentation builds without warnings, and every example in it runs.

Runs the two commands of ``docs/conf.py`` in a subprocess, each into a fresh
temporary directory:

* ``python -m sphinx -W -b html docs <tmp>``: warnings are errors;
* ``python -m sphinx -b doctest docs <tmp>``: every ``>>>`` example of the
  pages and of the docstrings that the API reference pulls in.

The calibration file is pointed at a path that does not exist, so the docs are
checked against the shipped cost-model constants, whatever this machine has
calibrated. Skipped when Sphinx (the ``docs`` extra) is not installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("numpydoc")

DOCS = Path(__file__).resolve().parent.parent / "docs"
TIMEOUT = 300  # seconds; each build takes well under a minute


def _sphinx(builder, out, *options, tmp_path):
    env = dict(os.environ, FFTCONV_CALIBRATION=str(tmp_path / "no-calibration.json"))
    cmd = [sys.executable, "-m", "sphinx", *options, "-b", builder,
           "-d", str(tmp_path / "doctrees"), str(DOCS), str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=TIMEOUT,
                          cwd=DOCS.parent)
    report = ""
    if builder == "doctest" and (out / "output.txt").exists():
        report = (out / "output.txt").read_text()
    assert proc.returncode == 0, (
        f"{' '.join(cmd)} exited with {proc.returncode}\n--- stderr ---\n{proc.stderr[-6000:]}"
        f"\n--- stdout ---\n{proc.stdout[-3000:]}\n--- doctest report ---\n{report[-6000:]}")
    return proc


def test_html_builds_without_warnings(tmp_path):
    _sphinx("html", tmp_path / "html", "-W", "--keep-going", tmp_path=tmp_path)
    for page in ("index", "getting_started", "semantics", "scipy", "boundaries", "auto", "lowrank", "plans", "gradients",
                 "streaming", "training", "backends", "numerics", "scaling", "out_of_core", "api"):
        assert (tmp_path / "html" / f"{page}.html").exists(), page


def test_every_example_runs(tmp_path):
    out = tmp_path / "doctest"
    _sphinx("doctest", out, tmp_path=tmp_path)
    report = (out / "output.txt").read_text()
    assert "0 failures in tests" in report, report[-3000:]
    # the pages and the API reference's docstrings were all tested
    for page in ("getting_started", "semantics", "scipy", "boundaries", "auto", "lowrank", "plans", "gradients",
                 "backends", "numerics", "streaming", "api"):
        assert f"Document: {page}" in report, f"no doctests ran in {page}.rst"
