"""The Winograd method (F(2x2, 3x3), :mod:`fftconv.methods.winograd`): its results against the
float64 reference on every padding form and mode, odd, even and prime sizes, kernels of up to
3x3 taps; its numpy fallback against the compiled transforms; its guard under ``auto`` on
bright/faint data; and the errors of ``method="winograd"`` on shapes it cannot run.

The registries cover it too where their grids generate shapes it runs (``tests/conftest.py``:
``path_plan``; ``RESTRICTED_METHODS``), and the TF goldens it can run
(``tests/test_tf_golden.py``); nothing is generated for shapes it cannot run, and nothing skipped.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fftconv
from conftest import assert_close, ref
from fftconv.methods import winograd
from test_guard import FACTOR, make_data, worst_ratio

PADDINGS = {
    "SAME": dict(padding="SAME"),
    "VALID": dict(padding="VALID"),
    "explicit": dict(padding=[(2, 0), (1, 3)]),
    "reflect": dict(padding=[(1, 2), (2, 1)], padding_mode="reflect"),
    "symmetric": dict(padding="SAME", padding_mode="symmetric"),
    "wrap": dict(padding=[(0, 2), (2, 2)], padding_mode="wrap"),
    "edge": dict(padding="SAME", padding_mode="edge"),
}


def per_output_ratio(y, x, w, **options):
    """The largest ``|y - ref|`` over ``eps * sum |x| |w|`` of its window (the contract's scale)."""
    exact = ref(x, w, **options)
    scale = ref(np.abs(x), np.abs(w), **options)
    err = np.abs(y.astype(np.float64) - exact)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.where(err == 0, 0.0, err / (np.finfo(y.dtype).eps * scale)).max())


SHAPES = [(padding, size, kernel) for padding in PADDINGS for size in [(7, 9), (8, 8), (13, 11), (3, 2)]
          for kernel in [(3, 3), (2, 3), (1, 1)]
          if padding != "VALID" or all(n >= k for n, k in zip(size, kernel))]  # VALID needs an output


@pytest.mark.parametrize("padding, size, kernel", SHAPES,
                         ids=[f"{p}-{'x'.join(map(str, s))}-{'x'.join(map(str, k))}" for p, s, k in SHAPES])
def test_matches_the_reference(padding, size, kernel, dtype, rng):
    options = PADDINGS[padding]
    x = rng.standard_normal((2, *size, 3)).astype(dtype)
    w = rng.standard_normal((*kernel, 3, 5)).astype(dtype)
    for flip in (False, True):
        y = fftconv.conv2d(x, w, method="winograd", flip=flip, **options)
        expected = ref(x, w, flip=flip, **options)
        assert_close(y, expected, dtype)
        if kernel == (3, 3):  # on ordinary data the method alone keeps the contract (1-2 measured);
            # smaller kernels (run only by name, or where a fold shrinks one) need auto's guard
            assert per_output_ratio(y, x, w[::-1, ::-1] if flip else w, **options) <= FACTOR


def test_channels_first_and_a_bound_plan(rng):
    x = rng.standard_normal((3, 4, 10, 7)).astype(np.float32)
    w = rng.standard_normal((3, 3, 4, 6)).astype(np.float32)
    plan = fftconv.plan_conv2d(x.shape, w.shape, padding="SAME", data_format="NCHW", method="winograd")
    expected = ref(x, w, padding="SAME", data_format="NCHW")
    assert_close(plan(x, w), expected, np.float32)
    bound = plan.bind(w)
    assert_close(bound(x), expected, np.float32)
    assert_close(bound(x), expected, np.float32)  # the transformed filters kept and reused


def test_numpy_fallback_equals_the_compiled_transforms(monkeypatch, rng):
    """The same sums in the same order: equal to the last bit."""
    if not winograd._compiled.HAVE_NUMBA:
        pytest.skip("numba not installed or disabled: the fallback is the only path")
    x = rng.standard_normal((2, 11, 9, 5)).astype(np.float32)
    w = rng.standard_normal((3, 3, 5, 4)).astype(np.float32)
    compiled = fftconv.conv2d(x, w, padding="SAME", method="winograd")
    monkeypatch.setattr(winograd, "_transforms", lambda: (winograd._input_numpy, winograd._output_numpy))
    fallback = fftconv.conv2d(x, w, padding="SAME", method="winograd")
    np.testing.assert_array_equal(compiled, fallback)


