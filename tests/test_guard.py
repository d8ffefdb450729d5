"""The accuracy guard of ``method="auto"`` (issue 23): every output within 100 times the direct
method's own error for that output, whatever the data; exact zeros exact; zero borders cheap.

The direct method's error at an output is taken as the larger of what it measures against a
float64 reference and ``eps`` times the output's ``sum |x| |w|`` over its window (the scale of
its rounding, :doc:`numerics`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fftconv
from fftconv.testing import reference_conv

PLANNERS = {1: fftconv.plan_conv1d, 2: fftconv.plan_conv2d, 3: fftconv.plan_conv3d}
FACTOR = 100


def guarded_fft(x_shape, w_shape, dtype, circular=False, **options):
    """A plan that runs the FFT method under ``auto``'s guards, whatever the planner would pick
    (a folded plan's inner plan, which runs the guards, included)."""
    plan = PLANNERS[len(x_shape) - 2](x_shape, w_shape, dtype=dtype, method="fft", **options)
    inner = getattr(plan, "inner", None)
    runs = plan if inner is None else inner
    if circular:
        from fftconv.methods.fft import circular_layout

        layout = circular_layout(runs.run_geometry, False)
        if layout is None:
            return None
        runs = dataclasses.replace(runs, settings={**runs.settings, "fft": layout})
    runs = dataclasses.replace(runs, requested="auto")
    if inner is None:
        return runs
    return dataclasses.replace(plan, inner=runs, requested="auto", settings=runs.settings)


def precise_conv(x, w, strides=1, padding="VALID", dilations=1, padding_mode="constant"):
    """:func:`fftconv.testing.reference_conv`'s sums in extended precision (``np.longdouble``):
    float64 sums of thousands of taps are themselves off by many float64 ulps, as much as the
    FFT's error on smooth data."""
    nd = w.ndim - 2
    geom = PLANNERS[nd](x.shape, w.shape, dtype=np.float64, strides=strides, padding=padding,
                        dilations=dilations, padding_mode=padding_mode, method="direct").geometry
    xp = np.pad(x.astype(np.longdouble), [(0, 0), *geom.pads, (0, 0)], mode=geom.padding_mode)
    wl = w.astype(np.longdouble)
    y = np.zeros(geom.output_shape, np.longdouble)
    for tap in np.ndindex(*geom.kernel):
        index = [slice(None)] + [slice(t * d, t * d + (o - 1) * s + 1, s) for t, d, o, s in
                                 zip(tap, geom.dilations, geom.out_spatial, geom.strides)]
        patch = xp[tuple(index)]
        for g in range(geom.groups):
            cin = slice(g * geom.group_in, (g + 1) * geom.group_in)
            cout = slice(g * geom.group_out, (g + 1) * geom.group_out)
            y[..., cout] += patch[..., cin] @ wl[tap][:, cout]
    return y


def worst_ratio(y, x, w, direct, **options):
    """The largest ratio over the outputs of ``|y - ref|`` to the direct method's error: the
    larger of what the direct method measures and ``eps * sum |x| |w|`` over the window, with
    the window's zeros counted at the weighted mean magnitude of its non-zero samples (exact
    zeros, such as a frame or a mask, are structure, not faint data: :doc:`numerics`).  An
    output whose window holds only zeros must be exactly 0."""
    ref = precise_conv(x, w, **options)
    ax, aw = np.abs(x.astype(np.float64)), np.abs(w.astype(np.float64))
    scale = reference_conv(ax, aw, **options)
    weight = reference_conv((x != 0).astype(np.float64), aw, **options)  # sum |w| over the non-zeros
    full = aw.reshape(-1, aw.shape[-1]).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(weight > 0, scale * full / weight, 0.0)
    eps = np.finfo(y.dtype).eps
    floor = np.maximum(np.abs(direct - ref), eps * scale).astype(np.float64)
    err = np.abs(y - ref).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(err == 0, 0.0, err / floor)
    return float(ratio.max())


# -- the review's cases (issue 23) ------------------------------------------------------------------

@pytest.mark.parametrize("contrast", [1e8, 1e10, 1e15])
@pytest.mark.parametrize("dilations", [1, 2, (1, 3)])
def test_bright_half_beside_a_faint_half_with_a_6x20_kernel(contrast, dilations):
    """Output (40, 0) reads only the faint columns: float32 FFTs gave 81.92 where direct gives -12.86."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 83, 30, 1))
    x[:, :, 15:] *= contrast
    w = rng.standard_normal((6, 20, 1, 1))
    x32, w32 = x.astype(np.float32), w.astype(np.float32)
    opts = dict(padding="SAME", dilations=dilations)
    direct = fftconv.conv2d(x32, w32, method="direct", **opts)
    for y in (fftconv.conv2d(x32, w32, **opts), guarded_fft(x32.shape, w32.shape, np.float32, **opts)(x32, w32)):
        assert worst_ratio(y, x32, w32, direct, **opts) <= FACTOR


def test_float64_values_whose_squares_overflow_never_pass_the_guard():
    """Values of 1e200 square to inf; the statistics must not turn NaN and let the FFT pass."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 64, 64, 3))
    x[:, :, 32:] *= 1e200
    w = rng.standard_normal((9, 9, 3, 1))
    direct = fftconv.conv2d(x, w, padding="SAME", method="direct")
    for y in (fftconv.conv2d(x, w, padding="SAME"), guarded_fft(x.shape, w.shape, np.float64, padding="SAME")(x, w)):
        assert np.isfinite(y).all()
        assert worst_ratio(y, x, w, direct, padding="SAME") <= FACTOR


def test_float64_calls_are_held_to_float64_precision():
    """1e-6-scale samples beside 1e3-scale ones, 301 taps: auto gave 1.5e-7 of error in the faint
    region where direct gives 1.2e-15."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, 4000, 1)) * 1e-6
    x[:, 2000:] = rng.standard_normal((1, 2000, 1)) * 1e3
    w = rng.standard_normal((301, 1, 1))
    direct = fftconv.conv1d(x, w, padding="SAME", method="direct")
    for y in (fftconv.conv1d(x, w, padding="SAME"), guarded_fft(x.shape, w.shape, np.float64, padding="SAME")(x, w)):
        assert worst_ratio(y, x, w, direct, padding="SAME") <= FACTOR


# -- a property over geometries and data ------------------------------------------------------------

@st.composite
def guard_cases(draw):
    nd = draw(st.integers(1, 3), label="nd")
    size = {1: 120, 2: 40, 3: 10}[nd]
    top = {1: 31, 2: 15, 3: 4}[nd]
    spatial = tuple(draw(st.integers(4, size), label="spatial") for _ in range(nd))
    kernel = tuple(draw(st.integers(2, top), label="kernel") for _ in range(nd))
    strides = tuple(draw(st.integers(1, 3), label="strides") for _ in range(nd))
    dilations = tuple(draw(st.integers(1, 3), label="dilations") for _ in range(nd))
    form = draw(st.sampled_from(["SAME", "VALID", "explicit", "mode", "full"]), label="padding")
    options = dict(strides=strides, dilations=dilations)
    if form in ("SAME", "VALID"):
        options["padding"] = form
    elif form == "full":  # scipy's mode="full": windows at the rims reach a single sample
        options["padding"] = [((k - 1) * d, (k - 1) * d) for k, d in zip(kernel, dilations)]
    else:
        options["padding"] = [(draw(st.integers(0, k)), draw(st.integers(0, k))) for k in kernel]
        if form == "mode":
            options["padding_mode"] = draw(st.sampled_from(["reflect", "symmetric", "wrap", "edge"]))
    if any((n + sum(p) if isinstance(options["padding"], list) else n) < (k - 1) * d + 1
           for n, k, d, p in zip(spatial, kernel, dilations,
                                 options["padding"] if isinstance(options["padding"], list) else [()] * nd)):
        options["padding"] = "SAME"
        options.pop("padding_mode", None)
    groups = draw(st.sampled_from([1, 2]), label="groups")
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    batch = draw(st.integers(1, 2), label="batch")
    dtype = draw(st.sampled_from([np.float32, np.float64]), label="dtype")
    data = draw(st.sampled_from(["halves", "spikes", "zeros", "blocks", "edge"]), label="data")
    contrast = 10.0 ** draw(st.integers(2, 14 if dtype == np.float32 else 60), label="log10 contrast")
    circular = draw(st.booleans(), label="circular")
    seed = draw(st.integers(0, 2**16), label="seed")
    return nd, (batch, *spatial, c_in), (*kernel, c_in // groups, c_out), options, dtype, data, contrast, \
        circular, seed


def make_data(shape, kind, contrast, rng):
    """Bright/faint data: halves along a random axis, sparse bright spikes, a zero frame around
    the data, random blocks of contrasting scale, or a faint strip one to three samples wide
    along one edge."""
    x = rng.standard_normal(shape)
    spatial = shape[1:-1]
    if kind == "edge":
        axis = 1 + rng.integers(len(spatial))
        width = min(shape[axis], int(rng.integers(1, 4)))
        index = [slice(None)] * len(shape)
        index[axis] = slice(0, width) if rng.random() < 0.5 else slice(shape[axis] - width, None)
        x *= contrast
        x[tuple(index)] /= contrast
    elif kind == "halves":
        axis = 1 + rng.integers(len(spatial))
        index = [slice(None)] * len(shape)
        index[axis] = slice(shape[axis] // 2, None)
        x[tuple(index)] *= contrast
    elif kind == "spikes":
        x[rng.random(shape) < 0.03] *= contrast
    elif kind == "zeros":
        index = [slice(None)] + [slice(n // 4, n - n // 4) for n in spatial] + [slice(None)]
        inner = x[tuple(index)].copy()
        x[...] = 0
        x[tuple(index)] = inner * contrast
    else:
        scale = contrast ** rng.random([max(1, n // 4) for n in spatial])
        for axis, n in enumerate(spatial):
            scale = np.repeat(scale, 4, axis=axis)[(slice(None),) * axis + (slice(0, n),)]
            if scale.shape[axis] < n:
                scale = np.concatenate([scale, np.take(scale, [-1] * (n - scale.shape[axis]), axis=axis)],
                                       axis=axis)
        x *= scale[None, ..., None]
    return x


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(guard_cases())
def test_guarded_ffts_keep_every_output_within_100x_of_direct(case):
    """Random geometries (strides, dilations, padding forms and modes, groups, 1-D to 3-D, tiled
    and circular layouts) with bright/faint, spiky, zero-framed and blocky data."""
    nd, x_shape, w_shape, options, dtype, kind, contrast, circular, seed = case
    rng = np.random.default_rng(seed)
    x = make_data(x_shape, kind, contrast, rng).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    plan = guarded_fft(x_shape, w_shape, dtype, circular=circular, **options)
    if plan is None:
        plan = guarded_fft(x_shape, w_shape, dtype, **options)
    direct = PLANNERS[nd](x_shape, w_shape, dtype=dtype, method="direct", **options)(x, w)
    y = plan(x, w)
    assert worst_ratio(y, x, w, direct, **options) <= FACTOR
    windows = reference_conv((x != 0).astype(np.float64), np.ones_like(w, np.float64), **options)
    assert (y[windows == 0] == 0).all()  # a window of zeros gives exactly 0


# -- windows that reach the input by a few samples (wide pads) --------------------------------------

def test_full_mode_faint_edge_strip():
    """The differential review's miss: a bright image with a faint 3-column strip at its edge,
    a 31x31 box, scipy's "full" mode: the last output column reads the faint column alone,
    while every cell under its window also holds bright samples (relative error 0.27)."""
    img = np.full((256, 256), 1e4, np.float32)
    img[:, -3:] = 1.0
    blur = np.full((31, 31), 1 / 961, np.float32)
    exact = fftconv.convolve(img.astype(np.float64), blur.astype(np.float64), "full", method="direct")
    y = fftconv.convolve(img, blur, "full")
    assert np.max(np.abs(y[:, -1] - exact[:, -1]) / np.abs(exact[:, -1])) < 100 * np.finfo(np.float32).eps


def test_explicit_pads_faint_corner():
    """A 1e-8 corner sample among 1e8-scale ones, pads of 30 around a 31x31 kernel: the corner
    output reads that sample alone (auto gave 266 where the answer is 1.7e-8)."""
    rng = np.random.default_rng(0)
    a = (1e8 * rng.standard_normal((1, 64, 64, 1))).astype(np.float32)
    a[0, 0, 0] = 1e-8
    w = rng.standard_normal((31, 31, 1, 1)).astype(np.float32)
    pads = [(30, 30), (30, 30)]
    bound = fftconv.plan_conv2d(a.shape, w.shape, padding=pads, dtype=np.float32).bind(w)
    y = bound(a)
    direct = fftconv.conv2d(a, w, padding=pads, method="direct")
    assert worst_ratio(y, a, w, direct, padding=pads) <= FACTOR
    assert bound.last_run.get("direct rim boxes", 0) + bound.last_run.get("float64 rim boxes", 0) > 0


def rim_case(seed):
    """A bright image with a faint strip one to five samples wide along one edge, wide pads
    ("full", or explicit pads up to the kernel's size less one), a box or random kernel."""
    rng = np.random.default_rng(seed)
    nd = int(rng.integers(1, 3))
    k = tuple(int(v) for v in rng.integers(5, 42 if nd == 1 else 32, nd))
    sp = tuple(int(max(kk, v)) for kk, v in zip(k, rng.integers(8, 300 if nd == 1 else 90, nd)))
    dtype = np.float32 if rng.random() < 0.6 else np.float64
    if rng.random() < 0.6:
        pad = [(kk - 1, kk - 1) for kk in k]
    else:
        pad = [(int(rng.integers(0, kk)), int(rng.integers(0, kk))) for kk in k]
    x = rng.standard_normal((1, *sp, 1)) if rng.random() < 0.5 else rng.random((1, *sp, 1))
    contrast = 10.0 ** int(rng.integers(2, 8 if dtype == np.float32 else 14))
    x *= contrast
    axis = 1 + int(rng.integers(nd)); width = int(rng.integers(1, 6))
    idx = [slice(None)] * x.ndim
    idx[axis] = slice(0, width) if rng.random() < 0.5 else slice(sp[axis - 1] - width, None)
    x[tuple(idx)] /= contrast
    w = rng.standard_normal((*k, 1, 1)) if rng.random() < 0.5 else np.full((*k, 1, 1), 1.0 / np.prod(k))
    return nd, x.astype(dtype), w.astype(dtype), pad


#: Seeds of :func:`rim_case` on which the guard before the rim check gave errors of 1e2 to 1e13
#: times the direct method's (29 of 1,500 seeds failed then; none now).
RIM_SEEDS = [13, 45, 50, 76, 197, 236, 243, 595, 673, 744, 1234]


def ratio_under_auto(nd, x, w, pad, forced=False):
    """:func:`worst_ratio` of ``auto``'s result with ``padding=pad``: the method the planner picks,
    or with ``forced`` the FFT method under the guards."""
    plan = guarded_fft(x.shape, w.shape, x.dtype, padding=pad) if forced else \
        PLANNERS[nd](x.shape, w.shape, dtype=x.dtype, padding=pad)
    direct = PLANNERS[nd](x.shape, w.shape, dtype=x.dtype, padding=pad, method="direct")(x, w)
    return worst_ratio(plan(x, w), x, w, direct, padding=pad)


@pytest.mark.parametrize("seed", RIM_SEEDS)
def test_faint_edges_beside_wide_pads_keep_the_contract(seed):
    assert ratio_under_auto(*rim_case(seed)) <= FACTOR


def _disc(shape):
    """A disc's weights (ones inside the ellipse inscribed in ``shape``, zeros outside)."""
    g = np.indices(shape)
    centre = [(k - 1) / 2 for k in shape]
    return (sum(((gi - c) / (c + 0.5)) ** 2 for gi, c in zip(g, centre)) <= 1) * 1.0


def zero_case(seed):
    """A bright image (1-D or 2-D) with a region of exact zeros inside it, a faint strip one to
    three samples wide beside the zeros, SAME, VALID or explicit pads, and a random, box or
    disc kernel: windows whose non-zero samples are a few faint ones in cells they share with
    bright samples."""
    rng = np.random.default_rng(seed)
    nd = int(rng.integers(1, 3))
    k = tuple(int(v) for v in rng.integers(5, 42 if nd == 1 else 32, nd))
    sp = tuple(int(max(kk + 4, v)) for kk, v in zip(k, rng.integers(16, 300 if nd == 1 else 90, nd)))
    dtype = np.float32 if rng.random() < 0.6 else np.float64
    r = rng.random()
    pad = "SAME" if r < 0.3 else "VALID" if r < 0.5 else \
        [(int(rng.integers(0, kk)), int(rng.integers(0, kk))) for kk in k]
    x = rng.standard_normal((1, *sp, 1)) if rng.random() < 0.5 else rng.random((1, *sp, 1)) + 0.5
    contrast = 10.0 ** int(rng.integers(2, 8 if dtype == np.float32 else 14))
    x *= contrast
    axis = 1 + int(rng.integers(nd))
    n = sp[axis - 1]
    a = int(rng.integers(0, n // 2))
    b = int(rng.integers(a + 1, n))
    index = [slice(None)] * x.ndim
    index[axis] = slice(a, b)
    x[tuple(index)] = 0
    width = int(rng.integers(1, 4))
    index[axis] = slice(max(0, a - width), a) if (rng.random() < 0.5 and a >= 1) else slice(b, min(n, b + width))
    x[tuple(index)] /= contrast
    kind = rng.integers(3)
    w = rng.standard_normal((*k, 1, 1)) if kind == 0 else \
        np.full((*k, 1, 1), 1.0 / np.prod(k)) if kind == 1 else _disc(k)[..., None, None]
    return nd, x.astype(dtype), w.astype(dtype), pad


#: Seeds of :func:`zero_case` on which the guard before the coverage checks gave errors of 7e4 to
#: 3e11 times the direct method's with the planner's method (5 of 1,500 seeds failed then; none
#: now); with the FFT method forced under the guards, 276 of 1,000 seeds failed then, none now.
ZERO_SEEDS = [4, 50, 304, 338, 373]


@pytest.mark.parametrize("forced", [False, True], ids=["planned", "fft-forced"])
@pytest.mark.parametrize("seed", ZERO_SEEDS)
def test_faint_samples_beside_zeros_inside_the_input_keep_the_contract(seed, forced):
    assert ratio_under_auto(*zero_case(seed), forced=forced) <= FACTOR


#: Seeds of :func:`zero_case` (discs beside explicit pads and zeros) that the coverage checks
#: missed with the FFT method forced, 2e2 to 1e12 times the direct method's error, until the
#: windows of filters with gaps that meet a cell of zeros were judged one by one.
DISC_SEEDS = [85, 143, 403, 765, 893, 953]


@pytest.mark.parametrize("seed", DISC_SEEDS)
def test_discs_beside_zeros_keep_the_contract(seed):
    assert ratio_under_auto(*zero_case(seed), forced=True) <= FACTOR


@pytest.mark.parametrize("seed", ZERO_SEEDS)
def test_the_checks_beside_zeros_keep_the_invariants(seed):
    """The outputs the coverage checks sum again (FFT forced under the guards): the input is left
    as it was, each result owns its memory, and a NaN among the bright samples reaches exactly
    the outputs whose windows hold it."""
    _assert_guard_invariants(*zero_case(seed), ran="coverage outputs")


def _assert_guard_invariants(nd, x, w, pad, ran=None):
    """The FFT method forced under the guards on a generated case: the input is left as it was,
    each result owns its memory (and, given ``ran``, the call's record counts some of it: the
    path under test ran), and a NaN among the bright samples reaches exactly the outputs whose
    windows hold it."""
    from conftest import assert_results_owned

    bound = guarded_fft(x.shape, w.shape, x.dtype, padding=pad).bind(w)
    before = x.copy()
    assert_results_owned(bound, x[:, ::-1].copy(), x)
    np.testing.assert_array_equal(x, before)
    assert ran is None or bound.last_run.get(ran, 0) > 0, bound.last_run
    bright = np.flatnonzero(np.abs(x) == np.abs(x).max())[0]
    poisoned = x.copy()
    poisoned.reshape(-1)[bright] = np.nan
    reached = reference_conv(np.isnan(poisoned).astype(np.float64), np.ones(w.shape), padding=pad) > 0
    np.testing.assert_array_equal(~np.isfinite(bound(poisoned)), reached)


def _bright_image(rng, k, side):
    """``(shape, dtype, pad, contrast, x)``: a bright positive image for a kernel ``k`` (1-D up
    to 300 samples, 2-D up to ``side`` per axis), float32 or float64, SAME, VALID or explicit
    pads, its values 0.5-1.5 times a contrast of 1e2 up to 1e7 (float32) or 1e13."""
    nd = len(k)
    sp = tuple(int(max(kk + 4, v)) for kk, v in zip(k, rng.integers(30, 300 if nd == 1 else side, nd)))
    dtype = np.float32 if rng.random() < 0.6 else np.float64
    r = rng.random()
    pad = "SAME" if r < 0.4 else "VALID" if r < 0.6 else \
        [(int(rng.integers(0, kk)), int(rng.integers(0, kk))) for kk in k]
    contrast = 10.0 ** int(rng.integers(2, 8 if dtype == np.float32 else 14))
    return sp, dtype, pad, contrast, (rng.random((1, *sp, 1)) + 0.5) * contrast


def stamp_case(seed):
    """A bright image (1-D or 2-D) with a faint patch one to two filter supports wide, under a
    filter whose weight rests on far fewer taps than its array: a random, box or disc filter of
    3-9 taps stored at a random place in an array two to five times larger (as a bank of mixed
    sizes stores it), or a Gaussian of sigma 0.6-2 in a stamp of 8-18 sigmas; SAME, VALID or
    explicit pads."""
    rng = np.random.default_rng(seed)
    nd = int(rng.integers(1, 3))
    s = tuple(int(v) for v in rng.integers(3, 10, nd))
    kind = int(rng.integers(4))
    if kind == 3:
        sigma = float(rng.uniform(0.6, 2.0))
        k = tuple(int(2 * int(rng.uniform(4, 9) * sigma) + 1) for _ in range(nd))
        g = np.indices(k).astype(float)
        w = np.exp(-sum((gi - (kk - 1) / 2) ** 2 for gi, kk in zip(g, k)) / (2 * sigma ** 2))
        s = tuple(max(3, int(4 * sigma)) for _ in range(nd))
    else:
        k = tuple(int(ss * rng.uniform(2, 5)) for ss in s)
        inner = rng.standard_normal(s) if kind == 0 else np.ones(s) / np.prod(s) if kind == 1 else _disc(s)
        w = np.zeros(k)
        at = tuple(int(rng.integers(0, kk - ss + 1)) for kk, ss in zip(k, s))
        w[tuple(slice(a, a + ss) for a, ss in zip(at, s))] = inner
    sp, dtype, pad, contrast, x = _bright_image(rng, k, 100)
    patch = tuple(int(rng.integers(ss, 2 * ss + 3)) for ss in s)
    at = tuple(int(rng.integers(0, max(1, n - p))) for n, p in zip(sp, patch))
    x[(0, *(slice(a, a + p) for a, p in zip(at, patch)))] /= contrast
    return nd, x.astype(dtype), w[..., None, None].astype(dtype), pad


#: Seeds of :func:`stamp_case` on which the guard with cells sized from the filters' arrays gave
#: errors of 1e2 to 1e13 times the direct method's (planned: 49 of 1,000 seeds failed then; FFT
#: forced under the guards: 165 of 1,000; none now either way).
STAMP_SEEDS = [3, 32, 44, 140, 177, 306]


@pytest.mark.parametrize("forced", [False, True], ids=["planned", "fft-forced"])
@pytest.mark.parametrize("seed", STAMP_SEEDS)
def test_filters_whose_weight_rests_on_few_taps_keep_the_contract(seed, forced):
    assert ratio_under_auto(*stamp_case(seed), forced=forced) <= FACTOR


def lattice_case(seed):
    """A bright image (1-D or 2-D) whose samples on one lattice (every second or third sample
    per axis, at some phase; everywhere or in a patch) are faint, under a comb: non-zero taps
    2-3 samples apart, 3-11 of them per axis, from a random first tap; SAME, VALID or explicit
    pads."""
    rng = np.random.default_rng(seed)
    nd = int(rng.integers(1, 3))
    step = tuple(int(v) for v in rng.integers(2, 4, nd))
    n = tuple(int(v) for v in rng.integers(3, 12, nd))
    first = tuple(int(v) for v in rng.integers(0, 4, nd))
    k = tuple(f + (nn - 1) * s + 1 + int(rng.integers(0, 3)) for f, nn, s in zip(first, n, step))
    w = np.zeros(k)
    w[tuple(slice(f, f + (nn - 1) * s + 1, s) for f, nn, s in zip(first, n, step))] = rng.random(n) + 0.5
    sp, dtype, pad, contrast, x = _bright_image(rng, k, 90)
    phase = tuple(int(rng.integers(0, s)) for s in step)
    region = tuple(slice(p, None, s) for p, s in zip(phase, step))
    if rng.random() < 0.5:  # a faint patch of the lattice only
        at = [int(rng.integers(0, nn)) for nn in sp]
        size = [int(rng.integers(nn * s, 3 * nn * s)) for nn, s in zip(n, step)]
        region = tuple(slice(a + p, a + p + sz, s) for a, p, sz, s in zip(at, phase, size, step))
    x[(0, *region)] /= contrast
    return nd, x.astype(dtype), w[..., None, None].astype(dtype), pad


#: Seeds of :func:`lattice_case` on which the guard with cells of consecutive samples gave errors
#: of 1e2 to 2e13 times the direct method's (FFT forced under the guards: 203 of 300 seeds failed
#: then; none now).
LATTICE_SEEDS = [0, 9, 15, 21, 44, 66]


@pytest.mark.parametrize("seed", LATTICE_SEEDS)
def test_combs_over_faint_lattices_keep_the_contract(seed):
    assert ratio_under_auto(*lattice_case(seed), forced=True) <= FACTOR


def _eps_d(x, w, **options):
    """``eps * D`` per output, without the ``eps``: the direct sums of ``|x|`` and ``|w|``."""
    return reference_conv(np.abs(x).astype(np.float64), np.abs(w).astype(np.float64), **options)


@pytest.mark.parametrize("dtype,bright", [(np.float32, 1e6), (np.float64, 1e12)])
def test_small_box_stored_in_a_large_array_over_a_dark_patch(dtype, bright):
    """A fresh review's case: the 5x5 box's window reads the dark patch only (exactly 1.0), but
    the cells sized from the 31x31 array mixed the patch with bright samples."""
    rng = np.random.default_rng(0)
    x = (rng.random((1, 100, 100, 1)) + 0.5) * bright
    x[:, 45:54, 45:54] = 1.0  # a 9x9 dark patch
    w = np.zeros((31, 31, 1, 1))
    w[13:18, 13:18] = 1 / 25  # a 5x5 box, zero-padded to 31x31
    x, w = x.astype(dtype), w.astype(dtype)
    y = fftconv.conv2d(x, w, padding="SAME")[0, 49, 49, 0]
    assert abs(y - 1.0) <= FACTOR * np.finfo(dtype).eps * 2


@pytest.mark.parametrize("dtype,bright", [(np.float32, 1e6), (np.float64, 1e12)])
def test_a_bank_of_mixed_sizes_reaches_as_far_as_its_smallest_filter(dtype, bright):
    """The small box shares its cells with a 31x31 filter of the same bank: the cells follow
    the smaller reach."""
    rng = np.random.default_rng(1)
    x = (rng.random((1, 100, 100, 1)) + 0.5) * bright
    x[:, 45:54, 45:54] = 1.0
    w = np.zeros((31, 31, 1, 2))
    w[..., 0, 0] = rng.random((31, 31)) + 0.5  # a broad filter, 0.5-1.5 everywhere
    w[13:18, 13:18, 0, 1] = 1 / 25  # and a 5x5 box
    x, w = x.astype(dtype), w.astype(dtype)
    y = fftconv.conv2d(x, w, padding="SAME")[0, 49, 49, 1]
    assert abs(y - 1.0) <= FACTOR * np.finfo(dtype).eps * 2


def test_narrow_gaussian_in_a_large_stamp_over_a_dark_patch():
    rng = np.random.default_rng(0)
    x = (rng.random((1, 106, 106, 1)) + 0.5) * 1e6
    x[:, 3:13, 42:52] = rng.random((1, 10, 10, 1)) + 0.5  # a 10x10 dark patch, values 0.5-1.5
    g = np.arange(33) - 16.0
    w = np.exp(-(g[:, None] ** 2 + g[None, :] ** 2) / 2)
    w = (w / w.sum())[..., None, None]
    x, w = x.astype(np.float32), w.astype(np.float32)
    y = fftconv.conv2d(x, w, padding="SAME")
    exact = fftconv.conv2d(x.astype(np.float64), w.astype(np.float64), padding="SAME", method="direct")
    patch = (0, slice(5, 11), slice(44, 50), 0)  # outputs whose weight lies on the patch
    scale = _eps_d(x, w, padding="SAME")[patch] * np.finfo(np.float32).eps
    assert (np.abs(y[patch] - exact[patch]) <= FACTOR * np.maximum(scale, np.abs(exact[patch]) * 1e-7)).all()


def test_comb_filter_on_a_mosaic_of_faint_sites():
    """Taps on every other sample over faint sites on every other sample (a Bayer-like mosaic):
    cells of consecutive samples mixed the faint sites with bright ones; cells by residue class
    of the filters' lattice hold the faint sites alone."""
    rng = np.random.default_rng(0)
    x = (rng.random((1, 96, 96, 1)) + 0.5) * 1e6
    x[:, ::2, ::2] /= 1e6  # faint sites
    w = np.zeros((31, 31, 1, 1))
    w[::2, ::2] = rng.random((16, 16, 1, 1)) + 0.5  # taps on the faint sites only
    y = fftconv.conv2d(x, w)
    exact = fftconv.conv2d(x, w, method="direct")
    faint = (slice(None), slice(0, None, 2), slice(0, None, 2))
    scale = _eps_d(x, w)[faint]
    assert (np.abs(y[faint] - exact[faint]) <= FACTOR * np.finfo(np.float64).eps * scale
            + np.abs(exact[faint]) * 1e-15).all()


def mixed_case(seed):
    """A bright image (1-D or 2-D) with one to three faint patches, zero patches or faint lines,
    under sparse random taps, a line at an angle, a ring, a disc or a dense random filter; SAME,
    VALID or explicit pads."""
    rng = np.random.default_rng(seed)
    nd = int(rng.integers(1, 3))
    k = tuple(int(v) for v in rng.integers(3, 40 if nd == 1 else 26, nd))
    kind = int(rng.integers(5))
    if kind == 0:  # sparse random taps
        w = rng.standard_normal(k) * (rng.random(k) < rng.uniform(0.05, 0.5))
    elif kind == 1 and nd == 2:  # a line at an angle
        w = np.zeros(k)
        angle, centre = rng.uniform(0, np.pi), [(kk - 1) / 2 for kk in k]
        for t in np.linspace(-0.5, 0.5, 4 * max(k)):
            i, j = (int(round(c + t * (kk - 1) * f)) for c, kk, f in zip(centre, k, (np.cos(angle), np.sin(angle))))
            if 0 <= i < k[0] and 0 <= j < k[1]:
                w[i, j] = 1
    elif kind == 2:  # a ring (two runs apart, in 1-D)
        g, centre = np.indices(k), [(kk - 1) / 2 for kk in k]
        r = np.sqrt(sum(((gi - c) / (c + 0.5)) ** 2 for gi, c in zip(g, centre)))
        w = ((r <= 1) & (r >= 0.6)) * 1.0
    else:
        w = _disc(k) if kind == 3 else rng.standard_normal(k)
    if not w.any():
        w.flat[0] = 1
    sp = tuple(int(max(kk + 4, v)) for kk, v in zip(k, rng.integers(20, 300 if nd == 1 else 80, nd)))
    dtype = np.float32 if rng.random() < 0.6 else np.float64
    r = rng.random()
    pad = "SAME" if r < 0.35 else "VALID" if r < 0.55 else \
        [(int(rng.integers(0, kk)), int(rng.integers(0, kk))) for kk in k]
    contrast = 10.0 ** int(rng.integers(2, 8 if dtype == np.float32 else 14))
    x = (rng.standard_normal((1, *sp, 1)) if rng.random() < 0.5 else rng.random((1, *sp, 1)) + 0.5) * contrast
    for _ in range(int(rng.integers(1, 4))):  # faint patches, zero patches, faint lines
        at = [int(rng.integers(0, n)) for n in sp]
        size = [int(rng.integers(1, max(2, n // 3))) for n in sp]
        where = [0, *(slice(a, a + z) for a, z in zip(at, size))]
        u = rng.random()
        if u < 0.4:
            x[tuple(where)] /= contrast
        elif u < 0.7:
            x[tuple(where)] = 0
        else:
            axis = int(rng.integers(nd))
            where[1 + axis] = slice(at[axis], at[axis] + 1)
            x[tuple(where)] /= contrast
    return nd, x.astype(dtype), w[..., None, None].astype(dtype), pad


#: Seeds of :func:`mixed_case` (1-D "rings": two runs of taps apart) that the guard with cells
#: as long as the filters' reach missed, 2e3 and 2e12 times the direct method's error (FFT forced
#: under the guards: 2 of 400 seeds failed then; none since the cells follow the runs of taps).
MIXED_SEEDS = [123, 353]


@pytest.mark.parametrize("seed", MIXED_SEEDS)
def test_filters_with_runs_of_taps_apart_keep_the_contract(seed):
    assert ratio_under_auto(*mixed_case(seed), forced=True) <= FACTOR


@pytest.mark.parametrize("case, seed", [("stamp", s) for s in STAMP_SEEDS[:2]] + [("lattice", s) for s in LATTICE_SEEDS[:2]]
                         + [("mixed", s) for s in MIXED_SEEDS] + [("zero", s) for s in DISC_SEEDS[:2]])
def test_the_checks_of_the_reach_keep_the_invariants(case, seed):
    """The cells and windows of the filters' reach (stamps, combs, runs of taps apart, discs
    beside zeros), the FFT method forced under the guards: inputs untouched, results owned, a
    NaN local to its windows."""
    generators = {"stamp": stamp_case, "lattice": lattice_case, "mixed": mixed_case, "zero": zero_case}
    _assert_guard_invariants(*generators[case](seed))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_filter_on_one_input_channel_of_two_reaches_as_far_as_itself(dtype):
    """A fresh review's case: a 5x5 box on input channel 0 beside broad weight on channel 1
    (all zeros there) summed to a full reach when the channels were added up: 1.194 where the
    answer is 1.0987, float32."""
    rng = np.random.default_rng(0)
    x = np.empty((1, 100, 100, 2))
    x[..., 0] = (rng.random((1, 100, 100)) + .5) * (1e6 if dtype == np.float32 else 1e12)
    x[0, 45:52, 45:52, 0] = rng.random((7, 7)) + .5
    x[..., 1] = 0.0
    w = np.zeros((31, 31, 2, 1))
    w[13:18, 13:18, 0, 0] = 1 / 25
    w[..., 1, 0] = 1 / 961
    x, w = x.astype(dtype), w.astype(dtype)
    direct = fftconv.conv2d(x, w, padding="SAME", method="direct")
    assert worst_ratio(fftconv.conv2d(x, w, padding="SAME"), x, w, direct, padding="SAME") <= FACTOR


def _line_over_a_faint_stripe(n, contrast=1e6):
    """A 45-degree line filter (31 taps) over a bright image with a faint stripe 3 samples wide
    along the same diagonal (a motion blur over a faint streak), float32."""
    rng = np.random.default_rng(0)
    x = (rng.random((n, n)) + 0.5) * contrast
    i, j = np.indices((n, n))
    x[np.abs(i - j - 5) <= 1] /= contrast
    return x[None, ..., None].astype(np.float32), (np.eye(31) / 31)[..., None, None].astype(np.float32)


def test_a_line_over_a_faint_stripe_keeps_the_contract():
    """A fresh review's case (1.0815 where the answer is 1.0360): cells one or two samples wide
    follow a line's width on a small image."""
    x, w = _line_over_a_faint_stripe(100)
    direct = fftconv.conv2d(x, w, padding="SAME", method="direct")
    assert worst_ratio(fftconv.conv2d(x, w, padding="SAME"), x, w, direct, padding="SAME") <= FACTOR


def test_a_line_over_a_faint_stripe_on_a_large_image():
    """On 400x400 the cells cannot be as fine as the line (one per eight used points at
    most): every output's |y| is checked instead, and the stripe's outputs summed directly."""
    x, w = _line_over_a_faint_stripe(400)
    direct = fftconv.conv2d(x, w, padding="SAME", method="direct")
    assert worst_ratio(fftconv.conv2d(x, w, padding="SAME"), x, w, direct, padding="SAME") <= FACTOR


def _comb_in_a_bank_over_a_mosaic(n):
    rng = np.random.default_rng(0)
    x = (rng.random((1, n, n, 1)) + 0.5) * 1e6
    x[:, ::2, ::2] /= 1e6
    w = np.zeros((31, 31, 1, 2))
    w[::2, ::2, 0, 0] = rng.random((16, 16)) + 0.5  # the comb, and a box on the whole lattice
    w[..., 0, 1] = 1 / 961
    return x, w


def test_a_comb_in_a_bank_over_a_mosaic_keeps_the_contract():
    """A fresh review's case: a bank's box turned the comb's lattice off (2.3e6 times the direct
    method's error); the comb's runs of one tap make cells of single samples on a small image."""
    x, w = _comb_in_a_bank_over_a_mosaic(96)
    direct = fftconv.conv2d(x, w, padding="SAME", method="direct")
    assert worst_ratio(fftconv.conv2d(x, w, padding="SAME"), x, w, direct, padding="SAME") <= FACTOR


def test_a_comb_in_a_bank_over_a_mosaic_on_a_large_image():
    """A bank's common lattice is every sample, and the comb's single-tap runs ask for cells of
    one sample, too many on 300x300: every output's |y| is checked instead."""
    x, w = _comb_in_a_bank_over_a_mosaic(300)
    direct = fftconv.conv2d(x, w, padding="SAME", method="direct")
    assert worst_ratio(fftconv.conv2d(x, w, padding="SAME"), x, w, direct, padding="SAME") <= FACTOR


def test_outputs_are_checked_one_by_one_where_the_cells_cannot_follow_the_reach():
    """On 200x200 the cells cannot be one sample wide (the line's reach): every output's |y| is
    checked and the faint ones summed directly (at a contrast of 1e12 even float64 transforms
    need it), with the invariants."""
    from fftconv._engine import cells

    x, w = _line_over_a_faint_stripe(200, 1e12)
    bound = fftconv.plan_conv2d(x.shape, w.shape, padding="SAME", dtype=x.dtype).bind(w)
    assert not cells.follows_reach(bound._cells_geometry)
    direct = fftconv.conv2d(x, w, padding="SAME", method="direct")
    assert worst_ratio(bound(x), x, w, direct, padding="SAME") <= FACTOR
    assert bound.last_run.get("unfollowed outputs", 0) > 0, bound.last_run
    _assert_guard_invariants(2, x, w, "SAME", "unfollowed outputs")


def test_cells_are_sized_from_the_taps_that_carry_the_weight():
    """A filter's reach (its weight-carrying taps) sizes the cells: at most half the reach, so
    that a faint region under the weight holds a whole cell; a grid never finer than one cell
    per eight used points (or 2**14 cells)."""
    from fftconv._checks import check_geometry
    from fftconv._engine import cells

    w = np.zeros((31, 31, 1, 1))
    w[13:18, 13:18] = 1.0
    assert cells.reach(w, 2) == ((13, 1, 5, 5),) * 2
    g = check_geometry((1, 100, 100, 1), (31, 31, 1, 1), 2, 1, "SAME", "NHWC", 1, None, False)
    narrow = dataclasses.replace(g, reach=cells.reach(w, 2))
    assert cells.cell_grid(g).members[1:] == (14, 7)
    assert cells.cell_grid(narrow).members[1:] == (3, 3)  # (5 + 1) // 2
    comb = np.zeros((31, 31, 1, 1))
    comb[::2, ::2] = 1.0
    grid = cells.cell_grid(dataclasses.replace(g, reach=cells.reach(comb, 2)))
    assert grid.residues[1:] == (2, 2)  # the comb's lattice: its taps read one residue class
    big = check_geometry((1, 2000, 2000, 1), (31, 31, 1, 1), 2, 1, "SAME", "NHWC", 1, None, False)
    grid = cells.cell_grid(dataclasses.replace(big, reach=((15, 1, 1, 1),) * 2))
    assert np.prod(grid.shape) <= np.prod(big.used_extent) / 8


def test_bound_plans_size_their_cells_from_their_filters_reach():
    w = np.zeros((21, 21, 1, 1), np.float32)
    w[8:13, 8:13] = 1.0
    bound = fftconv.plan_conv2d((1, 64, 64, 1), w.shape, padding="SAME").bind(w)
    assert bound._cells_geometry.reach == ((8, 1, 5, 5),) * 2
    text = bound.explain(np.ones((1, 64, 64, 1), np.float32))
    assert "cells      (3, 3) samples per axis" in text
    assert "reach      the filters' weight per axis: taps 8-12 (5 carry it), taps 8-12 (5 carry it)" in text


def test_faint_column_beside_zeros_inside_the_input():
    """The fresh review's family A: column 34's VALID windows hold zeros and the faint column 64
    only, which shares its cells with samples 1e4 times brighter."""
    rng = np.random.default_rng(1)
    x = np.zeros((1, 128, 128, 1))
    x[:, :, 64:] = 1e4 * (rng.random((1, 128, 64, 1)) + 0.5)
    x[:, :, 64] = 1.0
    x = x.astype(np.float32)
    w = np.full((31, 31, 1, 1), 1 / 31**2, np.float32)
    bound = fftconv.plan_conv2d(x.shape, w.shape).bind(w)
    y = bound(x)
    assert np.abs(y[0, :, 34, 0] - 1 / 31).max() <= 100 * np.finfo(np.float32).eps
    assert bound.last_run["coverage outputs"] > 0, bound.last_run
    assert "beside cells of zeros" in bound.explain(x)


def test_disc_corner_output_beside_explicit_pads():
    """The fresh review's family D: the last output's disc reaches one input sample (of a faint
    column), its other taps on input samples being zeros of the disc."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 82, 86, 1)) * 3.7e4
    x[:, :, -1] /= 3.7e4
    w = _disc((37, 41))[..., None, None]
    pads = [[29, 30], [26, 35]]
    bound = fftconv.plan_conv2d(x.shape, w.shape, padding=pads, dtype=np.float64).bind(w)
    y = bound(x)
    direct = fftconv.conv2d(x, w, padding=pads, method="direct")
    assert worst_ratio(y, x, w, direct, padding=pads) <= FACTOR
    assert bound.last_run["coverage outputs"] > 0, bound.last_run


def test_rim_bands_are_found_only_where_pads_are_wider_than_a_cell():
    """SAME pads never leave a window without a cell of its own (no rim work on ordinary calls);
    "full" pads do, in a band at most a cell wide."""
    from fftconv._engine import cells, coverage

    for k in (5, 9, 15, 21, 31):
        same = PLANNERS[2]((1, 200, 150, 1), (k, k, 1, 1), padding="SAME").geometry
        assert not any(p.any() for p in coverage.partial_windows(same)), k
        full = PLANNERS[2]((1, 200, 150, 1), (k, k, 1, 1), padding=[(k - 1, k - 1)] * 2).geometry
        grid = cells.cell_grid(full)
        for axis, part in enumerate(coverage.partial_windows(full)[1:], start=1):
            hit = np.flatnonzero(part)
            assert (np.minimum(hit, len(part) - 1 - hit) < grid.members[axis]).all(), (k, axis, hit)


# -- exact zeros and zero borders -------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_windows_of_zeros_give_exact_zeros_with_every_method(dtype):
    rng = np.random.default_rng(3)
    x = np.zeros((2, 60, 50, 3), dtype)
    x[:, 20:40, 10:30] = rng.standard_normal((2, 20, 20, 3)) * 1e3
    w = rng.standard_normal((7, 7, 3, 4)).astype(dtype)
    windows = reference_conv((x != 0).astype(np.float64), np.ones_like(w, np.float64), padding="SAME")
    for method in ("auto", "fft", "direct"):
        y = fftconv.conv2d(x, w, padding="SAME", method=method)
        assert (y[windows == 0] == 0).all(), method


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_zero_border_does_not_force_the_direct_method(dtype):
    """The review's trap: a 512x512 image with a 25-pixel zero border and a 41x41 box ran the
    direct method on every call; now the FFT runs in the call's precision, nothing else."""
    rng = np.random.default_rng(4)
    x = np.zeros((1, 512, 512, 1), dtype)
    x[:, 25:-25, 25:-25] = rng.random((1, 462, 462, 1))
    w = np.full((41, 41, 1, 1), 1 / 41**2, dtype)
    bound = fftconv.plan_conv2d(x.shape, w.shape, dtype=dtype, padding="SAME").bind(w)
    assert bound.plan.method == "fft"
    bound(x)
    run = bound.last_run
    assert run["method"] == "fft" and run["dtype"] == dtype, run
    assert run.get("reference outputs", 0) == 0, run
    assert run["zero outputs"] > 0
    assert "last call  ran 'fft'" in repr(bound)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernel", ["box", "normal"])
def test_zero_framed_images_keep_the_contract(dtype, kernel):
    """A smaller zero-framed image (accuracy against extended-precision sums), with a box and a
    kernel of random signs: outputs whose window barely reaches the data stay accurate."""
    rng = np.random.default_rng(6)
    x = np.zeros((1, 96, 80, 2), dtype)
    x[:, 12:-12, 12:-12] = rng.random((1, 72, 56, 2))
    w = np.full((21, 21, 2, 3), 1 / 21**2) if kernel == "box" else rng.standard_normal((21, 21, 2, 3))
    w = w.astype(dtype)
    y = guarded_fft(x.shape, w.shape, dtype, padding="SAME")(x, w)
    direct = fftconv.conv2d(x, w, padding="SAME", method="direct")
    assert worst_ratio(y, x, w, direct, padding="SAME") <= FACTOR


def test_the_plan_says_what_the_guard_chose_and_why():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1, 83, 30, 1)).astype(np.float32)
    x[:, :, 15:] *= 1e8
    w = rng.standard_normal((6, 20, 1, 1)).astype(np.float32)
    bound = guarded_fft(x.shape, w.shape, np.float32, padding="SAME").bind(w)
    bound(x)
    run = bound.last_run
    assert "dynamic-range guard" in run["why"], run
    assert run["worst ratio"] > 1, run
    assert "dynamic-range guard" in repr(bound)
    text = bound.explain(x)
    assert "worst predicted ratio" in text
    ordinary = rng.standard_normal(x.shape).astype(np.float32)
    bound(ordinary)
    assert bound.last_run["why"] == "as planned" and bound.last_run["dtype"] == np.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernel", ["laplacian", "disc", "delta"])
def test_outputs_whose_data_meets_only_zero_taps_are_exact_zeros(dtype, kernel):
    """Filters with zero taps (a Laplacian's and a disc's corners, a delta off the centre): an
    output whose non-zero samples all lie under zero taps is exactly 0, as the direct sums."""
    rng = np.random.default_rng(7)
    x = np.zeros((1, 70, 64, 1), dtype)
    x[:, 15:-15, 15:-15] = 1 + rng.random((1, 40, 34, 1))
    if kernel == "laplacian":
        w = np.zeros((15, 15, 1, 1))
        w[7, :], w[:, 7] = -1, -1
        w[7, 7] = 28
    elif kernel == "disc":
        r = np.hypot(*np.mgrid[-7:8, -7:8])
        w = (r <= 7.0).astype(float)[..., None, None] / 149
    else:
        w = np.zeros((15, 15, 1, 1))
        w[2, 11] = 1
    w = w.astype(dtype)
    y = guarded_fft(x.shape, w.shape, dtype, padding="SAME")(x, w)
    direct = fftconv.conv2d(x, w, padding="SAME", method="direct")
    assert (y[direct == 0] == 0).all()
    assert worst_ratio(y, x, w, direct, padding="SAME") <= FACTOR


@pytest.mark.parametrize("seed", range(8))
def test_zero_windows_in_pieces_match_the_whole(seed, monkeypatch):
    """The compiled zero-window pass cut into pieces along the middle axis (every size made
    worth cutting) finds what one piece and numpy's window sums find."""
    from fftconv._checks import check_geometry
    from fftconv._engine import cells

    if not cells.compiled():
        pytest.skip("needs numba: the pass runs in pieces only compiled")
    monkeypatch.setattr(cells, "MIN_PIECE_SAMPLES", 1)
    rng = np.random.default_rng(seed)
    nd = 1 + seed % 3
    sp = tuple(int(v) for v in rng.integers(6, 40 if nd < 3 else 14, nd))
    k = tuple(int(rng.integers(1, min(9, n) + 1)) for n in sp)
    s, d = tuple(int(v) for v in rng.integers(1, 4, nd)), tuple(int(v) for v in rng.integers(1, 3, nd))
    g = 1 + seed % 2
    geom = check_geometry((2, *sp, 2 * g), (*k, 2, g), nd, s, "SAME", {1: "NWC", 2: "NHWC", 3: "NDHWC"}[nd],
                          d, g, False)
    x = rng.standard_normal((2, *sp, 2 * g)) * (rng.random((2, *sp, 2 * g)) < 0.05)
    taps = [(int(rng.integers(0, kk)), kk) for kk in k] if seed % 4 < 2 else None
    whole = cells.zero_windows(x, geom, taps, 1)
    expected = ~cells.window_any(x, geom, [hi - lo for lo, hi in taps] if taps else None,
                                 [lo * dd for (lo, _), dd in zip(taps, d)] if taps else None)
    np.testing.assert_array_equal(whole, expected)
    for workers in (2, 3):
        np.testing.assert_array_equal(cells.zero_windows(x, geom, taps, workers), whole)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_zero_windows_of_a_narrow_support_match_the_counts(nd):
    """Zero windows of a support narrower than the kernel (a delta off the centre), compiled,
    against summed-area counts; a support of one tap once wrote past the output (3-D, SAME)."""
    from fftconv._engine import cells

    rng = np.random.default_rng(8)
    shape = {1: (2, 30, 2), 2: (1, 12, 11, 2), 3: (1, 7, 6, 8, 2)}[nd]
    x = rng.standard_normal(shape) * (rng.random(shape) < 0.3)
    geom = PLANNERS[nd](shape, (3,) * nd + (2, 2), padding="SAME").geometry
    for taps in ([(1, 2)] * nd, [(0, 1)] * nd, [(2, 3)] * nd, [(0, 3)] * nd):
        kernel = [hi - lo for lo, hi in taps]
        shifts = [lo * d for (lo, _), d in zip(taps, geom.dilations)]
        want = ~cells.window_any(x, geom, kernel, shifts)
        np.testing.assert_array_equal(cells.zero_windows(x, geom, taps), want)


@pytest.mark.parametrize("case", range(6))
def test_numpy_fallbacks_match_the_compiled_passes_slab_by_slab(case, monkeypatch):
    """Without numba the cell statistics and zero windows run in numpy, in slabs of cells and
    blocks of output rows (so that their temporaries stay small: CI's second run measures the
    peak memory of calls made that way).  Here slabs of one cell row and blocks of one output
    row, against the compiled passes: dilation, strides, pads of every mode, groups, 1-3 D."""
    from fftconv._engine import cells
    from fftconv.methods import _compiled

    if not _compiled.HAVE_NUMBA:
        pytest.skip("needs numba (FFTCONV_DISABLE turns the compiled passes off)")
    nd, shape, kernel, options = [
        (1, (3, 50, 2), (7, 2, 2), dict(padding="SAME", dilations=3)),
        (2, (2, 23, 19, 4), (5, 6, 2, 4), dict(padding="VALID", groups=2, padding_mode="reflect")),
        (2, (1, 30, 17, 1), (9, 4, 1, 1), dict(padding=[(8, 2), (0, 5)], strides=(3, 2))),
        (2, (2, 16, 16, 3), (3, 3, 3, 2), dict(padding="SAME", dilations=(2, 3), padding_mode="wrap")),
        (3, (1, 9, 8, 7, 2), (3, 4, 2, 2, 2), dict(padding="SAME", padding_mode="edge")),
        (1, (2, 40, 1), (11, 1, 1), dict(padding=[(10, 10)], strides=4)),
    ][case]
    geom = PLANNERS[nd](shape, kernel, **options).geometry
    rng = np.random.default_rng(case)
    x = rng.standard_normal(shape) * (rng.random(shape) < 0.2)
    x[:, : shape[1] // 2] *= 1e-6
    taps = [(1, k) for k in kernel[:nd]]
    compiled = cells.cell_stats(x, geom), cells.zero_windows(x, geom), cells.zero_windows(x, geom, taps)
    monkeypatch.setattr(cells, "NUMPY_SLAB_SAMPLES", 1)
    monkeypatch.setattr(cells, "NUMPY_SLAB_FRACTION", 0.0)
    monkeypatch.setattr(_compiled, "HAVE_NUMBA", False)
    stats = cells.cell_stats(x, geom)
    for name, want, got in zip("MAZ", compiled[0], stats):
        if name == "Z" and not ((compiled[0][0] == 0) & (cells.sizes(geom)[None, ..., None] > 0)).any():
            continue  # the compiled pass counts every sample where no cell is all zeros
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=0, err_msg=name)
    np.testing.assert_array_equal(cells.zero_windows(x, geom), compiled[1])
    np.testing.assert_array_equal(cells.zero_windows(x, geom, taps), compiled[2])


def test_zero_tap_outputs_with_two_channels_are_exact_zeros():
    """The review's case: the zero taps are per input channel (a sample of one channel under a
    weight of the other used to count), so 672 of 833 exact zeros stayed up to 1.65e-8."""
    rng = np.random.default_rng(0)
    x = np.zeros((1, 58, 88, 2))
    spikes = rng.random(x.shape) < 0.01
    x[spikes] = rng.standard_normal(spikes.sum()) * 10.0 ** rng.uniform(-3, 3, spikes.sum())
    x[0, 30, 40, 0] = 5.3e7
    x = x.astype(np.float32)
    w = (rng.standard_normal((40, 57, 2, 2)) * (rng.random((40, 57, 2, 2)) < 0.1)).astype(np.float32)
    y = fftconv.conv2d(x, w, padding="SAME")
    zero = fftconv.conv2d(np.abs(x).astype(np.float64), np.abs(w).astype(np.float64), padding="SAME",
                          method="direct") == 0  # every non-zero sample of the window meets a zero tap
    assert zero.any() and (y[zero] == 0).all()
