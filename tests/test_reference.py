"""The naive reference itself, against hand-computed outputs and scipy.signal.

Every other test trusts :func:`fftconv.testing.reference_conv`; here it earns
that trust on its own, without fftconv's methods.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.signal

from fftconv.testing import reference_conv, relative_error


def _1d(values):
    return np.asarray(values, dtype=float).reshape(1, -1, 1)


def _k1d(values):
    return np.asarray(values, dtype=float).reshape(-1, 1, 1)


# -- hand-computed ----------------------------------------------------------------------

HAND_1D = [
    # (x, w, kwargs, expected)
    ([0, 1, 2, 3, 4], [1, 1], {}, [1, 3, 5, 7]),
    ([1, 2, 3, 4, 5], [1, 0, -1], {}, [-2, -2, -2]),                    # correlation, no flip
    ([1, 2, 3, 4, 5], [1, 0, -1], {"flip": True}, [2, 2, 2]),          # true convolution
    ([1, 2, 3, 4, 5], [1, 2, 3], {"padding": "SAME"}, [8, 14, 20, 26, 14]),
    ([1, 2, 3, 4], [1, 10], {"padding": "SAME"}, [21, 32, 43, 4]),     # odd pad at the end
    ([1, 2, 3, 4, 5, 6, 7], [1, 1], {"strides": 3}, [3, 9]),
    ([1, 2, 3, 4, 5, 6, 7], [1, 1], {"dilations": 3}, [5, 7, 9, 11]),
    ([1, 2, 3, 4, 5, 6, 7], [1, 1], {"strides": 2, "dilations": 3}, [5, 9]),
    ([1, 2, 3], [1, 1], {"padding": [(2, 1)]}, [0, 1, 3, 5, 3]),
    ([1, 2, 3, 4, 5], [1, 1, 1], {"padding": "SAME", "strides": 2}, [3, 9, 9]),
    ([1, 2, 3, 4, 5, 6], [1, 1, 1], {"padding": "SAME", "strides": 2}, [6, 12, 11]),
    ([1, 2], [1, 2, 3, 4, 5], {"padding": "SAME"}, [11, 8]),          # kernel larger than input
    ([5, 7, 11], [1, 2, 3], {}, [52]),                                   # kernel as large: 1 output
]


@pytest.mark.parametrize("x, w, kwargs, expected", HAND_1D,
                         ids=[f"case{i}-" + ("-".join(f"{k}={v}" for k, v in c[2].items()) or "plain")
                              for i, c in enumerate(HAND_1D)])
def test_1d_by_hand(x, w, kwargs, expected):
    y = reference_conv(_1d(x), _k1d(w), **kwargs)
    np.testing.assert_array_equal(y[0, :, 0], expected)
    assert y.dtype == np.float64


def test_2d_same_by_hand():
    y = reference_conv(np.ones((1, 5, 5, 1)), np.ones((3, 3, 1, 1)), padding="SAME")
    expected = np.array([[4, 6, 6, 6, 4]] + [[6, 9, 9, 9, 6]] * 3 + [[4, 6, 6, 6, 4]])
    np.testing.assert_array_equal(y[0, :, :, 0], expected)


def test_2d_channels_and_groups_by_hand():
    x = np.zeros((1, 1, 1, 4))
    x[0, 0, 0] = [1, 2, 3, 4]
    # dense: every output channel sums every input channel
    w = np.arange(8.0).reshape(1, 1, 4, 2)
    np.testing.assert_array_equal(reference_conv(x, w)[0, 0, 0], [1 * 0 + 2 * 2 + 3 * 4 + 4 * 6,
                                                                  1 * 1 + 2 * 3 + 3 * 5 + 4 * 7])
    # 2 groups of 2 channels, 1 output channel each
    w = np.array([[1.0], [10.0], [100.0], [1000.0]]).reshape(1, 1, 2, 2)
    # w[0, 0] = [[1, 10], [100, 1000]]: input channel j of the group, output channel o
    np.testing.assert_array_equal(reference_conv(x, w)[0, 0, 0], [1 * 1 + 2 * 100, 3 * 10 + 4 * 1000])
    # depthwise-like: 4 groups, 2 outputs each; output k * 2 + q comes from input k
    w = np.array([1.0, 2.0] * 4).reshape(1, 1, 1, 8)
    np.testing.assert_array_equal(reference_conv(x, w)[0, 0, 0], [1, 2, 2, 4, 3, 6, 4, 8])


def test_2d_stride_dilation_by_hand():
    x = np.arange(36.0).reshape(1, 6, 6, 1)
    w = np.zeros((2, 2, 1, 1))
    w[0, 0] = 1
    w[1, 1] = 10  # with dilation 2, reads x[i + 2, j + 2]
    y = reference_conv(x, w, strides=(3, 2), dilations=2)[0, :, :, 0]
    expected = [[x[0, i, j, 0] + 10 * x[0, i + 2, j + 2, 0] for j in (0, 2)] for i in (0, 3)]
    np.testing.assert_array_equal(y, expected)


# -- against scipy.signal, single channel ----------------------------------------------

SHAPES = [
    ((17,), (5,)), ((16,), (16,)), ((13,), (2,)),
    ((7, 9), (3, 4)), ((8, 8), (8, 8)), ((11, 6), (1, 5)),
    ((5, 6, 7), (2, 3, 4)), ((4, 4, 4), (4, 1, 2)),
]
SHAPE_IDS = [f"{'x'.join(map(str, a))}-k{'x'.join(map(str, b))}" for a, b in SHAPES]


@pytest.mark.parametrize("shape, kernel", SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("flip", [False, True], ids=["correlate", "convolve"])
def test_valid_matches_scipy(shape, kernel, flip):
    rng = np.random.default_rng(len(shape) * 100 + sum(kernel))
    x, w = rng.standard_normal(shape), rng.standard_normal(kernel)
    y = reference_conv(x[None, ..., None], w[..., None, None], flip=flip)[0, ..., 0]
    expected = (scipy.signal.convolve if flip else scipy.signal.correlate)(x, w, mode="valid",
                                                                           method="direct")
    assert relative_error(y, expected) <= 1e-13


@pytest.mark.parametrize("shape, kernel", SHAPES, ids=SHAPE_IDS)
def test_same_matches_scipy_on_tf_padded_input(shape, kernel):
    """SAME = scipy's valid correlation of the input padded with TF's split."""
    rng = np.random.default_rng(len(shape) * 10 + sum(kernel))
    x, w = rng.standard_normal(shape), rng.standard_normal(kernel)
    y = reference_conv(x[None, ..., None], w[..., None, None], padding="SAME")[0, ..., 0]
    pads = [((k - 1) // 2, k // 2) for k in kernel]  # stride 1: total k - 1, odd one at the end
    expected = scipy.signal.correlate(np.pad(x, pads), w, mode="valid", method="direct")
    assert y.shape == x.shape
    assert relative_error(y, expected) <= 1e-13


def test_same_odd_kernel_matches_scipy_same():
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((9, 12)), rng.standard_normal((5, 3))
    y = reference_conv(x[None, ..., None], w[..., None, None], padding="SAME")[0, ..., 0]
    assert relative_error(y, scipy.signal.correlate(x, w, mode="same", method="direct")) <= 1e-13


@pytest.mark.parametrize("strides, dilations", [((2, 3), (1, 1)), ((1, 1), (2, 3)), ((3, 2), (2, 2))],
                         ids=["strides", "dilations", "both"])
def test_strides_and_dilations_match_scipy(strides, dilations):
    """Stride = every s-th output; dilation = a zero-inserted kernel."""
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((14, 13)), rng.standard_normal((3, 2))
    y = reference_conv(x[None, ..., None], w[..., None, None], strides=strides,
                       dilations=dilations)[0, ..., 0]
    dilated = np.zeros([(k - 1) * d + 1 for k, d in zip(w.shape, dilations)])
    dilated[::dilations[0], ::dilations[1]] = w
    full = scipy.signal.correlate(x, dilated, mode="valid", method="direct")
    assert relative_error(y, full[::strides[0], ::strides[1]]) <= 1e-13


def test_multichannel_is_a_sum_of_single_channel_correlations():
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal((2, 8, 7, 3)), rng.standard_normal((3, 2, 3, 4))
    y = reference_conv(x, w)
    for n, o in itertools.product(range(2), range(4)):
        expected = sum(scipy.signal.correlate(x[n, :, :, c], w[:, :, c, o], mode="valid")
                       for c in range(3))
        assert relative_error(y[n, :, :, o], expected) <= 1e-13


def test_reference_handles_empty_batch():
    y = reference_conv(np.zeros((0, 5, 5, 2)), np.ones((3, 3, 2, 4)), padding="SAME")
    assert y.shape == (0, 5, 5, 4)
