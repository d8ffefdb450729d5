"""The FFT method: that it really runs, its tile layout, tiling, and its precision."""

from __future__ import annotations

import dataclasses
import itertools
import threading

import numpy as np
import pytest
import scipy.fft as scipy_fft
from scipy.fft import next_fast_len

import fftconv
from conftest import CONV, SPATIAL_FORMATS, assert_close, depthwise_as_grouped, random, ref
from fftconv import backends
from fftconv._checks import check_geometry
from fftconv.methods import direct as direct_module
from fftconv.methods import fft as fft_module


class CountingBackend:
    """Delegates to the real backend and records every call."""

    def __init__(self, inner):
        self.inner = inner
        self.name = inner.name
        self.calls = []  # (kind, input dtype, output dtype, workers)

    def rfftn(self, a, axes, workers, shape=None, out=None):
        res = self.inner.rfftn(a, axes, workers, shape=shape, out=out)
        self.calls.append(("rfftn", a.dtype, res.dtype, workers))
        return res

    def irfftn(self, a, shape, axes, workers, out=None, keep=None):
        dtype = a.dtype
        res = self.inner.irfftn(a, shape, axes, workers, out=out, keep=keep)
        self.calls.append(("irfftn", dtype, res.dtype, workers))
        return res

    def fftn(self, a, axes, workers, shape=None, out=None):
        res = self.inner.fftn(a, axes, workers, shape=shape, out=out)
        self.calls.append(("fftn", a.dtype, res.dtype, workers))
        return res

    def ifftn(self, a, axes, workers, out=None, keep=None):
        dtype = a.dtype
        res = self.inner.ifftn(a, axes, workers, out=out, keep=keep)
        self.calls.append(("ifftn", dtype, res.dtype, workers))
        return res

    def extra_bytes(self, operand, result, **padding):
        return self.inner.extra_bytes(operand, result, **padding)

    def count(self, kind):
        return sum(call[0] == kind for call in self.calls)


@pytest.fixture
def counting(monkeypatch):
    """Replace every registered backend by a counting wrapper; return them by name."""
    wrappers = {}
    for name, backend in list(backends.BACKENDS.items()):
        wrappers[name] = CountingBackend(backend)
        monkeypatch.setitem(backends.BACKENDS, name, wrappers[name])
    return wrappers


def _counts(counting):
    return sum(w.count("rfftn") for w in counting.values()), sum(w.count("irfftn") for w in counting.values())


# -- the FFT path really runs -------------------------------------------------------------

def test_fft_method_runs_the_transforms(counting, monkeypatch):
    def no_direct(*args, **kwargs):
        raise AssertionError("the direct method ran")

    monkeypatch.setattr(direct_module, "execute", no_direct)
    rng = np.random.default_rng(0)
    x, w = random(rng, (2, 20, 17, 3)), random(rng, (5, 4, 3, 2))
    y = fftconv.conv2d(x, w, padding="SAME", method="fft")
    assert_close(y, ref(x, w, padding="SAME"), np.float64)
    forward, inverse = _counts(counting)
    assert forward >= 2 and inverse >= 1  # the filters + the input tiles; the output tiles
    assert forward == inverse + 1


def test_direct_method_runs_no_transform(counting):
    rng = np.random.default_rng(1)
    fftconv.conv2d(random(rng, (2, 20, 17, 3)), random(rng, (5, 4, 3, 2)), method="direct")
    assert _counts(counting) == (0, 0)


def test_auto_runs_what_the_plan_says(counting):
    rng = np.random.default_rng(2)
    x, w = random(rng, (1, 96, 96, 2), np.float32), random(rng, (31, 31, 2, 4), np.float32)
    plan = fftconv.plan_conv2d(x.shape, w.shape, padding="SAME")
    assert plan.method == "fft"  # a 31x31 kernel: the FFT method must win
    y = fftconv.conv2d(x, w, padding="SAME")
    assert _counts(counting)[0] >= 2
    assert_close(y, ref(x, w, padding="SAME"), np.float32)


