"""The low-rank method (:mod:`fftconv.methods.lowrank`) on the kernels it is for.

The registry-wide tests (``test_invariants.py``, ``test_semantics.py``,
``test_planner.py``, ...) run ``"lowrank"`` like every method, mostly on
random kernels, which it runs with exact factors. Here it meets the kernels
whose rank it truncates (Gaussians, boxes, differences of Gaussians, Gabor
filters, banks and 3-D Gaussians), against the naive float64 reference and
scipy; the stated truncation bound; integer kernels and inputs; NaN and Inf
locality where factors hold exact zeros; and the planner's choice, made only
when the filters are bound, explained in the bound plan's report and cached
with the filters' content.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

import fftconv
from fftconv._checks import check_geometry
from fftconv._engine import planner as _planner
from fftconv._engine import spectra as _spectra
from fftconv.methods import _lines, lowrank
from fftconv.testing import reference_conv, relative_error

from conftest import assert_close, ref


def _g1(k, sigma):
    a = np.exp(-0.5 * ((np.arange(k) - (k - 1) / 2) / sigma) ** 2)  # symmetric for even k too
    return a / a.sum()


def _kernel(name, k=15):
    """A ``(k, k)`` kernel of a family the method is for."""
    yy, xx = np.mgrid[-(k // 2):k // 2 + 1, -(k // 2):k // 2 + 1]
    if name == "gauss":
        return np.outer(_g1(k, k / 6), _g1(k, k / 6))
    if name == "gauss-aniso":
        return np.outer(_g1(k, k / 8), _g1(k, k / 4))
    if name == "dgauss":  # a derivative of a Gaussian: one factor antisymmetric
        return np.outer(_g1(k, k / 6), (np.arange(k) - (k - 1) / 2) * _g1(k, k / 6))
    if name == "box":
        return np.full((k, k), 1.0 / k ** 2)
    if name == "dog":
        return np.outer(_g1(k, k / 10), _g1(k, k / 10)) - np.outer(_g1(k, k / 6), _g1(k, k / 6))
    if name == "gabor":  # diagonal: rank 2 (cos(a + b) = cos a cos b - sin a sin b)
        return np.exp(-(xx ** 2 + yy ** 2) / (2 * (k / 5) ** 2)) * np.cos(2 * np.pi * (xx + yy) / 7)
    raise ValueError(name)


#: The rank the method must find for each family in float32 and in float64 (None: no truncation
#: within the bound; the float64 Gabor filter's cross factors carry ~50 eps of its magnitude, so it
#: runs with exact factors when asked for by name, and by the other methods under ``auto``).
RANKS = {"gauss": (1, 1), "gauss-aniso": (1, 1), "box": (1, 1), "dgauss": (1, 1), "dog": (2, 2),
         "gabor": (2, None)}


def _rank(name, dtype):
    return RANKS[name][np.dtype(dtype) == np.float64]


@pytest.fixture
def test_always(monkeypatch):
    """The rank test allowed on calls of any size (it is skipped on small calls, where its cost
    would exceed 2% of the call): ``auto``'s choice can then be tested on small images."""
    monkeypatch.setattr(lowrank, "TEST_BUDGET", 1e9)
    _planner.clear()
    _spectra.clear()
    yield
    _planner.clear()
    _spectra.clear()


def _per_output_ratio(y, x, w, dtype, **options):
    """Worst ratio of an output's error to the direct method's error for that output (floored at
    eps times the output's magnitude sum), the issue's accuracy target."""
    exact = ref(x.astype(np.float64), w.astype(np.float64), **options)
    direct = fftconv.conv2d(x, w, method="direct", **options)
    scale = ref(np.abs(x.astype(np.float64)), np.abs(w.astype(np.float64)), **options)
    floor = np.maximum(np.abs(direct - exact), np.finfo(dtype).eps * scale)
    floor = np.where(floor > 0, floor, np.finfo(np.float64).tiny)
    return float(np.max(np.abs(y - exact) / floor))


# -- the decomposition and its bound ----------------------------------------------------------------

