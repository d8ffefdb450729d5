"""The trust rules for the gradient-side ops, over every path (:data:`conftest.PATHS`).

Transposed convolutions run one stride-1 correlation (a :class:`~fftconv.ConvPlan`),
which is forced onto each path; filter gradients run the direct method or a
correlation on each FFT backend.  The rules, as in ``test_invariants.py``:
results own their memory, inputs are never modified, samples that no output
reads change nothing, non-finite values stay where TensorFlow's products put
them, huge values stay local, integers are exact.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import fftconv
from fftconv.testing import reference_filter_gradient, reference_input_gradient, relative_error

from conftest import METHOD_NAMES, PATHS, assert_results_owned, assert_stream_owned, grid, path_plan

#: Forward convolutions ``(x NHWC, w HWIO, options)``: strides that do and do not divide the kernel
#: (the combined kernel of the transpose has zero taps in the second), groups, explicit pads.
FORWARD = {
    "stride1": ((2, 14, 13, 3), (5, 4, 3, 4), dict(padding="SAME")),
    "stride2-zero-taps": ((2, 17, 16, 4), (3, 5, 2, 6), dict(strides=2, padding=((1, 2), (0, 3)))),
    "stride3-dilated": ((1, 19, 20, 2), (3, 2, 2, 2), dict(strides=(3, 2), dilations=(2, 3), padding="SAME")),
    "depthwise": ((1, 16, 15, 3), (5, 3, 1, 6), dict(strides=2, padding="VALID")),
}


def _transpose_plan_or_none(path, case, dtype=np.float64, data_format="NHWC"):
    """The transposed convolution's plan for a case, its correlation forced onto ``path``; None where
    the path cannot run it."""
    x_shape, w_shape, options = FORWARD[case]
    f = fftconv.plan_conv2d(x_shape, w_shape, **options).geometry
    dy_shape = f.output_shape
    if data_format == "NCHW":
        x_shape = (x_shape[0], x_shape[-1], *x_shape[1:-1])
        dy_shape = (dy_shape[0], dy_shape[-1], *dy_shape[1:-1])
    plan = fftconv.plan_conv2d_transpose(dy_shape, w_shape, x_shape, options.get("strides", 1),
                                         options.get("padding", "VALID"), data_format, options.get("dilations"),
                                         dtype=dtype)
    conv = path_plan(plan.conv, path[1], path[2])
    return None if conv is None else dataclasses.replace(plan, conv=conv)


def _transpose_plan(path, case, dtype=np.float64, data_format="NHWC"):
    plan = _transpose_plan_or_none(path, case, dtype, data_format)
    assert plan is not None, f"{path[0]} cannot run {case}: the grid should not have made this test"
    return plan


def _transpose_runs(path, case, dtype=np.float64, data_format="NHWC", **_):
    return _transpose_plan_or_none(path, case, np.dtype(dtype), data_format) is not None


def _filter_path_runs(path) -> bool:
    """The filter gradient has its own two methods: the direct one (a single strategy, im2col) and
    the FFT correlation on each backend; no other path exists for it."""
    method, changes = path[1], path[2]
    if method == "direct":
        return changes.get("strategy") in (None, "im2col")
    return "backend" in changes


#: The paths of the filter gradient.
FILTER_PATHS = [p for p in PATHS if _filter_path_runs(p)]


def _filter_plan(path, case, dtype=np.float64, data_format="NHWC"):
    x_shape, w_shape, options = FORWARD[case]
    f = fftconv.plan_conv2d(x_shape, w_shape, **options).geometry
    dy_shape = f.output_shape
    if data_format == "NCHW":
        x_shape = (x_shape[0], x_shape[-1], *x_shape[1:-1])
        dy_shape = (dy_shape[0], dy_shape[-1], *dy_shape[1:-1])
    plan = fftconv.plan_conv2d_backprop_filter(x_shape, w_shape, dy_shape, options.get("strides", 1),
                                               options.get("padding", "VALID"), data_format,
                                               options.get("dilations"), dtype=dtype)
    method, changes = path[1], path[2]
    assert _filter_path_runs(path), f"the filter gradient has no {path[0]} path: the grid should not have made this test"
    if method == "direct":
        return dataclasses.replace(plan, method="direct")
    return dataclasses.replace(plan, method="fft", conv=dataclasses.replace(plan.conv, backend=changes["backend"]))


def _forward(case):
    x_shape, w_shape, options = FORWARD[case]
    return fftconv.plan_conv2d(x_shape, w_shape, **options).geometry


def _ref_kwargs(g):
    return dict(strides=g.strides, padding=g.pads, dilations=g.dilations)


# -- results own their memory; inputs never change ---------------------------------------------------

@pytest.mark.parametrize(*grid(lambda **c: _transpose_runs(dtype=np.float32, **c), path=PATHS, case=list(FORWARD),
                               data_format=["NHWC", "NCHW"]))
def test_transpose_results_own_their_memory_on_every_path(path, case, data_format):
    plan = _transpose_plan(path, case, np.float32, data_format)
    rng = np.random.default_rng(0)
    w = rng.standard_normal(plan.filters_shape).astype(np.float32)
    x1, x2 = (rng.standard_normal(plan.input_shape).astype(np.float32) for _ in range(2))
    bound = plan.bind(w)
    for run in (bound, lambda x: plan(x, w)):
        assert_results_owned(run, x1, x2)


@pytest.mark.parametrize("entry", ["conv1d_transpose", "conv2d_transpose", "conv3d_transpose", "backprop_input",
                                   "depthwise_backprop_input", "backprop_filter", "depthwise_backprop_filter",
                                   "filter_plan", "separable", "separable_bound", "vjp"])
@pytest.mark.parametrize("method", METHOD_NAMES)
def test_results_own_their_memory_on_every_entry_point(entry, method):
    rng = np.random.default_rng(1)
    w = rng.standard_normal((5, 3, 2, 3))
    wd = rng.standard_normal((5, 3, 2, 2))
    pw = rng.standard_normal((1, 1, 4, 3))
    sep_plan = fftconv.plan_separable_conv2d((1, 20, 20, 2), wd.shape, pw.shape, 2, "SAME", dtype="float64",
                                             method=method)
    filt_plan = fftconv.plan_conv2d_backprop_filter((1, 20, 20, 2), w.shape, (1, 10, 10, 3), 2, "SAME",
                                                    dtype="float64", method=method)
    dy = rng.standard_normal((1, 10, 10, 3))
    run = {
        "conv1d_transpose": lambda a: fftconv.conv1d_transpose(a[:, 0, :10, :3], w[0], (1, 20, 2), 2,
                                                               method=method),
        "conv2d_transpose": lambda a: fftconv.conv2d_transpose(a[:, :10, :10, :3], w, (1, 20, 20, 2), 2,
                                                               method=method),
        "conv3d_transpose": lambda a: fftconv.conv3d_transpose(a[:, None, :10, :10, :3], w[None], (1, 1, 20, 20, 2),
                                                               2, method=method),
        "backprop_input": lambda a: fftconv.conv2d_backprop_input((1, 20, 20, 2), w, a[:, :10, :10, :3], 2, "SAME",
                                                                  method=method),
        "depthwise_backprop_input": lambda a: fftconv.depthwise_conv2d_backprop_input(
            (1, 20, 20, 2), wd, a[:, :10, :10, :4], 2, "SAME", method=method),
        "backprop_filter": lambda a: fftconv.conv2d_backprop_filter(a[..., :2], w.shape, dy, 2, "SAME",
                                                                    method=method),
        "depthwise_backprop_filter": lambda a: fftconv.depthwise_conv2d_backprop_filter(
            a[..., :2], wd.shape, np.concatenate([dy, dy[..., :1]], -1), 2, "SAME", method=method),
        "filter_plan": lambda a: filt_plan(a[..., :2], dy),
        "separable": lambda a: sep_plan(a[..., :2], wd, pw),
        "separable_bound": sep_plan.bind(wd, pw),
        "vjp": lambda a: fftconv.conv2d_vjp(a[..., :2], w, dy, 2, "SAME", method=method)[1],
    }[entry]
    if entry == "separable_bound":
        run = (lambda bound: lambda a: bound(a[..., :2]))(run)
    frames = rng.standard_normal((3, 1, 20, 20, 4))
    assert_stream_owned(run, frames)


@pytest.mark.filterwarnings("ignore:overflow encountered in cast")  # 3e38 times an infinite weight is inf
def test_inputs_are_never_modified():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, 17, 16, 4)).astype(np.float32)
    w = rng.standard_normal((3, 5, 2, 6)).astype(np.float32)
    dy = rng.standard_normal((1, 9, 8, 6)).astype(np.float32)
    wd, pw = rng.standard_normal((3, 3, 4, 2)).astype(np.float32), rng.standard_normal((1, 1, 8, 3)).astype(np.float32)
    x[0, 1, 1, 0], dy[0, 2, 2, 1], w[1, 1, 0, 0] = np.nan, 3e38, np.inf  # the guards' paths too
    arrays = (x, w, dy, wd, pw)
    snaps = [a.copy() for a in arrays]
    for a in arrays:
        a.flags.writeable = False
    for method in ("direct", "fft"):
        fftconv.conv2d_vjp(x, w, dy, 2, "SAME", method=method)
        fftconv.conv2d_transpose(dy, w, x.shape, 2, method=method)
        fftconv.separable_conv2d(x, wd, pw, 1, "SAME", method=method)
    for a, snap in zip(arrays, snaps):
        np.testing.assert_array_equal(a, snap)


# -- unread samples ---------------------------------------------------------------------------

def _unread_transpose_plan(path):
    """Explicit pads larger than the kernel reach: the first rows of dy land in the padding only."""
    x_shape, w_shape = (1, 12, 11, 2), (3, 3, 2, 2)
    padding = ((7, 0), (0, 6))  # outputs 0..2 along h and 3.. along w read only padding
    f = fftconv.plan_conv2d(x_shape, w_shape, 2, padding).geometry
    plan = fftconv.plan_conv2d_transpose(f.output_shape, w_shape, x_shape, 2, padding, dtype=np.float32)
    conv = path_plan(plan.conv, path[1], path[2])
    return None if conv is None else (f, w_shape, dataclasses.replace(plan, conv=conv))


@pytest.mark.parametrize(*grid(lambda path, garbage: _unread_transpose_plan(path) is not None, path=PATHS,
                               garbage=[1e6, 1e30, np.nan, np.inf, -3.4e38]))
def test_unread_gradient_samples_change_nothing_on_every_path(path, garbage):
    """Explicit pads larger than the kernel reach: the first rows of dy land in the padding only."""
    f, w_shape, plan = _unread_transpose_plan(path)
    rng = np.random.default_rng(3)
    dy = rng.standard_normal(f.output_shape).astype(np.float32)
    w = rng.standard_normal(w_shape).astype(np.float32)
    dy_read = np.zeros(f.output_shape, bool)
    for o in np.ndindex(*f.out_spatial):
        # dy[o] is read if some tap puts it inside the input
        inside = [any(0 <= oo * 2 + t - lo < n for t in range(3)) for oo, (lo, _), n in
                  zip(o, f.pads, f.spatial)]
        dy_read[(0, *o)] = all(inside)
    assert not dy_read.all()
    dy[~dy_read] = 0
    clean = plan(dy, w)
    dy[~dy_read] = garbage
    np.testing.assert_array_equal(plan(dy, w), clean)


@pytest.mark.parametrize("garbage", [1e6, 1e30, np.nan, np.inf, -3.4e38], ids=str)
@pytest.mark.parametrize("case", ["stride-over-kernel", "dilation-gaps"])
@pytest.mark.parametrize("path", FILTER_PATHS, ids=[p[0] for p in FILTER_PATHS])
def test_unread_input_samples_change_nothing_in_filter_gradients(path, case, garbage):
    shapes = {"stride-over-kernel": ((1, 23, 20, 2), (2, 3, 2, 2), dict(strides=(4, 5), padding="VALID")),
              "dilation-gaps": ((1, 14, 13, 1), (3, 2, 1, 2), dict(dilations=(5, 6), padding="VALID"))}[case]
    FORWARD["_unread"] = shapes
    try:
        plan = _filter_plan(path, "_unread", np.float32)
    finally:
        del FORWARD["_unread"]
    f = plan.forward
    rng = np.random.default_rng(4)
    x = rng.standard_normal(f.input_shape).astype(np.float32)
    dy = rng.standard_normal(f.output_shape).astype(np.float32)
    read = reference_input_gradient(np.ones(f.output_shape), np.ones(f.filters_shape), f.input_shape,
                                    **_ref_kwargs(f)) > 0
    assert not read.all()
    x[~read] = 0
    clean = plan(x, dy)
    x[~read] = garbage
    np.testing.assert_array_equal(plan(x, dy), clean)


# -- non-finite values stay local ---------------------------------------------------------------------

@pytest.mark.parametrize(*grid(_transpose_runs, path=PATHS, case=list(FORWARD), bad=[np.nan, np.inf],
                               data_format=["NHWC", "NCHW"]))
def test_nonfinite_gradients_stay_local_in_transposes(path, case, bad, data_format):
    plan = _transpose_plan(path, case, np.float64, data_format)
    g = _forward(case)
    rng = np.random.default_rng(5)
    dy = rng.standard_normal(g.output_shape)
    w = rng.standard_normal(g.filters_shape)
    dy[0, 1, 2, 1] = bad
    dy_in = np.moveaxis(dy, -1, 1) if data_format == "NCHW" else dy
    y = plan(dy_in, w)
    y = np.moveaxis(y, 1, -1) if data_format == "NCHW" else y
    clean = reference_input_gradient(np.where(np.isfinite(dy), dy, 0), w, g.input_shape, **_ref_kwargs(g))
    touched = reference_input_gradient((~np.isfinite(dy)).astype(float), np.ones(w.shape), g.input_shape,
                                       **_ref_kwargs(g)) > 0
    assert touched.any() and not touched.all()
    assert not np.isfinite(y[touched]).any()
    assert relative_error(y[~touched], clean[~touched]) <= 1e-12


@pytest.mark.parametrize(*grid(_transpose_runs, path=PATHS, case=list(FORWARD)))
def test_nonfinite_filters_reach_what_tensorflow_reaches(path, case):
    """TensorFlow multiplies every output gradient by every weight of the taps that land inside the
    input: a NaN weight makes those positions NaN, and only those."""
    plan = _transpose_plan(path, case)
    g = _forward(case)
    rng = np.random.default_rng(6)
    dy = rng.standard_normal(g.output_shape)
    w = rng.standard_normal(g.filters_shape)
    bad = np.zeros(w.shape, bool)
    bad[(0,) * (w.ndim - 2) + (0, 0)] = bad[(-1,) * (w.ndim - 2) + (-1, -1)] = True
    w[bad] = np.nan
    y = plan(dy, w)
    clean = reference_input_gradient(dy, np.where(bad, 0, w), g.input_shape, **_ref_kwargs(g))
    touched = reference_input_gradient(np.ones(dy.shape), bad.astype(float), g.input_shape, **_ref_kwargs(g)) > 0
    assert touched.any() and not touched.all()
    assert np.isnan(y[touched]).all()
    assert relative_error(y[~touched], clean[~touched]) <= 1e-12


@pytest.mark.parametrize("case", list(FORWARD))
@pytest.mark.parametrize("where", ["input", "out_backprop"])
@pytest.mark.parametrize("path", FILTER_PATHS, ids=[p[0] for p in FILTER_PATHS])
def test_nonfinite_values_stay_local_in_filter_gradients(path, case, where):
    plan = _filter_plan(path, case)
    g = plan.forward
    rng = np.random.default_rng(7)
    x = rng.standard_normal(g.input_shape)
    dy = rng.standard_normal(g.output_shape)
    target = x if where == "input" else dy
    target[(0, 3, 4, 1)] = np.nan
    dw = plan(x, dy)
    clean = reference_filter_gradient(np.where(np.isfinite(x), x, 0), np.where(np.isfinite(dy), dy, 0),
                                      g.filters_shape, **_ref_kwargs(g))
    if where == "input":
        touched = reference_filter_gradient((~np.isfinite(x)).astype(float), np.ones(dy.shape), g.filters_shape,
                                            **_ref_kwargs(g)) > 0
    else:  # every tap of the output channel multiplies that sample
        touched = np.zeros(g.filters_shape, bool)
        touched[..., 1] = True
    assert touched.any() and not touched.all()
    assert np.isnan(dw[touched]).all()
    assert relative_error(dw[~touched], clean[~touched]) <= 1e-12


# -- huge values -------------------------------------------------------------------------------------

def _op_runs(path, op, case, dtype):
    """Whether ``op`` ("transpose" or "filter") has ``path`` for ``case``."""
    return _transpose_runs(path, case, dtype) if op == "transpose" else _filter_path_runs(path)


@pytest.mark.parametrize(*grid(lambda path, op, big_dtype: _op_runs(path, op, "stride2-zero-taps", big_dtype[1]),
                               path=PATHS, op=["transpose", "filter"],
                               big_dtype=[(3e36, np.float32), (-3.4e38, np.float32), (1e307, np.float64)]))
def test_huge_values_stay_local_in_gradients(path, op, big_dtype):
    big, dtype = big_dtype
    case = "stride2-zero-taps"
    g = _forward(case)
    rng = np.random.default_rng(8)
    dy = (1 + rng.random(g.output_shape)).astype(dtype)
    dy[0, 3, 3, 2] = big
    w = (rng.random(g.filters_shape) / 10).astype(dtype)
    x = (rng.random(g.input_shape) / 10).astype(dtype)
    shift = 64 if dtype == np.float32 else 600
    if op == "transpose":
        runs = [(_transpose_plan(path, case, np.dtype(dtype))(dy, w),
                 lambda d: reference_input_gradient(d, w, g.input_shape, **_ref_kwargs(g)))]
    else:
        runs = [(_filter_plan(path, case, np.dtype(dtype))(x, dy),
                 lambda d: reference_filter_gradient(x, d, g.filters_shape, **_ref_kwargs(g)))]
    for got, ref in runs:
        assert np.isfinite(got).all(), "every exact value is finite here"
        exact = ref(np.ldexp(dy.astype(np.float64), -shift))
        tol = 1e-5 if dtype == np.float32 else 1e-12
        assert relative_error(np.ldexp(got.astype(np.float64), -shift), exact) <= tol


# -- integers --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(*grid(_op_runs, path=PATHS, op=["transpose", "filter"],
                               case=["stride1", "stride2-zero-taps", "depthwise"],
                               dtype=[np.int8, np.int16, np.int32, np.uint8]))
def test_integer_gradients_are_exact_on_every_path(path, op, case, dtype):
    info = np.iinfo(dtype)
    g = _forward(case)
    rng = np.random.default_rng(9)
    dy = np.full(g.output_shape, info.min, dtype)
    dy.flat[::5] = rng.integers(max(info.min, -5), 5, dy.flat[::5].shape)
    x = np.full(g.input_shape, info.max, dtype)
    x.flat[::3] = rng.integers(max(info.min, -5), 5, x.flat[::3].shape)
    w = rng.integers(-1000, 1001, g.filters_shape).astype(np.int16)
    if op == "transpose":
        dx = _transpose_plan(path, case, np.dtype(dtype))(dy, w)
        exact_dx = _exact(lambda a, b: reference_input_gradient(a, b, g.input_shape, **_ref_kwargs(g)), dy, w)
        assert dx.dtype == np.float64
        np.testing.assert_array_equal(dx, exact_dx)
        return
    dy = rng.integers(-1000, 1001, g.output_shape).astype(np.int16)  # so that the exact sums fit float64
    dw = _filter_plan(path, case, np.dtype(dtype))(x, dy)
    exact_dw = _exact(lambda a, b: reference_filter_gradient(a, b, g.filters_shape, **_ref_kwargs(g)), x, dy)
    assert dw.dtype == np.float64
    np.testing.assert_array_equal(dw, exact_dw)


def _exact(bilinear, a, b):
    """An exact integer result from float64 references: split ``a`` into 2**16 digits (each partial
    result is then exact in float64), recombined with Python ints."""
    a = a.astype(np.int64)
    low, high = a % 2**16, a // 2**16
    parts = [bilinear(p.astype(np.float64), b.astype(np.float64)) for p in (low, high)]
    combined = parts[0].astype(object) + parts[1].astype(object) * 2**16
    return combined.astype(np.float64)
