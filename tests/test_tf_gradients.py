"""Every golden TensorFlow case of the gradient-side ops, for every registered method.

The fixtures are made by ``tests/fixtures/make_tf_gradient_fixtures.py`` with
real TensorFlow (and checked there against the definition); the JSON holds
the exact arguments to pass to fftconv and where each array lies in the npz.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import fftconv
from conftest import assert_close

FIXTURES = Path(__file__).parent / "fixtures"
CASES = json.loads((FIXTURES / "tf_gradients.json").read_text())
FLAT = dict(np.load(FIXTURES / "tf_gradients.npz"))

OPS = ("conv1d_transpose", "conv2d_transpose", "conv3d_transpose", "conv1d_backprop_input", "conv2d_backprop_input",
       "conv3d_backprop_input", "conv1d_backprop_filter", "conv2d_backprop_filter", "conv3d_backprop_filter",
       "depthwise_conv2d_backprop_input", "depthwise_conv2d_backprop_filter", "separable_conv2d", "conv1d_vjp",
       "conv2d_vjp", "conv3d_vjp")


def _array(case, where):
    offset, shape = where
    return FLAT[case["dtype"]][offset:offset + int(np.prod(shape))].reshape(shape)


def run(case, method):
    """fftconv's results for a case: a tuple of arrays (two for the vector-Jacobian products)."""
    op = getattr(fftconv, case["op"])
    a = [_array(case, where) for where in case["inputs"]]
    kwargs = dict(strides=case["strides"], padding=case["padding"], dilations=case["dilations"],
                  data_format=case["data_format"], method=method)
    name = case["op"]
    if name.endswith("_transpose"):
        out = op(a[0], a[1], case["sizes"], **kwargs)
    elif "backprop_input" in name:
        out = op(case["sizes"], a[0], a[1], **kwargs)
    elif "backprop_filter" in name:
        out = op(a[0], case["sizes"], a[1], **kwargs)
    else:  # separable_conv2d, conv*_vjp
        out = op(*a, **kwargs)
    return out if isinstance(out, tuple) else (out,)


def _id(case):
    return f"case{case['id']:03d}-{case['op']}-{case['dtype']}"


def test_fixture_file_is_consistent():
    assert [c["id"] for c in CASES] == list(range(len(CASES)))
    counts = Counter(c["op"] for c in CASES)
    assert set(counts) == set(OPS)
    assert min(counts.values()) >= 9, counts
    assert {c["dtype"] for c in CASES} == {"float32", "float64"}
    for case in CASES:
        for where in case["inputs"] + case["results"]:
            assert where[0] + int(np.prod(where[1])) <= FLAT[case["dtype"]].size, case["id"]


def test_fixtures_cover_the_issue():
    """Strides 1-3, dilations, every padding form, groups, depthwise, both layouts, batch 0."""
    def axis_values(value):
        return {value} if isinstance(value, int) else set(value)

    strides = set().union(*(axis_values(c["strides"]) for c in CASES))
    dilations = set().union(*(axis_values(c["dilations"]) for c in CASES))
    assert {1, 2, 3} <= strides and {2, 3} <= dilations
    kinds = Counter("SAME" if c["padding"] == "SAME" else "VALID" if c["padding"] == "VALID" else "explicit"
                    for c in CASES)
    assert min(kinds.values()) >= 50, kinds
    assert sum(c["groups"] > 1 for c in CASES if "depthwise" not in c["op"] and "separable" not in c["op"]) >= 30
    assert sum(c["data_format"].startswith("NC") for c in CASES) >= 50
    assert any(_array(c, c["inputs"][0]).shape[0] == 0 or (c["sizes"] and c["sizes"][0] == 0) for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_matches_tensorflow(case, method):
    results = run(case, method)
    expected = [_array(case, where) for where in case["results"]]
    assert len(results) == len(expected)
    for y, want in zip(results, expected):
        assert y.shape == want.shape
        assert y.dtype == want.dtype
        assert_close(y, want, want.dtype)
