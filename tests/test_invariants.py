"""The trust rules, tested once over every path a convolution can take.

A path is a method of the registry, each direct strategy, and the FFT
method on each available backend (:data:`conftest.PATHS`); layouts and dtypes
are crossed with them. A new method, strategy or backend is covered here the
day it is registered. The rules (``../shared/SPEC.md``, "Trust rules"):

* every returned array owns its memory, shares none with scratch space or an
  earlier result, and no later call changes it;
* inputs are never modified;
* samples that no output reads do not influence any output;
* non-finite inputs stay local, and finite values too large for a method are
  handled like them: outputs that read none are unchanged, outputs whose exact
  value is finite come back finite;
* integer inputs give exact integers whenever the exact sums fit float64;
* ``auto`` keeps every output within 100x of the direct method's error on
  data with a large dynamic range.

Every ``padding_mode`` and complex inputs and filters are crossed with the
paths too (:data:`MODE_GEOMETRIES`): a mode changes where pad values come
from, and a complex convolution runs as a real one built around the method,
so each could break a rule the zero-padded real case keeps.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import fftconv
from fftconv._runtime import scratch as _workspace
from fftconv._shapes.padding import MODES
from fftconv.testing import reference_conv, relative_error

from conftest import (METHOD_NAMES, PATHS, assert_close, assert_results_owned, assert_stream_owned, grid, path_plan,
                      random)

#: A geometry each path can run: ``(input NHWC, filters HWIO, options)``.
GEOMETRIES = {
    # VALID with a one-column kernel: the shifted strategy's sums cropped to the output are contiguous
    "dense": ((1, 21, 19, 4), (5, 1, 4, 6), dict(padding="VALID")),
    "strided-grouped": ((2, 23, 20, 4), (4, 3, 2, 6), dict(strides=2, padding="VALID", dilations=(1, 2))),
    "depthwise": ((1, 24, 22, 3), (5, 6, 1, 6), dict(strides=(1, 2), padding=((2, 1), (0, 3)))),
    # one channel, a kernel along the last axis: rows of FIR filtering
    "rows": ((2, 5, 41, 1), (1, 6, 1, 1), dict(strides=(2, 1), padding=((1, 0), (2, 3)))),
}


#: The same, with pads on every axis, for the padding modes.
MODE_GEOMETRIES = {
    "dense": ((1, 21, 19, 4), (5, 3, 4, 6), dict(padding=((3, 2), (9, 4)))),
    "strided-grouped": ((2, 23, 20, 4), (4, 3, 2, 6), dict(strides=2, padding=((5, 1), (2, 7)), dilations=(1, 2))),
    "depthwise": ((1, 24, 22, 3), (5, 6, 1, 6), dict(strides=(1, 2), padding=((2, 1), (0, 3)))),
    "rows": ((2, 5, 41, 1), (1, 6, 1, 1), dict(strides=(2, 1), padding=((1, 2), (4, 3)))),
}


def _geometry_for(path_id):
    if path_id in ("direct-rows", "direct-lines"):
        return "rows"
    if path_id == "direct-taps":
        return "depthwise"
    if path_id == "direct-shifted":
        return "dense"
    return "strided-grouped"


def _plan(path, shapes, dtype=np.float32, data_format="NHWC", **extra):
    """The plan of ``path`` for ``shapes``, or None where the path cannot run them."""
    path_id, method, changes = path
    x_shape, w_shape, options = shapes
    options = {**options, **extra}
    if data_format == "NCHW":
        x_shape = (x_shape[0], x_shape[-1], *x_shape[1:-1])
    plan = fftconv.plan_conv2d(x_shape, w_shape, data_format=data_format, dtype=dtype, **options)
    return path_plan(plan, method, changes)


def _bound(path, shapes, dtype=np.float32, data_format="NHWC", **extra):
    """The plan of ``path`` for ``shapes``; the tests' grids generate only paths that run them."""
    plan = _plan(path, shapes, dtype, data_format, **extra)
    assert plan is not None, f"{path[0]} cannot run these shapes: the grid should not have made this test"
    return plan


def _runs(shapes_of, dtype=np.float32, data_format="NHWC"):
    """A :func:`conftest.grid` filter: ``path`` (and the named axes) can run ``shapes_of(path)``."""
    def runs(path, **combo):
        return _plan(path, shapes_of(path, **combo), np.dtype(combo.get("dtype", dtype)),
                     combo.get("data_format", data_format)) is not None
    return runs


def _usual(path, **_):
    return GEOMETRIES[_geometry_for(path[0])]


def _forced(path, plan):
    """``plan`` forced onto ``path``, which the test's grid found able to run it."""
    forced = path_plan(plan, path[1], path[2])
    assert forced is not None, f"{path[0]} cannot run these shapes: the grid should not have made this test"
    return forced