@pytest.mark.parametrize("name", list(RANKS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_the_rank_found_and_the_stated_bound(name, dtype):
    """The smallest rank is found, and at every tap ``|E| <= RHO * eps * (A + FLOOR max|w|)`` with
    ``kappa <= KAPPA_LIMIT``; the truncation then changes no output of any input by more than
    ``RHO kappa eps sum |x| (|w| + FLOOR max|w|)``, nor by more than ``||window||_2 ||E||_F``."""
    w = _kernel(name, 21).astype(dtype)
    eps = float(np.finfo(dtype).eps)
    g = check_geometry((1, 40, 40, 1), (21, 21, 1, 1), 2, 1, "SAME", "NHWC", 1, None, False)
    f = lowrank.decompose(w[..., None, None], g, (0, 1), 8, eps)
    if _rank(name, dtype) is None:
        assert f is None
        return
    assert f is not None and f.ranks == (_rank(name, dtype),)
    assert f.error <= lowrank.RHO and f.kappa <= lowrank.KAPPA_LIMIT
    u, v = f.cores[0][0, 0], f.cores[1][0, :, :, 0]  # (21, r), (r, 21)
    w64 = w.astype(np.float64)
    approx, amp = u @ v, np.abs(u) @ np.abs(v)
    floor = lowrank.FLOOR * np.abs(w64).max()
    assert np.all(np.abs(w64 - approx) <= lowrank.RHO * eps * (amp + floor))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 40, 40, 1)) * np.exp(rng.uniform(-8, 8, (1, 40, 40, 1)))  # a wide range
    opts = dict(strides=(1, 1), padding=[(10, 10), (10, 10)], dilations=(1, 1))
    change = np.abs(reference_conv(x, (w64 - approx)[..., None, None], **opts))
    bound = lowrank.RHO * f.kappa * eps * reference_conv(np.abs(x), (np.abs(w64) + floor)[..., None, None], **opts)
    assert np.all(change <= bound)
    window_l2 = np.sqrt(reference_conv(x * x, np.ones((21, 21, 1, 1)), **opts))
    assert np.all(change <= window_l2 * np.linalg.norm(w64 - approx) * (1 + 1e-12))


def test_full_rank_kernels_are_not_truncated():
    rng = np.random.default_rng(1)
    g = check_geometry((1, 40, 40, 1), (9, 9, 1, 1), 2, 1, "SAME", "NHWC", 1, None, False)
    w = rng.standard_normal((9, 9, 1, 1))
    assert lowrank.decompose(w, g, (0, 1), 4, np.finfo(np.float32).eps) is None
    # a rank-1 kernel plus a perturbation far above float32's rounding keeps its full rank
    w = np.outer(_g1(9, 2), _g1(9, 2))[..., None, None] * (1 + 1e-4 * rng.standard_normal((9, 9, 1, 1)))
    assert lowrank.decompose(w, g, (0, 1), 4, np.finfo(np.float32).eps) is None


def test_integer_kernels_of_rank_one_get_integer_factors():
    g = check_geometry((1, 40, 40, 1), (5, 5, 1, 1), 2, 1, "SAME", "NHWC", 1, None, False)
    sobel = np.outer([1, 4, 6, 4, 1], [-1, -2, 0, 2, 1])[..., None, None]
    f = lowrank.decompose(sobel, g, (0, 1), 4, np.finfo(np.float32).eps)
    assert f.ranks == (1,) and f.integer and f.error == 0
    assert all(np.array_equal(c, np.round(c)) for c in f.cores)
    laplace = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]])[..., None, None]  # rank 2: no integer factors
    g3 = check_geometry((1, 40, 40, 1), (3, 3, 1, 1), 2, 1, "SAME", "NHWC", 1, None, False)
    f = lowrank.decompose(laplace, g3, (0, 1), 4, np.finfo(np.float64).eps)
    assert f is None or not f.integer


# -- results against the reference and scipy ----------------------------------------------------------