def test_filter_bank_transforms_the_filters_once(counting):
    rng = np.random.default_rng(3)
    w = random(rng, (9, 9, 2, 3), np.float32)
    bank = fftconv.FilterBank(w, padding="SAME", method="fft")
    for _ in range(4):
        x = random(rng, (1, 30, 28, 2), np.float32)
        assert_close(bank(x), ref(x, w, padding="SAME"), np.float32)
    forward, inverse = _counts(counting)
    assert forward == inverse + 1  # one transform of the filters for four inputs


# -- filter spectra kept across one-shot calls ----------------------------------------------

@pytest.fixture
def fresh_spectra():
    fftconv.clear_spectrum_cache()
    yield
    fftconv.clear_spectrum_cache()


def test_one_shot_calls_with_the_same_filters_transform_them_once(counting, fresh_spectra):
    rng = np.random.default_rng(31)
    w = random(rng, (9, 9, 2, 3), np.float32)
    for _ in range(4):
        x = random(rng, (1, 30, 28, 2), np.float32)
        assert_close(fftconv.conv2d(x, w, padding="SAME", method="fft"), ref(x, w, padding="SAME"), np.float32)
    forward, inverse = _counts(counting)
    assert forward == inverse + 1


def test_filters_changed_in_place_are_transformed_again(fresh_spectra):
    rng = np.random.default_rng(32)
    x = random(rng, (1, 30, 28, 2), np.float64)
    w = random(rng, (9, 9, 2, 3), np.float64)
    fftconv.conv2d(x, w, method="fft")
    w[4, 4, 0, 0] += 1.0  # a change no fingerprint sample may see: caught by the exact comparison
    assert_close(fftconv.conv2d(x, w, method="fft"), ref(x, w), np.float64)
    w[:] = random(rng, w.shape, np.float64)
    assert_close(fftconv.conv2d(x, w, method="fft"), ref(x, w), np.float64)


def test_different_filters_of_one_shape_never_share_a_spectrum(fresh_spectra, monkeypatch):
    from fftconv._engine import spectra as _spectra

    monkeypatch.setattr(_spectra, "_fingerprint", lambda w: b"")  # every filter set collides
    rng = np.random.default_rng(33)
    x = random(rng, (1, 24, 24, 1), np.float64)
    banks = [random(rng, (7, 7, 1, 2), np.float64) for _ in range(3)]
    for _ in range(2):
        for w in banks:
            assert_close(fftconv.conv2d(x, w, method="fft"), ref(x, w), np.float64)


def test_kept_spectra_stay_within_their_budget(fresh_spectra, monkeypatch):
    from fftconv._engine import spectra as _spectra

    monkeypatch.setattr(_spectra, "MAX_BYTES", 200_000)
    rng = np.random.default_rng(34)
    x = random(rng, (1, 40, 40, 2), np.float32)
    for _ in range(10):
        fftconv.conv2d(x, random(rng, (9, 9, 2, 4), np.float32), method="fft")
        fftconv.conv2d(x, random(rng, (9, 9, 2, 4), np.float32), method="fft")  # evicts the first
        assert 0 < _spectra.kept_bytes() <= 200_000
    fftconv.clear_spectrum_cache()
    assert _spectra.kept_bytes() == 0


def test_kept_spectra_are_read_only(fresh_spectra):
    w = np.ones((5, 5, 1, 1))
    bound = fftconv.plan_conv2d((1, 20, 20, 1), w.shape, dtype="float64", method="fft").bind(w)
    assert not bound.prepared("fft", np.float64).flags.writeable


def test_workers_reach_the_backend(counting):
    rng = np.random.default_rng(4)
    fftconv.conv2d(random(rng, (1, 12, 12, 1)), random(rng, (5, 5, 1, 1)), method="fft", workers=1)
    assert {call[3] for w in counting.values() for call in w.calls} == {1}


# -- precision -------------------------------------------------------------------------------