# -- results own their memory ----------------------------------------------------------------

@pytest.mark.parametrize(*grid(_runs(_usual), path=PATHS, data_format=["NHWC", "NCHW"],
                               dtype=[np.float16, np.float32, np.float64, np.int16]))
def test_results_own_their_memory_on_every_path(path, data_format, dtype):
    shapes = GEOMETRIES[_geometry_for(path[0])]
    plan = _bound(path, shapes, np.dtype(dtype), data_format)
    rng = np.random.default_rng(0)
    w = (rng.standard_normal(plan.filters_shape) * 3).astype(dtype)
    x1, x2 = ((rng.standard_normal(plan.input_shape) * 3).astype(dtype) for _ in range(2))
    bound = plan.bind(w)
    for run in (lambda x: bound(x), lambda x: plan(x, w)):
        assert_results_owned(run, x1, x2)


@pytest.mark.parametrize("method", METHOD_NAMES)
@pytest.mark.parametrize("entry", ["conv1d", "conv2d", "conv3d", "depthwise", "bank", "plan", "bound", "dask",
                                   "convolve", "correlate-axes", "convolve-swapped", "conv2d-interpolate",
                                   "convolve-interpolate"])
def test_results_own_their_memory_on_every_entry_point(entry, method):
    rng = np.random.default_rng(1)
    w = rng.standard_normal((5, 1, 2, 3))
    wd = rng.standard_normal((5, 1, 2, 1))
    plan = fftconv.plan_conv2d((1, 20, 20, 2), w.shape, dtype="float64", method=method)
    run = {
        "conv1d": lambda a: fftconv.conv1d(a[:, 0], w[0], method=method),
        "conv2d": lambda a: fftconv.conv2d(a, w, method=method),
        "conv3d": lambda a: fftconv.conv3d(a[:, None], w[None], method=method),
        "depthwise": lambda a: fftconv.depthwise_conv2d(a, wd, method=method),
        "bank": fftconv.FilterBank(w, method=method),
        "plan": lambda a: plan(a, w),
        "bound": plan.bind(w),
        "dask": lambda a: _dask_conv2d(a, w, method),
        "convolve": lambda a: fftconv.convolve(a[0, :, :, 0], w[:, :, 0, 0], "same", method),
        "correlate-axes": lambda a: fftconv.correlate(a[0], w[:, :, :, 0], "full", method, axes=(0, 1)),
        "convolve-swapped": lambda a: fftconv.convolve(w[:, :, 0, 0], a[0, :, :, 1], "full", method),
        "conv2d-interpolate": lambda a: fftconv.conv2d(np.where(a > 1.5, np.nan, a), np.abs(w), method=method,
                                                       nan_treatment="interpolate"),
        "convolve-interpolate": lambda a: fftconv.convolve(
            np.where(a[0] > 1.5, np.nan, a[0]), np.abs(wd[:, :, :, 0]), "same", method, axes=(0, 1),
            nan_treatment="interpolate"),
    }[entry]
    frames = rng.standard_normal((3, 1, 20, 20, 2))
    assert_stream_owned(run, frames)  # a stream: each result must survive the later calls


def _dask_conv2d(a, w, method):
    da = pytest.importorskip("dask.array")
    import fftconv.dask

    return fftconv.dask.conv2d(da.from_array(a, chunks=(1, 10, 7, 2)), w, method=method).compute(
        scheduler="synchronous")


def test_filter_bank_stream_keeps_every_frame():
    rng = np.random.default_rng(2)
    frames = rng.standard_normal((5, 1, 20, 20, 2))
    w = rng.standard_normal((5, 1, 2, 3))
    for method in ("direct", "fft"):
        bank = fftconv.FilterBank(w, method=method)
        out = [bank(f) for f in frames]
        for f, y in zip(frames, out):
            np.testing.assert_allclose(y, reference_conv(f, w), rtol=1e-10, atol=1e-10)


# -- inputs never change -------------------------------------------------------------------------

@pytest.mark.parametrize(*grid(_runs(_usual), path=PATHS))
def test_inputs_are_never_modified_on_every_path(path):
    shapes = GEOMETRIES[_geometry_for(path[0])]
    plan = _bound(path, shapes, np.dtype(np.float32))
    rng = np.random.default_rng(3)
    x = rng.standard_normal(plan.input_shape).astype(np.float32)
    w = rng.standard_normal(plan.filters_shape).astype(np.float32)
    x[0, 0, 0, 0], x[0, 1, 1, 0] = np.nan, 3e38  # the guards' paths too
    snaps = x.copy(), w.copy()
    x.flags.writeable = w.flags.writeable = False
    plan(x, w)
    plan.bind(w)(x)
    np.testing.assert_array_equal(x, snaps[0])
    np.testing.assert_array_equal(w, snaps[1])