OPTIONS = {
    "same": dict(padding="SAME"),
    "valid-strided": dict(strides=(2, 3)),
    "dilated-explicit": dict(dilations=(2, 1), padding=((3, 9), (0, 5))),
    "reflect": dict(padding="SAME", padding_mode="reflect"),
    "wrap-strided": dict(padding="SAME", padding_mode="wrap", strides=2),
}


@pytest.mark.parametrize("options", list(OPTIONS), ids=list(OPTIONS))
@pytest.mark.parametrize("name", list(RANKS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_truncated_kernels_match_the_reference(name, options, dtype, rng):
    opts = OPTIONS[options]
    w = _kernel(name, 13).astype(dtype)[..., None, None]
    x = rng.standard_normal((2, 37, 41, 1)).astype(dtype)
    plan = fftconv.plan_conv2d(x.shape, w.shape, dtype=dtype, method="lowrank", **opts)
    bound = plan.bind(w)
    ranks = bound.plan.settings["lowrank"].ranks
    assert ranks == (_rank(name, dtype),) if _rank(name, dtype) else 2 < ranks[0] <= 13  # truncated where it can be
    y = bound(x)
    assert_close(y, ref(x, w, **opts), dtype)
    assert _per_output_ratio(y, x, w, dtype, **opts) <= 100


@pytest.mark.parametrize("contrast", [1e2, 1e4, 1e8])
@pytest.mark.parametrize("name", ["gauss", "box", "dgauss", "dog"])
def test_every_output_within_100x_of_direct_on_a_wide_range(name, contrast, rng):
    """A faint half next to a bright one, and a bright speck: each output's error within 100x of the
    direct method's own error for that output (floored at eps times its magnitude sum)."""
    x = (1 + 0.1 * rng.standard_normal((1, 96, 96, 1))).astype(np.float32)
    x[:, :, 48:] *= contrast
    x[0, 20, 20, 0] = contrast * 1e3
    w = _kernel(name, 15).astype(np.float32)[..., None, None]
    for options in (dict(padding="SAME"), dict(strides=2)):
        y = fftconv.conv2d(x, w, method="lowrank", **options)
        assert _per_output_ratio(y, x, w, np.float32, **options) <= 100


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("op", ["convolve", "correlate"])
def test_scipy_side_matches_scipy(op, mode, rng):
    a = rng.standard_normal((60, 47))
    w = _kernel("dog", 11)
    y = getattr(fftconv, op)(a, w, mode, method="lowrank")
    expected = getattr(scipy.signal, op)(a, w, mode, method="direct")
    assert relative_error(y, expected) <= 1e-12


def test_entry_points_run_it(rng):
    """Depthwise layers (a Gaussian per channel), banks sharing a basis, 3-D volumes (an outer
    product of three 1-D Gaussians), transposed convolutions, and dask arrays."""
    k = 11
    x = rng.standard_normal((1, 40, 36, 3))
    wd = np.stack([np.outer(_g1(k, s), _g1(k, s)) for s in (1.5, 2, 3)], -1)[:, :, :, None]
    y = fftconv.depthwise_conv2d(x, wd, padding="SAME", method="lowrank")
    assert_close(y, ref(x, wd.reshape(k, k, 1, 3), padding="SAME"), np.float64)
    dog = np.stack([_kernel("dog", k), _kernel("gauss", k), -_kernel("dog", k)], -1)[:, :, :, None]
    bound = fftconv.plan_conv2d(x.shape, (k, k, 1, 3), padding="SAME", groups=3, dtype=np.float64,
                                method="lowrank").bind(dog.reshape(k, k, 1, 3))
    assert bound.plan.settings["lowrank"].ranks == (2,) and "as 2 rank-1 chains" in repr(bound)
    assert_close(bound(x), ref(x, dog.reshape(k, k, 1, 3), padding="SAME"), np.float64)

    bank = np.stack([np.outer(_g1(k, s), _g1(k, s + 1)) for s in (1, 2, 3, 4)], -1)[:, :, None, :]
    fb = fftconv.FilterBank(bank, padding="SAME", method="lowrank")
    assert_close(fb(x[..., :1]), ref(x[..., :1], bank, padding="SAME"), np.float64)

    g3 = np.einsum("i,j,k->ijk", _g1(7, 1.5), _g1(5, 1), _g1(7, 2))[..., None, None].astype(np.float32)
    v = rng.standard_normal((1, 17, 14, 19, 1)).astype(np.float32)
    bound = fftconv.plan_conv3d(v.shape, g3.shape, padding="SAME", method="lowrank").bind(g3)
    assert bound.plan.settings["lowrank"].ranks == (1, 1)
    assert_close(bound(v), ref(v, g3, padding="SAME"), np.float32)

    w = _kernel("gauss", 9)[..., None, None]
    yt = fftconv.conv2d_transpose(x[..., :1], w, (1, 80, 72, 1), strides=2, padding="SAME", method="lowrank")
    yt_direct = fftconv.conv2d_transpose(x[..., :1], w, (1, 80, 72, 1), strides=2, padding="SAME",
                                         method="direct")
    assert relative_error(yt, yt_direct) <= 1e-12

    da = pytest.importorskip("dask.array")
    fdask = pytest.importorskip("fftconv.dask")
    xd = da.from_array(rng.standard_normal((1, 90, 80, 1)), chunks=(1, 45, 40, 1))
    yd = fdask.conv2d(xd, w, padding="SAME", method="lowrank").compute()
    assert_close(yd, ref(xd.compute(), w, padding="SAME"), np.float64)


# -- trust rules where the factors have exact zeros ---------------------------------------------------

ZERO_FACTORS = {
    # a factor with zeros inside: the window still holds those taps
    "holes": np.outer([1.0, 0.0, 2.0, 0.0, 1.0], [0.0, 3.0, 0.0, 1.0, 0.0, 0.5, 0.0]),
    # rank 2 whose terms have disjoint supports (the corners only)
    "corners": np.outer([1, 0, 0, 0, 1], [1, 0, 0, 0, 0, 0, 0]) + np.outer([0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 2]),
    "gauss": _kernel("gauss", 7)[1:6],
    # antisymmetric along one axis, symmetric along the other: mirrored taps are summed first
    "dgauss": _kernel("dgauss", 7),
}


@pytest.mark.parametrize("name", list(ZERO_FACTORS))
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("options", [dict(padding="SAME"), dict(strides=(2, 3), padding="SAME"),
                                     dict(dilations=(2, 1))], ids=["same", "strided", "dilated"])
def test_nonfinite_values_reach_exactly_their_windows(name, bad, options, rng):
    """A NaN or Inf reaches exactly the outputs whose window holds it (whatever the tap's weight,
    as the direct method's IEEE sums), and every other output equals the reference."""
    w = ZERO_FACTORS[name][..., None, None].astype(np.float64)
    x = rng.standard_normal((1, 30, 33, 1))
    x[0, 11, 14, 0] = bad
    x[0, 0, 32, 0] = bad  # at a corner
    x[0, 20, 3, 0] = 0.0 * bad if np.isnan(bad) else bad
    y = fftconv.conv2d(x, w, method="lowrank", **options)
    reached = ref((~np.isfinite(x)).astype(float), np.ones_like(w), **options) > 0
    np.testing.assert_array_equal(~np.isfinite(y), reached)
    clean = ref(np.where(np.isfinite(x), x, 0), w, **options)
    assert relative_error(y[~reached], clean[~reached]) <= 1e-12
    direct = fftconv.conv2d(x, w, method="direct", **options)
    np.testing.assert_array_equal(np.isfinite(direct), np.isfinite(y))


def test_exact_zeros_stay_exact(rng):
    x = rng.standard_normal((1, 40, 40, 1)).astype(np.float32)
    x[:, 10:30, 10:30] = 0
    w = _kernel("dog", 9).astype(np.float32)[..., None, None]
    y = fftconv.conv2d(x, w, padding="SAME", method="lowrank")
    assert np.all(y[:, 14:26, 14:26] == 0)


def test_huge_values_come_back_finite(rng):
    """Finite values whose window sums are finite but whose passes' intermediates would overflow."""
    w = np.outer([1e-30, 1.0, 1e-30], [1e30, 1e30, 1e30]).astype(np.float32)[..., None, None]
    x = rng.standard_normal((1, 20, 20, 1)).astype(np.float32)
    x[0, 5, 5, 0] = 3e38
    y = fftconv.conv2d(x, w, padding="SAME", method="lowrank")
    exact = ref(x.astype(np.float64), w.astype(np.float64), padding="SAME")
    finite = np.abs(exact) < np.finfo(np.float32).max
    assert np.all(np.isfinite(y[finite]))
    assert relative_error(y[finite], exact[finite]) <= 1e-5


@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.uint8])
def test_integers_are_exact(dtype, rng, test_always):
    """Integer kernels of rank 1 run with integer factors; any other integer kernel never takes a
    rounded factorisation: the integer guard runs the direct method."""
    x = rng.integers(0, 100, (1, 64, 64, 1)).astype(dtype)
    binomial = np.outer([1, 6, 15, 20, 15, 6, 1], [1, 4, 6, 4, 1, 0, -1]).astype(np.int32)[..., None, None]
    laplace = np.array([[1, 2, 1], [2, -12, 2], [1, 2, 1]], np.int32)[..., None, None]
    for w, method in ((binomial, "lowrank"), (laplace, "direct")):
        for asked in ("auto", "lowrank"):
            bound = fftconv.plan_conv2d(x.shape, w.shape, padding="SAME", dtype=np.float64,
                                        method=asked).bind(w)
            y = bound(x)
            np.testing.assert_array_equal(y, ref(x, w, padding="SAME"))
            if bound.plan.method == "lowrank":
                assert bound.last_run["method"] == method
    # a float kernel that is a rank-1 integer one in disguise is exact too
    y = fftconv.conv2d(x, binomial.astype(np.float64), padding="SAME", method="lowrank")
    np.testing.assert_array_equal(y, ref(x, binomial, padding="SAME"))


