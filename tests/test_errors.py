"""Every bad input, with the exception type and message it must raise.

The table :data:`BAD_INPUTS` is the single list: each row is an id, a
callable that makes the bad call, the exception type and a regular expression
that the message must match (it names the argument, the bad value and, where
it fits, what is accepted). The same table is run again with every method's
``prepare``/``execute`` and the FFT backend replaced by functions that fail
the test, which shows that the errors come before any heavy work.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import fftconv
from fftconv import backends

X = np.ones((1, 6, 6, 4), np.float32)            # NHWC, 4 channels
X_NCHW = np.ones((1, 4, 6, 6), np.float32)
W = np.ones((3, 3, 4, 2), np.float32)            # HWIO
W_G2 = np.ones((3, 3, 2, 2), np.float32)         # groups=2 for X
WD = np.ones((3, 3, 4, 2), np.float32)           # depthwise (kh, kw, C, M)
X1, W1 = np.ones((1, 9, 2)), np.ones((3, 2, 2))
X3, W3 = np.ones((1, 4, 4, 4, 2)), np.ones((2, 2, 2, 2, 2))

conv2d, conv1d, conv3d = fftconv.conv2d, fftconv.conv1d, fftconv.conv3d
depthwise = fftconv.depthwise_conv2d
sconv, scorr = fftconv.convolve, fftconv.correlate  # scipy.signal's entry points

PADDING_ACCEPTED = r"`padding` must be 'SAME', 'VALID', an int, 2 \(before, after\) pairs, 2 ints, or " \
                   r"TensorFlow's 4 pairs in data_format order"
STRIDES_ACCEPTED = r"`strides` must be an int or a sequence of 1, 2 or 4 positive ints"
DILATIONS_ACCEPTED = r"`dilations` must be an int or a sequence of 1, 2 or 4 positive ints"
NUMBERS = r"must hold numbers \(float16, float32, float64, complex64, complex128, integer or bool\)"
REAL_DTYPES = r"must hold real numbers \(float16, float32, float64, integer or bool\)"
M = re.escape
#: ``method=``'s accepted names as its error lists them: "auto", then the registry's.
METHOD_CHOICES = ", ".join(repr(name) for name in ("auto", *fftconv.METHODS))
MODES_ACCEPTED = M("`padding_mode` must be one of 'constant', 'reflect', 'symmetric', 'wrap', 'edge', "
                   "'zeros', 'circular', 'replicate'")


def _plan(**kw):
    return fftconv.plan_conv2d(X.shape, W.shape, **kw)


#: A plan with its filters already prepared (a valid step, done before any bad call).
BOUND = fftconv.plan_conv2d(X.shape, W.shape, method="fft").bind(W)
#: A plan for real inputs with complex filters, bound.
BOUND_REAL_INPUT = fftconv.FilterBank(W.astype(np.complex64)).plan_for(X.shape, np.float32).bind(
    W.astype(np.complex64))


BAD_INPUTS = [
    # -- ndim ----------------------------------------------------------------------------
    ("input-3d", lambda: conv2d(X[0], W), ValueError,
     M("`input` must be 4-D NHWC (batch, h, w, channels); got ndim=3 with shape (6, 6, 4)")),
    ("input-5d", lambda: conv2d(X[None], W), ValueError, r"`input` must be 4-D NHWC .* got ndim=5"),
    ("input-scalar", lambda: conv2d(1.0, W), ValueError,
     r"`input` must be 4-D .* got ndim=0 with shape \(\)"),
    ("input-3d-nchw", lambda: conv2d(X[0], W, data_format="NCHW"), ValueError,
     M("`input` must be 4-D NCHW (batch, channels, h, w); got ndim=3")),
    ("filters-3d", lambda: conv2d(X, W[0]), ValueError,
     M("`filters` must be 4-D (kh, kw, C_in, C_out); got ndim=3 with shape (3, 4, 2)")),
    ("filters-5d", lambda: conv2d(X, W[None]), ValueError, r"`filters` must be 4-D .* got ndim=5"),
    ("conv1d-input-4d", lambda: conv1d(X, W1), ValueError,
     M("`input` must be 3-D NWC (batch, w, channels); got ndim=4")),
    ("conv1d-filters-4d", lambda: conv1d(X1, W), ValueError,
     M("`filters` must be 3-D (kw, C_in, C_out); got ndim=4")),
    ("conv3d-input-4d", lambda: conv3d(X, W3), ValueError,
     M("`input` must be 5-D NDHWC (batch, d, h, w, channels); got ndim=4")),
    ("conv3d-filters-4d", lambda: conv3d(X3, W), ValueError,
     M("`filters` must be 5-D (kd, kh, kw, C_in, C_out); got ndim=4")),
    # -- channels and groups -------------------------------------------------------------
    ("channel-mismatch", lambda: conv2d(X, np.ones((3, 3, 3, 2))), ValueError,
     M("`input` has 4 channels, which is not a multiple of the 3 input channels of `filters`")),
    ("channel-mismatch-nchw", lambda: conv2d(X_NCHW, np.ones((3, 3, 6, 2)), data_format="NCHW"),
     ValueError, r"`input` has 4 channels, which is not a multiple of the 6 input channels"),
    ("channel-mismatch-1d", lambda: conv1d(X1, np.ones((3, 3, 2))), ValueError,
     r"`input` has 2 channels, which is not a multiple of the 3"),
    ("groups-wrong", lambda: conv2d(X, W_G2, groups=3), ValueError,
     M("`groups` must satisfy groups * filters.shape[-2] == C_in (2 * groups == 4); got groups=3")),
    ("groups-1-for-grouped-filters", lambda: conv2d(X, W_G2, groups=1), ValueError,
     r"`groups` must satisfy .* got groups=1"),
    ("groups-zero", lambda: conv2d(X, W_G2, groups=0), ValueError, r"`groups` must satisfy .* got groups=0"),
    ("groups-negative", lambda: conv2d(X, W_G2, groups=-2), ValueError, r"got groups=-2"),
    ("groups-float", lambda: conv2d(X, W_G2, groups=2.0), TypeError,
     M("`groups` must hold ints or None; got float 2.0")),
    ("groups-bool", lambda: conv2d(X, W, groups=True), TypeError,
     r"`groups` must hold ints or None; got bool True"),
    ("groups-str", lambda: conv2d(X, W_G2, groups="2"), TypeError, r"`groups` .* got str '2'"),
    ("c-out-not-divisible", lambda: conv2d(X, np.ones((3, 3, 2, 3))), ValueError,
     M("`filters` has 3 output channels, which is not a multiple of groups=2")),
    ("c-out-not-divisible-explicit", lambda: conv2d(X, np.ones((3, 3, 1, 6)), groups=4), ValueError,
     M("`filters` has 6 output channels, which is not a multiple of groups=4")),
    ("filters-no-input-channels", lambda: conv2d(X, np.ones((3, 3, 0, 2))), ValueError,
     M("`filters` must have at least one input channel; got C_in / groups = 0")),
    ("input-no-channels", lambda: conv2d(np.ones((1, 6, 6, 0)), np.ones((3, 3, 1, 2))), ValueError,
     M("`input` has 0 channels (shape (1, 6, 6, 0)); a convolution needs at least one input channel")),
    ("input-and-filters-no-channels", lambda: conv2d(np.ones((1, 6, 6, 0)), np.ones((3, 3, 0, 2))),
     ValueError, M("`input` has 0 channels")),
    ("kernel-size-zero", lambda: conv2d(X, np.ones((0, 3, 4, 2))), ValueError,
     M("`filters` must have spatial sizes of at least 1; got shape (0, 3, 4, 2)")),
    # -- kernel larger than the padded input ---------------------------------------------------
    ("kernel-too-large-valid", lambda: conv2d(X, np.ones((7, 3, 4, 2))), ValueError,
     M("the dilated kernel (7, 3) of `filters` is larger than the padded `input` (6, 6)")),
    ("dilated-kernel-too-large", lambda: conv2d(X, W, dilations=3), ValueError,
     M("the dilated kernel (7, 7) of `filters` is larger than the padded `input` (6, 6)")),
    ("kernel-too-large-explicit", lambda: conv2d(X, np.ones((9, 3, 4, 2)), padding=1), ValueError,
     M("the dilated kernel (9, 3) of `filters` is larger than the padded `input` (8, 8)")),
    ("kernel-too-large-pairs", lambda: conv2d(X, np.ones((3, 8, 4, 2)), padding=[[0, 0], [1, 0]]),
     ValueError, r"dilated kernel \(3, 8\) .* padded `input` \(6, 7\)"),
    ("kernel-too-large-1d", lambda: conv1d(X1, np.ones((10, 2, 2))), ValueError,
     r"dilated kernel \(10,\) .* padded `input` \(9,\)"),
    ("kernel-too-large-3d", lambda: conv3d(X3, W3, dilations=(1, 4, 1)), ValueError,
     r"dilated kernel \(2, 5, 2\) .* padded `input` \(4, 4, 4\)"),
    ("kernel-too-large-depthwise", lambda: depthwise(X, np.ones((3, 7, 4, 1))), ValueError,
     r"dilated kernel \(3, 7\) of `filter` is larger than the padded `input`"),
    ("empty-axis-valid", lambda: conv2d(np.ones((1, 0, 6, 4)), W), ValueError,
     r"dilated kernel \(3, 3\) .* padded `input` \(0, 6\)"),
    # -- strides and dilations -----------------------------------------------------------------
    ("strides-zero", lambda: conv2d(X, W, strides=0), ValueError, STRIDES_ACCEPTED + "; got 0"),
    ("strides-negative", lambda: conv2d(X, W, strides=-1), ValueError, STRIDES_ACCEPTED + "; got -1"),
    ("strides-zero-in-list", lambda: conv2d(X, W, strides=[1, 0]), ValueError,
     STRIDES_ACCEPTED + M("; got [1, 0]")),
    ("strides-length-3", lambda: conv2d(X, W, strides=[1, 1, 1]), ValueError,
     STRIDES_ACCEPTED + M("; got 3 values: [1, 1, 1]")),
    ("strides-length-5", lambda: conv2d(X, W, strides=[1, 1, 1, 1, 1]), ValueError, r"got 5 values"),
    ("strides-empty", lambda: conv2d(X, W, strides=[]), ValueError, r"got 0 values: \[\]"),
    ("strides-tf-batch", lambda: conv2d(X, W, strides=[2, 1, 1, 1]), ValueError,
     M("`strides` in the 4-element form must be 1 in the batch and channel entries; got [2, 1, 1, 1]")),
    ("strides-tf-channel", lambda: conv2d(X, W, strides=[1, 1, 1, 2]), ValueError,
     r"must be 1 in the batch and channel entries; got \[1, 1, 1, 2\]"),
    ("strides-tf-channel-nchw", lambda: conv2d(X_NCHW, W, strides=[1, 2, 1, 1], data_format="NCHW"),
     ValueError, r"must be 1 in the batch and channel entries; got \[1, 2, 1, 1\]"),
    ("strides-tf-1d", lambda: conv1d(X1, W1, strides=[1, 2, 2]), ValueError,
     r"`strides` in the 3-element form must be 1 in the batch and channel entries"),
    ("strides-float", lambda: conv2d(X, W, strides=1.5), TypeError, STRIDES_ACCEPTED + "; got float 1.5"),
    ("strides-integral-float", lambda: conv2d(X, W, strides=2.0), TypeError, r"`strides` .* got float 2.0"),
    ("strides-float-in-list", lambda: conv2d(X, W, strides=[1.0, 2]), TypeError,
     M("`strides` must hold ints; got float 1.0")),
    ("strides-string", lambda: conv2d(X, W, strides="1"), TypeError, STRIDES_ACCEPTED + "; got str '1'"),
    ("strides-bool", lambda: conv2d(X, W, strides=True), TypeError,
     r"`strides` must hold ints; got bool True"),
    ("strides-bool-in-list", lambda: conv2d(X, W, strides=[1, False]), TypeError, r"got bool False"),
    ("strides-none", lambda: conv2d(X, W, strides=None), TypeError, r"`strides` .* got NoneType None"),
    ("strides-dict", lambda: conv2d(X, W, strides={1: 2}), TypeError, r"`strides` .* got dict \{1: 2\}"),
    ("strides-set", lambda: conv2d(X, W, strides={2}), TypeError, r"`strides` .* got set \{2\}"),
    ("strides-nested", lambda: conv2d(X, W, strides=[[1], [2]]), TypeError,
     r"`strides` must hold ints; got list"),
    ("dilations-zero", lambda: conv2d(X, W, dilations=0), ValueError, DILATIONS_ACCEPTED + "; got 0"),
    ("dilations-negative", lambda: conv2d(X, W, dilations=[1, -2]), ValueError,
     DILATIONS_ACCEPTED + M("; got [1, -2]")),
    ("dilations-length-3", lambda: conv2d(X, W, dilations=(1, 1, 1)), ValueError,
     M("; got 3 values: (1, 1, 1)")),
    ("dilations-tf-batch", lambda: conv2d(X, W, dilations=[2, 1, 1, 1]), ValueError,
     r"`dilations` in the 4-element form must be 1 in the batch and channel entries"),
    ("dilations-tf-channel", lambda: conv2d(X, W, dilations=[1, 1, 1, 3]), ValueError,
     r"`dilations` in the 4-element form must be 1"),
    ("dilations-float", lambda: conv2d(X, W, dilations=0.5), TypeError, r"`dilations` .* got float 0.5"),
    ("dilations-bool", lambda: conv2d(X, W, dilations=[True, 1]), TypeError,
     r"`dilations` must hold ints; got bool"),
    ("dilations-string", lambda: conv2d(X, W, dilations="2"), TypeError, r"`dilations` .* got str '2'"),
    # -- padding ---------------------------------------------------------------------------
    ("padding-unknown", lambda: conv2d(X, W, padding="FULL"), ValueError, PADDING_ACCEPTED + "; got 'FULL'"),
    ("padding-empty-string", lambda: conv2d(X, W, padding=""), ValueError, PADDING_ACCEPTED + "; got ''"),
    ("padding-ragged", lambda: conv2d(X, W, padding=[[1, 2], [1]]), ValueError,
     PADDING_ACCEPTED + M("; got ragged or malformed [[1, 2], [1]]")),
    ("padding-triples", lambda: conv2d(X, W, padding=[[1, 1, 1], [1, 1, 1]]), ValueError,
     r"ragged or malformed"),
    ("padding-int-and-pair", lambda: conv2d(X, W, padding=[1, [1, 1]]), ValueError, r"ragged or malformed"),
    ("padding-one-int-in-list", lambda: conv2d(X, W, padding=[1]), ValueError, r"ragged or malformed \[1\]"),
    ("padding-three-pairs", lambda: conv2d(X, W, padding=[[1, 1]] * 3), ValueError,
     PADDING_ACCEPTED + r"; got 3 entries"),
    ("padding-empty-list", lambda: conv2d(X, W, padding=[]), ValueError, r"got 0 entries: \[\]"),
    ("padding-negative-pair", lambda: conv2d(X, W, padding=[[1, -1], [0, 0]]), ValueError,
     M("`padding` must not be negative; got [[1, -1], [0, 0]]")),
    ("padding-negative-int", lambda: conv2d(X, W, padding=-1), ValueError,
     r"`padding` must not be negative; got -1"),
    ("padding-negative-axis-int", lambda: conv2d(X, W, padding=[1, -2]), ValueError,
     r"`padding` must not be negative; got \[1, -2\]"),
    ("padding-negative-tf", lambda: conv2d(X, W, padding=[[0, 0], [-1, 0], [0, 0], [0, 0]]), ValueError,
     r"must not be negative"),
    ("padding-tf-batch", lambda: conv2d(X, W, padding=[[1, 0], [1, 1], [1, 1], [0, 0]]), ValueError,
     M("`padding` in the 4-pair form must be [0, 0] for the batch and channel axes; got [[1, 0],")),
    ("padding-tf-channel", lambda: conv2d(X, W, padding=[[0, 0], [1, 1], [1, 1], [0, 2]]), ValueError,
     r"`padding` in the 4-pair form must be \[0, 0\] for the batch and channel axes"),
    ("padding-tf-nhwc-order-with-nchw",
     lambda: conv2d(X_NCHW, W, padding=[[0, 0], [1, 1], [1, 1], [0, 0]], data_format="NCHW"),
     ValueError, r"must be \[0, 0\] for the batch and channel axes"),
    ("padding-tf-1d-channel", lambda: conv1d(X1, W1, padding=[[0, 0], [1, 1], [1, 0]]), ValueError,
     r"`padding` in the 3-pair form must be \[0, 0\]"),
    ("padding-float", lambda: conv2d(X, W, padding=1.5), TypeError, PADDING_ACCEPTED + "; got float 1.5"),
    ("padding-float-in-pair", lambda: conv2d(X, W, padding=[[1.0, 1], [1, 1]]), TypeError,
     M("`padding` must hold ints; got float 1.0")),
    ("padding-none", lambda: conv2d(X, W, padding=None), TypeError, r"`padding` .* got NoneType None"),
    ("padding-bool", lambda: conv2d(X, W, padding=True), TypeError, r"`padding` .* got bool True"),
    ("padding-bool-pairs", lambda: conv2d(X, W, padding=[True, False]), TypeError,
     r"`padding` must hold ints; got bool True"),
    ("padding-bytes", lambda: conv2d(X, W, padding=b"SAME"), TypeError, r"`padding` .* got bytes b'SAME'"),
    ("padding-dict", lambda: conv2d(X, W, padding={"h": 1, "w": 1}), TypeError, r"`padding` .* got dict"),
    ("padding-strings-in-pairs", lambda: conv2d(X, W, padding=["ab", "cd"]), TypeError,
     r"`padding` must hold ints; got str"),
    # -- method, data_format -------------------------------------------------------------------
    ("method-unknown", lambda: conv2d(X, W, method="fast"), ValueError,
     M(f"`method` must be one of {METHOD_CHOICES}; got 'fast'")),
    ("method-wrong-case", lambda: conv2d(X, W, method="FFT"), ValueError,
     r"`method` must be one of .* got 'FFT'"),
    ("method-none", lambda: conv2d(X, W, method=None), ValueError, r"`method` must be one of .* got None"),
    ("method-depthwise", lambda: depthwise(X, WD, method="gemm"), ValueError, r"`method` .* got 'gemm'"),
    ("data-format-unknown", lambda: conv2d(X, W, data_format="NHCW"), ValueError,
     M("`data_format` must be 'NHWC' or 'NCHW' for a 2-D convolution; got 'NHCW'")),
    ("data-format-lowercase", lambda: conv2d(X, W, data_format="nhwc"), ValueError, r"got 'nhwc'"),
    ("data-format-none", lambda: conv2d(X, W, data_format=None), ValueError, r"`data_format` .* got None"),
    ("data-format-1d-for-2d", lambda: conv2d(X, W, data_format="NWC"), ValueError,
     r"`data_format` must be 'NHWC' or 'NCHW' for a 2-D convolution; got 'NWC'"),
    ("data-format-2d-for-1d", lambda: conv1d(X1, W1, data_format="NHWC"), ValueError,
     M("`data_format` must be 'NWC' or 'NCW' for a 1-D convolution; got 'NHWC'")),
    ("data-format-2d-for-3d", lambda: conv3d(X3, W3, data_format="NCHW"), ValueError,
     M("`data_format` must be 'NDHWC' or 'NCDHW' for a 3-D convolution")),
    ("data-format-depthwise", lambda: depthwise(X, WD, data_format="NCWH"), ValueError,
     r"`data_format` .* got 'NCWH'"),
    # -- dtypes ----------------------------------------------------------------------------
    ("input-clongdouble", lambda: conv2d(X.astype(np.clongdouble), W), TypeError,
     "`input` " + NUMBERS + "; got dtype complex(256|192|128)"),
    ("filters-clongdouble", lambda: conv2d(X, W.astype(np.clongdouble)), TypeError,
     "`filters` " + NUMBERS + "; got dtype complex(256|192|128)"),
    ("input-object", lambda: conv2d(X.astype(object), W), TypeError,
     "`input` " + NUMBERS + "; got dtype object"),
    ("input-none", lambda: conv2d(None, W), TypeError, r"`input` .* got dtype object"),
    ("input-strings", lambda: conv2d(X.astype(str), W), TypeError, r"`input` .* got dtype <U"),
    ("input-bytes", lambda: conv2d(X.astype("S3"), W), TypeError, r"`input` .* got dtype \|S3"),
    ("input-string-list", lambda: conv2d([[[["a"]]]], W), TypeError, r"`input` .* got dtype <U1"),
    ("filters-datetime", lambda: conv2d(X, W.astype("datetime64[s]")), TypeError, r"`filters` .* datetime64"),
    ("filters-timedelta", lambda: conv2d(X, W.astype("timedelta64[s]")), TypeError,
     r"`filters` .* timedelta64"),
    ("input-structured", lambda: conv2d(np.zeros((1, 6, 6, 4), [("a", "f4")]), W), TypeError,
     r"`input` .* got dtype \[\('a', '<f4'\)\]"),
    ("input-longdouble", lambda: conv2d(X.astype(np.longdouble), W), TypeError,
     r"`input` .* got dtype float(128|96|64)"),
    ("input-ragged-list", lambda: conv2d([[[[1.0]], [[1.0, 2.0]]]], W), ValueError,
     r"`input` must be an array or a nested sequence of numbers with a regular shape"),
    ("filters-ragged-list", lambda: conv2d(X, [[[[1.0]]], [[[1.0], [2.0]]]]), ValueError,
     r"`filters` must be an array or a nested sequence of numbers with a regular shape"),
    ("depthwise-object", lambda: depthwise(X, WD.astype(object)), TypeError, r"`filter` " + NUMBERS),
    ("conv1d-strings", lambda: conv1d(X1.astype(str), W1), TypeError, r"`input` " + NUMBERS),
    ("conv3d-object", lambda: conv3d(X3, W3.astype(object)), TypeError, r"`filters` " + NUMBERS),
    # -- workers, flip ------------------------------------------------------------------------
    ("workers-zero", lambda: conv2d(X, W, workers=0), ValueError,
     r"`workers` must be a positive int, or a negative int from -1 to -\d+ .*; got 0"),
    ("workers-too-negative", lambda: conv2d(X, W, workers=-10_000), ValueError, r"`workers` .* got -10000"),
    ("workers-float", lambda: conv2d(X, W, workers=1.5), TypeError,
     M("`workers` must be an int or None; got float 1.5")),
    ("workers-string", lambda: conv2d(X, W, workers="2"), TypeError, r"`workers` .* got str '2'"),
    ("workers-bool", lambda: conv2d(X, W, workers=True), TypeError, r"`workers` .* got bool True"),
    ("set-workers-zero", lambda: fftconv.set_workers(0).__enter__(), ValueError, r"`workers` .* got 0"),
    ("set-workers-none", lambda: fftconv.set_workers(None).__enter__(), ValueError, r"`workers` .* not None"),
    ("flip-int", lambda: conv2d(X, W, flip=1), TypeError, M("`flip` must be True or False; got int 1")),
    ("flip-none", lambda: conv2d(X, W, flip=None), TypeError,
     r"`flip` must be True or False; got NoneType None"),
    ("flip-string", lambda: conv2d(X, W, flip="yes"), TypeError, r"`flip` .* got str 'yes'"),
    ("flip-array", lambda: conv2d(X, W, flip=np.array([True])), TypeError, r"`flip` .* got ndarray"),
    ("flip-depthwise", lambda: depthwise(X, WD, flip=0), TypeError, r"`flip` .* got int 0"),
    # -- plans -----------------------------------------------------------------------------------
    ("plan-input-other-shape", lambda: _plan()(np.ones((1, 7, 6, 4), np.float32), W), ValueError,
     M("`input` has shape (1, 7, 6, 4) but this plan was made for (1, 6, 6, 4)")),
    ("plan-input-other-ndim", lambda: _plan()(X[0], W), ValueError,
     M("`input` has shape (6, 6, 4) but this plan was made for (1, 6, 6, 4)")),
    ("plan-filters-other-shape", lambda: _plan()(X, np.ones((3, 3, 4, 3), np.float32)), ValueError,
     M("`filters` has shape (3, 3, 4, 3) but this plan was made for (3, 3, 4, 2)")),
    ("plan-bound-other-shape", lambda: BOUND(np.ones((2, 6, 6, 4), np.float32)), ValueError,
     r"`input` has shape \(2, 6, 6, 4\) but this plan was made for"),
    ("plan-other-dtype", lambda: _plan()(X.astype(np.float64), W), ValueError,
     r"`input` of dtype float64 with filters of dtype float32 computes in float64, but this plan "
     r"computes in float32"),
    ("plan-complex-input", lambda: _plan()(X.astype(complex), W), ValueError,
     M("`input` of dtype complex128 with filters of dtype float32 computes in complex128, but this plan "
       "computes in float32; plan with dtype='complex128'")),
    ("plan-complex-filters-bound", lambda: _plan().bind(W.astype(np.complex64)), ValueError,
     M("`filters` has dtype complex64, but this plan was made for real arrays (it computes in float32); "
       "plan with dtype='complex64' for complex inputs and filters")),
    ("plan-complex-given-real", lambda: _plan(dtype="complex64")(X, W), ValueError,
     r"`input` of dtype float32 with filters of dtype float32 computes in float32, but this plan computes "
     r"in complex64"),
    ("plan-complex-input-real-filters", lambda: fftconv.FilterBank(W).plan_for(X.shape, np.complex64)(
        X.astype(np.complex64), W.astype(np.complex64)), ValueError,
     M("`filters` has dtype complex64, but this plan was made for complex inputs with real filters; plan "
       "with dtype='complex64' for complex inputs and filters")),
    ("plan-real-input-complex-filters", lambda: BOUND_REAL_INPUT(X.astype(np.complex64)), ValueError,
     M("`input` has dtype complex64, but this plan was made for real inputs with complex filters")),
    ("plan-nchw-given-nhwc", lambda: fftconv.plan_conv2d(X_NCHW.shape, W.shape, data_format="NCHW")(X, W),
     ValueError, r"`input` has shape \(1, 6, 6, 4\) but this plan was made for \(1, 4, 6, 6\)"),
    ("plan-negative-size", lambda: fftconv.plan_conv2d((1, -6, 6, 4), W.shape), ValueError,
     M("`input_shape` must have non-negative sizes; got shape (1, -6, 6, 4)")),
    ("plan-float-size", lambda: fftconv.plan_conv2d((1, 6.0, 6, 4), W.shape), TypeError,
     r"`input_shape` must be a sequence of ints; got \(1, 6.0, 6, 4\)"),
    ("plan-shape-int", lambda: fftconv.plan_conv2d(5, W.shape), TypeError,
     r"`input_shape` must be a sequence of ints; got 5"),
    ("plan-shape-none", lambda: fftconv.plan_conv2d(X.shape, None), TypeError,
     r"`filters_shape` must be a sequence of ints"),
    ("plan-wrong-ndim", lambda: fftconv.plan_conv2d((6, 6, 4), W.shape), ValueError,
     r"`input_shape` must be 4-D NHWC"),
    ("plan-dtype-object", lambda: _plan(dtype=object), TypeError, r"`dtype` " + NUMBERS + "; got dtype object"),
    ("plan-dtype-unknown", lambda: _plan(dtype="floaty"), TypeError,
     r"`dtype` must be a numeric dtype .* got 'floaty'"),
    ("plan-bad-strides", lambda: _plan(strides=0), ValueError, STRIDES_ACCEPTED),
    ("plan-bad-method", lambda: _plan(method="slow"), ValueError, r"`method` .* got 'slow'"),
    ("plan1d-kernel-too-large", lambda: fftconv.plan_conv1d((1, 5, 1), (9, 1, 1)), ValueError,
     r"dilated kernel \(9,\)"),
    ("plan3d-groups", lambda: fftconv.plan_conv3d((1, 4, 4, 4, 6), (2, 2, 2, 4, 2)), ValueError,
     r"`input_shape` has 6 channels, which is not a multiple of the 4 input channels of `filters_shape`"),
    # -- depthwise -------------------------------------------------------------------------------
    ("depthwise-channel-mismatch", lambda: depthwise(X, np.ones((3, 3, 3, 2))), ValueError,
     M("`filter` shape[-2] must equal the 4 input channels; got filter shape (3, 3, 3, 2)")),
    ("depthwise-channel-mismatch-nchw", lambda: depthwise(X_NCHW, np.ones((3, 3, 6, 1)), data_format="NCHW"),
     ValueError, r"`filter` shape\[-2\] must equal the 4 input channels"),
    ("depthwise-filter-3d", lambda: depthwise(X, WD[0]), ValueError,
     M("`filter` must be 4-D (kh, kw, C, M); got ndim=3 with shape (3, 4, 2)")),
    ("depthwise-input-3d", lambda: depthwise(X[0], WD), ValueError,
     M("`input` must be 4-D NHWC (batch, h, w, channels); got ndim=3")),
    ("depthwise-bad-strides", lambda: depthwise(X, WD, strides=[1, 2, 2, 2]), ValueError,
     r"`strides` in the 4-element form must be 1"),
    ("depthwise-bad-padding", lambda: depthwise(X, WD, padding="FULL"), ValueError,
     r"`padding` .* got 'FULL'"),
    ("plan-depthwise-channel-mismatch", lambda: fftconv.plan_depthwise_conv2d(X.shape, (3, 3, 3, 1)),
     ValueError, r"`filter_shape` shape\[-2\] must equal the 4 input channels"),
    ("plan-depthwise-bad-input-shape", lambda: fftconv.plan_depthwise_conv2d((6, 6, 4), (3, 3, 4, 1)),
     ValueError, r"`input_shape` must be 4-D NHWC"),
    ("plan-depthwise-other-filters", lambda: fftconv.plan_depthwise_conv2d(X.shape, (3, 3, 4, 2)).bind(
        np.ones((3, 3, 4, 1))), ValueError,
     r"`filters` has shape \(3, 3, 4, 1\) but this plan was made for \(3, 3, 4, 2\) \(or its grouped form "
     r"\(3, 3, 1, 8\)\)"),
    # -- 0-d arrays, huge padding ------------------------------------------------------------------
    ("strides-0d-array", lambda: conv2d(X, W, strides=np.array(0)), ValueError, STRIDES_ACCEPTED),
    ("strides-0d-float-array", lambda: conv2d(X, W, strides=np.array(1.5)), TypeError,
     r"`strides` must be an int or a sequence"),
    ("padding-0d-float-array", lambda: conv2d(X, W, padding=np.array(1.5)), TypeError, PADDING_ACCEPTED),
    ("padding-0d-negative", lambda: conv2d(X, W, padding=np.array(-1)), ValueError,
     r"`padding` must not be negative; got -1"),
    ("dilations-0d-string-array", lambda: conv2d(X, W, dilations=np.array("2")), TypeError,
     r"`dilations` must be an int or a sequence"),
    ("padding-too-large-for-any-array", lambda: conv2d(X, W, padding=10**12), ValueError,
     r"`padding` 1000000000000 with `input` spatial sizes \(6, 6\) makes an output of .* elements"),
    ("dilations-too-large-for-any-array", lambda: conv2d(X, W, padding="SAME", dilations=10**12), ValueError,
     r"`padding` 'SAME' with `input` spatial sizes \(6, 6\) and `dilations` \(1000000000000, 1000000000000\) "
     r"\(a dilated kernel of"),
    ("plan-padding-too-large", lambda: _plan(padding=10**12), ValueError,
     r"`padding` 1000000000000 with `input_shape` spatial sizes"),
    ("padding-too-large-for-memory", lambda: conv2d(X, W, padding=10**6), ValueError,
     r"this convolution needs about .* GiB \(output shape \(1, 2000004, 2000004, 2\) and working memory\), "
     r"more than the .* GiB of memory here; check `padding`"),
    # -- filter banks ----------------------------------------------------------------------------
    ("filter-bank-2d-filters", lambda: fftconv.FilterBank(np.ones((3, 3))), ValueError,
     M("`filters` must be 3-D, 4-D or 5-D (*kernel, C_in, C_out); got ndim=2 with shape (3, 3)")),
    ("filter-bank-object", lambda: fftconv.FilterBank(W.astype(object)), TypeError,
     r"`filters` " + NUMBERS),
    ("filter-bank-method", lambda: fftconv.FilterBank(W, method="x"), ValueError, r"`method` .* got 'x'"),
    ("filter-bank-data-format", lambda: fftconv.FilterBank(W, data_format="NWC"), ValueError,
     r"`data_format` must be 'NHWC' or 'NCHW'"),
    ("filter-bank-channel-mismatch", lambda: fftconv.FilterBank(W)(np.ones((1, 6, 6, 3), np.float32)),
     ValueError, r"`input` has 3 channels, which is not a multiple of the 4"),
    ("filter-bank-input-ndim", lambda: fftconv.FilterBank(W)(X[0]), ValueError, r"`input` must be 4-D NHWC"),
    # options are checked when the bank is made, not at its first call
    ("filter-bank-bad-padding", lambda: fftconv.FilterBank(W, padding="FULL"), ValueError,
     r"`padding` .* got 'FULL'"),
    ("filter-bank-bad-strides", lambda: fftconv.FilterBank(W, strides=0), ValueError, STRIDES_ACCEPTED),
    ("filter-bank-bad-dilations", lambda: fftconv.FilterBank(W, dilations=(1, 2, 3)), ValueError,
     DILATIONS_ACCEPTED),
    ("filter-bank-bad-workers", lambda: fftconv.FilterBank(W, workers=0), ValueError, r"`workers` must be"),
    ("filter-bank-bad-groups", lambda: fftconv.FilterBank(W, groups=0), ValueError,
     r"`groups` must be a positive int; got 0"),
    ("filter-bank-bad-groups-type", lambda: fftconv.FilterBank(W, groups=1.5), TypeError,
     r"`groups` must be a positive int; got float 1.5"),
    ("filter-bank-bad-flip", lambda: fftconv.FilterBank(W, flip="yes"), TypeError, r"`flip` must be True or False"),
    ("filter-bank-bad-measure", lambda: fftconv.FilterBank(W, measure=1), TypeError,
     r"`measure` must be True or False"),
    ("filter-bank-bad-backend", lambda: fftconv.FilterBank(W, backend="cuda"), ValueError,
     r"`backend` must be one of"),
    ("filter-bank-bad-cache-size", lambda: fftconv.FilterBank(W, cache_size=0), ValueError,
     r"`cache_size` must be a positive int; got 0"),
    ("filter-bank-plan-for-bad-dtype", lambda: fftconv.FilterBank(W).plan_for(X.shape, "floaty"), TypeError,
     r"`dtype` must be a numeric dtype"),
    ("filter-bank-string-input", lambda: fftconv.FilterBank(W)(X.astype(str)), TypeError,
     r"`input` " + NUMBERS),
    ("filter-bank-bad-padding-mode", lambda: fftconv.FilterBank(W, padding_mode="mirror"), ValueError,
     MODES_ACCEPTED + M("; got 'mirror'")),
    ("filter-bank-padding-mode-type", lambda: fftconv.FilterBank(W, padding_mode=None), TypeError,
     r"`padding_mode` must be a string, one of 'constant', .* got NoneType None"),
    # -- padding_mode ------------------------------------------------------------------------------
    ("padding-mode-unknown", lambda: conv2d(X, W, padding="SAME", padding_mode="bounce"), ValueError,
     MODES_ACCEPTED + M("; got 'bounce'")),
    ("padding-mode-checked-with-valid", lambda: conv2d(X, W, padding_mode="bounce"), ValueError,
     MODES_ACCEPTED + M("; got 'bounce'")),
    ("padding-mode-empty-string", lambda: conv2d(X, W, padding=1, padding_mode=""), ValueError,
     MODES_ACCEPTED + M("; got ''")),
    ("padding-mode-upper-case", lambda: conv2d(X, W, padding=1, padding_mode="REFLECT"), ValueError,
     MODES_ACCEPTED + M("; got 'REFLECT' (names are lower case: 'reflect')")),
    ("padding-mode-ndimage-mirror", lambda: conv2d(X, W, padding=1, padding_mode="mirror"), ValueError,
     M("got 'mirror' ('mirror' elsewhere is padding_mode='reflect' here")),
    ("padding-mode-ndimage-nearest", lambda: conv2d(X, W, padding=1, padding_mode="nearest"), ValueError,
     M("got 'nearest' ('nearest' elsewhere is padding_mode='edge' here")),
    ("padding-mode-opencv", lambda: conv2d(X, W, padding=1, padding_mode="BORDER_REFLECT"), ValueError,
     M("('BORDER_REFLECT' elsewhere is padding_mode='symmetric' here")),
    ("padding-mode-numpy-statistic", lambda: conv2d(X, W, padding=1, padding_mode="median"), ValueError,
     MODES_ACCEPTED + M("; got 'median' (numpy.pad's statistical, ramp and empty modes are not offered)")),
    ("padding-mode-none", lambda: conv2d(X, W, padding=1, padding_mode=None), TypeError,
     r"`padding_mode` must be a string, one of 'constant', 'reflect', .* got NoneType None"),
    ("padding-mode-int", lambda: conv2d(X, W, padding=1, padding_mode=0), TypeError,
     r"`padding_mode` must be a string, .* got int 0"),
    ("padding-mode-bytes", lambda: conv2d(X, W, padding=1, padding_mode=b"reflect"), TypeError,
     r"`padding_mode` must be a string, .* got bytes b'reflect'"),
    ("padding-mode-empty-axis", lambda: conv2d(np.ones((1, 0, 6, 4)), W, padding="SAME", padding_mode="reflect"),
     ValueError, M("`padding_mode` 'reflect' cannot pad `input`'s empty spatial axis 0 (spatial sizes (0, 6), "
                   "pads ((1, 1), (1, 1))")),
    ("padding-mode-empty-axis-wrap-1d", lambda: conv1d(np.ones((2, 0, 2)), W1, padding=[(3, 0)],
                                                       padding_mode="circular"),
     ValueError, r"`padding_mode` 'wrap' cannot pad `input`'s empty spatial axis 0 .* use padding_mode='constant'"),
    ("padding-mode-conv1d", lambda: conv1d(X1, W1, padding_mode="mirror"), ValueError, MODES_ACCEPTED),
    ("padding-mode-conv3d", lambda: conv3d(X3, W3, padding_mode="reflect101"), ValueError, MODES_ACCEPTED),
    ("padding-mode-depthwise", lambda: depthwise(X, WD, padding_mode="Wrap"), ValueError,
     MODES_ACCEPTED + M("; got 'Wrap' (names are lower case: 'wrap')")),
    ("padding-mode-plan", lambda: _plan(padding_mode="reflect_101"), ValueError, MODES_ACCEPTED),
    ("padding-mode-plan-empty-axis", lambda: fftconv.plan_conv2d((1, 6, 0, 4), W.shape, padding=2,
                                                                  padding_mode="edge"),
     ValueError, r"`padding_mode` 'edge' cannot pad `input_shape`'s empty spatial axis 1"),
    ("padding-mode-plan-depthwise", lambda: fftconv.plan_depthwise_conv2d(X.shape, WD.shape, padding_mode=1.5),
     TypeError, r"`padding_mode` must be a string"),
    # -- convolve / correlate (scipy.signal's entry points) ----------------------------------------
    ("signal-ndim-mismatch", lambda: sconv(np.ones(5), np.ones((2, 2))), ValueError,
     M("`in1` and `in2` must have the same number of dimensions; got ndim=1 (shape (5,)) and ndim=2")),
    ("signal-scalar-and-array", lambda: scorr(2.0, np.ones(3)), ValueError,
     r"`in1` and `in2` must have the same number of dimensions; got ndim=0"),
    ("signal-mode-unknown", lambda: sconv(np.ones(5), np.ones(2), "SAME"), ValueError,
     M("`mode` must be one of 'full', 'same', 'valid'; got 'SAME'")),
    ("signal-mode-int", lambda: scorr(np.ones(5), np.ones(2), 1), ValueError,
     M("`mode` must be one of 'full', 'same', 'valid'; got 1")),
    ("signal-method-unknown", lambda: sconv(np.ones(5), np.ones(2), method="oa"), ValueError,
     M(f"`method` must be one of {METHOD_CHOICES}; got 'oa'")),
    ("signal-valid-neither-larger", lambda: sconv(np.ones((3, 5)), np.ones((5, 3)), "valid"),
     ValueError, M("mode 'valid' needs one of `in1` (shape (3, 5)) and `in2` (shape (5, 3)) to be at "
                   "least as large as the other along every convolution axis (0, 1)")),
    ("signal-valid-neither-larger-axes", lambda: sconv(np.ones((3, 5, 2)), np.ones((5, 3, 1)), "valid",
                                                                  axes=(0, 1)),
     ValueError, r"mode 'valid' needs one of `in1` .* along every convolution axis \(0, 1\)"),
    ("signal-broadcast-incompatible", lambda: sconv(np.ones((3, 8)), np.ones((2, 4)), axes=1),
     ValueError, M("`in1` shape (3, 8) and `in2` shape (2, 4) are incompatible: axis 0 (not in `axes`) must "
                   "have equal sizes or size 1 in one of them, to broadcast")),
    ("signal-axes-out-of-range", lambda: sconv(np.ones((3, 8)), np.ones((2, 4)), axes=2), ValueError,
     M("`axes` must hold ints from -2 to 1 for arrays of ndim=2; got 2")),
    ("signal-axes-repeated", lambda: sconv(np.ones((3, 8)), np.ones((2, 4)), axes=(1, -1)),
     ValueError, M("`axes` must not repeat an axis; got (1, -1)")),
    ("signal-axes-empty", lambda: sconv(np.ones((3, 8)), np.ones((2, 4)), axes=()), ValueError,
     M("`axes` must not be empty when given; got () (None means every axis)")),
    ("signal-axes-float", lambda: sconv(np.ones((3, 8)), np.ones((2, 4)), axes=1.0), TypeError,
     M("`axes` must be None, an int or a sequence of ints from -2 to 1; got float 1.0")),
    ("signal-axes-string", lambda: sconv(np.ones((3, 8)), np.ones((2, 4)), axes="01"), TypeError,
     r"`axes` must be None, an int or a sequence of ints .* got str '01'"),
    ("signal-four-conv-axes", lambda: sconv(np.ones((3, 3, 3, 3)), np.ones((2, 2, 2, 2))), ValueError,
     M("at most 3 axes can be convolved (conv1d, conv2d, conv3d); `in1` shape (3, 3, 3, 3) and `in2` shape "
       "(2, 2, 2, 2) have 4 axes (0, 1, 2, 3)")),
    ("signal-object", lambda: sconv(np.ones(3, object), np.ones(2)), TypeError, r"`in1` " + NUMBERS),
    ("signal-strings", lambda: scorr(np.ones(3), np.array(["a", "b"])), TypeError, r"`in2` " + NUMBERS),
    ("signal-ragged", lambda: sconv([[1.0, 2.0], [3.0]], np.ones((2, 2))), ValueError,
     r"`in1` must be an array or a nested sequence of numbers with a regular shape"),
    ("signal-padding-mode", lambda: sconv(np.ones(5), np.ones(2), "same", padding_mode="symm"),
     ValueError, MODES_ACCEPTED + M("; got 'symm' ('symm' elsewhere is padding_mode='symmetric' here")),
    ("signal-workers", lambda: sconv(np.ones(5), np.ones(2), workers=0), ValueError,
     r"`workers` must be a positive int"),
    ("signal-backend", lambda: scorr(np.ones(5), np.ones(2), backend="mkl"), ValueError,
     r"`backend` must be one of 'auto', "),
    ("signal-measure", lambda: sconv(np.ones(5), np.ones(2), measure="yes"), TypeError,
     M("`measure` must be True or False; got str 'yes'")),
    # -- nan_treatment (convolve, correlate, conv1d/2d/3d, depthwise_conv2d) ------------------------
    ("nan-treatment-unknown", lambda: sconv(np.ones(5), np.ones(2), nan_treatment="ignore"),
     ValueError, M("`nan_treatment` must be one of 'propagate', 'fill', 'interpolate'; got 'ignore'")),
    ("nan-treatment-none-conv2d", lambda: conv2d(X, W, nan_treatment=None), ValueError,
     M("`nan_treatment` must be one of 'propagate', 'fill', 'interpolate'; got None")),
    ("nan-treatment-depthwise", lambda: depthwise(X, WD, nan_treatment="Interpolate"), ValueError,
     r"`nan_treatment` must be one of .* got 'Interpolate'"),
    ("fill-value-string", lambda: conv1d(X1, W1, nan_treatment="fill", fill_value="0"), TypeError,
     M("`fill_value` must be a real or complex number; got str '0'")),
    ("fill-value-none", lambda: sconv(np.ones(5), np.ones(2), nan_treatment="fill", fill_value=None),
     TypeError, M("`fill_value` must be a real or complex number; got NoneType None")),
    ("masked-input", lambda: conv2d(np.ma.masked_greater(X, 0.5), W), TypeError,
     M("`input` is a masked array with masked samples, whose mask fftconv would ignore; pass "
       "`input.filled(np.nan)` with nan_treatment='interpolate' or 'fill', or `input.filled(value)`")),
    ("masked-in2", lambda: sconv(np.ones(5), np.ma.masked_equal([1.0, 0.0], 0.0)), TypeError,
     r"`in2` is a masked array with masked samples"),
    ("fill-value-without-fill", lambda: conv2d(X, W, fill_value=-1.0), ValueError,
     M("`fill_value` -1.0 is used only with nan_treatment='fill'; got nan_treatment='propagate'")),
    ("fill-value-with-interpolate", lambda: sconv(np.ones(5), np.ones(2), nan_treatment="interpolate",
                                                  fill_value=3), ValueError,
     M("`fill_value` 3 is used only with nan_treatment='fill'; got nan_treatment='interpolate'")),
    ("fill-value-complex-for-real", lambda: conv3d(X3, W3, nan_treatment="fill", fill_value=1j), ValueError,
     M("`fill_value` 1j is complex, but `input` is real (dtype float64); give a real fill_value")),
    ("interpolate-zero-sum-kernel", lambda: sconv(np.ones(9), [1.0, -2.0, 1.0], "same",
                                                             nan_treatment="interpolate"),
     ValueError, M("nan_treatment='interpolate' divides by the kernel's sum, but `in2` sums to 0, against 4 "
                   "in absolute value; use nan_treatment='fill' for zero-sum kernels")),
    ("interpolate-zero-sum-filters", lambda: conv2d(X, W - 1, nan_treatment="interpolate"), ValueError,
     M("nan_treatment='interpolate' divides by the kernel's sum, but `filters` sums to 0 (kernel 0 of 2)")),
]

# -- the gradient-side ops ----------------------------------------------------------------------
DY = np.ones((1, 3, 3, 2), np.float32)           # conv2d(X, W, strides=2, padding="SAME")
PW = np.ones((1, 1, 8, 3), np.float32)           # pointwise for WD
transpose = fftconv.conv2d_transpose
OUTPUT_SHAPE_MISFIT = r"`output_shape` \(1, 7, 6, 4\) does not fit `input` \(1, 3, 3, 2\): along h, a convolution " \
    r"with the dilated kernel 3, stride 2 and padding 'SAME' gives the 3 samples of `input` only from 5 to 6 input " \
    r"samples \(TensorFlow's rule\); got 7"

BAD_INPUTS += [
    ("transpose-input-3d", lambda: transpose(DY[0], W, X.shape, 2), ValueError,
     M("`input` must be 4-D NHWC (batch, h, w, channels); got ndim=3 with shape (3, 3, 2)")),
    ("transpose-filters-3d", lambda: transpose(DY, W[0], X.shape, 2), ValueError,
     M("`filters` must be 4-D (kh, kw, C_out, C_in); got ndim=3 with shape (3, 4, 2)")),
    ("transpose-output-shape-length", lambda: transpose(DY, W, (1, 6, 6), 2), ValueError,
     M("`output_shape` must be 4 ints NHWC (batch, h, w, channels) or 2 spatial sizes; got 3 values: (1, 6, 6)")),
    ("transpose-output-shape-float", lambda: transpose(DY, W, (1, 6.0, 6, 4), 2), TypeError,
     r"`output_shape` must be a sequence of ints .* got \(1, 6.0, 6, 4\)"),
    ("transpose-output-shape-none", lambda: transpose(DY, W, None, 2), TypeError,
     r"`output_shape` must be a sequence of ints .* got None"),
    ("transpose-output-shape-negative", lambda: transpose(DY, W, (1, -6, 6, 4), 2), ValueError,
     M("`output_shape` must have non-negative sizes; got (1, -6, 6, 4)")),
    ("transpose-output-shape-misfit", lambda: transpose(DY, W, (1, 7, 6, 4), 2), ValueError, OUTPUT_SHAPE_MISFIT),
    ("transpose-output-shape-misfit-valid", lambda: transpose(DY, W, (1, 6, 6, 4), 2, "VALID"), ValueError,
     r"padding 'VALID' gives the 3 samples of `input` only from 7 to 8 input samples .* got 6"),
    ("transpose-output-shape-misfit-explicit", lambda: transpose(DY, W, (1, 6, 6, 4), 2, [[3, 3], [0, 0]]),
     ValueError, r"padding \[\[3, 3\], \[0, 0\]\] gives the 3 samples of `input` only from 1 to 2 input samples"),
    ("transpose-output-shape-batch", lambda: transpose(DY, W, (2, 6, 6, 4), 2), ValueError,
     M("`output_shape` (2, 6, 6, 4) has batch 2, but `input` has batch 1; they must be equal")),
    ("transpose-input-channels", lambda: transpose(np.ones((1, 3, 3, 3)), W, X.shape, 2), ValueError,
     M("`input` has 3 channels but `filters` (3, 3, 4, 2) takes 2 (its last axis)")),
    ("transpose-output-channels", lambda: transpose(DY, W, (1, 6, 6, 6), 2), ValueError,
     M("`output_shape` has 6 channels, which is not a multiple of the 4 input channels of `filters` (shape[-2])")),
    ("transpose-groups", lambda: transpose(DY, W_G2, X.shape, 2, groups=3), ValueError,
     r"`groups` must satisfy groups \* filters.shape\[-2\] == C_in \(2 \* groups == 4\); got groups=3"),
    ("transpose-strides", lambda: transpose(DY, W, X.shape, 0), ValueError, STRIDES_ACCEPTED + "; got 0"),
    ("transpose-strides-none", lambda: transpose(DY, W, X.shape, None), TypeError, r"`strides` .* got NoneType None"),
    ("transpose-dilations", lambda: transpose(DY, W, X.shape, 2, dilations=0), ValueError, DILATIONS_ACCEPTED),
    ("transpose-padding", lambda: transpose(DY, W, X.shape, 2, "FULL"), ValueError, PADDING_ACCEPTED + "; got 'FULL'"),
    ("transpose-method", lambda: transpose(DY, W, X.shape, 2, method="fast"), ValueError,
     M(f"`method` must be one of {METHOD_CHOICES}; got 'fast'")),
    ("transpose-complex", lambda: transpose(DY.astype(complex), W, X.shape, 2), TypeError, "`input` " + REAL_DTYPES),
    ("transpose-data-format", lambda: transpose(DY, W, X.shape, 2, data_format="NCWH"), ValueError,
     M("`data_format` must be 'NHWC' or 'NCHW' for a 2-D convolution; got 'NCWH'")),
    ("transpose-workers", lambda: transpose(DY, W, X.shape, 2, workers=0), ValueError, r"`workers` .* got 0"),
    ("conv1d-transpose-input-4d", lambda: fftconv.conv1d_transpose(DY, W1, (1, 6, 2), 2), ValueError,
     M("`input` must be 3-D NWC (batch, w, channels); got ndim=4")),
    ("conv3d-transpose-output-shape", lambda: fftconv.conv3d_transpose(X3, W3, (1, 4, 4, 4), 2), ValueError,
     M("`output_shape` must be 5 ints NDHWC (batch, d, h, w, channels) or 3 spatial sizes; got 4 values")),
    ("backprop-input-sizes-misfit", lambda: fftconv.conv2d_backprop_input((1, 7, 6, 4), W, DY, 2, "SAME"),
     ValueError, r"`input_sizes` \(1, 7, 6, 4\) does not fit `out_backprop` \(1, 3, 3, 2\)"),
    ("backprop-input-gradient-channels", lambda: fftconv.conv2d_backprop_input(X.shape, W, np.ones((1, 3, 3, 5)),
                                                                               2, "SAME"),
     ValueError, M("`out_backprop` has 5 channels but `filters` (3, 3, 4, 2) takes 2 (its last axis)")),
    ("backprop-input-sizes-string", lambda: fftconv.conv2d_backprop_input("1, 6, 6, 4", W, DY, 2, "SAME"),
     TypeError, r"`input_sizes` must be a sequence of ints"),
    ("depthwise-backprop-input-filter-3d", lambda: fftconv.depthwise_conv2d_backprop_input(
        X.shape, WD[0], np.ones((1, 3, 3, 8)), 2, "SAME"), ValueError,
     M("`filter` must be 4-D (kh, kw, C, M); got ndim=3 with shape (3, 4, 2)")),
    ("depthwise-backprop-input-channels", lambda: fftconv.depthwise_conv2d_backprop_input(
        (1, 6, 6, 3), WD, np.ones((1, 3, 3, 8)), 2, "SAME"), ValueError,
     M("`filter` shape[-2] must equal the 3 input channels; got filter shape (3, 3, 4, 2)")),
    ("depthwise-backprop-input-gradient-channels", lambda: fftconv.depthwise_conv2d_backprop_input(
        X.shape, WD, np.ones((1, 3, 3, 6)), 2, "SAME"), ValueError,
     M("`out_backprop` has 6 channels, but `filter` (3, 3, 4, 2) makes C * M = 8 output channels")),
    ("backprop-filter-sizes-length", lambda: fftconv.conv2d_backprop_filter(X, (3, 3, 4), DY, 2, "SAME"),
     ValueError, M("`filter_sizes` must be 4 ints (kh, kw, C_in, C_out); got 3 values: (3, 3, 4)")),
    ("backprop-filter-sizes-float", lambda: fftconv.conv2d_backprop_filter(X, (3, 3.0, 4, 2), DY, 2, "SAME"),
     TypeError, M("`filter_sizes` must be a sequence of ints (kh, kw, C_in, C_out); got (3, 3.0, 4, 2)")),
    ("backprop-filter-gradient-shape", lambda: fftconv.conv2d_backprop_filter(X, W.shape, np.ones((1, 4, 3, 2)),
                                                                              2, "SAME"),
     ValueError, M("`out_backprop` has shape (1, 4, 3, 2), but the convolution of `input` (1, 6, 6, 4) with filters "
                   "(3, 3, 4, 2) (strides (2, 2), dilations (1, 1), padding 'SAME') gives (1, 3, 3, 2)")),
    ("backprop-filter-channels", lambda: fftconv.conv2d_backprop_filter(X, (3, 3, 3, 2), DY, 2, "SAME"), ValueError,
     M("`input` has 4 channels, which is not a multiple of the 3 input channels of `filter_sizes` (shape[-2])")),
    ("backprop-filter-complex", lambda: fftconv.conv2d_backprop_filter(X, W.shape, DY.astype(np.complex64), 2,
                                                                       "SAME"),
     TypeError, "`out_backprop` " + REAL_DTYPES + "; got dtype complex64"),
    ("backprop-filter-kernel-too-large", lambda: fftconv.conv2d_backprop_filter(X, (9, 3, 4, 2), DY, 2, "VALID"),
     ValueError, M("the dilated kernel (9, 3) of `filter_sizes` is larger than the padded `input` (6, 6)")),
    ("conv3d-backprop-filter-sizes", lambda: fftconv.conv3d_backprop_filter(X3, (2, 2, 2, 2), X3, 1, "VALID"),
     ValueError, r"`filter_sizes` must be 5 ints \(kd, kh, kw, C_in, C_out\); got 4 values"),
    ("depthwise-backprop-filter-channels", lambda: fftconv.depthwise_conv2d_backprop_filter(
        X, (3, 3, 3, 2), np.ones((1, 3, 3, 6)), 2, "SAME"), ValueError,
     M("`filter_sizes` shape[-2] must equal the 4 input channels; got filter shape (3, 3, 3, 2)")),
    ("depthwise-backprop-filter-sizes", lambda: fftconv.depthwise_conv2d_backprop_filter(
        X, (3, 3, 4), np.ones((1, 3, 3, 8)), 2, "SAME"), ValueError,
     M("`filter_sizes` must be 4 ints (kh, kw, C, M); got 3 values: (3, 3, 4)")),
    ("separable-pointwise-width", lambda: fftconv.separable_conv2d(X, WD, np.ones((1, 1, 6, 3)), 1, "SAME"),
     ValueError, M("`pointwise_filter` must be (1, 1, C * M, C_out) with C * M = 8 (from `depthwise_filter` "
                   "(3, 3, 4, 2)); got shape (1, 1, 6, 3)")),
    ("separable-pointwise-kernel", lambda: fftconv.separable_conv2d(X, WD, np.ones((3, 3, 8, 3)), 1, "SAME"),
     ValueError, r"`pointwise_filter` must be \(1, 1, C \* M, C_out\) .* got shape \(3, 3, 8, 3\)"),
    ("separable-pointwise-3d", lambda: fftconv.separable_conv2d(X, WD, PW[0], 1, "SAME"), ValueError,
     M("`pointwise_filter` must be 4-D (1, 1, C * M, C_out); got ndim=3 with shape (1, 8, 3)")),
    ("separable-depthwise-channels", lambda: fftconv.separable_conv2d(X, np.ones((3, 3, 3, 2)), PW, 1, "SAME"),
     ValueError, M("`depthwise_filter` shape[-2] must equal the 4 input channels; got filter shape (3, 3, 3, 2)")),
    ("separable-complex", lambda: fftconv.separable_conv2d(X, WD, PW.astype(complex), 1, "SAME"), TypeError,
     "`pointwise_filter` " + REAL_DTYPES),
    ("separable-strides", lambda: fftconv.separable_conv2d(X, WD, PW, [1, 2, 2, 2], "SAME"), ValueError,
     r"`strides` in the 4-element form must be 1 in the batch and channel entries"),
    ("vjp-gradient-shape", lambda: fftconv.conv2d_vjp(X, W, np.ones((1, 4, 4, 2)), 2, "SAME"), ValueError,
     M("`dy` has shape (1, 4, 4, 2), but the convolution of `x` (1, 6, 6, 4) with filters (3, 3, 4, 2)")),
    ("vjp-filters-3d", lambda: fftconv.conv2d_vjp(X, W[0], DY, 2, "SAME"), ValueError,
     M("`w` must be 4-D (kh, kw, C_in, C_out); got ndim=3 with shape (3, 4, 2)")),
    ("vjp-complex", lambda: fftconv.conv2d_vjp(X.astype(complex), W, DY, 2, "SAME"), TypeError, "`x` " + REAL_DTYPES),
    ("plan-transpose-dtype", lambda: fftconv.plan_conv2d_transpose(DY.shape, W.shape, X.shape, 2)(
        DY.astype(np.float64), W), ValueError,
     r"`input` of dtype float64 with filters of dtype float32 computes in float64, but this plan computes in float32"),
    ("plan-transpose-shape", lambda: fftconv.plan_conv2d_transpose(DY.shape, W.shape, X.shape, 2)(
        np.ones((1, 4, 3, 2), np.float32), W), ValueError,
     M("`input` has shape (1, 4, 3, 2) but this plan was made for (1, 3, 3, 2)")),
    ("plan-transpose-output-shape", lambda: fftconv.plan_conv2d_transpose(DY.shape, W.shape, (1, 9, 9, 4), 2),
     ValueError, r"`output_shape` \(1, 9, 9, 4\) does not fit `input_shape` \(1, 3, 3, 2\)"),
    ("plan-backprop-filter-shape", lambda: fftconv.plan_conv2d_backprop_filter(X.shape, W.shape, DY.shape, 2, "SAME")(
        X[:, :5], DY), ValueError, M("`input` has shape (1, 5, 6, 4) but this plan was made for (1, 6, 6, 4)")),
    ("plan-backprop-filter-gradient", lambda: fftconv.plan_conv2d_backprop_filter(X.shape, W.shape, (1, 2, 2, 2), 2,
                                                                                  "SAME"),
     ValueError, r"`out_backprop_shape` has shape \(1, 2, 2, 2\), but the convolution of `input_shape`"),
    ("plan-vjp-dtype", lambda: fftconv.plan_conv2d_vjp(X.shape, W.shape, 2, "SAME")(X, W, DY.astype(np.float64)),
     ValueError, r"`x`, `w` and `dy` of dtypes float32, float32 and float64 compute in float64, but this plan "
                 r"computes in float32"),
    ("plan-separable-shape", lambda: fftconv.plan_separable_conv2d(X.shape, WD.shape, PW.shape, 1, "SAME")(
        X, WD, np.ones((1, 1, 8, 4))), ValueError,
     M("`pointwise_filter` has shape (1, 1, 8, 4) but this plan was made for (1, 1, 8, 3)")),
    ("plan-separable-pointwise", lambda: fftconv.plan_separable_conv2d(X.shape, WD.shape, (1, 1, 6, 3), 1, "SAME"),
     ValueError, r"`pointwise_filter_shape` must be \(1, 1, C \* M, C_out\)"),
]

IDS = [row[0] for row in BAD_INPUTS]
assert len(IDS) == len(set(IDS)), "duplicate ids in BAD_INPUTS"


@pytest.mark.parametrize("call, exc, match", [row[1:] for row in BAD_INPUTS], ids=IDS)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match) as info:
        call()
    assert type(info.value) is exc, f"expected exactly {exc.__name__}, got {type(info.value).__name__}"


class _HeavyWorkStarted(AssertionError):
    pass


@pytest.fixture
def no_heavy_work(monkeypatch):
    """Make every method's prepare/execute and every FFT fail the test if reached."""
    def boom(*args, **kwargs):
        raise _HeavyWorkStarted("heavy work started before the arguments were checked")

    for m in fftconv.METHODS.values():
        monkeypatch.setattr(m, "prepare", boom)
        monkeypatch.setattr(m, "execute", boom)
    from fftconv._ops import filter_gradient as _gradients
    monkeypatch.setattr(_gradients, "direct_taps", boom)  # the filter gradient's own direct method
    for name in list(backends.BACKENDS):
        backend = backends.BACKENDS[name]
        monkeypatch.setattr(backend, "rfftn", boom)
        monkeypatch.setattr(backend, "irfftn", boom)