# -- every mode, complex data ----------------------------------------------------------------------

def _mode_bank_plan(path, mode, dtypes):
    x_shape, w_shape, options = MODE_GEOMETRIES[_geometry_for(path[0])]
    bank = fftconv.FilterBank(np.zeros(w_shape, dtypes[1]), padding_mode=mode, **options)
    return path_plan(bank.plan_for(x_shape, dtypes[0]), path[1], path[2])


@pytest.mark.parametrize(*grid(lambda **c: _mode_bank_plan(**c) is not None, path=PATHS, mode=MODES,
                               dtypes=[("float32", "float32"), ("complex64", "float32"), ("float64", "complex128"),
                                       ("complex128", "complex128")]))
def test_modes_and_complex_keep_the_rules_on_every_path(path, mode, dtypes):
    """Owned results, untouched inputs (read-only, NaN and huge values included) and the
    spec's accuracy, for every padding mode and complex embedding on every path."""
    x_shape, w_shape, options = MODE_GEOMETRIES[_geometry_for(path[0])]
    plan = _mode_bank_plan(path, mode, dtypes)
    assert plan is not None
    rng = np.random.default_rng(20)
    x1, x2 = random(rng, x_shape, dtypes[0]), random(rng, x_shape, dtypes[0])
    w = random(rng, w_shape, dtypes[1])
    expected = reference_conv(x1, w, plan.geometry.strides, plan.geometry.pads, plan.geometry.dilations,
                              padding_mode=mode)
    snaps = x1.copy(), w.copy()
    x1.flags.writeable = w.flags.writeable = False
    bound = plan.bind(w)
    for run in (lambda x: bound(x), lambda x: plan(x, w)):
        y1, _ = assert_results_owned(run, x1, x2)
        assert_close(y1, expected, plan.dtype)
    np.testing.assert_array_equal(x1, snaps[0])
    np.testing.assert_array_equal(w, snaps[1])
    x3 = x2.copy()
    x3[0, 0, 0, 0], x3[0, 1, 1, 0] = np.nan, 3e38  # the guards' paths too (at the edge: copied into pads)
    snap = x3.copy()
    x3.flags.writeable = False
    bound(x3)
    np.testing.assert_array_equal(x3, snap)


def _mode_plan(path, mode, dtype, shapes=None):
    x_shape, w_shape, options = shapes or MODE_GEOMETRIES[_geometry_for(path[0])]
    return path_plan(fftconv.plan_conv2d(x_shape, w_shape, dtype=dtype, padding_mode=mode, **options),
                     path[1], path[2])


@pytest.mark.parametrize(*grid(lambda path, mode, bad: _mode_plan(path, mode, "complex128") is not None,
                               path=PATHS, mode=["reflect", "symmetric", "wrap", "edge"], bad=[np.nan, np.inf]))
def test_nonfinite_values_near_the_edge_stay_local_with_modes_on_every_path(path, mode, bad):
    """A NaN beside the edge reaches the outputs that read it or one of its copies in the pads."""
    x_shape, w_shape, options = MODE_GEOMETRIES[_geometry_for(path[0])]
    plan = _forced(path, fftconv.plan_conv2d(x_shape, w_shape, dtype="complex128", padding_mode=mode, **options))
    rng = np.random.default_rng(21)
    x = random(rng, x_shape, np.complex128)
    w = random(rng, w_shape, np.complex128)
    x[0, 1, -2, 0] = complex(0.5, bad)
    with np.errstate(invalid="ignore"):  # inf * 0 in the direct method's sums: IEEE, as intended
        y = plan(x, w)
    g = plan.geometry
    opts = dict(strides=g.strides, padding=g.pads, dilations=g.dilations, padding_mode=mode)
    mask = ~np.isfinite(x)
    clean = reference_conv(np.where(mask, 0, x), w, **opts)
    touched = reference_conv(mask.astype(float), np.abs(w) + 1, **opts) > 0
    assert touched.any() and not touched.all()
    assert not np.isfinite(y[touched]).any()
    assert relative_error(y[~touched], clean[~touched]) <= 1e-12


@pytest.mark.parametrize(*grid(lambda path, mode: _mode_plan(path, mode, "int16") is not None, path=PATHS,
                               mode=["reflect", "symmetric", "wrap", "edge"]))
def test_integer_extremes_are_exact_with_modes_on_every_path(path, mode):
    x_shape, w_shape, options = MODE_GEOMETRIES[_geometry_for(path[0])]
    plan = _forced(path, fftconv.plan_conv2d(x_shape, w_shape, dtype="int16", padding_mode=mode, **options))
    rng = np.random.default_rng(22)
    x = np.full(x_shape, -32768, np.int16)
    x.flat[::7] = rng.integers(-5, 5, x.flat[::7].shape)
    w = rng.integers(-1000, 1001, w_shape).astype(np.int16)
    g = plan.geometry
    padded = np.pad(x, [(0, 0), *g.pads, (0, 0)], mode=mode)
    valid = fftconv.plan_conv2d(padded.shape, w_shape, strides=g.strides, dilations=g.dilations,
                                groups=g.groups).geometry
    np.testing.assert_array_equal(plan(x, w), _exact_integer_conv(padded, w, valid))