def test_inputs_are_not_modified_and_results_are_owned(rng):
    x = rng.standard_normal((1, 30, 30, 1)).astype(np.float32)
    w = _kernel("gauss", 9).astype(np.float32)[..., None, None]
    x0, w0 = x.copy(), w.copy()
    bound = fftconv.plan_conv2d(x.shape, w.shape, padding="SAME", method="lowrank").bind(w)
    y1, y2 = bound(x), bound(x[::-1].copy())
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(w, w0)
    assert y1.flags.owndata and y2.flags.owndata and not np.shares_memory(y1, y2)


# -- the planner's choice, at binding ------------------------------------------------------------------

#: ``auto``'s choice on these small images rests on the compiled passes (numba; without it the
#: passes run numpy's per-tap loops, which the FFT beats there).
needs_compiled_passes = pytest.mark.skipif(
    not _lines.HAVE_NUMBA, reason="needs numba's compiled passes (not installed, or FFTCONV_DISABLE turns them off)")


@needs_compiled_passes
def test_plans_stay_shape_only_and_binding_chooses(test_always, rng):
    x = rng.standard_normal((1, 256, 256, 1)).astype(np.float32)
    w = _kernel("gauss", 31).astype(np.float32)[..., None, None]
    plan = fftconv.plan_conv2d(x.shape, w.shape, padding="SAME")
    assert plan.method != "lowrank" and plan.estimates["lowrank"] == np.inf
    assert "lowrank" not in repr(plan).split("predicted")[1].split("\n")[0]  # unpriced from shapes
    bound = plan.bind(w)
    assert bound.plan.method == "lowrank" and plan.method != "lowrank"  # the plan itself unchanged
    text = repr(bound)
    assert "lowrank    rank 1 (truncation <= " in text and "predicted" in text and "< planned" in text
    assert_close(bound(x), ref(x, w, padding="SAME"), np.float32)
    # a full-rank kernel of the same shape: tested, and the report says why it does not run
    noise = rng.standard_normal(w.shape).astype(np.float32)
    other = plan.bind(noise)
    assert other.plan.method == plan.method
    assert "lowrank    rank above" in repr(other)