def test_chunks_and_threads_cover_every_tile(rng):
    x = rng.standard_normal((3, 17, 15, 4))
    w = rng.standard_normal((3, 3, 4, 3))
    geom = fftconv.plan_conv2d(x.shape, w.shape, padding="SAME", method="winograd").run_geometry
    u = winograd.transform_filters(w, np.float64)
    for chunk in (1, 5, 64, 10_000):
        settings = winograd.make_settings(geom, 8, chunk)
        for workers in (1, 2):
            assert_close(winograd.execute(x, u, geom, settings, workers), ref(x, w, padding="SAME"), np.float64)


@st.composite
def cases(draw):
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    size = (draw(st.integers(1, 12)), draw(st.integers(1, 12)))
    form = draw(st.sampled_from(["SAME", "VALID", "explicit"]))
    options = {"padding": form}
    if form == "explicit":
        mode = draw(st.sampled_from(["constant", "reflect", "symmetric", "wrap", "edge"]))
        most = {"reflect": lambda n: n - 1, "symmetric": lambda n: n}.get(mode, lambda n: 3)  # what the mode allows
        options["padding"] = [(draw(st.integers(0, min(3, most(n)))), draw(st.integers(0, min(3, most(n)))))
                              for n in size]
        options["padding_mode"] = mode
        if any(n + lo + hi < k for n, (lo, hi), k in zip(size, options["padding"], kernel)):
            options = {"padding": "SAME"}  # no output otherwise
    if form == "VALID" and any(n < k for n, k in zip(size, kernel)):
        options["padding"] = "SAME"
    shape = (draw(st.integers(1, 3)), *size, draw(st.integers(1, 4)))
    return shape, (*kernel, shape[-1], draw(st.integers(1, 4))), options, draw(st.sampled_from(["float32", "float64"]))


@given(cases(), st.integers(0, 2**16))
def test_property_matches_the_reference(case, seed):
    shape, w_shape, options, dtype = case
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal(shape).astype(dtype), rng.standard_normal(w_shape).astype(dtype)
    y = fftconv.conv2d(x, w, method="winograd", **options)
    assert_close(y, ref(x, w, **options), dtype)
    assert not np.shares_memory(y, x) and y.flags.owndata


# -- the guard under ``auto`` ---------------------------------------------------------------------

def guarded_winograd(x_shape, w_shape, dtype, **options):
    """A plan that runs the Winograd method under ``auto``'s guards, whatever the planner picks."""
    plan = fftconv.plan_conv2d(x_shape, w_shape, dtype=dtype, method="winograd", **options)
    return dataclasses.replace(plan, requested="auto")


@pytest.mark.parametrize("kind", ["halves", "spikes", "zeros", "blocks", "edge"])
@pytest.mark.parametrize("contrast", [1e3, 1e8])
@pytest.mark.parametrize("channels", [1, 6])
def test_auto_keeps_every_output_within_100x_of_direct(kind, contrast, channels):
    """Bright/faint data: where the tiles' transforms would lose the faint outputs, the guard
    runs them in float64 or sums them directly (``method="winograd"`` alone would not: a
    one-channel image of sparse spikes reached 166 times the contract's scale)."""
    rng = np.random.default_rng(channels + int(np.log10(contrast)))
    x = make_data((2, 21, 18, channels), kind, contrast, rng).astype(np.float32)
    w = rng.standard_normal((3, 3, channels, 4)).astype(np.float32)
    direct = fftconv.conv2d(x, w, padding="SAME", method="direct")
    y = guarded_winograd(x.shape, w.shape, np.float32, padding="SAME")(x, w)
    assert worst_ratio(y, x, w, direct, padding="SAME") <= FACTOR


