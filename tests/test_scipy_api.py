"""fftconv.convolve / fftconv.correlate against scipy.signal, and ``nan_treatment`` everywhere.

The reference is scipy itself: :func:`scipy.signal.convolve` and
:func:`~scipy.signal.correlate` with ``method="direct"`` in float64
(complex128), looped over the broadcast positions when ``axes`` leaves some
axes out (:func:`scipy_reference`, whose shapes follow
:func:`scipy.signal.fftconvolve`'s rules). Errors are compared with scipy's
own: where scipy raises ``ValueError``, so does fftconv (with its own
message), and where it does not, neither does fftconv.

``nan_treatment="interpolate"`` is checked against its formula computed with
scipy (:func:`interpolated_reference`), against
``astropy.convolution.convolve_fft(..., nan_treatment="interpolate",
normalize_kernel=False)`` where their centring agrees (odd kernels,
``mode="same"``, true convolution), and on conv1d/conv2d/depthwise_conv2d
against the formula computed with :func:`fftconv.testing.reference_conv`.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.signal as ss
from hypothesis import given, strategies as st

import fftconv
from fftconv._shapes.signal_layout import conv_axis, layout, window
from fftconv.testing import reference_conv, relative_error

from conftest import assert_close, random

MODES = ("full", "same", "valid")

# the holes made here are often wider than the kernels: interpolation leaves NaN there, and says so
# (test_interpolate_example_of_issue_24_and_its_warning checks the warning itself)
pytestmark = pytest.mark.filterwarnings("ignore:nan_treatment='interpolate'.*stay NaN:RuntimeWarning")


# -- the reference ---------------------------------------------------------------------------

def _wide(a):
    return np.asarray(a, np.complex128 if np.iscomplexobj(a) else np.float64)


def scipy_reference(a, b, mode, axes=None, correlate=False):
    """scipy.signal's direct method in float64 (complex128); with ``axes``, looped over the
    broadcast positions, with :func:`scipy.signal.fftconvolve`'s shapes."""
    a, b = _wide(a), _wide(b)
    if axes is None:
        return (ss.correlate if correlate else ss.convolve)(a, b, mode=mode, method="direct")
    nd = a.ndim
    axes = sorted({int(x) % nd for x in np.atleast_1d(axes)})
    if correlate:  # correlate = convolve with in2 reversed and conjugated along `axes`
        b = np.conj(b[tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(nd))])
    conv = [i for i in axes if a.shape[i] != 1 and b.shape[i] != 1]  # scipy broadcasts the others
    other = [i for i in range(nd) if i not in conv]
    A, B = np.moveaxis(a, other, range(len(other))), np.moveaxis(b, other, range(len(other)))
    k = len(other)
    outer = np.broadcast_shapes(A.shape[:k], B.shape[:k])
    A, B = np.broadcast_to(A, outer + A.shape[k:]), np.broadcast_to(B, outer + B.shape[k:])
    pieces = [ss.convolve(A[i], B[i], mode=mode, method="direct") for i in np.ndindex(*outer)]
    out = np.array(pieces).reshape(outer + np.shape(pieces[0]))
    if mode == "same":  # scipy crops every axis to in1's size, centred
        out = out[tuple(slice((n - a.shape[i]) // 2, (n - a.shape[i]) // 2 + a.shape[i])
                        for i, n in zip(other, outer))]
    return np.moveaxis(out, range(k), other)


def _scipy_error(a, b, mode, axes):
    """The ValueError scipy raises for these shapes, or None (fftconvolve's rules with axes)."""
    try:
        if axes is None:
            ss.convolve(np.zeros(a.shape), np.zeros(b.shape), mode=mode, method="direct")
        else:
            ss.fftconvolve(np.zeros(a.shape), np.zeros(b.shape), mode=mode, axes=axes)
    except ValueError as exc:
        return exc
    return None


# -- hypothesis against scipy ------------------------------------------------------------------

#: Multiply-adds the direct reference may spend on one example.
BUDGET = 300_000


@st.composite
def problems(draw):
    """Two shapes of 1-3 dimensions, sizes 1-60 with a bounded total, ``axes`` (None or a subset,
    the other axes broadcast), in either order."""
    nd = draw(st.integers(1, 3))
    s1 = [draw(st.integers(1, 60)) for _ in range(nd)]
    per_axis = max(1, int((BUDGET / np.prod(s1)) ** (1 / nd)))  # the reference's work stays bounded
    s2 = [draw(st.integers(1, min(60, per_axis))) for _ in range(nd)]
    axes = None
    if nd > 1 and draw(st.booleans()):
        axes = tuple(draw(st.permutations(range(nd)))[:draw(st.integers(1, nd))])
        for i in range(nd):
            if i not in axes:  # broadcast: equal, or 1 in one of them
                s2[i] = draw(st.sampled_from([s1[i], 1]))
                if draw(st.integers(0, 3)) == 0:
                    s1[i], s2[i] = 1, s1[i]
        if draw(st.booleans()):
            axes = tuple(i - nd for i in axes)  # negative axes too
    if draw(st.booleans()):
        s1, s2 = s2, s1  # in2 larger than in1
    return tuple(s1), tuple(s2), axes


@given(problem=problems(), mode=st.sampled_from(MODES), correlate=st.booleans(),
       kinds=st.sampled_from(["real", "complex", "complex-in1", "complex-in2"]),
       dtype=st.sampled_from(["float64", "float32"]), method=st.sampled_from(["auto", "direct", "fft"]),
       seed=st.integers(0, 2**16))
def test_matches_scipy(problem, mode, correlate, kinds, dtype, method, seed):
    s1, s2, axes = problem
    rng = np.random.default_rng(seed)
    complex_dtype = {"float64": np.complex128, "float32": np.complex64}[dtype]
    a = random(rng, s1, complex_dtype if kinds in ("complex", "complex-in1") else dtype)
    b = random(rng, s2, complex_dtype if kinds in ("complex", "complex-in2") else dtype)
    expected_error = _scipy_error(a, b, mode, axes)
    f = fftconv.correlate if correlate else fftconv.convolve
    if expected_error is not None:
        with pytest.raises(ValueError):
            f(a, b, mode, method, axes)
        return
    y = f(a, b, mode, method, axes)
    expected = scipy_reference(a, b, mode, axes, correlate)
    assert_close(y, expected, np.result_type(a, b))
    assert y.flags.owndata and y.flags.c_contiguous


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("correlate", [False, True], ids=["convolve", "correlate"])
@pytest.mark.parametrize("shapes", [((40,), (7,)), ((40,), (8,)), ((8,), (40,)), ((25, 30), (6, 5)),
                                    ((6, 5), (25, 30)), ((9, 10, 11), (3, 4, 2)), ((30, 4), (4, 30))],
                         ids=str)
def test_even_and_odd_kernels_both_orders(mode, correlate, shapes, rng):
    a, b = random(rng, shapes[0]), random(rng, shapes[1], np.complex128)
    if _scipy_error(a, b, mode, None):
        with pytest.raises(ValueError, match="mode 'valid' needs one of `in1`"):
            fftconv.convolve(a, b, mode)
        return
    for method in ("auto", "direct", "fft"):
        y = (fftconv.correlate if correlate else fftconv.convolve)(a, b, mode, method)
        assert_close(y, scipy_reference(a, b, mode, None, correlate), np.complex128)


def test_same_mode_is_scipys_centring_not_tensorflows():
    """The issue's trap: for an even kernel, TF's SAME puts the extra pad at the end, scipy's
    "same" at the start."""
    x = np.arange(10.0)
    k = np.array([1.0, 0.0, 0.0, 0.0])  # a 4-tap delay
    np.testing.assert_array_equal(fftconv.convolve(x, k, "same"), ss.convolve(x, k, "same"))
    tf_same = fftconv.conv1d(x[None, :, None], k[:, None, None], padding="SAME", flip=True)[0, :, 0]
    assert not np.array_equal(tf_same, ss.convolve(x, k, "same"))


# -- dtypes --------------------------------------------------------------------------------------

DTYPE_PAIRS = [(np.int8, np.int8), (np.uint8, np.int8), (np.int16, np.int32), (np.int64, np.int64),
               (np.uint8, np.uint8), (bool, bool), (bool, np.int8), (np.float16, np.float16),
               (np.int8, np.float32), (np.float32, np.float64), (np.float32, np.complex64),
               (np.complex64, np.int8), (np.int64, np.float32), (np.float16, np.complex64)]


@pytest.mark.parametrize("d1, d2", DTYPE_PAIRS, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("ndim", [1, 2])
def test_result_dtypes_and_values_are_scipys(d1, d2, ndim, rng):
    """scipy returns ``result_type(in1, in2)``: integers exact and wrapped like its direct sums
    (int8 * int8 overflowing int8), bools as ``!= 0``, float16 as float16."""
    shape1, shape2 = ((40,), (5,)) if ndim == 1 else ((12, 9), (3, 4))
    a = (rng.standard_normal(shape1) * 60).astype(d1)
    b = (rng.standard_normal(shape2) * 60).astype(d2)
    for mode in MODES:
        # scipy's direct N-D method refuses bool and float16; its FFT path casts exactly as documented
        try:
            expected = ss.convolve(a, b, mode, method="direct")
        except ValueError:  # scipy's N-D direct method refuses bool and float16: its FFT path casts
            expected = ss.convolve(a, b, mode, method="fft")
        for method in ("auto", "direct", "fft"):
            y = fftconv.convolve(a, b, mode, method)
            assert y.dtype == expected.dtype
            if y.dtype.kind in "biu":
                np.testing.assert_array_equal(y, expected)
            else:
                exact = scipy_reference(a, b, mode)
                assert_close(y, exact, y.dtype, check_dtype=False)


def test_integers_are_exact_beyond_float32(rng):
    a = rng.integers(-2**20, 2**20, 500)
    b = rng.integers(-2**20, 2**20, 301)
    for method in ("auto", "direct", "fft"):
        np.testing.assert_array_equal(fftconv.convolve(a, b, method=method), np.convolve(a, b))
        np.testing.assert_array_equal(fftconv.correlate(a, b, "same", method=method),
                                      ss.correlate(a, b, "same", method="direct"))


INTEGER_PAIRS = [(np.int8, np.int8), (np.int16, np.int16), (np.int32, np.int32), (np.int64, np.int64),
                 (np.uint8, np.uint8), (np.uint16, np.uint16), (np.uint32, np.uint32), (np.uint64, np.uint64),
                 (np.int32, np.uint16), (np.uint32, np.int8), (np.int64, bool)]


@pytest.mark.parametrize("d1, d2", INTEGER_PAIRS, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_integers_are_scipys_exact_wrapped_sums_beyond_2_to_the_53(d1, d2, ndim, rng):
    """Values over the whole range of the type, so that the exact sums pass ``2**53``: scipy's
    integer result is the exact sum modulo ``2**bits``, and so is fftconv's, for every integer
    type, mode, method, padding and ``axes`` (issue 24: int32 lost it in 2-D)."""
    shape1, shape2 = {1: ((40,), (5,)), 2: ((12, 9), (3, 4)), 3: ((6, 5, 7), (2, 3, 3))}[ndim]

    def full_range(dtype, shape):
        info = np.iinfo(dtype) if dtype is not bool else None
        if info is None:
            return rng.random(shape) < 0.5
        return rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)

    a, b = full_range(d1, shape1), full_range(d2, shape2)
    a.reshape(-1)[0] = np.iinfo(d1).min if d1 is not bool else True  # the most negative value too
    for f, g in ((fftconv.convolve, ss.convolve), (fftconv.correlate, ss.correlate)):
        for mode in MODES:
            expected = g(a, b, mode, method="direct")
            for method in ("auto", "direct", "fft"):
                y = f(a, b, mode, method)
                assert y.dtype == expected.dtype
                np.testing.assert_array_equal(y, expected)
    batch = np.stack([a, a[::-1]])  # axes with a broadcast axis, and pads that are not zeros
    expected = np.stack([ss.convolve(p, b, "same", method="direct") for p in batch])
    np.testing.assert_array_equal(fftconv.convolve(batch, b[None], "same", axes=tuple(range(1, ndim + 1))),
                                  expected)
    if a.dtype.kind in "iu" and np.result_type(a, b).kind in "iu":
        expected = ss.convolve(np.pad(a, [(q - 1 - (q - 1) // 2, (q - 1) // 2) for q in b.shape], "reflect"),
                               b, "valid", method="direct")
        np.testing.assert_array_equal(fftconv.convolve(a, b, "same", padding_mode="reflect"), expected)


def test_int32_example_of_issue_24():
    a = np.array([[2**30 + 1, 3], [1, 1]], np.int32)
    assert fftconv.convolve(a, a)[0, 0] == ss.convolve(a, a)[0, 0] == -2147483647


# -- shapes and arguments -----------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda: (np.ones((4, 5, 6, 7)), np.ones((2, 2, 2, 2)), {}),
    lambda: (np.ones((3, 4, 5, 6, 7)), np.ones((1, 2, 1, 2, 2)), {}),
    lambda: (np.ones((3, 8, 9, 2)), np.ones((3, 3, 4, 1)), {"axes": (1, 2)}),
], ids=["4-d", "5-d-with-unit-axes", "4-d-axes"])
def test_more_than_three_axes(call):
    """At most 3 axes may be convolved (more than one sample in both); the others may be any number."""
    a, b, kw = call()
    axes = kw.get("axes", range(a.ndim))
    conv = [i for i in range(a.ndim) if a.shape[i] > 1 and b.shape[i] > 1 and i in axes]
    if len(conv) > 3:
        with pytest.raises(ValueError, match="at most 3 axes can be convolved"):
            fftconv.convolve(a, b)
    else:
        assert_close(fftconv.convolve(a, b, **kw), scipy_reference(a, b, "full", kw.get("axes")), np.float64)


def test_scalars_and_empty_arrays():
    assert fftconv.convolve(2.0, 3) == ss.convolve(2.0, 3) == 6.0
    assert fftconv.correlate(2.0, 3j) == ss.correlate(2.0, 3j)
    empty = fftconv.convolve(np.ones((0, 3)), np.ones((2, 2)))
    assert empty.shape == (0,) and empty.dtype == np.float64  # as scipy.signal.fftconvolve
    assert fftconv.convolve(np.ones((0, 3), np.float32), np.ones((2, 2), np.float32)).dtype == np.float32


@pytest.mark.parametrize("shapes", [((0, 3), (2, 5), 1), ((0, 3), (2, 5), (1,)), ((3, 0), (5, 2), 0),
                                    ((2, 0, 4), (3, 5, 2), (0, 2)), ((0, 3, 4, 5, 6), (2, 5, 2, 2, 2), None),
                                    ((0, 3), (2, 5), None), ((4, 6), (3, 0), 0)], ids=str)
@pytest.mark.parametrize("mode", MODES)
def test_empty_inputs_give_empty_arrays_whatever_the_other_sizes(shapes, mode):
    """scipy.signal.fftconvolve returns ``[]`` for an empty input before it checks the other
    sizes, with ``axes`` too (issue 24: fftconv raised there)."""
    a_shape, b_shape, axes = shapes
    expected = ss.fftconvolve(np.ones(a_shape), np.ones(b_shape), mode, axes=axes)
    for f in (fftconv.convolve, fftconv.correlate):
        y = f(np.ones(a_shape, np.float32), np.ones(b_shape, np.float32), mode, axes=axes)
        assert y.shape == expected.shape == (0,) and y.dtype == np.float32
    with pytest.raises(ValueError, match="mode"):  # bad values are still refused
        fftconv.convolve(np.ones(a_shape), np.ones(b_shape), "bogus", axes=axes)
    with pytest.raises(ValueError, match="axes"):
        fftconv.convolve(np.ones(a_shape), np.ones(b_shape), mode, axes=len(a_shape))


def test_lists_and_layouts(rng):
    """Lists, non-contiguous, negative-stride, Fortran, big-endian and read-only arrays."""
    a = rng.standard_normal((30, 40))
    b = rng.standard_normal((5, 6))
    expected = scipy_reference(a, b, "same")
    variants = [a.tolist(), a[::-1, ::-1][::-1, ::-1], np.asfortranarray(a), a.astype(">f8")]
    ro = a.copy()
    ro.flags.writeable = False
    variants.append(ro)
    for v in variants:
        assert_close(fftconv.convolve(v, b.tolist(), "same"), expected, np.float64)
    wide = np.zeros((30, 80))
    wide[:, ::2] = a
    assert_close(fftconv.convolve(wide[:, ::2], b, "same"), expected, np.float64)


def test_padding_mode_fills_in1s_pads(rng):
    a, b = rng.standard_normal((20, 30)), rng.standard_normal((5, 4))
    for mode in ("reflect", "symmetric", "wrap", "edge"):
        padded = np.pad(a, ((2, 2), (2, 1)), mode=mode)  # "same": k // 2 before, (k - 1) // 2 after
        expected = ss.convolve(padded, b, "valid", method="direct")
        assert_close(fftconv.convolve(a, b, "same", padding_mode=mode), expected, np.float64)
        full = ss.convolve(np.pad(a, ((4, 4), (3, 3)), mode=mode), b, "valid", method="direct")
        assert_close(fftconv.convolve(a, b, "full", padding_mode=mode), full, np.float64)
        valid = fftconv.convolve(a, b, "valid", padding_mode=mode)  # no pads: the mode changes nothing
        assert_close(valid, ss.convolve(a, b, "valid", method="direct"), np.float64)


def padded_reference(a, b, mode, padding_mode, axes=None, correlate=False):
    """numpy.pad of ``in1`` along ``axes`` (the pads of "full" or of scipy's "same" centring), then
    scipy's "valid": the definition of ``padding_mode``."""
    axes_t = range(a.ndim) if axes is None else [int(i) % a.ndim for i in np.atleast_1d(axes)]
    pads = [(0, 0)] * a.ndim
    for i in axes_t:
        q = b.shape[i]
        pads[i] = (q - 1, q - 1) if mode == "full" else (q - 1 - (q - 1) // 2, (q - 1) // 2)
    return scipy_reference(np.pad(a, pads, mode=padding_mode), b, "valid", axes, correlate)


@pytest.mark.parametrize("shapes", [((1,), (2,)), ((1, 5), (3, 3)), ((6, 1), (3, 4)), ((1, 1, 6), (2, 3, 3)),
                                    ((1, 4), (3, 1)), ((1, 1), (4, 5)), ((3, 1, 7), (3, 4, 3), (1, 2)),
                                    ((2, 1, 7), (1, 4, 3), (1, 2)), ((1, 5, 6, 7), (4, 2, 2, 2))],
                         ids=str)
@pytest.mark.parametrize("padding_mode", ["reflect", "symmetric", "wrap", "edge"])
def test_padding_mode_on_axes_where_in1_has_one_sample(shapes, padding_mode, rng):
    """numpy.pad repeats a lone sample into every pad: those axes are not broadcasts (issue 24)."""
    a_shape, b_shape, *axes = shapes
    axes = axes[0] if axes else None
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    ai, bi = rng.integers(-9, 9, a_shape).astype(np.int32), rng.integers(-9, 9, b_shape).astype(np.int16)
    for f, corr in ((fftconv.convolve, False), (fftconv.correlate, True)):
        for mode in ("full", "same"):
            expected = padded_reference(a, b, mode, padding_mode, axes, corr)
            for method in ("auto", "direct", "fft"):
                y = f(a, b, mode, method, axes, padding_mode=padding_mode)
                assert_close(y, expected, np.float64)
            y = f(ai, bi, mode, axes=axes, padding_mode=padding_mode)
            assert y.dtype == np.int32
            np.testing.assert_array_equal(y, padded_reference(ai, bi, mode, padding_mode, axes, corr))
            holes = a.copy()
            holes.reshape(-1)[0] = np.nan
            filled = padded_reference(np.nan_to_num(holes, nan=0.5), b, mode, padding_mode, axes, corr)
            y = f(holes, b, mode, axes=axes, padding_mode=padding_mode, nan_treatment="fill", fill_value=0.5)
            assert_close(y, filled, np.float64)
            y = f(holes, b, mode, axes=axes, padding_mode=padding_mode)  # propagate: NaN where it is read
            np.testing.assert_array_equal(np.isnan(y), np.isnan(padded_reference(holes, b, mode, padding_mode,
                                                                                 axes, corr)))


def test_a_huge_kernel_in_same_mode_costs_its_overlap():
    """``"same"`` with a kernel 100x the input: only the taps that meet it run."""
    lay = layout((10, 10), (1000, 1000), (0, 1), "same", True)
    assert lay.kernel_taps <= 19 * 19
    small, huge = np.ones((10, 10)), np.random.default_rng(0).standard_normal((1000, 1000))
    y = fftconv.convolve(small, huge, "same", method="direct")
    assert_close(y, ss.fftconvolve(small, huge, "same"), np.float64)


def test_the_larger_array_is_the_engines_input():
    assert layout((20,), (5000,), (0,), "full", True).swapped
    assert not layout((5000,), (20,), (0,), "full", True).swapped
    assert not layout((20,), (5000,), (0,), "full", False).swapped  # reflect pads hold in1's samples
    assert layout((20, 20), (30, 30), (0, 1), "valid", False).swapped  # valid has no pads


def test_layout_arithmetic():
    assert [window(m, 7, 4) for m in MODES] == [(0, 10), (1, 7), (3, 4)]
    # every mode's window, either role: the engine's output size is the window's
    for n, k in [(7, 4), (4, 7), (10, 1), (1, 10), (5, 5)]:
        for mode in MODES:
            start, length = window(mode, n, k)
            if mode == "valid" and n < k:
                continue
            for zeros in (True, False):
                (x0, x1), (u0, u1), (lo, hi) = conv_axis(n, k, start, length, zeros)
                assert (x1 - x0) + lo + hi - (u1 - u0) + 1 == length
                assert min(x0, lo, hi, u0) >= 0 and x1 <= n and u1 <= k


def test_the_planner_sees_batch_and_channels(monkeypatch):
    """A batch of signals with one kernel is one call with N = the batch; a kernel per signal is
    one depthwise call with C channels; scipy's choose_conv_method counts both as conv axes."""
    from fftconv._engine import planner

    seen = []
    real = planner.check_and_plan

    def spy(ndim, input_shape, filters_shape, *args, **kwargs):
        seen.append((ndim, input_shape, filters_shape))
        return real(ndim, input_shape, filters_shape, *args, **kwargs)

    monkeypatch.setattr(planner, "check_and_plan", spy)
    fftconv.convolve(np.ones((8, 1000)), np.ones((1, 51)), axes=1)
    fftconv.convolve(np.ones((1000, 8)), np.ones((51, 8)), "same", axes=0)
    fftconv.convolve(np.ones((6, 64, 64)), np.ones((1, 9, 9)), "same", axes=(1, 2), method="fft")
    assert seen == [(1, (8, 1000, 1), (51, 1, 1)), (1, (1, 1000, 8), (51, 1, 8)),
                    (2, (6, 64, 64, 1), (9, 9, 1, 1))]


def test_numpy_loop_for_tiny_problems_agrees_with_the_engine(rng):
    for dtype in (np.float32, np.float64, np.complex128, np.int32, bool):
        a = (rng.standard_normal(200) * 10).astype(dtype)
        b = (rng.standard_normal(9) * 10).astype(dtype)
        for mode in MODES:
            for f in (fftconv.convolve, fftconv.correlate):
                tiny, engine = f(a, b, mode), f(a, b, mode, method="direct")
                assert tiny.dtype == engine.dtype and tiny.shape == engine.shape
                if tiny.dtype.kind in "biu":
                    np.testing.assert_array_equal(tiny, engine)
                else:
                    assert_close(tiny, engine.astype(np.complex128), tiny.dtype, check_dtype=False)


# -- non-finite values ---------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["auto", "direct", "fft"])
@pytest.mark.parametrize("mode", MODES)
def test_nan_in_either_input_stays_where_it_overlaps(method, mode, rng):
    """As numpy.convolve (scipy's 1-D direct method): a NaN or Inf reaches the outputs whose sum
    multiplies it by a sample of the other array, whichever array it is in and whichever array
    is the engine's input."""
    a, b = rng.standard_normal(300), rng.standard_normal(41)
    a[100], a[5], b[3] = np.nan, np.inf, np.nan
    for x, w in ((a, b), (b, a)):
        for f, g in ((fftconv.convolve, np.convolve), (fftconv.correlate, np.correlate)):
            if mode == "same" and len(x) < len(w):
                continue  # numpy's "same" is not scipy's there
            with np.errstate(invalid="ignore"):
                y, expected = f(x, w, mode, method), g(x, w, mode)
            bad = ~np.isfinite(expected)
            np.testing.assert_array_equal(~np.isfinite(y), bad)  # NaN from the engine, IEEE from numpy's loop
            assert relative_error(y[~bad], expected[~bad]) <= 1e-12


def test_nan_locality_in_two_dimensions_with_broadcasting(rng):
    a = rng.standard_normal((3, 40, 30))
    b = rng.standard_normal((3, 7, 8))
    a[0, 10, 10], b[2, 3, 3] = np.nan, np.nan
    for mode in MODES:
        for method in ("direct", "fft"):
            y = fftconv.convolve(a, b, mode, method, axes=(1, 2))
            clean = scipy_reference(np.nan_to_num(a), np.nan_to_num(b), mode, (1, 2))
            touched = scipy_reference(np.isnan(a).astype(float), np.ones(b.shape), mode, (1, 2)) > 0
            touched |= scipy_reference(np.ones(a.shape), np.isnan(b).astype(float), mode, (1, 2)) > 0
            np.testing.assert_array_equal(np.isnan(y), touched)
            assert relative_error(y[~touched], clean[~touched]) <= 1e-12


# -- nan_treatment -------------------------------------------------------------------------------

def interpolated_reference(x, k, mode, correlate=False, axes=None):
    """``conv(x0, k) / conv(m, k) * sum(k)`` in float64 with scipy, the pads counted as finite:
    ``conv(m, k) = sum(k) - conv(1 - m, k)``; NaN where the weight is zero to rounding."""
    bad = ~np.isfinite(x)
    kk = np.conj(k) if correlate else k
    axes_t = tuple(range(x.ndim)) if axes is None else axes
    sums = _wide(kk).sum(axis=axes_t, keepdims=True)
    num = scipy_reference(np.where(bad, 0, x), k, mode, axes, correlate)
    weight = sums - scipy_reference(bad.astype(float), k, mode, axes, correlate)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / weight * sums
    out[np.abs(weight) <= 1e-9 * np.abs(_wide(k)).sum(axis=axes_t, keepdims=True)] = np.nan
    return out


def _holes(rng, shape, dtype=np.float64, fraction=0.1):
    x = (rng.standard_normal(shape) + 3).astype(dtype)
    x[rng.random(shape) < fraction] = np.nan
    x[tuple(slice(n // 3, n // 3 + max(n // 4, 1)) for n in shape)] = np.nan  # a hole wider than the kernel
    return x


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("correlate", [False, True], ids=["convolve", "correlate"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128], ids=str)
def test_interpolate_is_the_formula(mode, correlate, dtype, rng):
    x = _holes(rng, (60, 50), np.float64).astype(dtype)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(x.shape)
    k = rng.random((7, 6)).astype(dtype)
    expected = interpolated_reference(x, k, mode, correlate)
    f = fftconv.correlate if correlate else fftconv.convolve
    for method in ("direct", "fft"):
        y = f(x, k, mode, method, nan_treatment="interpolate")
        finite = np.isfinite(expected)
        np.testing.assert_array_equal(np.isnan(y), ~finite)
        assert_close(y[finite], expected[finite], dtype)


def test_interpolate_with_broadcasting_and_in1_smaller(rng):
    x = _holes(rng, (3, 30, 25))
    k = rng.random((3, 5, 4))
    expected = interpolated_reference(x, k, "same", axes=(1, 2))
    y = fftconv.convolve(x, k, "same", axes=(1, 2), nan_treatment="interpolate")
    finite = np.isfinite(expected)
    np.testing.assert_array_equal(np.isnan(y), ~finite)
    assert_close(y[finite], expected[finite], np.float64)
    small = rng.standard_normal((5, 4))
    small[1, 2] = np.nan
    big = rng.random((30, 25)) + 0.5j
    for f, corr in ((fftconv.convolve, False), (fftconv.correlate, True)):  # in1 becomes the filters
        for mode in MODES:
            expected = interpolated_reference(small, big, mode, corr)
            assert_close(f(small, big, mode, nan_treatment="interpolate"), expected, np.complex128)


@pytest.mark.parametrize("shape, kshape", [((80, 70), (9, 7)), ((200,), (15,)), ((20, 18, 16), (5, 3, 7))])
def test_interpolate_matches_astropy(shape, kshape, rng):
    """astropy's convolve_fft centres odd kernels as "same" does, and convolves (it does not
    correlate); its pads (boundary="fill", fill_value=0) count as finite, as fftconv's."""
    astropy_convolution = pytest.importorskip("astropy.convolution")
    x = _holes(rng, shape, fraction=0.2)
    k = rng.random(kshape)
    expected = astropy_convolution.convolve_fft(x, k, nan_treatment="interpolate", normalize_kernel=False,
                                                boundary="fill", fill_value=0.0)
    for method in ("direct", "fft"):
        y = fftconv.convolve(x, k, "same", method, nan_treatment="interpolate")
        finite = np.isfinite(y)  # NaN where no finite sample has weight; astropy (min_wt=0) has 0 there
        assert finite.mean() > 0.5
        assert relative_error(y[finite], expected[finite]) <= 1e-12


ASTROPY_BOUNDARIES = {"fill": "constant", "wrap": "wrap", "extend": "edge"}


@pytest.mark.parametrize("shape, kshape", [((60, 50), (5, 7)), ((200,), (9,)), ((14, 12, 10), (3, 5, 3))], ids=str)
@pytest.mark.parametrize("boundary", sorted(ASTROPY_BOUNDARIES))
def test_interpolate_is_astropys_convolve_even_where_no_finite_sample_has_weight(shape, kshape, boundary, rng):
    """astropy.convolution.convolve (direct) with ``normalize_kernel=False``: where a window's finite
    samples have no weight (a kernel whose centre weighs 0, next to NaN) it keeps the input sample
    under the kernel's centre, times ``sum(k)`` (issue 24: fftconv gave NaN there)."""
    astropy_convolution = pytest.importorskip("astropy.convolution")
    x = _holes(rng, shape, fraction=0.3)
    middle = tuple(n // 2 for n in shape)
    x[tuple(slice(m - q // 2, m + q // 2 + 1) for m, q in zip(middle, kshape))] = np.nan
    x[middle] = 7.0  # a finite sample whose window holds nothing else finite
    k = rng.random(kshape) + 0.1
    k[tuple(n // 2 for n in kshape)] = 0.0  # a ring: the centre weighs nothing
    k[tuple(slice(1, None, 2) for _ in kshape)] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # both warn about the NaN left in the widest hole
        expected = astropy_convolution.convolve(x, k, boundary=boundary, fill_value=0.0,
                                                nan_treatment="interpolate", normalize_kernel=False)
        for method in ("direct", "fft"):
            y = fftconv.convolve(x, k, "same", method, nan_treatment="interpolate",
                                 padding_mode=ASTROPY_BOUNDARIES[boundary])
            np.testing.assert_array_equal(np.isnan(y), np.isnan(expected))
            assert relative_error(y[~np.isnan(y)], expected[~np.isnan(y)]) <= 1e-12
        if x.ndim == 2:  # conv2d's SAME, one channel, true convolution: the same rule
            y = fftconv.conv2d(x[None, :, :, None], k[:, :, None, None], padding="SAME", flip=True,
                               padding_mode=ASTROPY_BOUNDARIES[boundary], nan_treatment="interpolate")[0, :, :, 0]
            np.testing.assert_array_equal(np.isnan(y), np.isnan(expected))
            assert relative_error(y[~np.isnan(y)], expected[~np.isnan(y)]) <= 1e-12


def test_interpolate_example_of_issue_24_and_its_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = fftconv.convolve([np.nan, 5, np.nan, 2, 3], [1, 0, 1], "same", nan_treatment="interpolate")
    np.testing.assert_array_equal(y, [5, 10, 7, 6, 2])  # astropy's convolve: the centre sample, times sum(k)
    with pytest.warns(RuntimeWarning, match=r"1 output\(s\) have no finite sample with weight .* stay NaN"):
        y = fftconv.convolve([1.0, np.nan, np.nan, np.nan, 5.0], np.ones(3), "same", nan_treatment="interpolate")
    np.testing.assert_array_equal(np.isnan(y), [False, False, True, False, False])
    with pytest.warns(RuntimeWarning, match="stay NaN") as record:  # no centre ("full"): NaN, and said
        fftconv.convolve([np.nan, 5, np.nan], [1, 0, 1], "full", nan_treatment="interpolate")
    assert record[0].filename == __file__  # attributed to the caller's line
    image = np.ones((1, 6, 6, 1))
    image[0, 1:5, 1:5, 0] = np.nan
    with pytest.warns(RuntimeWarning, match="stay NaN"):
        fftconv.conv2d(image, np.ones((3, 3, 1, 1)), padding="SAME", nan_treatment="interpolate")


def test_interpolate_counts_inf_as_missing_as_astropys_convolve_fft(rng):
    """Inf is missing data, as in astropy's convolve_fft; astropy's direct convolve keeps it."""
    astropy_convolution = pytest.importorskip("astropy.convolution")
    x = rng.standard_normal(50) + 3
    x[[10, 30, 31]] = [np.inf, -np.inf, np.nan]
    k = rng.random(5) + 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # astropy's own, about Inf - Inf
        expected = astropy_convolution.convolve_fft(x, k, nan_treatment="interpolate", normalize_kernel=False,
                                                    boundary="fill", fill_value=0.0)
        direct = astropy_convolution.convolve(x, k, nan_treatment="interpolate", normalize_kernel=False,
                                              boundary="fill", fill_value=0.0)
    y = fftconv.convolve(x, k, "same", nan_treatment="interpolate")
    assert np.isfinite(y).all()
    assert relative_error(y, expected) <= 1e-12
    assert np.isinf(direct[8:13]).all()


def test_interpolate_leaves_outputs_without_nan_exactly_plain(rng):
    x = rng.standard_normal((50, 60))
    k = rng.random((5, 5))
    plain = fftconv.convolve(x, k, "same")
    np.testing.assert_array_equal(fftconv.convolve(x, k, "same", nan_treatment="interpolate"), plain)
    x[25, 30] = np.nan
    for method in ("direct", "fft"):  # the outputs whose window holds no NaN are conv(x0, k), unscaled
        y = fftconv.convolve(x, k, "same", method, nan_treatment="interpolate")
        far = np.ones(y.shape, bool)
        far[23:28, 28:33] = False
        expected = scipy_reference(np.nan_to_num(x), k, "same")
        assert_close(y[far], expected[far], np.float64)
        assert not np.allclose(y[~far], expected[~far], rtol=1e-3)


def test_fill_counts_nan_as_the_fill_value(rng):
    x = _holes(rng, (40, 30))
    k = rng.standard_normal((5, 6))
    for value in (0.0, -2.5):
        filled = np.where(np.isfinite(x), x, value)
        for f, corr in ((fftconv.convolve, False), (fftconv.correlate, True)):
            for mode in MODES:
                y = f(x, k, mode, nan_treatment="fill", fill_value=value)
                assert_close(y, scipy_reference(filled, k, mode, None, corr), np.float64)


def test_interpolate_warns_when_negative_weights_nearly_cancel():
    x = np.array([5.0, np.nan, 1.0, 2.0, 3.0, 4.0])
    k = np.array([1.0, 2.0, -2.001])  # sums to 0.999; the window that misses the 1 weighs -0.001
    with pytest.warns(RuntimeWarning, match="negative or complex weights"):
        fftconv.convolve(x, k, "same", nan_treatment="interpolate")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fftconv.convolve(x, np.abs(k), "same", nan_treatment="interpolate")  # non-negative: no warning


def test_interpolate_refuses_zero_sum_kernels():
    with pytest.raises(ValueError, match="divides by the kernel's sum, but `in2` sums to 0"):
        fftconv.convolve(np.ones(10), np.array([1.0, -2.0, 1.0]), nan_treatment="interpolate")
    with pytest.raises(ValueError, match="divides by the kernel's sum, but `filters` sums to"):
        fftconv.conv2d(np.ones((1, 9, 9, 1)), np.array([1.0, -1.0]).reshape(1, 2, 1, 1),
                       nan_treatment="interpolate")


# -- nan_treatment on the TensorFlow-style functions -----------------------------------------

def conv_interpolated_reference(x, w, **options):
    """The formula with :func:`reference_conv`, per output channel (``sum(k)`` over its taps and
    its group's input channels)."""
    bad = ~np.isfinite(x)
    sums = w.sum(axis=tuple(range(w.ndim - 1)))
    num = reference_conv(np.where(bad, 0, x), w, **options)
    weight = sums - reference_conv(bad.astype(float), w, **options)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / weight * sums
    out[np.abs(weight) <= 1e-9 * np.abs(w).sum(axis=tuple(range(w.ndim - 1)))] = np.nan
    return out


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
@pytest.mark.parametrize("padding_mode", ["constant", "reflect"])
@pytest.mark.parametrize("method", ["direct", "fft"])
def test_conv2d_interpolate_per_channel_group(data_format, padding_mode, method, rng):
    x = _holes(rng, (2, 30, 28, 4))
    w = rng.random((5, 4, 2, 6))  # groups=2: each output channel normalised over its group's 2 inputs
    options = dict(strides=(1, 2), padding=((2, 3), (1, 4)), dilations=(2, 1), padding_mode=padding_mode)
    expected = conv_interpolated_reference(x, w, **options)
    x_in = np.moveaxis(x, -1, 1) if data_format == "NCHW" else x
    y = fftconv.conv2d(x_in, w, data_format=data_format, method=method, nan_treatment="interpolate",
                       **options)
    y = np.moveaxis(y, 1, -1) if data_format == "NCHW" else y
    finite = np.isfinite(expected)
    np.testing.assert_array_equal(np.isnan(y), ~finite)
    assert_close(y[finite], expected[finite], np.float64)
    filled = fftconv.conv2d(x_in, w, data_format=data_format, method=method, nan_treatment="fill",
                            fill_value=1.5, **options)
    filled = np.moveaxis(filled, 1, -1) if data_format == "NCHW" else filled
    assert_close(filled, reference_conv(np.where(np.isfinite(x), x, 1.5), w, **options), np.float64)


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.complex64], ids=str)
def test_depthwise_and_1d_3d_interpolate(dtype, rng):
    x = _holes(rng, (1, 40, 36, 3)).astype(dtype)
    wd = rng.random((5, 5, 3, 2)).astype(np.float32)
    y = fftconv.depthwise_conv2d(x, wd, padding="SAME", nan_treatment="interpolate")
    assert y.dtype == fftconv.depthwise_conv2d(np.nan_to_num(x), wd, padding="SAME").dtype
    wide = np.complex128 if np.dtype(dtype).kind == "c" else np.float64
    expected = conv_interpolated_reference(x.astype(wide), wd.reshape(5, 5, 1, 6).astype(np.float64),
                                           padding=[(2, 2), (2, 2)])
    finite = np.isfinite(expected)
    np.testing.assert_array_equal(np.isnan(y), ~finite)
    assert_close(y[finite], expected[finite], y.dtype)
    x1 = _holes(rng, (2, 300, 2))
    w1 = rng.random((9, 2, 3))
    e1 = conv_interpolated_reference(x1, w1, padding="SAME")
    assert_close(np.nan_to_num(fftconv.conv1d(x1, w1, padding="SAME", nan_treatment="interpolate")),
                 np.nan_to_num(e1), np.float64)
    x3 = _holes(rng, (1, 12, 11, 10, 1))
    w3 = rng.random((3, 2, 3, 1, 2))
    e3 = conv_interpolated_reference(x3, w3, padding="SAME")
    assert_close(np.nan_to_num(fftconv.conv3d(x3, w3, padding="SAME", nan_treatment="interpolate")),
                 np.nan_to_num(e3), np.float64)


def test_propagate_is_the_default_and_unchanged(rng):
    x = _holes(rng, (1, 20, 20, 1))
    w = rng.random((3, 3, 1, 1))
    np.testing.assert_array_equal(fftconv.conv2d(x, w, nan_treatment="propagate"), fftconv.conv2d(x, w))
    clean = rng.standard_normal((1, 20, 20, 1))
    for treatment in ("fill", "interpolate"):  # nothing to treat: the plain call
        np.testing.assert_array_equal(fftconv.conv2d(clean, w, nan_treatment=treatment),
                                      fftconv.conv2d(clean, w))