@pytest.mark.parametrize("in_dtype, real, spectrum", [
    ("float32", np.float32, np.complex64), ("float16", np.float32, np.complex64),
    ("float64", np.float64, np.complex128), ("int32", np.float64, np.complex128),
], ids=["float32", "float16", "float64", "int32"])
def test_spectra_stay_in_the_compute_precision(counting, in_dtype, real, spectrum):
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((2, 24, 20, 3)) * 4).astype(in_dtype)
    w = (rng.standard_normal((7, 6, 3, 4)) * 4).astype(in_dtype)
    fftconv.conv2d(x, w, padding="SAME", strides=2, dilations=(1, 2), method="fft")
    calls = [call for wrapper in counting.values() for call in wrapper.calls]
    assert calls
    for kind, src, dst, _ in calls:
        if kind == "rfftn":
            assert (src, dst) == (np.dtype(real), np.dtype(spectrum)), (kind, src, dst)
        else:
            assert (src, dst) == (np.dtype(spectrum), np.dtype(real)), (kind, src, dst)


@pytest.mark.parametrize("dtype, spectrum", [(np.float32, np.complex64), (np.float64, np.complex128)],
                         ids=["float32", "float64"])
def test_bound_filter_spectrum_dtype(dtype, spectrum):
    plan = fftconv.plan_conv2d((1, 40, 40, 2), (9, 9, 2, 3), dtype=dtype, method="fft")
    prepared = plan.bind(np.ones((9, 9, 2, 3), dtype)).prepared("fft", plan.dtype)
    assert prepared.dtype == spectrum


# -- make_layout and default_fft_shape ---------------------------------------------------------

def _geom(spatial, kernel, strides=1, padding="VALID", dilations=1, c_in=1, c_out=1):
    nd = len(spatial)
    return check_geometry((1, *spatial, c_in), (*kernel, c_in, c_out), nd, strides, padding,
                          SPATIAL_FORMATS[nd][0], dilations, None, False)