def test_auto_runs_float32_tiles_on_ordinary_data():
    """Standard normal data of a dense layer: the guard finds every tile fine in float32."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 16, 16, 16)).astype(np.float32)
    w = rng.standard_normal((3, 3, 16, 16)).astype(np.float32)
    bound = guarded_winograd(x.shape, w.shape, np.float32, padding="SAME").bind(w)
    bound(x)
    assert bound.last_run["method"] == "winograd" and bound.last_run["dtype"] == np.float32
    assert bound.last_run["worst ratio"] < 50


def test_the_guard_model_covers_adversarial_tiles():
    """A checkerboard of alternating signs (the input transform's worst growth) with filters of
    one sign: the model the guard uses (:func:`fftconv.methods.winograd.rounding`) stays above the
    error at every output."""
    rng = np.random.default_rng(3)
    chk = (np.indices((16, 16)).sum(axis=0) % 2 * 2 - 1)[None, :, :, None]
    x = (chk * (1 + 0.01 * rng.random((1, 16, 16, 2)))).astype(np.float32)
    w = np.abs(rng.standard_normal((3, 3, 2, 3))).astype(np.float32)
    y = fftconv.conv2d(x, w, padding="SAME", method="winograd")
    err = np.abs(y - ref(x, w, padding="SAME"))
    geom = fftconv.plan_conv2d(x.shape, w.shape, padding="SAME", method="winograd").run_geometry
    rounding = winograd.rounding(geom, winograd.make_settings(geom), winograd.transform_filters(w, np.float32))
    xp = np.pad(x.astype(np.float64), ((0, 0), (1, 2), (1, 2), (0, 0)))
    tiles = np.lib.stride_tricks.sliding_window_view(xp, (4, 4), axis=(1, 2))[:, ::2, ::2]
    peak, rms = np.abs(tiles).max(axis=(3, 4, 5)), np.sqrt(np.square(tiles).sum(axis=(3, 4, 5)) / 16)
    model = np.finfo(np.float32).eps * 2 * (4 * rms + 0.5 * peak)  # the guard's, sqrt(log2 16) = 2
    model = np.repeat(np.repeat(model, 2, axis=1), 2, axis=2)[:, :16, :16, None] * rounding.gains
    assert (err <= model).all()


# -- where it runs, and what it says elsewhere ----------------------------------------------------

@pytest.mark.parametrize("call, match", [
    (lambda x, w: fftconv.conv2d(x, w, strides=2, method="winograd"), r"strides of 1; got strides=\(2, 2\)"),
    (lambda x, w: fftconv.conv2d(x, w, dilations=(1, 2), method="winograd"), r"dilations of 1; got dilations=\(1, 2\)"),
    (lambda x, w: fftconv.conv2d(x, w[:, :, :2], groups=2, method="winograd"), r"groups=1; got groups=2"),
    (lambda x, w: fftconv.conv2d(x, np.ones((5, 5, 4, 2)), method="winograd"), r"at most 3x3 taps; got a kernel of 5x5"),
    (lambda x, w: fftconv.conv1d(x[:, 0], w[0], method="winograd"), r"2-D convolutions only; got a 1-D one"),
    (lambda x, w: fftconv.conv3d(x[:, None], w[None], method="winograd"), r"2-D convolutions only; got a 3-D one"),
])
def test_shapes_it_cannot_run_raise_a_clear_error(call, match):
    x, w = np.ones((1, 9, 9, 4)), np.ones((3, 3, 4, 2))
    with pytest.raises(ValueError, match=r"method='winograd' cannot run this convolution: it .*" + match):
        call(x, w)


def test_auto_prices_it_for_dense_3x3_layers_only():
    dense = fftconv.plan_conv2d((8, 56, 56, 64), (3, 3, 64, 64), padding="SAME")
    assert dense.method == "winograd" and "winograd" in repr(dense)
    strided = fftconv.plan_conv2d((8, 56, 56, 64), (3, 3, 64, 64), padding="SAME", strides=2)
    assert strided.method != "winograd" and strided.estimates["winograd"] == np.inf
    single = fftconv.plan_conv2d((1, 512, 512, 1), (3, 3, 1, 1), padding="SAME")
    assert single.method != "winograd"  # a GEMM of one channel: the compiled loops win


def test_integers_are_exact_under_auto():
    rng = np.random.default_rng(5)
    x = rng.integers(-1000, 1000, (2, 16, 16, 16))
    w = rng.integers(-1000, 1000, (3, 3, 16, 16))
    y = fftconv.conv2d(x, w, padding="SAME")
    np.testing.assert_array_equal(y, fftconv.conv2d(x, w, padding="SAME", method="direct"))
