"""Every golden TensorFlow case, for every registered method.

The fixtures are made by ``tests/fixtures/make_tf_fixtures.py`` with real
TensorFlow; the JSON holds the exact arguments to pass to fftconv.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import fftconv
from conftest import RESTRICTED_METHODS, assert_close

FIXTURES = Path(__file__).parent / "fixtures"
CASES = json.loads((FIXTURES / "tf_golden.json").read_text())
ARRAYS = np.load(FIXTURES / "tf_golden.npz")

FUNCTIONS = {"conv1d": fftconv.conv1d, "conv2d": fftconv.conv2d, "conv3d": fftconv.conv3d,
             "depthwise_conv2d": fftconv.depthwise_conv2d}


def _case_id(case):
    return f"case{case['id']:03d}-{case['op']}-{case['dtype']}"


def _run(case, method):
    i = case["id"]
    x, w = ARRAYS[f"x{i}"], ARRAYS[f"w{i}"]
    kwargs = dict(strides=case["strides"], padding=case["padding"], dilations=case["dilations"],
                  data_format=case["data_format"], method=method)
    return FUNCTIONS[case["op"]](x, w, **kwargs), ARRAYS[f"y{i}"]


def test_fixture_file_is_consistent():
    assert len(CASES) >= 300
    assert [c["id"] for c in CASES] == list(range(len(CASES)))
    assert {c["op"] for c in CASES} == set(FUNCTIONS)
    assert {c["dtype"] for c in CASES} == {"float32", "float64"}
    for case in CASES:
        i = case["id"]
        for name in ("x", "w", "y"):
            assert ARRAYS[f"{name}{i}"].dtype == np.dtype(case["dtype"]), (i, name)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_matches_tensorflow(case, method):
    y, expected = _run(case, method)
    assert y.shape == expected.shape
    assert y.dtype == expected.dtype
    assert_close(y, expected, expected.dtype)


def _runnable(case, method) -> bool:
    """Whether ``method`` (one of :data:`conftest.RESTRICTED_METHODS`) can run ``case``."""
    planner = {"conv1d": fftconv.plan_conv1d, "conv2d": fftconv.plan_conv2d, "conv3d": fftconv.plan_conv3d,
               "depthwise_conv2d": fftconv.plan_depthwise_conv2d}[case["op"]]
    i = case["id"]
    plan = planner(ARRAYS[f"x{i}"].shape, ARRAYS[f"w{i}"].shape, strides=case["strides"], padding=case["padding"],
                   dilations=case["dilations"], data_format=case["data_format"], dtype=case["dtype"])
    return not plan.geometry.is_empty and fftconv.METHODS[method].unsupported(plan.run_geometry) is None


RESTRICTED = [(case, method) for method in RESTRICTED_METHODS for case in CASES if _runnable(case, method)]


@pytest.mark.parametrize("case, method", RESTRICTED, ids=[f"{_case_id(c)}-method={m}" for c, m in RESTRICTED])
def test_methods_of_some_shapes_match_tensorflow_where_they_run(case, method):
    y, expected = _run(case, method)
    assert y.shape == expected.shape
    assert y.dtype == expected.dtype
    assert_close(y, expected, expected.dtype)


def test_every_restricted_method_meets_some_golden_case():
    assert all(any(m == method for _, m in RESTRICTED) for method in RESTRICTED_METHODS)


@pytest.mark.parametrize("case", [c for c in CASES if c["op"] != "depthwise_conv2d" and c["groups"] > 1],
                         ids=_case_id)
def test_explicit_groups_match_inferred(case, method):
    """Passing the case's ``groups`` explicitly gives TF's answer too."""
    i = case["id"]
    y = FUNCTIONS[case["op"]](ARRAYS[f"x{i}"], ARRAYS[f"w{i}"], strides=case["strides"],
                              padding=case["padding"], dilations=case["dilations"],
                              data_format=case["data_format"], groups=case["groups"], method=method)
    assert_close(y, ARRAYS[f"y{i}"], case["dtype"])
