"""``padding_mode``: the pads are filled exactly as :func:`numpy.pad` fills them, on every path.

The reference pads the input with :func:`numpy.pad` itself and runs the naive
float64 loop of :mod:`fftconv.testing` with VALID padding; every path of
:data:`conftest.PATHS` (each method, direct strategy and FFT backend) is held
to the spec's tolerance against it, over 1-D, 2-D and 3-D, strides,
dilations, groups, odd and even kernels, and pads larger than the axis
(numpy's rules then: reflections of reflections, repeated periods).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, note
from hypothesis import strategies as st

import fftconv
from fftconv._shapes.padding import ALIASES, MODES
from fftconv.testing import reference_conv

from conftest import CONV, PATHS, assert_close, grid, path_plan, random, ref

PLANNERS = {1: fftconv.plan_conv1d, 2: fftconv.plan_conv2d, 3: fftconv.plan_conv3d}

#: ``(id, input NDHWC-like shape, filters shape, options)``.
CASES = [
    ("1d-even-kernel-same", (2, 13, 3), (4, 3, 2), dict(padding="SAME")),
    ("1d-pads-larger-than-axis", (1, 5, 2), (3, 2, 3), dict(padding=[(9, 12)])),
    ("1d-stride-dilation-groups", (2, 17, 2), (5, 1, 4), dict(strides=3, dilations=2, padding="SAME")),
    ("1d-one-sample", (1, 1, 1), (3, 1, 2), dict(padding=[(2, 4)])),
    ("2d-odd-even-strided", (1, 11, 9, 2), (5, 4, 2, 3), dict(padding="SAME", strides=(2, 1))),
    ("2d-pads-larger-than-axis", (1, 6, 5, 1), (3, 3, 1, 2), dict(padding=((8, 7), (11, 3)))),
    ("2d-grouped-dilated-strided", (2, 14, 12, 3), (3, 5, 1, 6),
     dict(padding=((2, 3), (4, 1)), dilations=(2, 1), strides=2)),
    ("2d-large-kernel", (1, 40, 36, 2), (15, 12, 2, 2), dict(padding="SAME")),
    ("3d-same-strided", (1, 6, 7, 5, 2), (3, 2, 3, 2, 2), dict(padding="SAME", strides=(1, 2, 1))),
    ("3d-pads-larger-than-axis", (1, 3, 4, 2, 1), (2, 3, 2, 1, 1), dict(padding=((4, 5), (6, 0), (3, 3)))),
]


CASE_BY_NAME = {c[0]: c for c in CASES}


def _case_plan(path, case, mode, dtype):
    _, x_shape, w_shape, options = CASE_BY_NAME[case]
    planner = PLANNERS[len(x_shape) - 2]
    return path_plan(planner(x_shape, w_shape, padding_mode=mode, dtype=dtype, **options), path[1], path[2])


@pytest.mark.parametrize(*grid(lambda **c: _case_plan(**c) is not None, path=PATHS, case=[c[0] for c in CASES],
                               mode=MODES, dtype=[np.float32, np.float64]))
def test_every_mode_matches_np_pad_on_every_path(path, case, mode, dtype):
    plan = _case_plan(path, case, mode, dtype)
    assert plan is not None
    _, x_shape, w_shape, options = CASE_BY_NAME[case]
    rng = np.random.default_rng(len(x_shape) * 100 + sum(w_shape))
    x, w = random(rng, x_shape, dtype), random(rng, w_shape, dtype)
    expected = ref(x, w, options.get("strides", 1), options["padding"], options.get("dilations", 1),
                   padding_mode=mode)
    assert_close(plan(x, w), expected, dtype)
    assert_close(plan.bind(w)(x), expected, dtype)


@pytest.mark.parametrize("mode", MODES)
def test_reference_is_np_pad_then_valid(mode):
    """The reference itself, written out by hand for one small case."""
    x = np.arange(1.0, 5.0).reshape(1, 4, 1)
    padded = np.pad(np.arange(1.0, 5.0), (3, 2), mode=mode)
    w = np.array([1.0, 10.0, 100.0]).reshape(3, 1, 1)
    by_hand = [padded[i] + 10 * padded[i + 1] + 100 * padded[i + 2] for i in range(len(padded) - 2)]
    np.testing.assert_array_equal(reference_conv(x, w, padding=[(3, 2)], padding_mode=mode)[0, :, 0], by_hand)
    np.testing.assert_array_equal(fftconv.conv1d(x, w, padding=[(3, 2)], padding_mode=mode,
                                                 method="direct")[0, :, 0], by_hand)


@pytest.mark.parametrize("alias", list(ALIASES))
@pytest.mark.parametrize("method", ["direct", "fft"])
def test_torch_aliases_are_their_numpy_modes(alias, method):
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 9, 8, 2)), rng.standard_normal((4, 3, 2, 3))
    got = fftconv.conv2d(x, w, padding=((5, 2), (1, 9)), padding_mode=alias, method=method)
    np.testing.assert_array_equal(
        got, fftconv.conv2d(x, w, padding=((5, 2), (1, 9)), padding_mode=ALIASES[alias], method=method))
    assert fftconv.plan_conv2d(x.shape, w.shape, padding=1, padding_mode=alias).padding_mode == ALIASES[alias]


@pytest.mark.parametrize("mode", [*MODES, *ALIASES])
def test_valid_padding_ignores_the_mode(mode):
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((1, 20, 17, 2)), rng.standard_normal((5, 6, 2, 3))
    for method in ("direct", "fft"):
        np.testing.assert_array_equal(fftconv.conv2d(x, w, padding_mode=mode, method=method),
                                      fftconv.conv2d(x, w, method=method))
    plan = fftconv.plan_conv2d(x.shape, w.shape, padding_mode=mode)
    assert plan.padding_mode == "constant" and plan.geometry == fftconv.plan_conv2d(x.shape, w.shape).geometry
    # zero pads written out are VALID too
    assert fftconv.plan_conv2d(x.shape, w.shape, padding=0, padding_mode=mode).padding_mode == "constant"


@pytest.mark.parametrize("torch_mode", ["reflect", "replicate", "circular", "zeros"])
def test_torch_padding_mode_agrees(torch_mode):
    """torch's ``Conv2d(padding_mode=...)``: another library's reading of the same names."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 19, 23)).astype(np.float32)  # NCHW
    w = rng.standard_normal((4, 3, 5, 7)).astype(np.float32)  # OIHW
    conv = torch.nn.Conv2d(3, 4, (5, 7), padding=(2, 3), padding_mode=torch_mode, bias=False, stride=(2, 1))
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(w))
        expected = conv(torch.from_numpy(x)).numpy()
    got = fftconv.conv2d(x, w.transpose(2, 3, 1, 0), strides=(2, 1), padding=(2, 3), data_format="NCHW",
                         padding_mode=torch_mode)
    assert_close(got, expected, np.float32)