def test_heavy_work_guard_is_effective(no_heavy_work):
    for method in fftconv.METHODS:
        with pytest.raises(_HeavyWorkStarted):
            conv2d(X, W, method=method)
        with pytest.raises(_HeavyWorkStarted):
            fftconv.conv2d_backprop_filter(X, W.shape, DY, 2, "SAME", method=method)


@pytest.mark.parametrize("call, exc, match", [row[1:] for row in BAD_INPUTS], ids=IDS)
def test_errors_come_before_heavy_work(no_heavy_work, call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.parametrize("method", ["direct", "fft"])
def test_error_lists_the_valid_methods(method):
    with pytest.raises(ValueError) as info:
        conv2d(X, W, method=method.upper())
    for name in ("auto", *fftconv.METHODS):
        assert repr(name) in str(info.value)


# -- issue 24: messages that point the way ----------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda: fftconv.conv2d(np.ones((1, 5, 32, 32)), np.ones((7, 5, 3, 3)), data_format="NCHW"),
    lambda: fftconv.conv2d(np.ones((1, 32, 32, 5)), np.ones((7, 5, 3, 3))),
    lambda: fftconv.conv3d(np.ones((1, 4, 8, 8, 8)), np.ones((8, 2, 3, 3, 3)), data_format="NCDHW"),
    lambda: fftconv.plan_conv2d((1, 6, 32, 32), (8, 3, 3, 3), data_format="NCHW", groups=2),
    lambda: fftconv.conv2d_backprop_filter(np.ones((1, 5, 32, 32)), (7, 5, 3, 3), np.ones((1, 7, 30, 30)), 1,
                                           "VALID", data_format="NCHW"),
    lambda: fftconv.FilterBank(np.ones((7, 5, 3, 3)), data_format="NCHW")(np.ones((1, 5, 32, 32))),
], ids=["conv2d-NCHW", "conv2d-NHWC", "conv3d", "plan-groups", "backprop-filter", "filterbank"])
def test_torch_oihw_filters_get_a_hint_that_filters_are_hwio(call):
    with pytest.raises(ValueError, match=r"TensorFlow's HWIO, whatever `data_format` says.*torch's "
                                         r"\(C_out, C_in / groups, \*kernel\): pass w\.transpose\("):
        call()


