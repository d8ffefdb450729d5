"""The method protocol: a method is one module and one registration line, and the suite covers it.

A naive method (``tests/reference_method.py``) is registered in a fresh
process and the registry-wide tests run with it: the planner (it is priced
and never picked by ``auto``), the invariants over every path (inputs
untouched, outputs owned, unread samples, NaN and huge values local, integer
exactness, peak memory), the errors (``method=`` lists it), the plans'
reports and the command line. None of those tests names it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fftconv
from fftconv.methods import METHODS, REFERENCE, base, register, unregister

HERE = Path(__file__).resolve().parent

#: The registry-wide test files run with the naive method registered.
COVERING = ["test_planner.py", "test_invariants.py", "test_errors.py", "test_cli.py", "test_reference.py",
            "test_semantics.py"]


def test_every_registered_method_implements_the_whole_protocol():
    abstract = {name for name, value in vars(base.Method).items() if getattr(value, "__isabstractmethod__", False)}
    for method in METHODS.values():
        assert isinstance(method, base.Method)
        assert not abstract & set(getattr(type(method), "__abstractmethods__", ())), method
        for flag in ("costly_prepare", "local", "integer_exact", "uses_backend"):
            assert isinstance(getattr(method, flag), bool), (method, flag)
    assert REFERENCE in METHODS and METHODS[REFERENCE].local and METHODS[REFERENCE].integer_exact


def test_an_incomplete_method_cannot_be_made():
    class Half(base.Method):
        name, costly_prepare, local, integer_exact = "half", False, True, True

        def execute(self, *args):
            return None

    with pytest.raises(TypeError, match="abstract"):
        Half()


def test_register_checks_what_it_is_given():
    with pytest.raises(TypeError, match="Method"):
        register(object())
    with pytest.raises(ValueError, match="already registered"):
        register(METHODS[REFERENCE])
    with pytest.raises(ValueError, match="cannot be removed"):
        unregister(REFERENCE)


def test_a_registered_method_runs_everywhere_by_name():
    sys.path.insert(0, str(HERE))
    import reference_method

    added = reference_method.NAME not in METHODS
    reference_method.register()
    try:
        rng = np.random.default_rng(0)
        x = rng.standard_normal((2, 11, 9, 4))
        w = rng.standard_normal((3, 4, 2, 6))
        y = fftconv.conv2d(x, w, 2, "SAME", dilations=(1, 2), groups=2, padding_mode="reflect", method="naive")
        ref = fftconv.conv2d(x, w, 2, "SAME", dilations=(1, 2), groups=2, padding_mode="reflect", method="direct")
        np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-12)
        plan = fftconv.plan_conv2d(x.shape, w.shape, dtype="float64")
        assert plan.method != "naive" and "naive" in plan.estimates
        assert "naive      one multiply-add per tap" in repr(plan)
        with pytest.raises(ValueError, match="'naive'"):
            fftconv.conv2d(x, w, method="Naive")
    finally:
        if added:
            unregister(reference_method.NAME)
            fftconv._engine.planner.clear()


@pytest.mark.skipif(os.environ.get("FFTCONV_TEST_REFERENCE_METHOD") is not None,
                    reason="already running with the naive method registered")
def test_the_registry_wide_tests_cover_a_new_method():
    env = {**os.environ, "FFTCONV_TEST_REFERENCE_METHOD": "1", "FFTCONV_HYPOTHESIS_EXAMPLES": "10"}
    files = [str(HERE / name) for name in COVERING]
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                           "-k", "naive", *files], cwd=HERE.parent, env=env, capture_output=True, text=True,
                          timeout=600)
    tail = proc.stdout[-3000:] + proc.stderr[-2000:]
    assert proc.returncode == 0, tail
    assert " passed" in proc.stdout, tail  # pytest exits 5 when -k selects nothing
