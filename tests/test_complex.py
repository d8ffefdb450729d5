"""Complex inputs and filters: every entry point and path, against complex128 references.

fftconv correlates without conjugation, ``y = sum x[i + k] w[k]`` (as torch's
complex convolution does), so ``scipy.signal.correlate(x, conj(w))`` is the
same sum (scipy conjugates its second input). Every method runs complex
convolutions as exact real ones (:mod:`fftconv._engine.complex`), so each path of
:data:`conftest.PATHS` is held to the spec's tolerances: 1e-5 for complex64
and 1e-12 for complex128, against the complex128 naive loop.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
from hypothesis import given
from hypothesis import strategies as st

import fftconv
from fftconv._engine import complex as _complex
from fftconv.testing import reference_conv

from conftest import CONV, PATHS, assert_close, grid, path_plan, random, ref

PLANNERS = {1: fftconv.plan_conv1d, 2: fftconv.plan_conv2d, 3: fftconv.plan_conv3d}

#: What is complex, as (input dtype, filters dtype) of each precision.
KINDS = {
    "input": lambda c, r: (c, r),
    "filters": lambda c, r: (r, c),
    "both": lambda c, r: (c, c),
}
PRECISIONS = {"complex64": (np.complex64, np.float32), "complex128": (np.complex128, np.float64)}

CASES = [
    ("1d-same-groups", (2, 23, 4), (6, 2, 4), dict(padding="SAME")),
    ("1d-strided-dilated", (1, 40, 1), (7, 1, 3), dict(strides=3, dilations=2, padding=[(4, 1)])),
    ("2d-dense", (1, 21, 19, 3), (5, 4, 3, 2), dict(padding="SAME")),
    ("2d-depthwise-strided", (2, 17, 18, 2), (4, 5, 1, 4), dict(strides=(2, 1), padding=((2, 3), (0, 1)))),
    ("2d-large-kernel", (1, 48, 40, 1), (17, 13, 1, 2), dict(padding="SAME", padding_mode="reflect")),
    ("3d", (1, 7, 6, 8, 2), (3, 2, 3, 2, 2), dict(padding="SAME", strides=(1, 1, 2))),
]


CASE_BY_NAME = {c[0]: c for c in CASES}


def _case_plan(path, case, kind, precision):
    """The plan conv*d itself makes for a case (the cheapest embedding), forced onto ``path``; None
    where the path cannot run it."""
    _, x_shape, w_shape, options = CASE_BY_NAME[case]
    x_dtype, w_dtype = KINDS[kind](*PRECISIONS[precision])
    bank = fftconv.FilterBank(np.zeros(w_shape, w_dtype), **options)
    return path_plan(bank.plan_for(x_shape, x_dtype), path[1], path[2])


@pytest.mark.parametrize(*grid(lambda **c: _case_plan(**c) is not None, path=PATHS, case=[c[0] for c in CASES],
                               kind=list(KINDS), precision=list(PRECISIONS)))
def test_complex_matches_the_reference_on_every_path(path, case, kind, precision):
    plan = _case_plan(path, case, kind, precision)
    assert plan is not None
    _, x_shape, w_shape, options = CASE_BY_NAME[case]
    x_dtype, w_dtype = KINDS[kind](*PRECISIONS[precision])
    nd = len(x_shape) - 2
    rng = np.random.default_rng(sum(x_shape) + len(w_shape))
    x, w = random(rng, x_shape, x_dtype), random(rng, w_shape, w_dtype)
    out_dtype = np.dtype(PRECISIONS[precision][0])
    expected = ref(x, w, options.get("strides", 1), options["padding"], options.get("dilations", 1),
                   padding_mode=options.get("padding_mode", "constant"))
    assert plan.embedding == kind and plan.dtype == out_dtype
    assert_close(plan(x, w), expected, out_dtype)
    assert_close(plan.bind(w)(x), expected, out_dtype)
    # a plan_* plan with a complex dtype runs the "both" embedding, real parts included
    both = path_plan(PLANNERS[nd](x_shape, w_shape, dtype=out_dtype, **options), path[1], path[2])
    if both is not None:
        assert both.embedding == "both"
        assert_close(both(x, w), expected, out_dtype)


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("method", ["auto", "direct", "fft"])
def test_scipy_correlate_of_the_conjugated_kernel(kind, method):
    rng = np.random.default_rng(1)
    x_dtype, w_dtype = KINDS[kind](np.complex128, np.float64)
    x, w = random(rng, (300,), x_dtype), random(rng, (41,), w_dtype)
    y = fftconv.conv1d(x[None, :, None], w[:, None, None], method=method)[0, :, 0]
    assert_close(y, scipy.signal.correlate(x, np.conj(w), mode="valid"), np.complex128)
    img, k = random(rng, (40, 37), x_dtype), random(rng, (9, 6), w_dtype)
    y2 = fftconv.conv2d(img[None, ..., None], k[..., None, None], padding=((4, 4), (3, 2)), method=method)
    assert_close(y2[0, ..., 0], scipy.signal.correlate(img, np.conj(k), mode="same"), np.complex128)
    # flip=True: scipy's convolution, no conjugation either
    yc = fftconv.conv1d(x[None, :, None], w[:, None, None], flip=True, padding=[(40, 40)], method=method)
    assert_close(yc[0, :, 0], scipy.signal.convolve(x, w, mode="full"), np.complex128)


def test_torch_complex_convolution_agrees():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x = random(rng, (2, 3, 50), np.complex64)  # NCW
    w = random(rng, (4, 3, 7), np.complex64)   # OIW
    expected = torch.nn.functional.conv1d(torch.from_numpy(x), torch.from_numpy(w), stride=2, padding=3).numpy()
    got = fftconv.conv1d(x, w.transpose(2, 1, 0), strides=2, padding=3, data_format="NCW")
    assert got.dtype == np.complex64
    assert_close(got, expected, np.complex64)


@pytest.mark.parametrize("x_dtype, w_dtype, expected", [
    (np.complex64, np.float32, np.complex64),
    (np.complex64, np.float16, np.complex64),
    (np.float16, np.complex64, np.complex64),
    (np.complex64, np.complex64, np.complex64),
    (np.complex64, np.float64, np.complex128),
    (np.float32, np.complex128, np.complex128),
    (np.complex64, np.int8, np.complex128),
    (np.uint8, np.complex64, np.complex128),
    (np.complex64, np.bool_, np.complex128),
    (np.complex128, np.complex64, np.complex128),
], ids=str)
def test_dtype_promotion(x_dtype, w_dtype, expected):
    rng = np.random.default_rng(3)
    x = random(rng, (1, 12, 11, 2), np.complex128)
    w = random(rng, (3, 4, 2, 2), np.complex128)
    x = (x * 3).astype(x_dtype) if np.dtype(x_dtype).kind == "c" else (x.real * 3).astype(x_dtype)
    w = (w * 3).astype(w_dtype) if np.dtype(w_dtype).kind == "c" else (w.real * 3).astype(w_dtype)
    for method in ("direct", "fft"):
        y = fftconv.conv2d(x, w, padding="SAME", method=method)
        assert y.dtype == expected
        assert_close(y, ref(x, w, padding="SAME"), expected)


@pytest.mark.parametrize("entry", ["conv1d", "conv3d", "depthwise", "plan-depthwise", "bank", "nchw", "dask",
                                   "measure"])
def test_every_entry_point_takes_complex(entry):
    rng = np.random.default_rng(4)
    x = random(rng, (2, 13, 11, 2), np.complex128)
    w = random(rng, (5, 4, 2, 3), np.complex128)
    wd = random(rng, (5, 4, 2, 2), np.complex128)
    expected = ref(x, w, 1, "SAME", padding_mode="symmetric")
    options = dict(padding="SAME", padding_mode="symmetric")
    if entry == "conv1d":
        got, expected = fftconv.conv1d(x[:, 0], w[0], **options), ref(x[:, 0], w[0], 1, "SAME",
                                                                        padding_mode="symmetric")
    elif entry == "conv3d":
        got, expected = fftconv.conv3d(x[:, None], w[None], **options), ref(x[:, None], w[None], 1, "SAME",
                                                                              padding_mode="symmetric")
    elif entry == "depthwise":
        got = fftconv.depthwise_conv2d(x, wd, **options)
        expected = ref(x, wd.reshape(5, 4, 1, 4), 1, "SAME", padding_mode="symmetric")
    elif entry == "plan-depthwise":
        plan = fftconv.plan_depthwise_conv2d(x.shape, wd.shape, dtype="complex128", **options)
        got = plan(x, wd.reshape(plan.filters_shape))
        expected = ref(x, wd.reshape(5, 4, 1, 4), 1, "SAME", padding_mode="symmetric")
    elif entry == "bank":
        bank = fftconv.FilterBank(w, **options)
        got = bank(x)
        real = bank(x.real)  # the same bank, another embedding
        assert_close(real, ref(x.real, w, 1, "SAME", padding_mode="symmetric"), np.complex128)
        assert len(bank._bound) == 2
    elif entry == "nchw":
        got = np.moveaxis(fftconv.conv2d(np.moveaxis(x, -1, 1), w, data_format="NCHW", **options), 1, -1)
    elif entry == "dask":
        da = pytest.importorskip("dask.array")
        fdask = pytest.importorskip("fftconv.dask")
        lazy = fdask.conv2d(da.from_array(x, chunks=(1, 5, 4, 1)), w, **options)
        assert lazy.dtype == np.complex128
        got = lazy.compute()
    else:
        got = fftconv.conv2d(x.astype(np.complex64), w.astype(np.complex64), measure=True, **options)
        assert got.dtype == np.complex64
        assert_close(got, expected, np.complex64)
        return
    assert_close(got, expected, np.complex128)


def test_memory_layouts():
    rng = np.random.default_rng(5)
    base = random(rng, (3, 30, 26, 4), np.complex128)
    w = random(rng, (5, 5, 2, 4), np.complex64)
    for x in (base[:, ::-2, 1::2], np.asfortranarray(base), base.astype(">c16"), base[..., ::2],
              np.broadcast_to(base[:1], base.shape), base[:1], base[1:2, ::3]):
        before = x.copy()
        for method in ("direct", "fft"):
            y = fftconv.conv2d(x, w, padding="SAME", padding_mode="reflect", method=method, groups=x.shape[-1] // 2)
            assert y.dtype == np.complex128 and y.flags.owndata and y.flags.c_contiguous
            assert_close(y, ref(np.asarray(x), w, 1, "SAME", padding_mode="reflect"), np.complex128)
        np.testing.assert_array_equal(x, before)


def _nonfinite_plan(path):
    return path_plan(fftconv.plan_conv2d((1, 30, 27, 2), (9, 7, 1, 2), padding="SAME", dtype="complex128"),
                     path[1], path[2])


@pytest.mark.parametrize(*grid(lambda path, part, bad: _nonfinite_plan(path) is not None, path=PATHS,
                               part=["real", "imag"], bad=[np.nan, np.inf]))
def test_nonfinite_in_either_part_stays_local_on_every_path(path, part, bad):
    rng = np.random.default_rng(6)
    x = random(rng, (1, 30, 27, 2), np.complex128)
    w = random(rng, (9, 7, 1, 2), np.complex128)
    plan = _nonfinite_plan(path)
    assert plan is not None
    if part == "real":
        x[0, 10, 13, 1] = complex(bad, 0.5)
    else:
        x[0, 10, 13, 1] = complex(0.5, bad)
    y = plan(x, w)
    mask = ~np.isfinite(x)
    touched = reference_conv(mask.astype(float), np.ones((9, 7, 1, 2)), padding="SAME") > 0
    clean = reference_conv(np.where(mask, 0, x), w, padding="SAME")
    assert touched.any() and not touched.all()
    assert not np.isfinite(y[touched]).any()
    assert_close(y[~touched], clean[~touched], np.complex128)


def test_integer_input_with_complex_filters():
    rng = np.random.default_rng(7)
    x = rng.integers(-1000, 1000, (1, 40, 1), dtype=np.int32)
    w = random(rng, (9, 1, 2), np.complex64)
    for method in ("direct", "fft"):
        y = fftconv.conv1d(x, w, padding="SAME", method=method)
        assert y.dtype == np.complex128
        assert_close(y, ref(x, w, 1, "SAME"), np.complex128)


@pytest.mark.parametrize("method", ["direct", "fft"])
def test_complex_large_dynamic_range_under_auto(method):
    """The guards work on the embedded real arrays: a huge value in the imaginary part."""
    rng = np.random.default_rng(8)
    x = (1000 + 100 * random(rng, (1, 60, 70, 1), np.complex64)).astype(np.complex64)
    x[0, 20:24, 30:35] = 1j * 3e36
    w = np.full((9, 9, 1, 1), 1 / 81, np.complex64)
    y = fftconv.conv2d(x, w, padding="SAME", method=method)
    assert np.isfinite(y).all()
    far = np.ones(y.shape, bool)
    far[0, 12:32, 22:43] = False
    assert_close(y[far], reference_conv(x, w, padding="SAME")[far], np.complex64)


def test_embedding_round_trip_is_exact():
    """The embeddings on one tap and one sample: exactly the complex product."""
    x = np.array([[[1.5 - 2j]]])
    w = np.array([[[0.25 + 3j]]])
    for kind, (xx, ww) in {"input": (x, w.real), "filters": (x.real, w), "both": (x, w)}.items():
        geom = fftconv.plan_conv1d(xx.shape, ww.shape, dtype="complex128").geometry
        run = _complex.embedded_geometry(geom, kind)
        xe = _complex.embed_input(xx, kind)
        we = _complex.embed_filters(ww, kind, 1, np.float64)
        assert xe.shape == run.input_shape and we.shape == run.filters_shape
        ye = np.einsum("nwc,wco->nwo", xe, we)
        assert _complex.combine(ye, kind, np.complex128)[0, 0, 0] == (xx * ww)[0, 0, 0]


@given(st.integers(1, 3), st.sampled_from(list(KINDS)), st.integers(0, 2**32 - 1))
def test_fft_equals_direct_for_random_complex_shapes(nd, kind, seed):
    rng = np.random.default_rng(seed)
    spatial = tuple(rng.integers(3, 14 if nd < 3 else 7, nd))
    kernel = tuple(rng.integers(1, min(spatial) + 1, nd))
    groups = int(rng.integers(1, 3))
    x_dtype, w_dtype = KINDS[kind](np.complex128, np.float64)
    x = random(rng, (int(rng.integers(1, 3)), *spatial, 2 * groups), x_dtype)
    w = random(rng, (*kernel, 2, groups * int(rng.integers(1, 3))), w_dtype)
    options = dict(strides=int(rng.integers(1, 3)), padding="SAME",
                   padding_mode=str(rng.choice(["constant", "reflect", "wrap", "edge", "symmetric"])))
    direct = CONV[nd](x, w, method="direct", **options)
    assert_close(direct, ref(x, w, options["strides"], "SAME", padding_mode=options["padding_mode"]),
                 np.complex128)
    assert_close(CONV[nd](x, w, method="fft", **options), direct, np.complex128)