def test_torch_depthwise_and_transpose_weights_get_hints():
    with pytest.raises(ValueError, match=r"torch's depthwise \(C \* M, 1, \*kernel\): pass "
                                         r"w\.reshape\(C, M, k0, k1\)\.transpose\(2, 3, 0, 1\)"):
        fftconv.depthwise_conv2d(np.ones((1, 5, 32, 32)), np.ones((10, 1, 3, 3)), data_format="NCHW")
    with pytest.raises(ValueError, match=r"torch's conv_transpose weight .* pass w\.transpose\(2, 3, 1, 0\)"):
        fftconv.conv2d_transpose(np.ones((1, 7, 30, 30)), np.ones((7, 5, 3, 3)), (1, 5, 32, 32), 1, "VALID",
                                 data_format="NCHW")
    # an HWIO shape that is simply wrong gets no torch hint
    with pytest.raises(ValueError) as exc:
        fftconv.conv2d(np.ones((1, 32, 32, 5)), np.ones((3, 3, 2, 4)))
    assert "torch" not in str(exc.value)


def test_a_backend_that_is_not_installed_says_how_to_install_it(monkeypatch):
    from fftconv import backends
    for name, install in (("ducc0", 'pip install "fftconv[ducc0]"'), ("pyfftw", "pip install pyfftw")):
        monkeypatch.delitem(backends.BACKENDS, name, raising=False)
        with pytest.raises(ValueError, match=f"`backend` '{name}' is not installed here .*{re.escape(install)}"):
            fftconv.conv2d(np.ones((1, 8, 8, 1)), np.ones((3, 3, 1, 1)), backend=name)
    with pytest.raises(ValueError, match="`backend` must be one of 'auto', 'scipy'; got 'fftw'"):
        fftconv.conv2d(np.ones((1, 8, 8, 1)), np.ones((3, 3, 1, 1)), backend="fftw")