# -- unread samples ------------------------------------------------------------------------------

#: Geometries where some input samples are read by no output.
UNREAD = {
    "valid-stride-2": ((1, 40, 41, 1), (7, 7, 1, 2), dict(strides=2, padding="VALID")),
    "explicit-stride-3": ((1, 37, 30, 2), (4, 5, 2, 2), dict(strides=(3, 2), padding=((1, 0), (2, 1)))),
    "same-stride-over-kernel": ((1, 33, 31, 2), (3, 2, 2, 3), dict(strides=(5, 4), padding="SAME")),
    "dilation-and-stride": ((1, 36, 35, 2), (3, 4, 1, 2), dict(strides=2, dilations=2, padding="SAME")),
    # a dilation wider than the outputs' span: the rows between the taps are read by no output
    "dilation-gap": ((1, 4, 40, 2), (2, 5, 2, 2), dict(dilations=(3, 1), padding="VALID")),
    "dilation-gap-padded": ((1, 7, 30, 1), (2, 3, 1, 2), dict(dilations=(6, 2), padding=((1, 0), (2, 2)))),
    "rows-stride": ((1, 9, 40, 1), (1, 5, 1, 1), dict(strides=(3, 1), padding=((0, 1), (2, 0)))),
}


def _read_mask(plan):
    """Which input samples some output reads, by brute force over every output and tap (a pad
    filled by ``padding_mode`` reads the sample numpy.pad copies there)."""
    g = plan.geometry
    mask = np.zeros((g.batch, *g.spatial, g.in_channels), bool)
    for axis_taps in np.ndindex(*g.kernel):
        index = [slice(None)]
        for o, s, t, d, (lo, hi), n in zip(g.out_spatial, g.strides, axis_taps, g.dilations, g.pads, g.spatial):
            pos = np.arange(o) * s + t * d  # padded coordinates
            if g.padding_mode == "constant":
                pos -= lo
                index.append(pos[(pos >= 0) & (pos < n)])
            else:
                index.append(np.pad(np.arange(n), (lo, hi), mode=g.padding_mode)[pos])
        mask[np.ix_(*[np.arange(g.batch)] + index[1:] + [np.arange(g.in_channels)])] = True
    return mask


@pytest.mark.parametrize(*grid(_runs(lambda path, case, **_: UNREAD[case]), path=PATHS, case=list(UNREAD),
                               garbage=[1e6, 1e30, np.nan, np.inf, -3.4e38]))
def test_unread_samples_change_nothing_on_every_path(path, case, garbage):
    plan = _bound(path, UNREAD[case], np.dtype(np.float32))
    rng = np.random.default_rng(4)
    x = rng.standard_normal(plan.input_shape).astype(np.float32)
    w = rng.standard_normal(plan.filters_shape).astype(np.float32)
    read = _read_mask(plan)
    assert not read.all(), "the case must have unread samples"
    x[~read] = 0
    clean = plan(x, w)
    x[~read] = garbage
    np.testing.assert_array_equal(plan(x, w), clean)


def _unread_mode_plan(path, case, mode):
    """The plan of ``path`` for an UNREAD case with ``mode``, or None where the path cannot run it
    or the mode's pads read every sample (there is nothing unread to test)."""
    dtype = np.complex64 if mode in ("wrap", "edge") else np.float32
    plan = _mode_plan(path, mode, dtype, UNREAD[case])
    return None if plan is None or _read_mask(plan).all() else plan


@pytest.mark.parametrize(*grid(lambda path, case, mode, garbage: _unread_mode_plan(path, case, mode) is not None,
                               path=PATHS, case=[c for c in UNREAD if c != "valid-stride-2"],
                               mode=["reflect", "symmetric", "wrap", "edge"], garbage=[np.nan, -3.4e38]))
def test_unread_samples_change_nothing_with_modes_on_every_path(path, case, mode, garbage):
    dtype = np.complex64 if mode in ("wrap", "edge") else np.float32
    plan = _unread_mode_plan(path, case, mode)
    assert plan is not None
    rng = np.random.default_rng(4)
    x = random(rng, plan.input_shape, dtype)
    w = random(rng, plan.filters_shape, dtype)
    read = _read_mask(plan)
    x[~read] = 0
    clean = plan(x, w)
    x[~read] = garbage
    np.testing.assert_array_equal(plan(x, w), clean)