# -- every entry point takes the mode ------------------------------------------------------------

ENTRY_POINTS = ["conv1d", "conv2d", "conv3d", "depthwise", "plan", "plan-depthwise", "bound", "bank",
                "bank-1d", "nchw", "dask"]


@pytest.mark.parametrize("mode", ["reflect", "symmetric", "wrap", "edge"])
@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_every_entry_point_follows_the_mode(entry, mode):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 13, 11, 2))
    w = rng.standard_normal((5, 4, 2, 3))
    wd = rng.standard_normal((5, 4, 2, 2))
    options = dict(strides=(1, 2), padding=((3, 6), (2, 1)), padding_mode=mode)
    expected = ref(x, w, (1, 2), ((3, 6), (2, 1)), padding_mode=mode)
    if entry == "conv1d":
        got, expected = fftconv.conv1d(x[:, 0], w[0], 2, [(2, 1)], padding_mode=mode), \
            ref(x[:, 0], w[0], 2, [(2, 1)], padding_mode=mode)
    elif entry == "conv2d":
        got = fftconv.conv2d(x, w, **options)
    elif entry == "conv3d":
        got = fftconv.conv3d(x[:, None], w[None], (1, 1, 2), ((1, 1), (3, 6), (2, 1)), padding_mode=mode)
        expected = ref(x[:, None], w[None], (1, 1, 2), ((1, 1), (3, 6), (2, 1)), padding_mode=mode)
    elif entry == "depthwise":
        got = fftconv.depthwise_conv2d(x, wd, **options)
        expected = ref(x, wd.reshape(5, 4, 1, 4), (1, 2), ((3, 6), (2, 1)), padding_mode=mode)
    elif entry == "plan":
        got = fftconv.plan_conv2d(x.shape, w.shape, dtype="float64", **options)(x, w)
    elif entry == "plan-depthwise":
        plan = fftconv.plan_depthwise_conv2d(x.shape, wd.shape, dtype="float64", **options)
        got = plan(x, wd.reshape(plan.filters_shape))
        assert np.array_equal(plan(x, wd), got) and np.array_equal(plan.bind(wd)(x), got)  # TF's shape too
        expected = ref(x, wd.reshape(5, 4, 1, 4), (1, 2), ((3, 6), (2, 1)), padding_mode=mode)
    elif entry == "bound":
        got = fftconv.plan_conv2d(x.shape, w.shape, dtype="float64", **options).bind(w)(x)
    elif entry == "bank":
        bank = fftconv.FilterBank(w, **options)
        got = bank(x)
        assert bank.plan_for(x.shape, x.dtype).padding_mode == mode
    elif entry == "bank-1d":
        got = fftconv.FilterBank(w[0], 2, [(2, 1)], padding_mode=mode)(x[:, 0])
        expected = ref(x[:, 0], w[0], 2, [(2, 1)], padding_mode=mode)
    elif entry == "nchw":
        got = np.moveaxis(fftconv.conv2d(np.moveaxis(x, -1, 1), w, data_format="NCHW", **options), 1, -1)
    else:
        da = pytest.importorskip("dask.array")
        fdask = pytest.importorskip("fftconv.dask")
        got = fdask.conv2d(da.from_array(x, chunks=(1, 4, 3, 1)), w, **options).compute()
    assert_close(got, expected, np.float64)


