"""What ``pip`` gets: the sdist can run its own tests, the license is declared and shipped, and
the documented dependencies are the declared ones.

The sdist is built with setuptools' own PEP 517 hook from a copy of the
source tree (so the checkout is left as it was), then unpacked: its
``tests/conftest.py`` and ``tests/fixtures`` must be there (issue 24: they
were not, so the shipped tests could not run), and a test that reads the
TensorFlow fixtures runs from it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _setuptools_77():
    setuptools = pytest.importorskip("setuptools")
    major = int(setuptools.__version__.split(".")[0])
    if major < 77:
        pytest.skip(f"setuptools {setuptools.__version__} predates license expressions (77)")


@pytest.fixture(scope="module")
def sdist(tmp_path_factory):
    _setuptools_77()
    if not (ROOT / "MANIFEST.in").exists():
        pytest.fail("no MANIFEST.in: the sdist would leave out tests/conftest.py and tests/fixtures")
    src = tmp_path_factory.mktemp("src") / "fftconv"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".git", ".venv*", "__pycache__", "*.egg-info",
                                                             ".hypothesis", ".pytest_cache", "build", "dist",
                                                             "_build", "results"))
    out = tmp_path_factory.mktemp("dist")
    code = ("import sys; from setuptools import build_meta; "
            f"print(build_meta.build_sdist({str(out)!r}))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=src, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    archive = out / proc.stdout.strip().splitlines()[-1]
    unpacked = tmp_path_factory.mktemp("unpacked")
    with tarfile.open(archive) as tar:
        tar.extractall(unpacked, filter="data")
    return next(unpacked.iterdir())


def test_the_sdist_carries_what_its_tests_need(sdist):
    for path in ("tests/conftest.py", "tests/fixtures/tf_golden.npz", "tests/fixtures/tf_gradients.npz",
                 "LICENSE", "docs/conf.py", "examples/filterbank_stream.py", "README.md"):
        assert (sdist / path).exists(), path
    shipped = {p.name for p in (sdist / "tests").glob("test_*.py")}
    assert shipped == {p.name for p in (ROOT / "tests").glob("test_*.py")}


def test_the_sdists_tests_run_from_it(sdist):
    """A test that reads the TensorFlow fixtures and one that imports conftest's helpers run from it."""
    env = {**os.environ, "PYTHONPATH": str(sdist)}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/test_tf_golden.py::test_fixture_file_is_consistent",
                           "tests/test_scipy_api.py::test_int32_example_of_issue_24"], cwd=sdist,
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "2 passed" in proc.stdout


def test_the_license_is_an_spdx_expression_with_its_file(sdist):
    assert PYPROJECT["project"]["license"] == "BSD-3-Clause"
    assert PYPROJECT["project"]["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("BSD 3-Clause License") and "Neither the name of the copyright holder" in text
    info = (sdist / "PKG-INFO").read_text()
    assert "License-Expression: BSD-3-Clause" in info and "License-File: LICENSE" in info


def test_the_documented_dependencies_are_the_declared_ones():
    """docs/getting_started.rst names every core dependency (threadpoolctl was missing) and does
    not call pyFFTW optional (it is a core dependency; issue 24)."""
    page = (ROOT / "docs" / "getting_started.rst").read_text()
    install = page.split("First convolution")[0]
    names = {"pyfftw": "pyFFTW"}
    for requirement in PYPROJECT["project"]["dependencies"]:
        name = re.split(r"[<>=!~ \[;]", requirement)[0]
        assert names.get(name, name) in install, name
    assert not re.search(r"pyFFTW is optional|optional.{0,40}pyFFTW", install, re.S)
    core = set(PYPROJECT["project"]["dependencies"])
    for extra in ("fftw", "ducc0", "numba"):  # extras kept for older requirements add nothing to the core
        assert set(PYPROJECT["project"]["optional-dependencies"].get(extra, [])) <= core, extra
    commands = install.split(".. code-block:: bash")[1].split("\n\n")[1]
    assert "``" not in commands  # a code block shows its text literally


def test_backend_docstrings_name_every_backend():
    from fftconv.backends import BACKENDS

    import fftconv._ops.forward as forward
    doc = forward.__doc__.split("backend :")[1].split("\n\n")[0]
    for name in ("scipy", "pyfftw", "ducc0"):
        assert f'"{name}"' in doc, name
    assert set(BACKENDS) <= {"scipy", "pyfftw", "ducc0"}