@pytest.mark.parametrize("method", METHOD_NAMES)
@pytest.mark.parametrize("garbage", [np.nan, np.inf, -3.4e38], ids=str)
def test_unread_samples_change_nothing_in_convolve(method, garbage):
    """``convolve(small, huge, "same")`` reads only the kernel taps that meet ``small``, and the
    roles swapped (``huge`` the engine's input) only the samples under some output."""
    rng = np.random.default_rng(23)
    small, huge = rng.standard_normal((6, 5)), rng.standard_normal((200, 150))
    read = np.zeros(huge.shape, bool)
    read[100 - 8:100 + 6, 75 - 7:75 + 5] = True  # every tap some "same" output multiplies by a sample
    clean = np.where(read, huge, 0)
    for f in (fftconv.convolve, fftconv.correlate):
        expected = f(small, clean, "same", method)
        dirty = np.where(read, huge, garbage)
        if f is fftconv.correlate:  # the taps are read reversed
            dirty, expected = dirty[::-1, ::-1], f(small, clean[::-1, ::-1], "same", method)
        np.testing.assert_array_equal(f(small, dirty, "same", method), expected)


def test_signal_entry_points_never_modify_their_inputs():
    rng = np.random.default_rng(24)
    a, b = rng.standard_normal((3, 40, 30)), rng.standard_normal((3, 5, 4)) + 1j
    a[0, 3, 3], b[1, 2, 2] = np.nan, np.inf
    snaps = a.copy(), b.copy()
    a.flags.writeable = b.flags.writeable = False
    for treatment in ("propagate", "fill", "interpolate"):
        for f in (fftconv.convolve, fftconv.correlate):
            for mode in ("full", "same", "valid"):
                with np.errstate(invalid="ignore"):
                    f(a, b, mode, axes=(1, 2), nan_treatment=treatment)
                    f(b, a, mode, axes=(1, 2))
    np.testing.assert_array_equal(a, snaps[0])
    np.testing.assert_array_equal(b, snaps[1])


def test_unread_row_does_not_pollute_the_fft():
    """The issue's instance: row 255 of a 256x256 image is never read at stride 2, VALID, 31x31."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1, 256, 256, 1)).astype(np.float32)
    w = rng.standard_normal((31, 31, 1, 1)).astype(np.float32)
    x[0, 255] = 1e6
    y = fftconv.conv2d(x, w, strides=2, method="fft")
    assert relative_error(y, reference_conv(x, w, 2)) <= 1e-5


# -- values too large for a method ----------------------------------------------------------------

def _box(k, dtype=np.float32):
    return np.full((k, k, 1, 1), 1.0 / (k * k), dtype)


HUGE_SHAPES = ((1, 60, 70, 1), (9, 9, 1, 1), dict(padding="SAME"))


@pytest.mark.parametrize(*grid(lambda path, big_dtype: _plan(path, HUGE_SHAPES, big_dtype[1]) is not None,
                               path=PATHS, big_dtype=[(-3.4028235e38, np.float32), (3e36, np.float32),
                                                      (1e307, np.float64), (-1.7e308, np.float64)]))
def test_huge_values_stay_local_on_every_path(path, big_dtype):
    big, dtype = big_dtype
    shapes = HUGE_SHAPES
    plan = _bound(path, shapes, np.dtype(dtype))
    rng = np.random.default_rng(6)
    x = (1000 + 100 * rng.standard_normal(plan.input_shape)).astype(dtype)
    x[0, 20:24, 30:35] = big
    w = _box(9, dtype)
    y = plan(x, w)
    shift = 64 if dtype == np.float32 else 600  # so that the reference's own norms cannot overflow
    scaled = reference_conv(np.ldexp(x.astype(np.float64), -shift), w.astype(np.float64), 1, "SAME")
    reached = reference_conv((np.abs(x) > 1e30).astype(np.float64), np.ones((9, 9, 1, 1)), 1, "SAME") > 0
    ordinary = reference_conv(np.where(np.abs(x) > 1e30, 0, x).astype(np.float64), w.astype(np.float64), 1, "SAME")
    assert np.isfinite(y).all(), "every output's exact value is finite here"
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert relative_error(y[~reached], ordinary[~reached]) <= tol
    assert relative_error(np.ldexp(y[reached].astype(np.float64), -shift), scaled[reached]) <= tol


def test_gis_nodata_sentinel_under_auto():
    """The issue's instance: a float32 raster with -3.4028235e38 no-data cells, 9x9 box, auto."""
    rng = np.random.default_rng(7)
    z = (1000 + 100 * rng.standard_normal((1, 200, 300, 1))).astype(np.float32)
    z[0, 50:60, 100:110] = -3.4028235e38
    y = fftconv.conv2d(z, _box(9), padding="SAME")
    d = fftconv.conv2d(z, _box(9), padding="SAME", method="direct")
    assert not np.isnan(y).any() and np.isfinite(y).all()
    far = np.ones(y.shape, bool)
    far[0, 42:68, 92:118] = False
    assert relative_error(y[far], d[far]) <= 1e-5


