"""tf.nn.conv semantics, for every registered method, against the naive reference.

Each test takes the ``method`` fixture, so it runs once per entry of
:data:`fftconv.METHODS`. Sizes are small on purpose: the reference is a naive
loop, and the grid is wide rather than deep.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import fftconv
from conftest import (CONV, SPATIAL_FORMATS, assert_close, depthwise_as_grouped,
                      random, ref)
from fftconv.methods import direct as direct_module
from fftconv.methods import fft as fft_module


def check(rng, method, spatial, kernel, c_in=3, c_out=2, groups=1, batch=2, dtype=np.float64,
          data_format=None, pass_groups=False, **kwargs):
    """Run conv{nd}d on random data and compare it with the reference; return the output.

    The filters have ``c_in // groups`` input channels; ``groups`` is passed on
    only with ``pass_groups`` (otherwise it is inferred, as TF does).
    """
    nd = len(spatial)
    data_format = data_format or SPATIAL_FORMATS[nd][0]
    x = random(rng, (batch, *spatial, c_in), dtype)
    if data_format.startswith("NC"):
        x = np.moveaxis(x, -1, 1).copy()
    w = random(rng, (*kernel, c_in // groups, c_out), dtype)
    if pass_groups:
        kwargs["groups"] = groups
    y = CONV[nd](x, w, data_format=data_format, method=method, **kwargs)
    kwargs.pop("groups", None)
    assert_close(y, ref(x, w, data_format=data_format, **kwargs), dtype)
    return y


# -- sizes and kernels --------------------------------------------------------------------

SIZES = {
    1: [(7,), (8,), (13,), (1,), (32,)],
    2: [(7, 7), (8, 6), (11, 13), (5, 9), (1, 4), (16, 16)],
    3: [(5, 5, 5), (4, 6, 3), (7, 2, 5)],
}
SIZE_CASES = [(nd, s) for nd, sizes in SIZES.items() for s in sizes]
SIZE_IDS = [f"{nd}d-{'x'.join(map(str, s))}" for nd, s in SIZE_CASES]


def _small_kernel(spatial):
    """An odd/even mix of small kernels that fit in ``spatial``."""
    return tuple(min(k, n) for k, n in zip((3, 2, 4), spatial))


@pytest.mark.parametrize("nd, spatial", SIZE_CASES, ids=SIZE_IDS)
@pytest.mark.parametrize("padding", ["VALID", "SAME"])
def test_sizes_with_small_kernels(rng, method, nd, spatial, padding):
    check(rng, method, spatial, _small_kernel(spatial), padding=padding)


@pytest.mark.parametrize("nd, spatial", SIZE_CASES, ids=SIZE_IDS)
def test_one_tap_kernel(rng, method, nd, spatial):
    check(rng, method, spatial, (1,) * nd, padding="SAME")


@pytest.mark.parametrize("nd, spatial", SIZE_CASES, ids=SIZE_IDS)
@pytest.mark.parametrize("padding", ["VALID", "SAME"])
def test_kernel_as_large_as_input(rng, method, nd, spatial, padding):
    y = check(rng, method, spatial, spatial, padding=padding)
    if padding == "VALID":
        assert y.shape[1:-1] == (1,) * nd  # exactly one output
    else:
        assert y.shape[1:-1] == spatial


@pytest.mark.parametrize("nd, spatial", SIZE_CASES, ids=SIZE_IDS)
@pytest.mark.parametrize("strides", [1, 2])
def test_kernel_larger_than_input_under_same(rng, method, nd, spatial, strides):
    kernel = tuple(n + extra for n, extra in zip(spatial, (2, 3, 1)))
    y = check(rng, method, spatial, kernel, padding="SAME", strides=strides)
    assert y.shape[1:-1] == tuple(-(-n // strides) for n in spatial)


@pytest.mark.parametrize("nd, spatial", [(1, (9,)), (2, (7, 9)), (3, (5, 4, 6))],
                         ids=["1d", "2d", "3d"])
@pytest.mark.parametrize("padding", ["VALID", "SAME"])
def test_large_kernel_with_many_channels(rng, method, nd, spatial, padding):
    """More channels than taps and more taps than samples: both kinds of GEMM shape."""
    kernel = tuple(n - 1 for n in spatial)
    check(rng, method, spatial, kernel, c_in=5, c_out=7, padding=padding)


# -- strides and dilations ------------------------------------------------------------------

STRIDES = [1, 2, 3, 4, (1, 3), (4, 2)]
DILATIONS = [1, 2, 3, (1, 3)]


@pytest.mark.parametrize("strides", STRIDES, ids=[f"s{s}" for s in STRIDES])
@pytest.mark.parametrize("dilations", DILATIONS, ids=[f"d{d}" for d in DILATIONS])
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_strides_and_dilations_2d(rng, method, dtype, strides, dilations, padding):
    check(rng, method, (13, 11), (3, 2), strides=strides, dilations=dilations, padding=padding,
          dtype=dtype)


@pytest.mark.parametrize("nd, spatial, kernel", [(1, (23,), (4,)), (3, (9, 8, 7), (2, 3, 2))],
                         ids=["1d", "3d"])
@pytest.mark.parametrize("strides, dilations", [(1, 2), (2, 1), (3, 2), (2, 3), (4, 1)],
                         ids=lambda v: str(v))
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_strides_and_dilations_1d_3d(rng, method, nd, spatial, kernel, strides, dilations, padding):
    check(rng, method, spatial, kernel, strides=strides, dilations=dilations, padding=padding)


@pytest.mark.parametrize("nd, spatial, kernel", [(1, (17,), (1,)), (1, (17,), (2,)),
                                                 (2, (11, 10), (1, 2)), (3, (9, 7, 8), (2, 1, 1))],
                         ids=["1d-k1", "1d-k2", "2d-k1x2", "3d-k2x1x1"])
@pytest.mark.parametrize("strides", [3, 4])
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_stride_larger_than_kernel(rng, method, nd, spatial, kernel, strides, padding):
    """Samples between windows are skipped entirely."""
    check(rng, method, spatial, kernel, strides=strides, padding=padding)


@pytest.mark.parametrize("form", ["int", "1-list", "nd-list", "tf-full", "tuple", "numpy"])
@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
def test_stride_and_dilation_forms(rng, method, form, data_format):
    """An int, or 1, 2 or 4 entries (4: in data_format order) mean the same thing."""
    s, d = 2, 2
    value_s = {"int": s, "1-list": [s], "nd-list": [s, s], "tuple": (s, s), "numpy": np.array([s, s]),
               "tf-full": [1, s, s, 1] if data_format == "NHWC" else [1, 1, s, s]}[form]
    value_d = {"int": d, "1-list": [d], "nd-list": [d, d], "tuple": (d, d), "numpy": np.array([d, d]),
               "tf-full": [1, d, d, 1] if data_format == "NHWC" else [1, 1, d, d]}[form]
    y = check(rng, method, (10, 9), (3, 2), strides=value_s, dilations=value_d, padding="SAME",
              data_format=data_format)
    assert y.shape[2 if data_format == "NCHW" else 1:][:2] == (5, 5)


def test_tf_full_strides_follow_data_format(rng, method):
    """``[1, 1, 2, 3]`` means (h, w) strides (2, 3) in NCHW but is invalid in NHWC."""
    x = random(rng, (1, 2, 9, 10))
    w = random(rng, (2, 2, 2, 3))
    y = fftconv.conv2d(x, w, strides=[1, 1, 2, 3], data_format="NCHW", method=method)
    assert_close(y, ref(x, w, strides=(2, 3), data_format="NCHW"), np.float64)
    with pytest.raises(ValueError, match="batch and channel entries"):
        fftconv.conv2d(np.moveaxis(x, 1, -1), w, strides=[1, 1, 2, 3], method=method)


# -- padding forms ----------------------------------------------------------------------

PADDINGS_2D = {
    "SAME": "SAME", "VALID": "VALID", "same-lowercase": "same", "valid-mixedcase": "Valid",
    "int0": 0, "int2": 2, "per-axis-ints": [1, 3], "short-pairs": [[1, 0], [0, 2]],
    "short-tuples": ((3, 3), (0, 1)), "numpy-pairs": np.array([[2, 1], [0, 3]]),
    "numpy-int": np.int64(1), "larger-than-input": [[9, 6], [7, 8]],
    "tf-full": "tf-full",
}


@pytest.mark.parametrize("name", list(PADDINGS_2D))
@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
@pytest.mark.parametrize("strides, dilations", [(1, 1), (2, 1), (2, 2), ((3, 1), (1, 2))],
                         ids=["plain", "strided", "strided-dilated", "mixed"])
def test_padding_forms_2d(rng, method, name, data_format, strides, dilations):
    padding = PADDINGS_2D[name]
    if isinstance(padding, str) and padding == "tf-full":
        padding = ([[0, 0], [1, 2], [3, 0], [0, 0]] if data_format == "NHWC"
                   else [[0, 0], [0, 0], [1, 2], [3, 0]])
    check(rng, method, (7, 6), (3, 2), padding=padding, data_format=data_format, strides=strides,
          dilations=dilations)


@pytest.mark.parametrize("nd", [1, 3])
@pytest.mark.parametrize("form", ["SAME", "VALID", "int", "per-axis-ints", "short-pairs",
                                  "tf-full-last", "tf-full-first"])
def test_padding_forms_1d_3d(rng, method, nd, form):
    pairs = [(2, 1), (0, 3), (1, 1)][:nd]
    channels_first = form == "tf-full-first"
    padding = {
        "SAME": "SAME", "VALID": "VALID", "int": 2, "per-axis-ints": [2, 0, 1][:nd],
        "short-pairs": [list(p) for p in pairs],
        "tf-full-last": [[0, 0], *map(list, pairs), [0, 0]],
        "tf-full-first": [[0, 0], [0, 0], *map(list, pairs)],
    }[form]
    spatial = (11, 6, 5)[:nd]
    check(rng, method, spatial, (3, 2, 2)[:nd], padding=padding, strides=2,
          data_format=SPATIAL_FORMATS[nd][channels_first])


def test_windows_entirely_in_the_padding_give_zero(method):
    x = np.ones((1, 3, 3, 1))
    w = np.ones((2, 2, 1, 1))
    y = fftconv.conv2d(x, w, padding=[[4, 0], [0, 0]], method=method)
    assert y.shape == (1, 6, 2, 1)
    expected = np.array([[0, 0], [0, 0], [0, 0], [2, 2], [4, 4], [4, 4]], float)[None, ..., None]
    assert_close(y, expected, np.float64)


# -- groups and depthwise ----------------------------------------------------------------------

@pytest.mark.parametrize("groups, c_out", [(1, 4), (2, 4), (2, 6), (3, 3), (6, 6), (6, 12)],
                         ids=lambda v: str(v))
@pytest.mark.parametrize("explicit", [False, True], ids=["inferred", "explicit"])
@pytest.mark.parametrize("strides, dilations, padding", [(1, 1, "VALID"), (2, 2, "SAME"),
                                                         ((1, 2), 1, [[1, 2], [0, 1]])],
                         ids=["plain", "strided-dilated-same", "explicit-pads"])
def test_groups_2d(rng, method, groups, c_out, explicit, strides, dilations, padding):
    check(rng, method, (9, 8), (3, 3), c_in=6, c_out=c_out, groups=groups, strides=strides,
          dilations=dilations, padding=padding, pass_groups=explicit)


@pytest.mark.parametrize("nd, spatial, kernel", [(1, (15,), (5,)), (3, (6, 5, 7), (3, 2, 2))],
                         ids=["1d", "3d"])
@pytest.mark.parametrize("groups", [2, 4])
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_groups_1d_3d(rng, method, nd, spatial, kernel, groups, padding):
    check(rng, method, spatial, kernel, c_in=4, c_out=8, groups=groups, padding=padding, strides=2)


def test_groups_keep_channels_apart(method):
    """Output group g sees only input group g."""
    x = np.zeros((1, 5, 5, 4))
    x[..., 2:] = 1.0  # only the second group has signal
    w = np.ones((3, 3, 2, 6))
    y = fftconv.conv2d(x, w, method=method)
    np.testing.assert_array_equal(y[..., :3], 0)
    np.testing.assert_allclose(y[..., 3:], 18.0, rtol=1e-12)


@pytest.mark.parametrize("multiplier", [1, 2, 3])
@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
@pytest.mark.parametrize("strides, dilations, padding", [
    (1, 1, "VALID"), (1, 1, "SAME"), (2, 1, "SAME"), ((1, 2), 1, "VALID"), (1, 2, "SAME"),
    (2, 2, "SAME"), ("tf-full", 1, [[1, 1], [2, 0]]), (3, (2, 1), "VALID"),
], ids=["plain", "same", "strided", "strided-1x2", "dilated", "strided-dilated",
        "tf-full-strides", "mixed"])
def test_depthwise(rng, method, dtype, multiplier, data_format, strides, dilations, padding):
    c = 3
    if strides == "tf-full":
        strides = [1, 2, 2, 1] if data_format == "NHWC" else [1, 1, 2, 2]
    x = random(rng, (2, 10, 9, c), dtype)
    if data_format == "NCHW":
        x = np.moveaxis(x, -1, 1).copy()
    w = random(rng, (3, 4, c, multiplier), dtype)
    y = fftconv.depthwise_conv2d(x, w, strides=strides, padding=padding, data_format=data_format,
                                 dilations=dilations, method=method)
    expected = ref(x, depthwise_as_grouped(w), strides, padding, dilations, data_format)
    assert_close(y, expected, dtype)
    assert y.shape[-1 if data_format == "NHWC" else 1] == c * multiplier


def test_depthwise_channel_order(method):
    """Output channel k * M + q comes from input channel k and filter [..., k, q]."""
    c, m = 3, 2
    x = np.ones((1, 4, 4, c)) * np.array([1.0, 10.0, 100.0])
    w = np.ones((2, 2, c, m)) * np.array([1.0, 2.0])  # filter q scales by q + 1
    y = fftconv.depthwise_conv2d(x, w, method=method)
    np.testing.assert_allclose(y[0, 0, 0], 4 * np.array([1, 2, 10, 20, 100, 200]), rtol=1e-12)


def test_depthwise_equals_grouped_conv(rng, method):
    x = random(rng, (2, 8, 9, 4))
    w = random(rng, (5, 5, 4, 2))
    a = fftconv.depthwise_conv2d(x, w, padding="SAME", strides=2, method=method)
    b = fftconv.conv2d(x, depthwise_as_grouped(w), padding="SAME", strides=2, groups=4,
                       method=method)
    assert_close(a, b, np.float64)


# -- flip ---------------------------------------------------------------------------------

@pytest.mark.parametrize("nd, spatial, kernel", [(1, (12,), (4,)), (2, (9, 8), (3, 2)),
                                                 (3, (6, 5, 7), (2, 3, 2))], ids=["1d", "2d", "3d"])
@pytest.mark.parametrize("strides, dilations, padding", [(1, 1, "VALID"), (1, 1, "SAME"),
                                                         (2, 2, "SAME"), (3, 1, 1)],
                         ids=["valid", "same", "strided-dilated-same", "stride3-pad1"])
def test_flip_is_correlation_with_reversed_kernel(rng, method, dtype, nd, spatial, kernel, strides,
                                                  dilations, padding):
    x = random(rng, (2, *spatial, 2), dtype)
    w = random(rng, (*kernel, 2, 3), dtype)
    kw = dict(strides=strides, dilations=dilations, padding=padding, method=method)
    y = CONV[nd](x, w, flip=True, **kw)
    reversed_w = w[(slice(None, None, -1),) * nd]
    assert_close(y, ref(x, reversed_w, strides, padding, dilations), dtype)
    assert_close(y, CONV[nd](x, reversed_w, **kw), dtype)


def test_flip_matches_scipy_convolve(rng, method):
    import scipy.signal
    x = random(rng, (11, 14))
    w = random(rng, (4, 5))
    y = fftconv.conv2d(x[None, ..., None], w[..., None, None], flip=True, method=method)
    assert_close(y[0, ..., 0], scipy.signal.convolve(x, w, mode="valid", method="direct"), np.float64)


def test_flip_depthwise(rng, method):
    x = random(rng, (1, 9, 9, 3))
    w = random(rng, (3, 2, 3, 2))
    y = fftconv.depthwise_conv2d(x, w, padding="SAME", flip=True, method=method)
    assert_close(y, fftconv.depthwise_conv2d(x, w[::-1, ::-1], padding="SAME", method=method),
                 np.float64)


# -- data formats ---------------------------------------------------------------------------

@pytest.mark.parametrize("nd, spatial, kernel", [(1, (13,), (3,)), (2, (9, 7), (3, 2)),
                                                 (3, (5, 6, 4), (2, 3, 2))], ids=["1d", "2d", "3d"])
@pytest.mark.parametrize("strides, dilations, padding", [(1, 1, "VALID"), (2, 2, "SAME"),
                                                         (2, 1, "pairs")],
                         ids=["valid", "strided-dilated-same", "explicit"])
def test_channels_first_is_channels_last_transposed(rng, method, nd, spatial, kernel, strides,
                                                    dilations, padding):
    last, first = SPATIAL_FORMATS[nd]
    x = random(rng, (2, *spatial, 4))
    w = random(rng, (*kernel, 2, 6))  # groups=2, to check channel order too
    pairs = [[1, 2], [0, 1], [2, 0]][:nd]
    pad_last = [[0, 0], *pairs, [0, 0]] if padding == "pairs" else padding
    pad_first = [[0, 0], [0, 0], *pairs] if padding == "pairs" else padding
    y_last = CONV[nd](x, w, strides, pad_last, last, dilations, method=method)
    y_first = CONV[nd](np.moveaxis(x, -1, 1), w, strides, pad_first, first, dilations, method=method)
    assert y_first.shape == (y_last.shape[0], y_last.shape[-1], *y_last.shape[1:-1])
    assert_close(np.moveaxis(y_first, 1, -1), y_last, np.float64)
    assert_close(y_last, ref(x, w, strides, pad_last, dilations, last), np.float64)


def test_auto_method_matches_reference(rng):
    for kernel in [(3, 3), (11, 11)]:
        x = random(rng, (2, 20, 18, 3), np.float32)
        w = random(rng, (*kernel, 3, 4), np.float32)
        y = fftconv.conv2d(x, w, padding="SAME")
        assert_close(y, ref(x, w, padding="SAME"), np.float32)


# -- dtypes ---------------------------------------------------------------------------------

@pytest.mark.parametrize("in_dtype, w_dtype, out_dtype", [
    ("float32", "float32", "float32"),
    ("float64", "float64", "float64"),
    ("float16", "float16", "float16"),
    ("float32", "float64", "float64"),
    ("float64", "float32", "float64"),
    ("float16", "float32", "float32"),
    ("float16", "float64", "float64"),
    ("int32", "int32", "float64"),
    ("int8", "int64", "float64"),
    ("uint16", "uint8", "float64"),
    ("bool", "bool", "float64"),
    ("bool", "float64", "float64"),
    ("int32", "float32", "float64"),  # integers are computed in float64
    ("float32", "int16", "float64"),
    ("int8", "float16", "float64"),
], ids=lambda v: v)
def test_dtype_rules(method, in_dtype, w_dtype, out_dtype):
    rng = np.random.default_rng(42)
    def make(shape, dt):
        if dt == "bool":
            return rng.random(shape) < 0.5
        if np.dtype(dt).kind in "iu":
            return rng.integers(0, 5, shape).astype(dt)
        return rng.standard_normal(shape).astype(dt)
    x, w = make((2, 9, 8, 3), in_dtype), make((3, 2, 3, 2), w_dtype)
    y = fftconv.conv2d(x, w, padding="SAME", strides=2, method=method)
    assert y.dtype == np.dtype(out_dtype)
    assert_close(y, ref(x, w, 2, "SAME"), out_dtype)


def test_float16_is_computed_in_float32(rng, method):
    """float16 output = the float32 computation on the same values, rounded once."""
    x = random(rng, (2, 12, 11, 3), np.float16)
    w = random(rng, (4, 3, 3, 5), np.float16)
    y = fftconv.conv2d(x, w, padding="SAME", method=method)
    y32 = fftconv.conv2d(x.astype(np.float32), w.astype(np.float32), padding="SAME", method=method)
    assert y.dtype == np.float16
    np.testing.assert_array_equal(y, y32.astype(np.float16))


def test_float32_keeps_single_precision_results(rng, method):
    """float32 results are float32 (and near the float64 ones within the spec's 1e-5)."""
    x = random(rng, (1, 30, 30, 2), np.float32)
    w = random(rng, (9, 9, 2, 3), np.float32)
    y32 = fftconv.conv2d(x, w, padding="SAME", method=method)
    y64 = fftconv.conv2d(x.astype(np.float64), w.astype(np.float64), padding="SAME", method=method)
    assert y32.dtype == np.float32 and y64.dtype == np.float64
    assert_close(y32, y64, np.float32)
    assert_close(y64, ref(x, w, padding="SAME"), np.float64)


# -- memory layouts ---------------------------------------------------------------------------

def _layouts(a):
    """The same values of ``a`` in many memory layouts (name -> array or list)."""
    big = np.zeros((a.shape[0] * 2, *a.shape[1:-1], a.shape[-1] + 1), a.dtype)
    big[::2, ..., 1:] = a
    reversed_ = np.ascontiguousarray(a[:, ::-1])[:, ::-1]
    readonly = a.copy()
    readonly.flags.writeable = False
    big_endian_f4 = a.astype(">f4")
    big_endian_f8 = a.astype(">f8")
    return {
        "non-contiguous": big[::2, ..., 1:],
        "negative-strides": reversed_,
        "fortran": np.asfortranarray(a),
        "read-only": readonly,
        "big-endian-f4": big_endian_f4,
        "big-endian-f8": big_endian_f8,
        "nested-list": a.tolist(),
        "broadcast": np.broadcast_to(a, a.shape),
        "transposed-view": np.moveaxis(np.moveaxis(a, -1, 0).copy(), 0, -1),
    }


LAYOUTS = list(_layouts(np.zeros((1, 1, 1))))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("which", ["input", "filters", "both"])
def test_memory_layouts(rng, method, layout, which):
    x = random(rng, (2, 9, 10, 3))
    w = random(rng, (3, 4, 3, 2))
    xs = _layouts(x)[layout] if which in ("input", "both") else x
    ws = _layouts(w)[layout] if which in ("filters", "both") else w
    y = fftconv.conv2d(xs, ws, strides=2, padding="SAME", dilations=(1, 2), method=method)
    out_dtype = np.result_type(np.asarray(xs).dtype.newbyteorder("="),
                               np.asarray(ws).dtype.newbyteorder("="))
    assert y.dtype == out_dtype and y.dtype.isnative
    assert_close(y, ref(np.asarray(xs), np.asarray(ws), 2, "SAME", (1, 2)), out_dtype)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_memory_layouts_1d_3d_depthwise(rng, method, layout):
    x1, w1 = random(rng, (2, 17, 3)), random(rng, (4, 3, 2))
    x3, w3 = random(rng, (1, 5, 6, 4, 2)), random(rng, (2, 3, 2, 2, 3))
    xd, wd = random(rng, (2, 7, 8, 3)), random(rng, (3, 3, 3, 2))
    for fn, x, w, expected in [
        (fftconv.conv1d, x1, w1, ref(x1, w1, 2, "SAME")),
        (fftconv.conv3d, x3, w3, ref(x3, w3, 2, "SAME")),
        (fftconv.depthwise_conv2d, xd, wd, ref(xd, depthwise_as_grouped(wd), 2, "SAME")),
    ]:
        xs, ws = _layouts(x)[layout], _layouts(w)[layout]
        y = fn(xs, ws, strides=2, padding="SAME", method=method)
        assert_close(y, expected, y.dtype)
        assert y.dtype in (np.float32, np.float64) and y.dtype.isnative


def _snapshot(a):
    flags = {name: a.flags[name] for name in ("C_CONTIGUOUS", "F_CONTIGUOUS", "OWNDATA",
                                                "WRITEABLE", "ALIGNED", "WRITEBACKIFCOPY")}
    return (a.copy(), a.dtype, a.shape, a.strides, flags)


def _assert_unchanged(a, snap):
    values, dtype, shape, strides, flags = snap
    assert a.dtype == dtype and a.shape == shape and a.strides == strides
    assert {name: a.flags[name] for name in flags} == flags
    np.testing.assert_array_equal(a, values)


@pytest.mark.parametrize("layout", ["contiguous", "fortran", "negative-strides", "read-only",
                                    "big-endian-f4", "non-contiguous"])
def test_inputs_are_never_modified(rng, method, layout):
    x = random(rng, (2, 9, 8, 4))
    w = random(rng, (3, 3, 2, 4))
    wd = random(rng, (3, 3, 4, 2))
    if layout != "contiguous":
        x, w, wd = (_layouts(a)[layout] for a in (x, w, wd))
    snaps = [_snapshot(a) for a in (x, w, wd)]
    fftconv.conv2d(x, w, padding="SAME", method=method)
    fftconv.conv2d(x, w, padding="SAME", flip=True, strides=2, dilations=2, method=method)
    fftconv.conv2d(np.moveaxis(x, -1, 1), w, padding=1, data_format="NCHW", method=method)
    fftconv.depthwise_conv2d(x, wd, padding="SAME", flip=True, method=method)
    plan = fftconv.plan_conv2d(x.shape, w.shape, padding="SAME", dtype=x.dtype, method=method)
    plan(x, w)
    plan.bind(w)(x)
    fftconv.FilterBank(w, padding="SAME", method=method)(x)
    for a, snap in zip((x, w, wd), snaps):
        _assert_unchanged(a, snap)


# -- empty inputs -----------------------------------------------------------------------------

@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("in_dtype", ["float32", "float64", "float16", "int32"])
def test_empty_batch(method, nd, padding, in_dtype):
    spatial = (7, 6, 5)[:nd]
    x = np.zeros((0, *spatial, 3), dtype=in_dtype)
    w = np.ones((*(3,) * nd, 3, 4), dtype=in_dtype)
    y = CONV[nd](x, w, padding=padding, strides=2, method=method)
    out_spatial = tuple(-(-n // 2) if padding == "SAME" else (n - 3) // 2 + 1 for n in spatial)
    assert y.shape == (0, *out_spatial, 4)
    assert y.dtype == ("float64" if in_dtype == "int32" else in_dtype)


@pytest.mark.parametrize("strides", [1, 2])
def test_empty_batch_one_channel_per_phase(method, strides):
    """Depthwise: one channel per group (and per phase with stride 1)."""
    x = np.zeros((0, 7, 6, 3), np.float32)
    y = fftconv.depthwise_conv2d(x, np.ones((3, 3, 3, 2), np.float32), strides=strides,
                                 padding="SAME", method=method)
    assert y.shape == (0, -(-7 // strides), -(-6 // strides), 6) and y.dtype == np.float32


def test_empty_batch_channels_first_and_depthwise(method):
    y = fftconv.conv2d(np.zeros((0, 3, 7, 6), np.float32), np.ones((3, 3, 3, 4), np.float32),
                       padding="SAME", data_format="NCHW", method=method)
    assert y.shape == (0, 4, 7, 6) and y.dtype == np.float32
    y = fftconv.depthwise_conv2d(np.zeros((0, 7, 6, 3)), np.ones((3, 3, 3, 2)), method=method)
    assert y.shape == (0, 5, 4, 6) and y.dtype == np.float64


@pytest.mark.parametrize("kind", ["dense", "grouped", "depthwise"])
def test_zero_output_channels(method, kind):
    x = np.ones((2, 7, 6, 3), np.float32)
    if kind == "depthwise":
        y = fftconv.depthwise_conv2d(x, np.ones((3, 3, 3, 0), np.float32), padding="SAME",
                                     method=method)
    else:
        w = np.ones((3, 3, 3 if kind == "dense" else 1, 0), np.float32)
        y = fftconv.conv2d(x, w, padding="SAME", method=method)
    assert y.shape == (2, 7, 6, 0) and y.dtype == np.float32


@pytest.mark.parametrize("strides", [1, 2])
def test_same_padding_on_empty_spatial_axis(method, strides):
    """SAME gives ceil(n / s) outputs: none for an empty axis, as in TensorFlow."""
    y = fftconv.conv2d(np.zeros((1, 0, 6, 2), np.float32), np.ones((3, 3, 2, 4), np.float32),
                       strides=strides, padding="SAME", method=method)
    assert y.shape == (1, 0, -(-6 // strides), 4) and y.dtype == np.float32


# -- direct strategies, chunking, plans -------------------------------------------------------

def _with_settings(plan, name, value):
    return dataclasses.replace(plan, settings={**plan.settings, name: value})


@pytest.mark.parametrize("strategy, groups, strides, dilations", [
    ("shifted", 1, 1, 1), ("shifted", 1, 1, (2, 3)),
    ("im2col", 1, 1, 1), ("im2col", 2, (2, 3), 2), ("im2col", 4, 3, 1),
    ("taps", 4, 1, 1), ("taps", 4, 2, 2),
], ids=lambda v: str(v))
def test_every_direct_strategy(rng, strategy, groups, strides, dilations):
    assert strategy in direct_module.STRATEGIES
    x = random(rng, (2, 11, 9, 4))
    w = random(rng, (3, 4, 4 // groups, 8))
    plan = fftconv.plan_conv2d(x.shape, w.shape, strides, "SAME", dilations=dilations,
                               dtype=np.float64, method="direct")
    plan = _with_settings(plan, "direct", fftconv.METHODS["direct"].settings(plan.geometry,
                                                                           {"strategy": strategy}))
    assert_close(plan(x, w), ref(x, w, strides, "SAME", dilations), np.float64)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_chunked_execution(rng, method, monkeypatch, nd):
    """Tiny chunk budgets cut the work into many (batch, row) chunks; same answer."""
    monkeypatch.setattr(direct_module, "CHUNK_BYTES", 256)
    monkeypatch.setattr(fft_module, "CHUNK_BYTES", 256)
    spatial, kernel = {1: ((40,), (5,)), 2: ((14, 12), (3, 4)), 3: ((7, 6, 8), (2, 3, 3))}[nd]
    for groups, strides in [(1, 1), (1, 2), (3, 1)]:
        check(rng, method, spatial, kernel, c_in=3, c_out=3, groups=groups, batch=3,
              strides=strides, padding="SAME")


def test_plan_and_filter_bank_match_one_shot(rng, method):
    x1, x2 = random(rng, (2, 12, 10, 3), np.float32), random(rng, (2, 12, 10, 3), np.float32)
    w = random(rng, (5, 4, 3, 6), np.float32)
    kw = dict(strides=2, padding="SAME", dilations=(1, 2))
    plan = fftconv.plan_conv2d(x1.shape, w.shape, method=method, **kw)
    assert plan.method == method and plan.output_shape == (2, 6, 5, 6)
    bound = plan.bind(w)
    bank = fftconv.FilterBank(w, method=method, **kw)
    for x in (x1, x2, x1):
        expected = ref(x, w, **kw)
        for y in (plan(x, w), bound(x), bank(x), fftconv.conv2d(x, w, method=method, **kw)):
            assert_close(y, expected, np.float32)


def test_filter_bank_ignores_later_changes_to_filters(rng, method):
    x = random(rng, (1, 8, 8, 2))
    w = random(rng, (3, 3, 2, 2))
    bank = fftconv.FilterBank(w, method=method)
    expected = ref(x, w)
    w[...] = 0
    assert_close(bank(x), expected, np.float64)


@pytest.mark.parametrize("workers", [1, 2, -1, None])
def test_workers_do_not_change_the_answer(rng, method, workers):
    x = random(rng, (2, 16, 15, 2), np.float32)
    w = random(rng, (7, 6, 2, 3), np.float32)
    y = fftconv.conv2d(x, w, padding="SAME", method=method, workers=workers)
    assert_close(y, ref(x, w, padding="SAME"), np.float32)