@pytest.mark.parametrize("call", [
    lambda x: fftconv.conv2d(x, np.ones((3, 3, 1, 1))),
    lambda x: fftconv.depthwise_conv2d(x, np.ones((3, 3, 1, 1))),
    lambda x: fftconv.plan_conv2d(x.shape, (3, 3, 1, 1))(x, np.ones((3, 3, 1, 1))),
    lambda x: fftconv.FilterBank(np.ones((3, 3, 1, 1)))(x),
    lambda x: fftconv.convolve(x[0, :, :, 0], np.ones((3, 3))),
    lambda x: fftconv.conv2d_transpose(x, np.ones((3, 3, 1, 1)), (1, 10, 10, 1), 1, "VALID"),
    lambda x: fftconv.conv2d(np.ones((1, 8, 8, 1)), x[0, :3, :3, :, None]),
    lambda x: fftconv.firfilter(np.ones(3), x[0, :, 0, 0]),
    lambda x: fftconv.StreamConvolver(np.ones(3))(x[0, :, 0, 0]),
], ids=["conv2d", "depthwise", "plan", "filterbank", "convolve", "transpose", "dask-filters", "firfilter",
        "stream"])
def test_a_dask_array_is_refused_with_the_way_to_fftconv_dask(call):
    da = pytest.importorskip("dask.array")
    x = da.ones((1, 8, 8, 1), chunks=(1, 4, 4, 1))
    with pytest.raises(TypeError, match=r"is a dask array .* fftconv\.dask\.conv1d, conv2d, conv3d or "
                                        r"depthwise_conv2d .*\.compute\(\)"):
        call(x)
