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
from conftest import assert_close

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


@pytest.mark.parametrize("case", [c for c in CASES if c["op"] != "depthwise_conv2d" and c["groups"] > 1],
                         ids=_case_id)
def test_explicit_groups_match_inferred(case, method):
    """Passing the case's ``groups`` explicitly gives TF's answer too."""
    i = case["id"]
    y = FUNCTIONS[case["op"]](ARRAYS[f"x{i}"], ARRAYS[f"w{i}"], strides=case["strides"],
                              padding=case["padding"], dilations=case["dilations"],
                              data_format=case["data_format"], groups=case["groups"], method=method)
    assert_close(y, ARRAYS[f"y{i}"], case["dtype"])