# -- non-finite values stay local -----------------------------------------------------------------

@pytest.mark.parametrize(*grid(_runs(_usual, np.float64), path=PATHS, data_format=["NHWC", "NCHW"],
                               bad=[np.nan, np.inf]))
def test_nonfinite_values_stay_local_on_every_path(path, data_format, bad):
    shapes = GEOMETRIES[_geometry_for(path[0])]
    plan = _bound(path, shapes, np.dtype(np.float64), data_format)
    rng = np.random.default_rng(8)
    x = rng.standard_normal(plan.input_shape)
    w = rng.standard_normal(plan.filters_shape)
    x_nhwc = np.moveaxis(x, 1, -1) if data_format == "NCHW" else x
    x_nhwc[0, 3, 4, 0] = bad
    y = plan(x, w)
    y_nhwc = np.moveaxis(y, 1, -1) if data_format == "NCHW" else y
    g = plan.geometry
    opts = dict(strides=g.strides, padding=g.pads, dilations=g.dilations)
    clean = reference_conv(np.where(np.isfinite(x_nhwc), x_nhwc, 0), w, **opts)
    touched = reference_conv((~np.isfinite(x_nhwc)).astype(float), np.abs(w) + 1, **opts) > 0
    assert touched.any() and not touched.all()
    assert not np.isfinite(y_nhwc[touched]).any()
    assert relative_error(y_nhwc[~touched], clean[~touched]) <= 1e-12


# -- integers --------------------------------------------------------------------------------------

@pytest.mark.parametrize(*grid(_runs(_usual), path=PATHS, dtype=[np.int8, np.int16, np.int32, np.uint8, np.int64]))
def test_integer_extremes_are_exact_on_every_path(path, dtype):
    info = np.iinfo(dtype)
    shapes = GEOMETRIES[_geometry_for(path[0])]
    plan = _bound(path, shapes, np.dtype(dtype))
    rng = np.random.default_rng(9)
    x = np.full(plan.input_shape, info.min, dtype)  # -128, -32768, -2**31: np.abs of these is negative
    x.flat[::7] = rng.integers(max(info.min, -5), 5, x.flat[::7].shape)
    if dtype == np.int64:
        x = np.clip(x, -2**40, 2**40).astype(dtype)
    w = rng.integers(-1000, 1001, plan.filters_shape).astype(np.int16)  # large enough to break FFT rounding
    y = plan(x, w)
    g = plan.geometry
    exact = _exact_integer_conv(x, w, g)
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y, exact)


def _exact_integer_conv(x, w, g):
    """The exact result with Python ints (object arrays), by the definition."""
    ref = reference_conv(x.astype(object).astype(np.float64) * 0, w.astype(np.float64) * 0,
                         g.strides, g.pads, g.dilations)  # shape only
    xo, wo = x.astype(object), w.astype(object)
    out = np.zeros(ref.shape, dtype=object)
    for tap in np.ndindex(*g.kernel):
        index = [slice(None)]
        valid = np.ones((), bool)
        for axis, (t, o, s, d, (lo, _), n) in enumerate(zip(tap, g.out_spatial, g.strides, g.dilations, g.pads,
                                                            g.spatial)):
            pos = np.arange(o) * s + t * d - lo
            inside = (pos >= 0) & (pos < n)
            index.append(np.clip(pos, 0, n - 1))
            valid = valid[..., None] & inside
        patch = xo[np.ix_(np.arange(x.shape[0]), *index[1:], np.arange(x.shape[-1]))] * valid[None, ..., None]
        for grp in range(g.groups):
            cin = slice(grp * g.group_in, (grp + 1) * g.group_in)
            cout = slice(grp * g.group_out, (grp + 1) * g.group_out)
            out[..., cout] += patch[..., cin].dot(wo[tap][:, cout])
    return out.astype(np.float64)


def test_integer_fft_falls_back_where_rounding_could_fail():
    """The issue's instance: int32 input of mostly -2**31, 51x51 kernel of 1000-1500."""
    rng = np.random.default_rng(10)
    x = np.full((1, 64, 64, 1), -2**31, np.int32)
    x[0, ::3, ::5] = rng.integers(-5, 5, x[0, ::3, ::5].shape)
    w = rng.integers(1000, 1500, (51, 51, 1, 1))
    for method in ("auto", "fft", "direct"):
        y = fftconv.conv2d(x, w, method=method)
        np.testing.assert_array_equal(y, _exact_integer_conv(x, w, fftconv.plan_conv2d(x.shape, w.shape).geometry))