def _assert_valid_layout(layout, geom, fft_shape=None):
    q = fft_module.phase_kernel(geom)
    assert layout.phase_kernel == q
    assert q == tuple(-(-e // s) for e, s in zip(geom.eff_kernel, geom.strides))
    # the polyphase components that hold a tap, and no others (the rest read no used sample)
    assert layout.active == tuple(tuple(sorted({t * d % s for t in range(k)}))
                                  for k, d, s in zip(geom.kernel, geom.dilations, geom.strides))
    assert layout.phases == int(np.prod([len(a) for a in layout.active]))
    for i, (o, k, t, n, count) in enumerate(zip(geom.out_spatial, q, layout.tile, layout.fft_shape,
                                                layout.tiles)):
        assert 1 <= t <= o, (i, layout)
        assert t + k - 1 <= n, ("a tile's valid outputs need an FFT of tile + q - 1", i, layout)
        assert (count - 1) * t < o <= count * t, ("tiles cover the output exactly", i, layout)
        if fft_shape is not None:
            assert n <= fft_shape[i], ("FFT longer than asked", i, layout)
    assert layout.n_tiles == int(np.prod(layout.tiles))


def test_make_layout_docstring_example():
    g = _geom((100, 100), (9, 9))
    layout = fft_module.make_layout(g, (32, 200))
    assert layout.tile == (24, 92) and layout.tiles == (4, 1)
    assert layout.fft_shape[0] == 32
    assert layout.fft_shape[1] == next_fast_len(92 + 8, real=True)


@pytest.mark.parametrize("spatial, kernel, strides, dilations", [
    ((50,), (7,), 1, 1), ((50,), (7,), 3, 2), ((37, 41), (5, 4), (2, 1), (1, 3)),
    ((13, 9, 11), (3, 2, 4), 2, 1), ((64,), (64,), 1, 1), ((10,), (3,), 4, 1),
], ids=["1d", "1d-strided-dilated", "2d-mixed", "3d", "1d-kernel-as-input", "1d-stride-gt-kernel"])
def test_make_layout_respects_its_bounds(spatial, kernel, strides, dilations):
    g = _geom(spatial, kernel, strides, "VALID", dilations)
    q = fft_module.phase_kernel(g)
    for extra in itertools.product(*[[0, 1, 2, 5, 17, 200]] * len(spatial)):
        fft_shape = tuple(k + e for k, e in zip(q, extra))
        _assert_valid_layout(fft_module.make_layout(g, fft_shape), g, fft_shape)


def test_make_layout_single_tile_when_the_fft_holds_everything():
    g = _geom((30, 21), (5, 4), padding="SAME")
    q = fft_module.phase_kernel(g)
    full = tuple(o + k - 1 for o, k in zip(g.out_spatial, q))
    for fft_shape in (full, tuple(n + 7 for n in full), (512, 512)):
        layout = fft_module.make_layout(g, fft_shape)
        assert layout.tiles == (1, 1) and layout.tile == g.out_spatial
        # the transform is no longer than the linear size needs, at a fast length
        assert layout.fft_shape == tuple(min(n, next_fast_len(m, real=True))
                                         for n, m in zip(fft_shape, full))


def test_make_layout_rejects_an_fft_shorter_than_the_kernel():
    g = _geom((40,), (9,))
    with pytest.raises(ValueError, match="FFT length of 8 cannot hold a phase kernel of 9"):
        fft_module.make_layout(g, (8,))


@pytest.mark.parametrize("spatial, kernel, strides", [
    ((16,), (3,), 1), ((64, 64), (31, 31), 1), ((100, 90), (5, 5), 2), ((12, 10, 9), (3, 3, 3), 1),
    ((200,), (1,), 1),
], ids=["1d-small", "2d-large-kernel", "2d-strided", "3d", "1d-one-tap"])
def test_default_fft_shape_single_tile_when_small(spatial, kernel, strides):
    g = _geom(spatial, kernel, strides, "SAME")
    layout = fft_module.make_layout(g)
    assert layout.n_tiles == 1
    q = fft_module.phase_kernel(g)
    assert layout.fft_shape == tuple(next_fast_len(o + k - 1, real=True) for o, k in zip(g.out_spatial, q))


@pytest.mark.parametrize("spatial, kernel, strides", [
    ((5000,), (9,), 1), ((3000,), (101,), 1), ((2000,), (15,), 3), ((600, 40), (7, 3), 1),
], ids=["1d-long", "1d-long-kernel", "1d-strided", "2d-tall"])
def test_default_fft_shape_tiles_large_problems(spatial, kernel, strides):
    g = _geom(spatial, kernel, strides, "SAME")
    shape = fft_module.default_fft_shape(g)
    q = fft_module.phase_kernel(g)
    for n, o, k in zip(shape, g.out_spatial, q):
        whole = next_fast_len(o + k - 1, real=True)
        if whole <= max(8 * k, 256):
            assert n == whole
        else:
            assert n == next_fast_len(max(4 * k, 64), real=True)
            assert (k - 1) / n < 0.25, "the overlap must stay below a quarter of the transform"
        assert next_fast_len(n, real=True) == n, "FFT lengths are fast lengths"
    layout = fft_module.make_layout(g)
    assert layout.n_tiles > 1
    _assert_valid_layout(layout, g, shape)


# -- many tiles still give the right answer ---------------------------------------------------

def _tiled_plan(plan, extra):
    """``plan`` with an FFT length of phase kernel + ``extra`` per axis: many small tiles."""
    g = plan.geometry
    fft_shape = tuple(k + e for k, e in zip(fft_module.phase_kernel(g), extra))
    layout = fftconv.METHODS["fft"].settings(g, {"fft_shape": fft_shape})
    _assert_valid_layout(layout, g, fft_shape)
    return dataclasses.replace(plan, settings={**plan.settings, "fft": layout}), layout


TILED_CASES = [
    # (nd, spatial, kernel, c_in, c_out, strides, dilations, padding, extra)
    (1, (57,), (5,), 2, 3, 1, 1, "SAME", (0,)),           # tile of 1 output
    (1, (57,), (5,), 2, 3, 1, 1, "SAME", (3,)),
    (1, (80,), (9,), 1, 1, 3, 2, "VALID", (4,)),
    (1, (61,), (4,), 3, 3, 2, 1, [[3, 5]], (2,)),
    (2, (23, 19), (4, 3), 2, 4, 1, 1, "SAME", (1, 2)),
    (2, (23, 19), (4, 3), 2, 4, (2, 3), (2, 1), "SAME", (3, 1)),
    (2, (30, 17), (5, 5), 4, 4, 2, 2, [[0, 0], [4, 1], [2, 2], [0, 0]], (2, 5)),
    (2, (16, 16), (16, 16), 1, 2, 1, 1, "SAME", (3, 3)),  # kernel as large as the input
    (2, (21, 22), (3, 3), 6, 6, 1, 1, "SAME", (2, 2)),    # groups=3 below
    (3, (11, 9, 10), (3, 2, 3), 2, 2, 1, 1, "SAME", (1, 2, 3)),
    (3, (11, 9, 10), (3, 2, 3), 2, 2, 2, (1, 2, 1), "VALID", (2, 1, 1)),
]


@pytest.fixture(params=[(False, True), (True, True), (False, False), (True, False)],
                ids=["batch-last", "batch-first", "batch-last-contiguous", "batch-first-contiguous"])
def placement(request, monkeypatch):
    """Run the scipy backend with tiles laid out batch-last (its own) or batch-first (FFTW's),
    through strided views (its own) or contiguous copies (FFTW's)."""
    first, strided = request.param
    monkeypatch.setattr(type(backends.BACKENDS["scipy"]), "batch_first", first)
    monkeypatch.setattr(type(backends.BACKENDS["scipy"]), "strided", strided)
    # kept filter spectra were laid out for the backend as it was: they must not carry over
    fftconv.clear_spectrum_cache()
    yield request.param
    fftconv.clear_spectrum_cache()


@pytest.mark.parametrize("case", TILED_CASES, ids=[f"{c[0]}d-{i}" for i, c in enumerate(TILED_CASES)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("flip", [False, True], ids=["correlate", "flip"])
def test_many_tiles_match_the_reference(case, dtype, flip, placement):
    nd, spatial, kernel, c_in, c_out, strides, dilations, padding, extra = case
    groups = 3 if c_in == 6 else 1
    rng = np.random.default_rng(len(spatial) * 1000 + sum(spatial))
    x = random(rng, (2, *spatial, c_in), dtype)
    w = random(rng, (*kernel, c_in // groups, c_out), dtype)
    plan = fftconv.plan_conv2d if nd == 2 else (fftconv.plan_conv1d if nd == 1 else fftconv.plan_conv3d)
    plan = plan(x.shape, w.shape, strides, padding, dilations=dilations, flip=flip, dtype=dtype,
                method="fft", backend="scipy")
    tiled, layout = _tiled_plan(plan, extra)
    assert layout.n_tiles > 1
    expected = ref(x, w, strides, padding, dilations, flip=flip)
    assert_close(tiled(x, w), expected, dtype)
    assert_close(tiled.bind(w)(x), expected, dtype)


@pytest.mark.parametrize("multiplier", [1, 3])
def test_many_tiles_depthwise_and_channels_first(multiplier, placement):
    rng = np.random.default_rng(multiplier)
    x = random(rng, (2, 4, 25, 22), np.float32)  # NCHW
    wd = random(rng, (6, 5, 4, multiplier), np.float32)
    plan = fftconv.plan_depthwise_conv2d(x.shape, wd.shape, 2, "SAME", "NCHW", dilations=(1, 2),
                                         method="fft", backend="scipy")
    tiled, layout = _tiled_plan(plan, (2, 3))
    assert layout.n_tiles > 1
    y = tiled(x, depthwise_as_grouped(wd))
    assert_close(y, ref(x, depthwise_as_grouped(wd), 2, "SAME", (1, 2), "NCHW"), np.float32)
    assert_close(y, fftconv.depthwise_conv2d(x, wd, 2, "SAME", "NCHW", (1, 2), method="fft"),
                 np.float32)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_many_tiles_in_many_chunks(monkeypatch, nd, placement):
    """Tiles split over (batch, tile-row) chunks by a tiny chunk budget."""
    monkeypatch.setattr(fft_module, "CHUNK_BYTES", 1)
    spatial, kernel = {1: ((70,), (6,)), 2: ((19, 23), (4, 5)), 3: ((9, 10, 8), (3, 2, 3))}[nd]
    rng = np.random.default_rng(nd)
    x = random(rng, (3, *spatial, 2))
    w = random(rng, (*kernel, 2, 3))
    plan = {1: fftconv.plan_conv1d, 2: fftconv.plan_conv2d, 3: fftconv.plan_conv3d}[nd](
        x.shape, w.shape, 2, "SAME", dilations=2, dtype=np.float64, method="fft", backend="scipy")
    tiled, layout = _tiled_plan(plan, (2,) * nd)
    assert layout.tiles[0] > 1
    assert_close(tiled(x, w), ref(x, w, 2, "SAME", 2), np.float64)


def test_default_layout_with_many_tiles_matches_direct():
    """A long signal that the default rule itself cuts into tiles."""
    rng = np.random.default_rng(9)
    x = random(rng, (2, 3000, 2), np.float32)
    w = random(rng, (33, 2, 3), np.float32)
    plan = fftconv.plan_conv1d(x.shape, w.shape, padding="SAME", method="fft")
    default = fft_module.make_layout(plan.geometry)
    assert default.n_tiles > 1
    default_plan = dataclasses.replace(plan, settings={**plan.settings, "fft": default})
    expected = CONV[1](x.astype(np.float64), w.astype(np.float64), padding="SAME", method="direct")
    assert_close(default_plan(x, w), expected, np.float32)


# -- backends: the zero-padded forward transform that the filters use --------------------------

@pytest.mark.parametrize("name", backends.available_backends())
@pytest.mark.parametrize("shape, axes, size", [
    ((3, 4, 2), (0, 1), (8, 9)),          # padded along both axes
    ((5, 2, 7), (0, 2), (4, 10)),         # cut along one, padded along the other
    ((2, 3, 3, 2, 3), (2, 3, 4), (5, 4, 6)),
    ((3, 6), (1,), (11,)),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backend_rfftn_pads_like_scipy(name, shape, axes, size, dtype):
    x = np.random.default_rng(len(shape)).standard_normal(shape).astype(dtype)
    kept = x.copy()
    got = backends.get_backend(name).rfftn(x, axes, 1, shape=size)
    expected = scipy_fft.rfftn(x.astype(np.float64), s=size, axes=axes)
    assert got.dtype == np.result_type(dtype, np.complex64) and got.shape == expected.shape
    tol = 1e-5 if dtype == np.float32 else 1e-13
    assert np.abs(got - expected).max() <= tol * np.abs(expected).max()
    np.testing.assert_array_equal(x, kept)


# -- backends: transforms into a caller's array ----------------------------------------------

@pytest.mark.parametrize("name", backends.available_backends())
@pytest.mark.parametrize("shape, axes", [((6, 5, 3), (0, 1)), ((2, 3, 9, 7), (2, 3)), ((4, 7, 5), (0, 1, 2)),
                                         ((5, 11), (1,))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backend_transforms_into_out(name, shape, axes, dtype):
    backend = backends.get_backend(name)
    x = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    expected = scipy_fft.rfftn(x.astype(np.float64), axes=axes)
    spectrum = np.empty(expected.shape, np.result_type(dtype, np.complex64))
    assert backend.rfftn(x, axes, 2, out=spectrum) is spectrum
    tol = 1e-5 if dtype == np.float32 else 1e-13
    assert np.abs(spectrum - expected).max() <= tol * np.abs(expected).max()
    y = np.empty(shape, dtype)
    assert backend.irfftn(spectrum, [shape[ax] for ax in axes], axes, 2, out=y) is y
    assert np.abs(y - x).max() <= tol * np.abs(x).max()


@pytest.mark.parametrize("name", backends.available_backends())
@pytest.mark.parametrize("shape, axes, keep", [((9, 8, 3), (0, 1), (5,)), ((2, 3, 7, 6), (2, 3), (7,)),
                                               ((6, 7, 10, 2), (0, 1, 2), (4, 1))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backend_inverse_keeps_the_leading_rows(name, shape, axes, keep, dtype):
    """With ``keep``, the leading rows along all transformed axes but the last are exact."""
    x = np.random.default_rng(3).standard_normal(shape).astype(dtype)
    spectrum = scipy_fft.rfftn(x, axes=axes)
    y = np.empty(shape, dtype)
    backends.get_backend(name).irfftn(spectrum, [shape[ax] for ax in axes], axes, 2, out=y, keep=keep)
    index = [slice(None)] * len(shape)
    for axis, n in zip(axes, keep):
        index[axis] = slice(n)
    tol = 1e-5 if dtype == np.float32 else 1e-13
    assert np.abs(y[tuple(index)] - x[tuple(index)]).max() <= tol * np.abs(x).max()


@pytest.mark.parametrize("name", backends.available_backends())
@pytest.mark.parametrize("shape, axes, size", [((3, 4, 2), (0, 1), (8, 9)), ((5, 2, 7), (0, 2), (4, 10)),
                                               ((3, 6), (1,), (11,))])
@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_backend_fftn_pads_like_scipy(name, shape, axes, size, dtype):
    rng = np.random.default_rng(len(shape))
    x = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    kept = x.copy()
    got = backends.get_backend(name).fftn(x, axes, 1, shape=size)
    expected = scipy_fft.fftn(x.astype(np.complex128), s=size, axes=axes)
    assert got.dtype == dtype and got.shape == expected.shape
    tol = 1e-5 if dtype == np.complex64 else 1e-13
    assert np.abs(got - expected).max() <= tol * np.abs(expected).max()
    np.testing.assert_array_equal(x, kept)


@pytest.mark.parametrize("name", backends.available_backends())
@pytest.mark.parametrize("shape, axes, keep", [((6, 5, 3), (0, 1), None), ((4, 7, 5), (0, 1, 2), None),
                                               ((5, 11), (1,), None), ((9, 8, 3), (0, 1), (5,)),
                                               ((6, 7, 10, 2), (0, 1, 2), (4, 1))])
@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_backend_complex_transforms_into_out(name, shape, axes, keep, dtype):
    """``fftn`` and ``ifftn`` write into ``out``; with ``keep`` the leading rows are exact."""
    backend = backends.get_backend(name)
    rng = np.random.default_rng(1)
    x = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    expected = scipy_fft.fftn(x.astype(np.complex128), axes=axes)
    spectrum = np.empty(shape, dtype)
    assert backend.fftn(x, axes, 2, out=spectrum) is spectrum
    tol = 1e-5 if dtype == np.complex64 else 1e-13
    assert np.abs(spectrum - expected).max() <= tol * np.abs(expected).max()
    y = np.empty(shape, dtype)
    assert backend.ifftn(spectrum, axes, 2, out=y, keep=keep) is y
    index = [slice(None)] * len(shape)
    for axis, n in zip(axes, keep or ()):
        index[axis] = slice(n)
    assert np.abs(y[tuple(index)] - x[tuple(index)]).max() <= tol * np.abs(x).max()


def test_complex_inputs_with_complex_filters_run_complex_transforms(counting):
    """Complex pairs: the FFT method transforms complex values (fftn/ifftn), not their parts;
    one complex side alone runs the real embedding's real transforms."""
    rng = np.random.default_rng(5)
    x = random(rng, (2, 30, 27, 3), np.complex64)
    w = random(rng, (9, 8, 3, 4), np.complex64)
    plan = fftconv.plan_conv2d(x.shape, w.shape, padding="SAME", dtype="complex64", method="fft")
    assert plan.layout.complex_pairs and "complex transforms" in repr(plan)
    y = plan(x, w)
    assert y.dtype == np.complex64 and y.flags.owndata
    assert_close(y, ref(x, w, padding="SAME"), np.complex64)
    calls = [call for wrapper in counting.values() for call in wrapper.calls]
    assert {c[0] for c in calls} == {"fftn", "ifftn"}
    assert all(c[1].kind == "c" and c[2] == np.complex64 for c in calls)
    for wrapper in counting.values():
        wrapper.calls.clear()
    y = CONV[2](x, w.real.copy(), padding="SAME", method="fft")
    assert {c[0] for wrapper in counting.values() for c in wrapper.calls} == {"rfftn", "irfftn"}
    assert_close(y, ref(x, w.real, padding="SAME"), np.complex64)


def test_complex_pairs_need_even_channel_counts():
    g = check_geometry((1, 9, 3), (3, 3, 4), 1, 1, "VALID", "NWC", 1, None, False)
    with pytest.raises(ValueError, match="even channel counts"):
        fft_module.make_layout(g, complex_pairs=True)


def test_scipy_backend_reads_and_writes_strided_arrays():
    x = np.random.default_rng(4).standard_normal((7, 4, 9)).astype(np.float32)
    view = x.transpose(2, 0, 1)[::2]  # (5, 7, 4), no axis contiguous
    backend = backends.get_backend("scipy")
    spectrum = np.empty((4, 7, 5), np.complex64).transpose(2, 1, 0)[:, :, :3]  # (5, 7, 3), strided
    assert backend.rfftn(view, (1, 2), 1, out=spectrum) is spectrum
    np.testing.assert_allclose(spectrum, scipy_fft.rfftn(view, axes=(1, 2)), rtol=1e-5, atol=1e-5)
    y = np.zeros((4, 7, 5), np.float32).transpose(2, 1, 0)
    assert backend.irfftn(spectrum.copy(), (7, 4), (1, 2), 1, out=y) is y
    np.testing.assert_allclose(y, view, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", backends.available_backends())
def test_backend_rejects_an_out_of_the_wrong_shape(name):
    backend = backends.get_backend(name)
    x = np.ones((6, 5), np.float32)
    with pytest.raises(ValueError, match="`out`"):
        backend.rfftn(x, (0, 1), 1, out=np.empty((6, 5), np.complex64))
    with pytest.raises(ValueError, match="`out`"):
        backend.irfftn(np.ones((6, 3), np.complex64), (6, 5), (0, 1), 1, out=np.empty((6, 3), np.float32))


def test_scipy_backend_without_pocketfft_binding(monkeypatch):
    """Where scipy's private binding is missing, ``out`` is filled from the public functions."""
    from fftconv.backends import _scipy
    monkeypatch.setattr(_scipy, "POCKETFFT", None)
    test_backend_transforms_into_out("scipy", (6, 5, 3), (0, 1), np.float32)
    x = np.random.default_rng(2).standard_normal((1, 30, 29, 3)).astype(np.float32)
    w = np.random.default_rng(3).standard_normal((7, 6, 3, 2)).astype(np.float32)
    assert_close(CONV[2](x, w, method="fft"), CONV[2](x, w, method="direct"), np.float32)


def test_scipy_pocketfft_binding_is_found():
    from fftconv.backends import _scipy
    assert _scipy.POCKETFFT is not None  # else every call copies its transforms once more


# -- scratch memory: kept between calls, never handed out -------------------------------------

@pytest.mark.parametrize("method", ["direct", "fft"])
def test_results_do_not_share_scratch_memory(method):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 40, 33, 3)).astype(np.float32)
    w = rng.standard_normal((9, 8, 3, 5)).astype(np.float32)
    first = CONV[2](x, w, padding="SAME", method=method)
    kept = first.copy()
    second = CONV[2](2 * x, w, padding="SAME", method=method)
    np.testing.assert_array_equal(first, kept)
    assert not np.shares_memory(first, second)


def test_scratch_is_kept_per_thread_and_released():
    from fftconv._runtime import scratch as _workspace
    CONV[2](np.ones((1, 50, 50, 2), np.float32), np.ones((9, 9, 2, 2), np.float32), method="fft")
    assert _workspace.kept_bytes() > 0
    seen = []
    thread = threading.Thread(target=lambda: seen.append(_workspace.kept_bytes()))
    thread.start()
    thread.join()
    assert seen == [0]
    _workspace.release()
    assert _workspace.kept_bytes() == 0


def test_release_frees_the_scratch_of_every_thread():
    """``release_scratch`` in one thread frees another thread's kept buffers at that thread's
    next use of scratch memory (fftconv's pool threads keep theirs between calls)."""
    from fftconv._runtime import scratch as _workspace

    ready, go, seen = threading.Event(), threading.Event(), []

    def worker():
        _workspace.scratch("example", (1000,), np.float64)
        seen.append(_workspace.kept_bytes())
        ready.set()
        go.wait()
        seen.append(_workspace.kept_bytes())

    thread = threading.Thread(target=worker)
    thread.start()
    ready.wait()
    fftconv.release_scratch()
    go.set()
    thread.join()
    assert seen == [8000, 0]


def test_scratch_above_the_cap_is_not_kept(monkeypatch):
    from fftconv._runtime import scratch as _workspace
    _workspace.release()
    monkeypatch.setattr(_workspace, "MAX_KEPT_BYTES", 1000)
    a = _workspace.scratch("big", (500,), np.float32)
    assert a.shape == (500,) and a.ctypes.data % 64 == 0
    assert _workspace.kept_bytes() == 0