# -- the guards follow the mode ---------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("method", ["direct", "fft"])
def test_nan_near_an_edge_reaches_what_its_copies_reach(mode, method):
    """A NaN beside the edge is copied into the pads (not by "constant"); exactly the outputs
    whose window holds it or a copy of it are NaN, the others equal the reference."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1, 30, 1))
    x[0, 1] = np.nan
    w = rng.standard_normal((7, 1, 1))
    y = fftconv.conv1d(x, w, padding="SAME", padding_mode=mode, method=method)
    touched = reference_conv(np.isnan(x).astype(float), np.ones_like(w), padding=[(3, 3)], padding_mode=mode) > 0
    clean = reference_conv(np.nan_to_num(x), w, padding=[(3, 3)], padding_mode=mode)
    assert np.isnan(y[touched]).all() and not np.isnan(y[~touched]).any()
    assert_close(y[~touched], clean[~touched], np.float64)
    if mode == "wrap":
        assert touched[0, -1, 0]  # the wrapped copy at the far end
    if mode in ("reflect", "symmetric", "edge"):
        assert touched[0, 0, 0]


def test_integers_stay_exact_with_modes():
    rng = np.random.default_rng(6)
    x = rng.integers(-2**20, 2**20, (1, 40, 33, 1))
    w = rng.integers(-50, 50, (9, 9, 1, 1))
    for mode in MODES:
        exact = reference_conv(x, w, padding="SAME", padding_mode=mode)  # float64 sums of ints below 2**53
        for method in ("direct", "fft", "auto"):
            y = fftconv.conv2d(x, w, padding="SAME", padding_mode=mode, method=method)
            np.testing.assert_array_equal(y, exact)


@pytest.mark.parametrize("mode", ["wrap", "reflect"])
def test_dynamic_range_guard_sees_the_pads(mode):
    """A faint image whose far edge is bright: with "wrap", the faint edge's pads are bright.
    ``auto`` keeps every output within 100x of the direct method's error."""
    rng = np.random.default_rng(7)
    x = (1 + 0.1 * rng.standard_normal((1, 64, 700, 1))).astype(np.float32)
    x[..., -8:, :] *= 1e4
    g = np.exp(-((np.arange(31) - 15) / 6.0) ** 2)
    k = (np.outer(g, g) / np.outer(g, g).sum())[..., None, None].astype(np.float32)
    expected = reference_conv(x, k, padding="SAME", padding_mode=mode)
    scale = reference_conv(np.abs(x), np.abs(k), padding="SAME", padding_mode=mode)
    direct = fftconv.conv2d(x, k, padding="SAME", padding_mode=mode, method="direct")
    auto = fftconv.conv2d(x, k, padding="SAME", padding_mode=mode)
    floor = np.maximum(np.abs(direct - expected), np.finfo(np.float32).eps * scale)
    assert np.max(np.abs(auto - expected) / floor) <= 100