@needs_compiled_passes
def test_one_shot_calls_and_banks_choose_it_and_test_once(test_always, rng, monkeypatch):
    calls = []
    decompose = lowrank.decompose
    monkeypatch.setattr(lowrank, "decompose", lambda *a, **k: calls.append(1) or decompose(*a, **k))
    x = rng.standard_normal((1, 200, 200, 1)).astype(np.float32)
    w = _kernel("dog", 31).astype(np.float32)[..., None, None]
    expected = ref(x, w, padding="SAME")
    for _ in range(3):  # the same content in new arrays: the test is kept with the filters' content
        assert_close(fftconv.conv2d(x, w.copy(), padding="SAME"), expected, np.float32)
    assert len(calls) == 1
    bank = fftconv.FilterBank(w, padding="SAME")  # a plan of its own (filters reused): tested once more
    for _ in range(2):
        assert_close(bank(x), expected, np.float32)
    assert len(calls) == 2
    bound = next(iter(bank._bound.values()))
    assert bound.plan.method == "lowrank" and "rank 2 " in repr(bound)
    assert bound.last_run["method"] == "lowrank"


def test_small_calls_are_not_tested_and_say_so():
    """Without the fixture: the rank test's predicted cost is above 2% of a small call."""
    _planner.clear()
    w = _kernel("gauss", 15).astype(np.float32)[..., None, None]
    bound = fftconv.plan_conv2d((1, 64, 64, 1), w.shape, padding="SAME").bind(w)
    assert bound.plan.method != "lowrank"
    assert "lowrank    not tested when bound: " in repr(bound)


