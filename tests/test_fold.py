"""Dilated kernels whose taps mostly read pads run folded (:mod:`fftconv._shapes.fold`).

Issue 24: a 10x10 input, a 2x2 kernel, SAME: 1.5 s at dilation 10,000, 14 s at
30,000 and a refusal ("needs about 78.2 GiB") at 100,000, which TensorFlow
computes. Taps that read the same samples (or only pads) act as one tap: no
transform, buffer or window may grow with the dilation. The reference is
:func:`fftconv.testing.reference_conv` (numpy.pad, then direct sums).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fftconv
from fftconv._checks import check_geometry
from fftconv._shapes.fold import fold
from fftconv._shapes.padding import MODES
from fftconv.testing import reference_conv

from conftest import assert_close


def _reads(n, k, d, lo, hi, out, mode):
    """``(k, out)`` input indices (-1: zero) that tap ``t`` of output ``o`` reads: numpy.pad of
    ``arange(n)`` along one axis (cheap even for pads of 50,000), looked up at ``o + t * d``."""
    padded = np.pad(np.arange(n), (lo, hi), mode=mode) if mode != "constant" else \
        np.concatenate([np.full(lo, -1), np.arange(n), np.full(hi, -1)])
    return padded[np.arange(out)[None, :] + d * np.arange(k)[:, None]]


@pytest.mark.parametrize("dilation", [10_000, 30_000, 100_000])
@pytest.mark.parametrize("padding_mode", MODES)
def test_the_issue_example_costs_what_a_10x10_convolution_costs(dilation, padding_mode):
    x = np.random.default_rng(0).standard_normal((1, 10, 10, 1))
    w = np.random.default_rng(1).standard_normal((2, 2, 1, 1))
    plan = fftconv.plan_conv2d(x.shape, w.shape, padding="SAME", dilations=dilation, padding_mode=padding_mode,
                               dtype="float64")
    assert plan.peak_bytes < 2**20  # was 78.2 GiB at 100,000
    assert "folded" in repr(plan)
    y = fftconv.conv2d(x, w, padding="SAME", dilations=dilation, padding_mode=padding_mode)
    lo, hi = plan.geometry.pads[0]
    reads = _reads(10, 2, dilation, lo, hi, 10, padding_mode)
    padded = np.append(x[0, :, :, 0], np.zeros((1, 10)), axis=0)
    padded = np.append(padded, np.zeros((11, 1)), axis=1)  # index -1: the zero row and column
    expected = sum(w[t, u, 0, 0] * padded[np.ix_(reads[t], reads[u])] for t in range(2) for u in range(2))
    assert_close(y[0, :, :, 0], expected, np.float64)
    if padding_mode == "constant":  # every tap of every output reads a zero pad (TensorFlow: zeros)
        np.testing.assert_array_equal(y, np.zeros_like(y))


@pytest.mark.parametrize("padding_mode", MODES)
@pytest.mark.parametrize("flip", [False, True])
@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
@pytest.mark.parametrize("method", ["direct", "fft", "auto"])
def test_folded_is_the_reference(padding_mode, flip, data_format, method, rng):
    cases = [((2, 10, 11, 3), (2, 2, 3, 4), 1, "SAME", 1000), ((1, 7, 8, 2), (3, 3, 2, 2), 1, "SAME", 40),
             ((1, 9, 9, 3), (3, 3, 1, 3), 2, "SAME", 50), ((2, 6, 7, 2), (5, 5, 2, 3), 1, ((60, 40), (50, 50)), 23),
             ((1, 8, 8, 1), (3, 2, 1, 2), 3, "SAME", (300, 7))]
    folds = 0
    for x_shape, w_shape, strides, padding, dilations in cases:
        x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
        expected = reference_conv(x, w, strides, padding, dilations, flip=flip, padding_mode=padding_mode)
        x_in = np.moveaxis(x, -1, 1) if data_format == "NCHW" else x
        plan = fftconv.plan_conv2d(x_in.shape, w.shape, strides, padding, data_format, dilations, flip=flip,
                                   padding_mode=padding_mode, method=method, dtype="float64")
        folds += "folded" in repr(plan)
        y = plan(x_in, w)
        assert_close(np.moveaxis(y, 1, -1) if data_format == "NCHW" else y, expected, np.float64)
    assert folds >= 3


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_folded_1d_is_the_reference_for_any_geometry(data):
    n = data.draw(st.integers(1, 6), label="n")
    k = data.draw(st.integers(1, 4), label="k")
    d = data.draw(st.integers(2, 400), label="d")
    s = data.draw(st.integers(1, 3), label="s")
    mode = data.draw(st.sampled_from(MODES), label="mode")
    eff = (k - 1) * d + 1
    lo = data.draw(st.integers(0, eff + 5), label="lo")
    hi = data.draw(st.integers(max(0, eff - n - lo), eff + 5), label="hi")
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, n, 2)), rng.standard_normal((k, 2, 3))
    expected = reference_conv(x[:, :, None], w[:, None], (s, 1), ((lo, hi), (0, 0)), (d, 1), padding_mode=mode)
    y = fftconv.conv1d(x, w, s, [(lo, hi)], dilations=d, padding_mode=mode, method="direct")
    assert_close(y, expected[:, :, 0], np.float64)


def test_ordinary_convolutions_are_never_folded():
    for padding in ("SAME", "VALID"):
        for kernel, dilation, stride in [(3, 1, 1), (3, 2, 1), (1, 1, 4), (5, 4, 2), (3, 8, 1), (7, 6, 1)]:
            g = check_geometry((2, 64, 64, 8), (kernel, kernel, 8, 8), 2, stride, padding, "NHWC", dilation, None,
                               False)
            assert fold(g) is None, (padding, kernel, dilation, stride)


def test_integers_stay_exact_and_dtypes_stay(rng):
    x = rng.integers(-2**20, 2**20, (1, 9, 9, 2)).astype(np.int32)
    w = rng.integers(-2**20, 2**20, (3, 3, 2, 2)).astype(np.int32)
    for mode in MODES:
        y = fftconv.conv2d(x, w, padding="SAME", dilations=500, padding_mode=mode)
        expected = reference_conv(x.astype(np.float64), w.astype(np.float64), 1, "SAME", 500, padding_mode=mode)
        assert y.dtype == np.float64
        np.testing.assert_array_equal(y, expected)
    for dtype in (np.float16, np.float32, np.complex64):
        y = fftconv.conv2d((x % 7).astype(dtype), (w % 5).astype(dtype), padding="SAME", dilations=500)
        assert y.dtype == dtype


def test_every_entry_point_runs_folded(rng):
    """The transposes, gradients, separable, depthwise, FilterBank, nan_treatment and dask calls at a
    dilation whose unfolded buffers would need tens of GiB."""
    d = 100_000
    x, w = rng.standard_normal((1, 10, 10, 2)), rng.standard_normal((2, 2, 2, 3))
    y = fftconv.conv2d(x, w, padding="SAME", dilations=d, padding_mode="reflect")
    assert_close(fftconv.FilterBank(w, padding="SAME", dilations=d, padding_mode="reflect")(x), y, np.float64)
    assert_close(fftconv.conv2d(x, w, padding="SAME", dilations=d, padding_mode="reflect", measure=True), y,
                 np.float64)
    holes = x.copy()
    holes[0, 3, 4, 1] = np.nan
    z = fftconv.conv2d(holes, np.abs(w), padding="SAME", dilations=d, padding_mode="edge",
                       nan_treatment="interpolate")
    assert np.isfinite(z).all()
    dy = rng.standard_normal(y.shape)
    dx = fftconv.conv2d_backprop_input(x.shape, w, dy, 1, "SAME", dilations=d)
    assert_close(dx, np.zeros_like(dx), np.float64)  # every tap of SAME meets only zero pads
    fftconv.conv2d_transpose(dy, w, x.shape, 1, "SAME", dilations=d)
    fftconv.conv2d_vjp(x, w, dy, 1, "SAME", dilations=d)
    fftconv.depthwise_conv2d(x, w[:, :, :1, :1].repeat(2, 2), padding="SAME", dilations=d, padding_mode="wrap")
    fftconv.separable_conv2d(x, w[:, :, :, :1], np.ones((1, 1, 2, 4)), 1, "SAME", dilations=d)
    da = pytest.importorskip("dask.array")
    dask_ops = pytest.importorskip("fftconv.dask")
    lazy = dask_ops.conv2d(da.from_array(x, chunks=(1, 4, 5, 2)), w, padding="SAME", dilations=d,
                               padding_mode="reflect")
    assert_close(lazy.compute(), y, np.float64)


def test_dask_folded_chunks_match_memory(rng):
    da = pytest.importorskip("dask.array")
    dask_ops = pytest.importorskip("fftconv.dask")
    x, w = rng.standard_normal((2, 11, 9, 2)), rng.standard_normal((3, 2, 2, 2))
    for mode in MODES:
        for dtype in (np.float16, np.float64, np.int16):
            xs, ws = x.astype(dtype) if dtype != np.int16 else (x * 100).astype(dtype), w.astype(dtype)
            expected = fftconv.conv2d(xs, ws, 2, "SAME", dilations=(300, 7), padding_mode=mode)
            got = dask_ops.conv2d(da.from_array(xs, chunks=(1, 4, 5, 1)), ws, 2, "SAME", dilations=(300, 7),
                                      padding_mode=mode).compute()
            assert got.dtype == expected.dtype
            assert_close(got, expected, expected.dtype)


def test_a_folded_bound_plan_explains_an_input():
    """``explain`` of a folded plan reads the input as the folded convolution runs it (it once
    raised NameError: its input check was never imported)."""
    x = np.random.default_rng(0).standard_normal((1, 10, 10, 1))
    w = np.random.default_rng(1).standard_normal((2, 2, 1, 1))
    bound = fftconv.plan_conv2d(x.shape, w.shape, padding="SAME", dilations=10_000, dtype="float64").bind(w)
    assert "folded" in repr(bound.plan)
    text = bound.explain(x)
    assert text.startswith("input ") and "cells" in text
    with pytest.raises(ValueError, match="input"):
        bound.explain(x[:, :5])