def test_cell_statistics_of_padded_modes_are_those_of_the_padded_input():
    """The guards' one pass reads the pads as ``padding_mode`` fills them: its cell statistics
    equal those of the input padded by numpy.pad (run with VALID)."""
    from fftconv._checks import check_geometry
    from fftconv._engine.cells import cell_stats

    rng = np.random.default_rng(3)
    for mode in ("reflect", "symmetric", "wrap", "edge"):
        for shape, kernel, pads in [((1, 37, 29, 2), (9, 7, 2, 1), ((5, 8), (3, 11))),
                                    ((2, 12, 3), (9, 3, 1), ((20, 14),))]:
            nd = len(shape) - 2
            fmt = {1: "NWC", 2: "NHWC"}[nd]
            x = rng.standard_normal(shape).astype(np.float32)
            xp = np.pad(x, [(0, 0), *pads, (0, 0)], mode=mode)
            modal = check_geometry(shape, kernel, nd, 1, pads, fmt, 1, None, False, padding_mode=mode)
            padded = check_geometry(xp.shape, kernel, nd, 1, "VALID", fmt, 1, None, False)
            for a, b in zip(cell_stats(x, modal)[:2], cell_stats(xp, padded)[:2]):
                np.testing.assert_allclose(a, b, rtol=1e-5)


# -- properties --------------------------------------------------------------------------------

@st.composite
def mode_cases(draw):
    nd = draw(st.integers(1, 3), label="nd")
    small = 3 if nd == 3 else 6
    spatial = draw(st.tuples(*[st.integers(1, 3 * small)] * nd), label="spatial")
    kernel = draw(st.tuples(*[st.integers(1, small)] * nd), label="kernel")
    strides = draw(st.tuples(*[st.integers(1, 3)] * nd), label="strides")
    dilations = draw(st.tuples(*[st.integers(1, 2)] * nd), label="dilations")
    mode = draw(st.sampled_from([*MODES, *ALIASES]), label="mode")
    if draw(st.booleans(), label="same"):
        padding = "SAME"
    else:
        padding = tuple((draw(st.integers(0, 2 * n + 3)), draw(st.integers(0, 2 * n + 3))) for n in spatial)
    groups = draw(st.sampled_from([1, 2]), label="groups")
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    batch = draw(st.integers(1, 2), label="batch")
    return nd, (batch, *spatial, c_in), (*kernel, c_in // groups, c_out), dict(
        strides=strides, dilations=dilations, padding=padding, padding_mode=mode)


@given(mode_cases(), st.integers(0, 2**32 - 1))
def test_fft_equals_direct_for_random_shapes_and_modes(case, seed):
    nd, x_shape, w_shape, options = case
    try:
        plan = PLANNERS[nd](x_shape, w_shape, dtype="float64", **options)
    except ValueError:
        assume(False)  # a kernel longer than the padded input
    assume(not plan.geometry.is_empty)
    note(repr(plan))
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    direct = CONV[nd](x, w, method="direct", **options)
    expected = ref(x, w, options["strides"], options["padding"], options["dilations"],
                   padding_mode=options["padding_mode"])
    assert_close(direct, expected, np.float64)
    assert_close(CONV[nd](x, w, method="fft", **options), direct, np.float64)


@given(st.integers(1, 2), st.data())
def test_wrap_is_circular_correlation(nd, data):
    """Stride 1, ``lo + hi <= eff - 1`` wrapped pads: ``y[i] = sum_j x[(i - lo + j * d) mod n] w[j]``,
    the circular correlation numpy's FFT computes (its first ``n + lo + hi - eff + 1`` samples),
    for kernels longer than the input too."""
    spatial = data.draw(st.tuples(*[st.integers(1, 24)] * nd), label="spatial")
    kernel = data.draw(st.tuples(*[st.integers(1, 30)] * nd), label="kernel")
    dilations = data.draw(st.tuples(*[st.integers(1, 2)] * nd), label="dilations")
    effs = [(k - 1) * d + 1 for k, d in zip(kernel, dilations)]
    los = [data.draw(st.integers(0, e - 1), label="lo") for e in effs]
    his = [data.draw(st.integers(max(0, e - lo - n), e - 1 - lo), label="hi")
           for lo, e, n in zip(los, effs, spatial)]
    pads = tuple(zip(los, his))
    kept = tuple(slice(0, n + lo + hi - e + 1) for n, lo, hi, e in zip(spatial, los, his, effs))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    x, w = rng.standard_normal(spatial), rng.standard_normal(kernel)
    # the dilated kernel folded onto the period: tap j lands at (j * d - lo) mod n
    folded = np.zeros(spatial)
    for tap in np.ndindex(*kernel):
        folded[tuple((t * d - lo) % n for t, d, lo, n in zip(tap, dilations, los, spatial))] += w[tap]
    circular = np.fft.ifftn(np.fft.fftn(x) * np.conj(np.fft.fftn(folded))).real[kept]
    for method in ("direct", "fft"):
        y = CONV[nd](x[None, ..., None], w[..., None, None], padding=pads, dilations=dilations,
                     padding_mode="circular", method=method)
        assert_close(y[0, ..., 0], circular, np.float64)
    plan = path_plan(PLANNERS[nd]((1, *spatial, 1), (*kernel, 1, 1), padding=pads, dilations=dilations,
                                  padding_mode="wrap", dtype=np.float64), "fft", {"layout": "circular"})
    if plan is not None:  # the FFT method's circular layout: fast lengths only
        assert_close(plan(x[None, ..., None], w[..., None, None])[0, ..., 0], circular, np.float64)