# -- dynamic range ---------------------------------------------------------------------------------

def _gauss(k, sigma):
    g = np.exp(-((np.arange(k) - k // 2) / sigma) ** 2)
    g = np.outer(g, g)
    return (g / g.sum())[..., None, None].astype(np.float32)


@pytest.mark.parametrize("contrast", [1e2, 1e4])
@pytest.mark.parametrize("kernel, options", [(_gauss(31, 6), dict(padding="SAME")),
                                             (_gauss(61, 3), dict(strides=2)),
                                             (np.full((15, 15, 1, 1), 1 / 225, np.float32), dict(padding="SAME"))],
                         ids=["gauss31-same", "gauss61-stride2", "box15-same"])
def test_auto_keeps_every_output_within_100x_of_direct(contrast, kernel, options):
    """A faint half next to a bright one (HDR, astronomy): the FFT's error in a tile follows its
    brightest values, so faint outputs lose float32 precision unless ``auto`` guards them. (Kernels
    large enough for ``auto`` to plan the FFT: the compiled direct loops run smaller ones; at stride
    2 on 256x256 the planner crosses over near 55 taps since the FFT's lines are priced.)"""
    rng = np.random.default_rng(11)
    x = (1 + 0.1 * rng.standard_normal((1, 256, 256, 1))).astype(np.float32)
    x[:, :, 128:] *= contrast
    ref = reference_conv(x, kernel, **{k: v for k, v in options.items()})
    scale = reference_conv(np.abs(x), np.abs(kernel), **options)
    direct = fftconv.conv2d(x, kernel, method="direct", **options)
    auto = fftconv.conv2d(x, kernel, **options)
    assert fftconv.plan_conv2d(x.shape, kernel.shape, **options).method == "fft"
    floor = np.maximum(np.abs(direct - ref), np.finfo(np.float32).eps * scale)
    assert np.max(np.abs(auto - ref) / floor) <= 100


def test_ordinary_data_runs_float32_ffts():
    """The guard must not fire on ordinary data (it would double the time)."""
    rng = np.random.default_rng(12)
    x = rng.standard_normal((2, 128, 128, 3)).astype(np.float32)
    w = rng.standard_normal((21, 21, 3, 4)).astype(np.float32)
    bound = fftconv.plan_conv2d(x.shape, w.shape).bind(w)
    guard = bound._range_guard("fft")
    stats = fftconv._engine.cells.cell_stats(x, bound.plan.run_geometry)
    verdict = guard.assess(guard.tile_stats(stats), np.float32)
    assert verdict.worst < verdict.limit / 4
    bound(x)
    assert bound.last_run["why"] == "as planned" and bound.last_run["dtype"] == np.float32


@pytest.mark.parametrize("dtype, sentinel", [(np.float32, 1e17), (np.float32, 1e20), (np.float32, 1e29),
                                             (np.float64, 1e20), (np.float64, 1e100)])
@pytest.mark.parametrize("entry", ["conv2d", "convolve"])
def test_auto_keeps_outputs_clear_of_a_huge_missing_value(dtype, sentinel, entry):
    """A block of CMIP's 1e20 missing value in a field of order 1e2: below the overflow limit,
    but beyond what even float64 FFTs can hold apart from the field. Outputs whose window misses
    the block keep the direct method's accuracy (the global L2 bound would not notice them)."""
    rng = np.random.default_rng(13)
    x = (280 + rng.standard_normal((1, 128, 128, 1))).astype(dtype)
    x[0, 60:70, 60:70] = sentinel
    box = np.full((31, 31, 1, 1), 1 / 961, dtype)
    if entry == "conv2d":
        y = fftconv.conv2d(x, box, padding="SAME")
    else:
        y = fftconv.convolve(x[0, ..., 0], box[..., 0, 0], mode="same")[None, ..., None]
    ref = fftconv.conv2d(x.astype(np.float64), box.astype(np.float64), padding="SAME", method="direct")
    clean = np.ones(ref.shape, bool)
    clean[0, 45:85, 45:85] = False  # the outputs whose 31x31 window reaches the block
    error = np.max(np.abs(y - ref)[clean] / np.abs(ref)[clean])
    assert error <= 1e-5, error


# -- memory ---------------------------------------------------------------------------------------

PEAK_CASES = [
    (2, (4, 128, 128, 3), (21, 21, 3, 8), dict()),
    (2, (1, 96, 96, 16), (9, 9, 16, 16), dict(padding="SAME")),
    (2, (2, 100, 90, 8), (7, 7, 1, 8), dict(strides=2, groups=8)),
    (2, (2, 3, 120, 130), (15, 15, 3, 4), dict(data_format="NCHW", dilations=2)),
    (1, (3, 40000, 2), (101, 2, 3), dict(padding="SAME")),
    (1, (2, 80000, 1), (7, 1, 1), dict(padding="SAME")),
    (3, (1, 40, 40, 40, 2), (7, 7, 7, 2, 2), dict(padding="SAME")),
    (2, (2, 128, 120, 4), (21, 21, 4, 4), dict(padding="SAME", padding_mode="wrap")),  # circular layout
]


def _peak_plan(path, case, dtype):
    nd, x_shape, w_shape, options = PEAK_CASES[case]
    planner = {1: fftconv.plan_conv1d, 2: fftconv.plan_conv2d, 3: fftconv.plan_conv3d}[nd]
    return path_plan(planner(x_shape, w_shape, dtype=dtype, **options), path[1], path[2])


@pytest.mark.parametrize(*grid(lambda **c: _peak_plan(**c) is not None, path=PATHS, case=range(len(PEAK_CASES)),
                               dtype=[np.float32, np.float64]))
def test_peak_bytes_bounds_the_traced_peak(path, case, dtype):
    """``plan.peak_bytes`` is an upper bound of what a call allocates, within 1.25x of it."""
    plan = _peak_plan(path, case, dtype)
    assert plan is not None
    from fftconv._engine.plan import predicted_peak_bytes
    from fftconv.backends import get_backend
    method = plan.method
    plan = dataclasses.replace(plan, peak_bytes=predicted_peak_bytes(
        plan.geometry, method, plan.settings[method], plan.real_dtype.itemsize, backend=get_backend(plan.backend),
        copy_out=plan.channels_first, input_as_is=True, workers=plan.workers))  # the input holds the compute dtype
    x = np.ones(plan.input_shape, dtype)
    w = np.ones(plan.filters_shape, dtype)
    peak = _traced_peak(plan, x, w)
    assert peak <= plan.peak_bytes <= 1.25 * peak, (plan.peak_bytes / peak, plan.peak_bytes, peak)


def _traced_peak(plan, x, w) -> int:
    """Bytes tracemalloc saw at the peak of ``plan(x, w)``: one call first, so that module
    imports and the geometry's small caches are not counted; then every data buffer (scratch,
    kept spectra) is released, so that the traced call makes them all."""
    import tracemalloc

    plan(x, w)
    _workspace.release()
    fftconv.clear_spectrum_cache()
    tracemalloc.start()
    try:
        plan(x, w)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


#: What is complex: ``(input dtype, filters dtype)`` of each embedding.
EMBEDDINGS = {"input": ("complex64", "float32"), "filters": ("float64", "complex128"),
              "both": ("complex64", "complex64")}


def _complex_peak_plan(path, case, embedding):
    nd, x_shape, w_shape, options = PEAK_CASES[case]
    x_dtype, w_dtype = EMBEDDINGS[embedding]
    bank = fftconv.FilterBank(np.ones(w_shape, w_dtype), padding_mode="reflect", **options)
    return path_plan(bank.plan_for(x_shape, x_dtype), path[1], path[2])


@pytest.mark.parametrize(*grid(lambda **c: _complex_peak_plan(**c) is not None, path=PATHS, case=range(2, 5),
                               embedding=list(EMBEDDINGS)))
def test_peak_bytes_bounds_the_traced_peak_of_complex_calls(path, case, embedding):
    """The same bound for complex calls: the real run's model plus the embedding's own copies.

    Within 1.35x rather than 1.25x: the embedded geometries (twice the batch or the channels)
    reach shapes where the methods' own models are that loose (measured up to 1.31x with
    pyFFTW on real calls of the same shapes)."""
    from fftconv._engine.plan import predicted_peak_bytes
    from fftconv.backends import get_backend

    x_dtype, w_dtype = EMBEDDINGS[embedding]
    plan = _complex_peak_plan(path, case, embedding)
    assert plan is not None
    method = plan.method
    plan = dataclasses.replace(plan, peak_bytes=predicted_peak_bytes(
        plan.geometry, method, plan.settings[method], plan.real_dtype.itemsize,
        backend=get_backend(plan.backend), copy_out=plan.channels_first, embedding=plan.embedding,
        workers=plan.workers))
    x, w = np.ones(plan.input_shape, x_dtype), np.ones(plan.filters_shape, w_dtype)
    peak = _traced_peak(plan, x, w)
    assert peak <= plan.peak_bytes <= 1.35 * peak, (plan.peak_bytes / peak, plan.peak_bytes, peak)


def test_scratch_is_trimmed_after_a_large_call():
    x = np.ones((1, 2048, 2048, 1), np.float32)
    w = np.ones((63, 63, 1, 1), np.float32)
    _workspace.release()
    fftconv.conv2d(x, w, padding="SAME", method="fft")
    assert 0 < _workspace.kept_bytes() <= _workspace.KEEP_BYTES