@needs_compiled_passes
def test_cancelling_terms_are_not_run_by_auto(test_always, rng):
    """A Laplacian of Gaussian whose taps cross zero: its rank-2 terms cancel there (kappa far
    above the limit), so ``auto`` leaves it to the other methods."""
    k = 31
    yy, xx = np.mgrid[-(k // 2):k // 2 + 1, -(k // 2):k // 2 + 1]
    r2 = (xx ** 2 + yy ** 2) / (2 * 4.0 ** 2)
    w = ((1 - r2) * np.exp(-r2)).astype(np.float32)[..., None, None]
    bound = fftconv.plan_conv2d((1, 256, 256, 1), w.shape, padding="SAME").bind(w)
    assert bound.plan.method != "lowrank"
    assert "terms cancel" in repr(bound) or "rank above" in repr(bound)


def _traced_peak(bound, x) -> int:
    """Bytes tracemalloc saw at the peak of ``bound(x)``, after a first call and with the
    scratch released (so that the traced call makes every buffer it uses)."""
    import tracemalloc

    from fftconv._runtime import scratch as _workspace

    bound(x)
    _workspace.release()
    tracemalloc.start()
    try:
        bound(x)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("name", ["gauss", "dog"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_peak_bytes_bounds_the_traced_peak(name, dtype):
    """A bound plan's ``peak_bytes`` (the rank and the passes known) is an upper bound of what a
    call allocates, within 1.25x of it, here where the terms run fused or as passes of channels."""
    from fftconv._engine.plan import predicted_peak_bytes

    cases = [((1, 800, 700, 1), 1, dict(padding="SAME")),  # one channel: fused row by row
             ((2, 300, 320, 3), 3, dict(padding="SAME", groups=3))]  # depthwise: chains of passes
    for x_shape, channels, options in cases:
        w = np.repeat(_kernel(name, 21)[..., None, None], channels, axis=3).astype(dtype)
        plan = fftconv.plan_conv2d(x_shape, w.shape, dtype=dtype, method="lowrank", **options)
        bound = plan.bind(w)
        x = np.ones(x_shape, dtype)  # in the compute dtype: read in place where the method can
        predicted = predicted_peak_bytes(plan.geometry, "lowrank", bound.plan.settings["lowrank"],
                                         np.dtype(dtype).itemsize, input_as_is=True)
        peak = _traced_peak(bound, x)
        assert peak <= predicted <= 1.25 * peak, (x_shape, predicted / peak)


@pytest.mark.parametrize("options", [dict(padding="SAME"), dict(padding=((20, 3), (40, 2))),
                                     dict(padding=((0, 9), (12, 0)), strides=(3, 2), dilations=(1, 2)),
                                     dict(padding=((30, 30), (45, 45)), strides=50)],
                         ids=["same", "wide-pads", "strided-dilated", "pads-beyond-the-windows"])
@pytest.mark.parametrize("size", [7, 8], ids=["odd", "even"])
@pytest.mark.parametrize("name", ["gauss", "dgauss", "dog", "box"])
def test_zero_pads_are_implied_not_read(name, size, options, rng):
    """Fused terms read a C-contiguous input of the compute dtype as it is, its zero pads implied:
    the same numbers as from the padded copy (read for a non-contiguous view), and the reference's."""
    w = _kernel(name, size).astype(np.float32)[..., None, None]
    x = rng.standard_normal((2, 45, 38, 1)).astype(np.float32)
    bound = fftconv.plan_conv2d(x.shape, w.shape, method="lowrank", **options).bind(w)
    assert bound.plan.settings["lowrank"].fused == _lines.HAVE_NUMBA
    y = bound(x)
    strided = np.empty((2, 45, 38, 2), np.float32)[..., :1]
    strided[...] = x
    np.testing.assert_array_equal(bound(strided), y)
    assert_close(y, ref(x, w, **options), np.float32)
    x[:, 5, 7] = np.nan
    reached = ref((~np.isfinite(x)).astype(float), np.ones_like(w), **options) > 0
    np.testing.assert_array_equal(~np.isfinite(bound(x)), reached)


@pytest.mark.parametrize("options", [dict(padding="SAME"), dict(padding="SAME", padding_mode="reflect"),
                                     dict(padding=((4, 0), (0, 6), (9, 2)), strides=(2, 1, 3), dilations=(1, 2, 1))],
                         ids=["same", "reflect", "strided-dilated"])
def test_3d_rank_one_runs_plane_by_plane(options, rng):
    """A 3-D Gaussian (rank 1x1) runs plane by plane where it has one channel: the reference's
    results, those of the padded copy (a non-contiguous view), NaN reaching exactly its windows."""
    g = [_g1(k, k / 5) for k in (7, 4, 6)]  # odd and even factors
    w = np.einsum("i,j,k->ijk", *g).astype(np.float32)[..., None, None]
    x = rng.standard_normal((2, 19, 17, 21, 1)).astype(np.float32)
    bound = fftconv.plan_conv3d(x.shape, w.shape, method="lowrank", **options).bind(w)
    settings = bound.plan.settings["lowrank"]
    assert settings.ranks == (1, 1) and settings.fused == _lines.HAVE_NUMBA
    y = bound(x)
    assert_close(y, ref(x, w, **options), np.float32)
    view = np.empty((2, 19, 17, 21, 2), np.float32)[..., :1]
    view[...] = x
    np.testing.assert_array_equal(bound(view), y)
    x[0, 9, 3, 15] = np.nan
    reached = ref((~np.isfinite(x)).astype(float), np.ones_like(w), **options) > 0
    np.testing.assert_array_equal(~np.isfinite(bound(x)), reached)


@pytest.mark.parametrize("options", [dict(padding="SAME"), dict(padding="SAME", padding_mode="edge")],
                         ids=["implied-pads", "padded-copy"])
def test_3d_peak_bytes_bounds_the_traced_peak(options):
    from fftconv._engine.plan import predicted_peak_bytes

    g = _g1(9, 2.0)
    w = np.einsum("i,j,k->ijk", g, g, g).astype(np.float32)[..., None, None]
    x = np.ones((1, 64, 70, 60, 1), np.float32)
    bound = fftconv.plan_conv3d(x.shape, w.shape, method="lowrank", **options).bind(w)
    predicted = predicted_peak_bytes(bound.plan.geometry, "lowrank", bound.plan.settings["lowrank"], 4,
                                     input_as_is=True)
    peak = _traced_peak(bound, x)
    assert peak <= predicted <= 1.25 * peak, predicted / peak