# -- the circular layout -----------------------------------------------------------------------------

CIRCULAR_CASES = [
    ("1d-same-batch", (3, 20, 2), (7, 2, 3), dict(padding="SAME")),
    ("1d-kernel-longer-than-input", (2, 12, 1), (31, 1, 2), dict(padding="SAME", dilations=2)),
    ("2d-uneven-pads", (2, 16, 15, 3), (5, 4, 3, 2), dict(padding=((7, 30), (0, 3)))),
    ("2d-grouped-dilated", (1, 18, 20, 4), (5, 3, 2, 6), dict(padding="SAME", dilations=(3, 2))),
    ("2d-kernel-as-large-as-input", (2, 24, 24, 2), (24, 24, 2, 2), dict(padding="SAME")),
    ("3d-same", (1, 6, 8, 5, 2), (3, 4, 3, 2, 2), dict(padding="SAME")),
    # outputs shorter than the input after a pad before them: rows past the first `out` are read
    ("1d-output-shorter", (2, 30, 1), (9, 1, 2), dict(padding=((3, 0),))),
    ("2d-output-shorter", (2, 20, 16, 2), (5, 3, 2, 3), dict(padding=((1, 0), (2, 0)))),
    ("2d-output-shorter-dilated", (1, 8, 8, 1), (3, 1, 1, 1), dict(padding=((1, 0), (0, 0)), dilations=(2, 1))),
    ("3d-output-shorter", (1, 10, 8, 6, 1), (3, 3, 2, 1, 2), dict(padding=((2, 0), (1, 0), (0, 0)))),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
@pytest.mark.parametrize("case", CIRCULAR_CASES, ids=[c[0] for c in CIRCULAR_CASES])
@pytest.mark.parametrize("backend", fftconv.backends.available_backends())
def test_circular_layout_matches_np_pad(case, backend, dtype):
    """The FFT method's circular correlation of whole images equals wrap padding then VALID,
    for pads of any size, dilations, groups, kernels longer than the input, complex pairs."""
    _, x_shape, w_shape, options = case
    nd = len(x_shape) - 2
    plan = PLANNERS[nd](x_shape, w_shape, padding_mode="wrap", dtype=dtype, backend=backend, method="fft",
                        **options)
    plan = path_plan(plan, "fft", {"layout": "circular"})
    assert plan.layout.circular and plan.layout.complex_pairs == (np.dtype(dtype).kind == "c")
    rng = np.random.default_rng(sum(x_shape))
    x, w = random(rng, x_shape, dtype), random(rng, w_shape, dtype)
    expected = ref(x, w, 1, options["padding"], options.get("dilations", 1), padding_mode="wrap")
    assert_close(plan(x, w), expected, dtype)


def test_circular_layout_keeps_nan_local_and_huge_values_exact():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((1, 40, 30, 1)).astype(np.float32)
    w = rng.standard_normal((9, 9, 1, 1)).astype(np.float32)
    plan = path_plan(fftconv.plan_conv2d(x.shape, w.shape, padding="SAME", padding_mode="wrap", method="fft"),
                     "fft", {"layout": "circular"})
    x[0, 0, 2, 0], x[0, 20, 29, 0] = np.nan, 1e30
    y = plan(x, w)
    touched = reference_conv(np.isnan(x).astype(float), np.ones_like(w), padding="SAME", padding_mode="wrap") > 0
    expected = reference_conv(np.nan_to_num(x), w, padding="SAME", padding_mode="wrap")
    assert np.isnan(y[touched]).all() and not np.isnan(y[~touched]).any()
    assert_close(y[~touched], expected[~touched], np.float32)


def test_circular_layout_applies_where_it_can_and_the_planner_takes_it_where_it_pays():
    from fftconv.methods.fft import circular_layout
    geometry = lambda shape, kernel, **options: fftconv.plan_conv2d(  # noqa: E731
        shape, kernel, **{"padding": "SAME", "padding_mode": "wrap", **options}).geometry
    assert circular_layout(geometry((1, 64, 60, 1), (9, 9, 1, 1))) is not None
    assert circular_layout(geometry((1, 64, 60, 1), (9, 9, 1, 1), strides=2)) is None
    assert circular_layout(geometry((1, 64, 61, 1), (9, 9, 1, 1))) is None  # 61: not a fast length
    assert circular_layout(geometry((1, 64, 60, 1), (9, 9, 1, 1), padding_mode="reflect")) is None
    assert circular_layout(geometry((1, 2048, 2048, 3), (9, 9, 3, 3))) is None  # one image too large
    # a kernel as large as the image: half the transform length per axis of the padded tiling
    plan = fftconv.plan_conv2d((4, 64, 64, 16), (64, 64, 16, 16), padding="SAME", padding_mode="wrap")
    assert plan.method == "fft" and plan.layout.circular


# -- other libraries' names (docs/boundaries.rst's table) -------------------------------------------

def _same_2d(image, kernel, mode, **options):
    return fftconv.conv2d(image[None, ..., None], kernel[..., None, None], padding_mode=mode,
                          **{"padding": "SAME", **options})[0, ..., 0]


NDIMAGE_NAMES = [("mirror", "reflect"), ("reflect", "symmetric"), ("grid-mirror", "symmetric"),
                 ("nearest", "edge"), ("wrap", "wrap"), ("grid-wrap", "wrap"), ("constant", "constant"),
                 ("grid-constant", "constant")]


@pytest.mark.parametrize("ndimage_mode, mode", NDIMAGE_NAMES)
def test_scipy_ndimage_names(ndimage_mode, mode):
    import scipy.ndimage

    rng = np.random.default_rng(8)
    image, kernel = rng.standard_normal((20, 23)), rng.standard_normal((5, 7))
    assert_close(_same_2d(image, kernel, mode), scipy.ndimage.correlate(image, kernel, mode=ndimage_mode),
                 np.float64)


@pytest.mark.parametrize("border, mode", [("BORDER_REFLECT", "symmetric"), ("BORDER_REFLECT_101", "reflect"),
                                          ("BORDER_DEFAULT", "reflect"), ("BORDER_REPLICATE", "edge"),
                                          ("BORDER_CONSTANT", "constant")])
def test_opencv_border_names(border, mode):
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(9)
    image, kernel = rng.standard_normal((20, 23)).astype(np.float32), rng.standard_normal((5, 7)).astype(np.float32)
    assert_close(_same_2d(image, kernel, mode), cv2.filter2D(image, -1, kernel, borderType=getattr(cv2, border)),
                 np.float32)
    # BORDER_WRAP only in copyMakeBorder (filter2D refuses it): the padded image itself
    padded = cv2.copyMakeBorder(image, 2, 3, 6, 1, cv2.BORDER_WRAP)
    np.testing.assert_array_equal(padded, np.pad(image, ((2, 3), (6, 1)), mode="wrap"))


@pytest.mark.parametrize("boundary, mode", [("symm", "symmetric"), ("wrap", "wrap"), ("fill", "constant")])
def test_scipy_signal_boundary_names(boundary, mode):
    rng = np.random.default_rng(10)
    image, kernel = rng.standard_normal((20, 23)), rng.standard_normal((5, 6))
    import scipy.signal

    scipy_full = scipy.signal.convolve2d(image, kernel, mode="full", boundary=boundary)
    full = _same_2d(image, kernel, mode, padding=((4, 4), (5, 5)), flip=True)
    assert_close(full, scipy_full, np.float64)
    same = scipy.signal.correlate2d(image, kernel, mode="same", boundary=boundary)
    assert_close(_same_2d(image, kernel, mode), same, np.float64)
